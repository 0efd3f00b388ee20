# The ktmb image used by compose.yaml (no model weights inside: Ollama serves the models).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY workflow ./workflow
COPY agents ./agents
COPY kb ./kb
COPY prompts ./prompts
COPY migrations ./migrations
RUN pip install --no-cache-dir '.[helm]' && useradd --system --home /var/lib/ktmb ktmb \
    && mkdir -p /var/lib/ktmb && chown ktmb /var/lib/ktmb
USER ktmb
ENV KTMB_HOME=/var/lib/ktmb
EXPOSE 8080
CMD ["ktmb", "serve", "--host", "0.0.0.0", "--port", "8080"]
