"""What may differ between two runs of the same inputs, replaced by placeholders."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["normalise"]

_FINGERPRINT = re.compile(r"(«redacted:hmac-sha256:)[0-9a-f]+(»)")


def normalise(model: dict[str, Any]) -> dict[str, Any]:
    """The model with its run id, times and secret fingerprints replaced by placeholders.

    Secret fingerprints are keyed per installation; everything else (every finding, score,
    reference, path and count) is compared as it is.
    """
    run_id = str(model.get("run_id", ""))

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str):
            if key in {"created_at", "at"}:
                return "<time>"
            if run_id:
                value = value.replace(run_id, "<run-id>")
            return _FINGERPRINT.sub(r"\1<fingerprint>\2", value)
        return value

    normalised: dict[str, Any] = walk(model)
    return normalised
