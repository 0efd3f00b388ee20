"""structlog configuration: console on a terminal, JSON with ``--log-json`` or off a terminal.

Modules log through ``structlog.get_logger(__name__)`` and bind ``run_id`` and ``phase`` with
``structlog.contextvars.bound_contextvars``; this module only configures where lines go.
Nothing here renders local variables of tracebacks: they could hold manifests or prompts.
On the console every text value is shown with its control characters and bidi overrides as
visible escapes (a file or resource name may carry terminal escape sequences); JSON lines
escape them already.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

from workflow.domain.printable import printable

__all__ = ["StderrLogger", "configure_logging"]

_NOISY = ("httpx", "httpcore", "urllib3", "psycopg", "psycopg.pool", "yoyo", "langgraph",
          "procrastinate", "sentence_transformers", "uvicorn.access")


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


def _printable_values(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Every text value of a console line with its terminal escapes shown, not acted on."""
    return {key: printable(value) if isinstance(value, str) else value
            for key, value in event.items()}


def configure_logging(*, json_logs: bool | None = None, level: str = "INFO",
                      stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library's noisy loggers for the process.

    Args:
        json_logs: JSON lines when true, a console renderer when false, JSON off a terminal when
            None.
        level: the lowest level written.
        stream: where logs go (standard error by default).
    """
    numeric = logging.getLevelName(level.upper())
    threshold = numeric if isinstance(numeric, int) else logging.INFO
    out = stream or sys.stderr
    if json_logs is None:
        json_logs = not out.isatty()
    rendering: list[Any]
    if json_logs:
        rendering = [structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer()]
    else:
        rendering = [structlog.processors.format_exc_info, _printable_values,
                     structlog.dev.ConsoleRenderer(colors=out.isatty())]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars,
                    structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), *rendering],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=(structlog.WriteLoggerFactory(file=stream)
                        if stream is not None else _stderr_logger),
        cache_logger_on_first_use=False,
    )
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The pool warns at every failed reconnection attempt; a lost server is reported once, as
    # ktmb's own error (workflow.db).
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
