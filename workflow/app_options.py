"""What a run or a scan takes from the application's files: its name, options and baseline.

The application profile (``ktmb.yaml``) gives the defaults of ``--app``, ``--cloud`` and
``--classification`` (what is given on the command line or in a request wins). A baseline
file is a threat-model JSON (``--out`` of ``run`` or ``scan``, or ``ktmb show``).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from agents.facts.classification import most_sensitive
from workflow.domain.baseline import BaselineSnapshot
from workflow.domain.errors import ConfigError
from workflow.domain.inputs import LoadedInputs
from workflow.domain.run import RunOptions
from workflow.domain.threat_model import ThreatModel, read_model

__all__ = ["application_name", "model_file", "profile_options", "snapshot_file"]


def profile_options(options: RunOptions, inputs: LoadedInputs) -> RunOptions:
    """``options`` with the profile's cloud and (most sensitive) classification as defaults.

    ``profile`` records the profile file the run read, if any.
    """
    loaded = inputs.profile
    if loaded is None:
        return options
    profile = loaded.profile
    files = [f.path for f in inputs.files if f.role == "profile"]
    return options.model_copy(update={
        "cloud": options.cloud or (profile.cloud.value if profile.cloud else None),
        "classification": options.classification or most_sensitive(
            profile.data_classification),
        "profile": files[0] if files else None})


def application_name(given: str | None, inputs: LoadedInputs, default: str) -> str:
    """The application's name: as given, else the profile's, else ``default``."""
    if given:
        return given
    if inputs.profile is not None and inputs.profile.profile.name:
        return inputs.profile.profile.name
    return default


def model_file(path: Path) -> ThreatModel:
    """A threat model read from a JSON file (any schema version ktmb has written).

    Raises:
        ConfigError: the file cannot be read or is not a ktmb threat model (one line).
    """
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError:
        raise ConfigError(f"{path}: not a ktmb threat model (not JSON)") from None
    try:
        return read_model(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "document"
        raise ConfigError(f"{path}: not a ktmb threat model ({where}: {error['msg']})") from None


def snapshot_file(path: Path) -> BaselineSnapshot:
    """The baseline snapshot of a threat-model JSON file, named by its path."""
    return BaselineSnapshot.of_model(model_file(path), str(path))
