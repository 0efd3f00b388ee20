"""Objects checked against the Kubernetes OpenAPI schemas of one version (``--kube-version``).

The schemas are ``kubernetes-validate``'s (strict: unknown fields are errors, as the API server's
strict field validation makes them). One :class:`SchemaValidator` serves one load: it reads the
shared definitions once and builds one validator per kind and API version it meets. Kinds
without a schema (custom resources) are not checked. A problem names the JSON pointer of the
first error and says what is wrong; values shown in it have been redacted already (objects are
validated after redaction).
"""

from __future__ import annotations

import re
from typing import Any

from workflow.domain.errors import ConfigError

__all__ = ["SchemaProblem", "SchemaValidator"]

_GROUP = re.compile(r"^([^./]*)(?:\.[^/]*)?/")


class SchemaProblem:
    """Why an object is not valid: the pointer of the first error and its message."""

    def __init__(self, pointer: str, message: str) -> None:
        self.pointer = pointer
        self.message = message


class SchemaValidator:
    """Validates objects against the schemas of one Kubernetes version (``MAJOR.MINOR``).

    Raises:
        ConfigError: ``kubernetes-validate`` is not installed or has no schemas for the version.
    """

    def __init__(self, version: str) -> None:
        try:  # the schemas (20 MB of JSON) and jsonschema load only when validation is asked for
            from kubernetes_validate import utils
        except ImportError:
            raise ConfigError("--kube-version needs kubernetes-validate: "
                              "pip install kubernetes-validate") from None
        self._utils = utils
        known = [v for v in utils.all_versions() if _minor(v) <= _minor(version)]
        if not known:
            raise ConfigError(f"--kube-version {version}: the schemas go back to Kubernetes "
                              f"{'.'.join(utils.all_versions()[0].split('.')[:2])}")
        if _minor(version) > _minor(utils.latest_version()):
            latest = ".".join(utils.latest_version().split(".")[:2])
            raise ConfigError(f"--kube-version {version}: the newest schemas are for Kubernetes "
                              f"{latest}")
        self.version = version
        self._dir = f"kubernetes-json-schema/v{known[-1]}-local-strict"
        self._registry: Any = None
        self._validators: dict[tuple[str, str], Any] = {}

    def _validator(self, kind: str, api_version: str) -> Any:
        """The validator of a kind, or None when the version has no schema for it."""
        key = (kind, api_version)
        if key not in self._validators:
            import jsonschema  # loaded with kubernetes-validate, only when validating
            from referencing import Registry, Resource

            if self._registry is None:
                definitions = self._utils.schema_contents(f"{self._dir}/_definitions.json",
                                                          self.version)
                self._registry = Resource.from_contents(definitions) @ Registry()
            group = _GROUP.sub(r"\1-", api_version)
            try:
                schema = self._utils.schema_contents(f"{self._dir}/{kind.lower()}-{group}.json",
                                                     self.version)
            except (FileNotFoundError, OSError):
                schema = None
            self._validators[key] = None if schema is None else \
                jsonschema.Draft202012Validator(
                    schema, registry=Resource.from_contents(schema) @ self._registry)
        return self._validators[key]

    def problem(self, obj: dict[str, Any]) -> SchemaProblem | None:
        """The first schema error of ``obj``, or None when it is valid (or has no schema)."""
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if not isinstance(kind, str) or not isinstance(api_version, str) or "/" in kind:
            return None
        validator = self._validator(kind, api_version)
        if validator is None:
            return None
        from jsonschema.exceptions import best_match  # loaded with the validator above

        error = best_match(validator.iter_errors(obj))
        if error is None:
            return None
        path = list(error.absolute_path)
        where = ".".join(str(p) for p in path) or "the object"
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties") or {}
            path += [k for k in error.instance if k not in known][:1]  # the line of the key
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
        return SchemaProblem(pointer or "/", f"{where}: {_message(error)}")


def _minor(version: str) -> tuple[int, int]:
    parts = version.split(".")
    return int(parts[0]), int(parts[1])


def _message(error: Any) -> str:
    """The error's message, short (a type error names the types, not the whole value)."""
    if error.validator == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        return f"must be {' or '.join(str(n) for n in names if n != 'null')}"
    text = str(error.message)
    return text if len(text) <= 200 else text[:197] + "..."
