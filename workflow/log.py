"""structlog configuration: console on a terminal, JSON with ``--log-json`` or off a terminal.

Nothing here renders local variables of tracebacks: they could hold manifests or prompts.

structlog is imported when the first line at or above the configured level is logged, not when
a module asks for its logger. Importing it (with the asyncio and rich it pulls in) is about a
sixth of a ``ktmb scan``'s start-up, and at the CLI's default level (WARNING) a successful command
usually logs nothing. Modules therefore log through :func:`get_logger` and bind context with
:func:`bound`, never through structlog directly; a context bound before structlog loaded is
still merged into the lines logged inside it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType
from typing import Any, TextIO

__all__ = ["StderrLogger", "bound", "configure_logging", "get_logger"]

#: The level of each logger method; a call below the configured level is dropped unimported.
_METHOD_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "msg": logging.INFO,
                  "warning": logging.WARNING, "warn": logging.WARNING,
                  "error": logging.ERROR, "exception": logging.ERROR,
                  "critical": logging.CRITICAL, "fatal": logging.CRITICAL}

_NOISY = ("httpx", "httpcore", "urllib3", "psycopg", "psycopg.pool", "yoyo", "langgraph",
          "procrastinate", "sentence_transformers", "uvicorn.access")


class _Config:
    """What :func:`configure_logging` asked for, applied when structlog is loaded."""

    threshold: int = logging.NOTSET  # unconfigured: every call reaches structlog's defaults
    configured: bool = False
    json_logs: bool | None = None
    stream: TextIO | None = None
    pending: bool = False
    module: ModuleType | None = None


#: Context bound by :func:`bound` while structlog was not loaded yet.
_early: ContextVar[dict[str, Any] | None] = ContextVar("ktmb_early_log_context", default=None)


class StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is at that moment.

    Binding a logger to the stream object seen at configuration time breaks as soon as that
    stream is replaced and closed (a test runner's capture, a daemon's re-opened stderr).
    """

    def msg(self, message: str) -> None:
        """Write one log line."""
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*_args: Any) -> StderrLogger:
    return StderrLogger()


def _import_structlog() -> ModuleType:
    """Import structlog without letting it import ``rich``.

    structlog imports rich, when installed (typer installs it), for pretty tracebacks, which ktmb
    never renders (errors are one line; logs are key=value or JSON, without locals). rich is
    hidden while structlog loads (a ``None`` entry in ``sys.modules`` makes ``import rich`` fail
    as if it were missing); typer still imports it when it prints help.
    """
    hide = "rich" not in sys.modules
    if hide:
        sys.modules["rich"] = None  # type: ignore[assignment]
    try:
        import structlog
    finally:
        if hide:
            del sys.modules["rich"]
    return structlog


def _structlog() -> ModuleType:
    """structlog, imported and configured on first use."""
    module = _Config.module
    if module is None:
        module = _Config.module = _import_structlog()
    if _Config.pending:
        _Config.pending = False
        _apply(module)
    return module


def _merge_early(_logger: Any, _method: str, event: MutableMapping[str, Any]
                 ) -> MutableMapping[str, Any]:
    """Add the context bound before structlog was loaded (later bindings win)."""
    early = _early.get()
    if early:
        for key, value in early.items():
            event.setdefault(key, value)
    return event


def _apply(structlog: ModuleType) -> None:
    out = _Config.stream or sys.stderr
    json_logs = _Config.json_logs
    if json_logs is None:
        json_logs = not out.isatty()
    renderer: Any
    if json_logs:
        renderer = structlog.processors.JSONRenderer()
        exc: Any = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False))
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
        exc = structlog.processors.format_exc_info
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, _merge_early,
                    structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), exc, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_Config.threshold),
        logger_factory=(structlog.WriteLoggerFactory(file=_Config.stream)
                        if _Config.stream is not None else _stderr_logger),
        cache_logger_on_first_use=False,
    )


def configure_logging(*, json_logs: bool | None = None, level: str = "INFO",
                      stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library logging once for the process.

    Args:
        json_logs: JSON lines when true, a console renderer when false, JSON off a terminal when
            None.
        level: the lowest level written.
        stream: where logs go (standard error by default).
    """
    numeric = logging.getLevelName(level.upper())
    _Config.threshold = numeric if isinstance(numeric, int) else logging.INFO
    _Config.json_logs = json_logs
    _Config.stream = stream
    _Config.pending = True
    _Config.configured = True
    if _Config.module is not None:
        _structlog()
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _discard(*_args: Any, **_kwargs: Any) -> None:
    return None


class _Logger:
    """A module's logger: structlog's, loaded by the first call that is not filtered out."""

    __slots__ = ("_name", "_real")

    def __init__(self, name: str | None) -> None:
        self._name = name
        self._real: Any = None

    def __getattr__(self, method: str) -> Any:
        level = _METHOD_LEVELS.get(method)
        if level is not None and level < _Config.threshold:
            return _discard
        if self._real is None:
            self._real = _structlog().get_logger(self._name)
        return getattr(self._real, method)


def get_logger(name: str | None = None) -> Any:
    """The logger of a module (``get_logger(__name__)``)."""
    return _Logger(name)


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind ``values`` to every line logged inside the block, in this context only.

    Before structlog is loaded the values wait in a context variable that the configured
    processors merge; a process that never configured logging uses structlog's own binding
    (its default processors know nothing of ours).
    """
    if _Config.module is not None or not _Config.configured:
        with _structlog().contextvars.bound_contextvars(**values):
            yield
        return
    token = _early.set({**(_early.get() or {}), **values})
    try:
        yield
    finally:
        _early.reset(token)
