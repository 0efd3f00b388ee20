"""The one error hierarchy of ktmb.

::

    KtmbError                     docstring = default message
    ├── UserError                 exit 2 / HTTP 4xx: the user can fix it
    │   ├── InventoryError        a manifest or notes file cannot be used
    │   │   └── NoManifestsError  the inputs hold no Kubernetes object at all
    │   ├── ConfigError           a setting or option is wrong
    │   ├── DecisionError         an approval, rejection or edit is malformed
    │   ├── RunStateError         the run is not in a state that allows the request
    │   ├── NotFoundError         a run, phase or finding does not exist
    │   ├── DatabaseUnavailableError  the database cannot be reached
    │   └── PromptError           a prompt file is missing or malformed
    └── RunError                  exit 1 / HTTP 5xx: something failed inside ktmb
        ├── ModelUnavailableError the model host or file cannot be used
        ├── ModelOutputError      the model's answer stayed invalid after retries
        ├── RetrievalError        the knowledge base could not answer
        └── StoreError            a database operation failed

Every error renders as one line (``str(err)``) meant for a person, safe to print on a terminal
(:func:`~workflow.domain.printable.printable`); none carries a secret value.
"""

from __future__ import annotations

from workflow.domain.printable import printable

__all__ = [
    "ConfigError",
    "DatabaseUnavailableError",
    "DecisionError",
    "InventoryError",
    "KtmbError",
    "ModelOutputError",
    "ModelUnavailableError",
    "NoManifestsError",
    "NotFoundError",
    "PromptError",
    "RetrievalError",
    "RunError",
    "RunStateError",
    "StoreError",
    "UserError",
    "one_line",
]


class KtmbError(Exception):
    """ktmb failed."""

    exit_code = 1
    http_status = 500

    def __init__(self, message: str | None = None) -> None:
        text = message or (self.__doc__ or "error").strip().splitlines()[0]
        super().__init__(printable(" ".join(text.split())))

    @property
    def message(self) -> str:
        """The one-line message for a person."""
        return str(self)


class UserError(KtmbError):
    """The request cannot be carried out as given."""

    exit_code = 2
    http_status = 400


class InventoryError(UserError):
    """An input file cannot be read as Kubernetes manifests."""

    def __init__(self, path: str, problem: str, line: int | None = None) -> None:
        self.path = printable(path)  # a file name may carry terminal escapes
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class NoManifestsError(InventoryError):
    """The inputs hold no Kubernetes object at all (nothing to analyse)."""


class ConfigError(UserError):
    """A setting or option is not valid."""


class DecisionError(UserError):
    """The approval decision is malformed; the run stays where it was."""

    http_status = 422


class RunStateError(UserError):
    """The run is not in a state that allows this request."""

    http_status = 409


class NotFoundError(UserError):
    """No such run, phase or finding."""

    http_status = 404


class DatabaseUnavailableError(UserError):
    """The database cannot be reached."""

    http_status = 503


class PromptError(UserError):
    """A prompt file is missing or malformed."""


class RunError(KtmbError):
    """The run failed inside ktmb."""


class ModelUnavailableError(RunError):
    """The model cannot be used."""


class ModelOutputError(RunError):
    """The model's answer was not valid after retries."""


class RetrievalError(RunError):
    """The knowledge base could not answer."""


class StoreError(RunError):
    """A database operation failed."""


def one_line(exc: BaseException, *, limit: int | None = None, with_type: bool = True) -> str:
    """An error as one line for a person or a log.

    A ktmb error is its own message. Another error is the first line of its message, after its
    type name (``OperationalError: connection refused``); ``with_type=False`` leaves the type
    out where the message says enough, and gives the type alone when there is no message.
    ``limit`` caps the message's length (the type name is always whole).
    """
    text = str(exc).strip()
    first = text.splitlines()[0][:limit] if text else ""
    if isinstance(exc, KtmbError):
        return first
    if not with_type:
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}"
