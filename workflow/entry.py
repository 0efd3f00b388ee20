"""The ``ktmb`` console script and ``python -m workflow``: start-up settings, then the CLI.

Set here, before anything imports pydantic: pydantic's plugin discovery is skipped
(``PYDANTIC_DISABLE_PLUGINS=__all__``). ktmb uses no pydantic plugin, and reading every installed
distribution's entry points costs about 20 ms of each command's start. An explicit setting wins
(an empty value enables plugins again).
"""

from __future__ import annotations

import os

__all__ = ["main"]


def main() -> None:
    """Run the ``ktmb`` command line."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from workflow.cli import main as cli_main

    cli_main()
