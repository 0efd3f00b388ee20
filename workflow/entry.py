"""The ``ktmb`` console script and ``python -m workflow``: start-up settings, then the CLI.

Set here, before anything imports pydantic: pydantic's plugin discovery is skipped
(``PYDANTIC_DISABLE_PLUGINS=__all__``). ktmb uses no pydantic plugin, and reading every installed
distribution's entry points costs about 20 ms of each command's start. An explicit setting wins
(an empty value enables plugins again).

``ktmb scan ...`` (no global option before the command) runs without the typer application:
:mod:`workflow.scan_command` parses it and the process exits without interpreter teardown once
its output is flushed. Everything else goes to :func:`workflow.cli.main`.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]


def main() -> None:
    """Run the ``ktmb`` command line."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if sys.argv[1:2] == ["scan"]:
        from workflow.log import configure_logging
        from workflow.process import exit_now, tune_gc
        from workflow.scan_command import main as scan_main

        configure_logging(json_logs=False, level="WARNING")  # the global options' defaults
        tune_gc()
        exit_now(scan_main(sys.argv[2:]))
    from workflow.cli import main as cli_main

    cli_main()
