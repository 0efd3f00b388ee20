"""A loopback HTTP server that answers like Ollama and records every request it receives."""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecordingOllama"]

#: A valid, empty phase answer: the run goes on, and every phase asks the model once.
_CHAT_ANSWER = {
    "model": "phi4-mini", "created_at": "2026-12-01T12:00:00Z",
    "message": {"role": "assistant",
                "content": json.dumps({"threats": [], "recommendations": []})},
    "done": True, "done_reason": "stop", "total_duration": 1_000_000, "load_duration": 10,
    "prompt_eval_count": 120, "prompt_eval_duration": 10, "eval_count": 30,
    "eval_duration": 10}
_TAGS_ANSWER = {"models": [{
    "name": "phi4-mini:latest", "model": "phi4-mini:latest",
    "modified_at": "2026-11-01T00:00:00Z", "size": 2_500_000_000, "digest": "ab" * 32,
    "details": {"format": "gguf", "family": "phi3", "parameter_size": "3.8B",
                "quantization_level": "Q4_K_M"}}]}


@dataclass
class RecordingOllama:
    """Ollama's /api/chat and /api/tags on a free loopback port; ``requests`` holds each body."""

    requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        requests = self.requests
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                with lock:
                    requests.append((self.path, body))
                answer: Any = _CHAT_ANSWER if self.path.endswith("/api/chat") else _TAGS_ANSWER
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _reply

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """The value of OLLAMA_HOST that points at this server."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def prompts(self) -> list[str]:
        """Every chat request: its raw body and its messages' text, decoded."""
        out = []
        for path, body in self.requests:
            if path.endswith("/api/chat"):
                messages = json.loads(body).get("messages") or []
                out.append("\n".join([body, *(str(m.get("content")) for m in messages)]))
        return out

    def __enter__(self) -> RecordingOllama:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
