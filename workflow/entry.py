"""The ``ktmb`` console script and ``python -m workflow``: start-up settings, then the CLI.

pydantic's plugin discovery is skipped (``PYDANTIC_DISABLE_PLUGINS=__all__``, set here before
anything imports pydantic). ktmb uses no pydantic plugin, and discovering them costs every
command twice: reading each installed distribution's entry points, and importing
``importlib.metadata`` (with ``email``, ``zipfile`` and ``csv``) at all, 30-40 ms, a tenth of a
``ktmb scan``. pydantic's loader imports that module even when plugins are disabled, so while
they are disabled its loader is replaced by one that answers, as pydantic's does then, that
there are none (:func:`skip_pydantic_plugin_discovery`). An explicit setting wins: an empty
``PYDANTIC_DISABLE_PLUGINS`` enables plugins again, with pydantic's own loader.

``ktmb scan ...`` (no global option before the command) runs without the typer application:
:mod:`workflow.scan_command` parses it and the process exits without interpreter teardown once
its output is flushed. Everything else goes to :func:`workflow.cli.main`.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

__all__ = ["main", "skip_pydantic_plugin_discovery"]

#: The module that discovers pydantic plugins (pydantic 2.14: ``plugin/_schema_validator.py``
#: imports ``get_plugins`` from it when a model class is built).
_PYDANTIC_PLUGIN_LOADER = "pydantic.plugin._loader"
#: The values of ``PYDANTIC_DISABLE_PLUGINS`` for which pydantic loads no plugin at all.
_ALL_DISABLED = ("__all__", "1", "true")


def _no_plugins() -> tuple[()]:
    return ()


def skip_pydantic_plugin_discovery() -> bool:
    """Answer pydantic's plugin lookups without ``importlib.metadata``; whether it was done.

    Only while ``PYDANTIC_DISABLE_PLUGINS`` disables every plugin, and only before pydantic's
    own loader was imported: the answer, no plugins, is then the one pydantic gives itself.
    """
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in _ALL_DISABLED:
        return False
    if _PYDANTIC_PLUGIN_LOADER in sys.modules:
        return False
    loader = ModuleType(_PYDANTIC_PLUGIN_LOADER,
                        "No pydantic plugins: PYDANTIC_DISABLE_PLUGINS disables them all "
                        "(installed by workflow.entry).")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[_PYDANTIC_PLUGIN_LOADER] = loader
    return True


def main() -> None:
    """Run the ``ktmb`` command line."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    skip_pydantic_plugin_discovery()
    if sys.argv[1:2] == ["scan"]:
        from workflow.log import configure_logging
        from workflow.process import exit_now, tune_gc
        from workflow.scan_command import main as scan_main

        configure_logging(json_logs=False, level="WARNING")  # the global options' defaults
        tune_gc()
        exit_now(scan_main(sys.argv[2:]))
    from workflow.cli import main as cli_main

    cli_main()
