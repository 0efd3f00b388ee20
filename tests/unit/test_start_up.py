"""What the CLI's fast paths import: ``ktmb scan`` loads no graph, database, model or logger.

Each check runs in a fresh interpreter (this test process has imported everything already).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "examples" / "payments" / "manifests"
HEAVY = ("langgraph", "langchain_core", "langsmith", "psycopg", "ollama", "httpx", "structlog",
         "rich", "asyncio", "fastapi", "procrastinate", "torch", "numpy")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter at the repository root; it must succeed."""
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=True)


def _loaded_after(code: str) -> set[str]:
    """Top-level packages loaded by ``code`` in a fresh interpreter."""
    probe = (f"{code}\nimport json, sys\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    done = _python(probe)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_scan_imports_no_graph_database_model_or_logger() -> None:
    """Scanning the example application loads none of the heavy packages."""
    loaded = _loaded_after(
        "from workflow.log import configure_logging\n"
        "configure_logging(level='WARNING')\n"
        "from workflow.inputs import load_inputs\n"
        "from workflow.scan import scan\n"
        "from workflow.settings import load_settings\n"
        f"inputs = load_inputs([{str(MANIFESTS)!r}], settings=load_settings())\n"
        "assert scan(inputs, application='payments').findings")
    assert set() == loaded & set(HEAVY)


def test_the_cli_module_imports_no_graph_or_database() -> None:
    """Every command pays for the CLI module's imports; the graph loads with the command."""
    loaded = _loaded_after("import workflow.cli")
    assert set() == loaded & {"langgraph", "langchain_core", "psycopg", "ollama", "structlog",
                              "fastapi", "procrastinate"}


def test_a_logged_line_loads_structlog() -> None:
    """A line at or above the level loads structlog and is written; one below does not."""
    probe = ("import sys\n"
             "from workflow.log import configure_logging, get_logger\n"
             "configure_logging(level='WARNING', json_logs=True)\n"
             "log = get_logger('probe')\n"
             "log.info('quiet')\n"
             "print('structlog' in sys.modules)\n"
             "log.warning('loud', n=1)\n"
             "print('structlog' in sys.modules)\n")
    done = _python(probe)
    assert ["False", "True"] == done.stdout.split()
    line = json.loads(done.stderr.strip())
    assert ("loud", "warning", 1) == (line["event"], line["level"], line["n"])
    assert "quiet" not in done.stderr


def test_context_bound_before_structlog_loaded_is_logged() -> None:
    """``bound`` works on both sides of the lazy import, and inner bindings win."""
    probe = ("from workflow.log import bound, configure_logging, get_logger\n"
             "configure_logging(level='INFO', json_logs=True)\n"
             "log = get_logger('probe')\n"
             "with bound(run_id='r1', phase='outer'):\n"
             "    log.info('first')\n"
             "    with bound(phase='inner'):\n"
             "        log.info('second')\n"
             "log.info('after')\n")
    done = _python(probe)
    lines = [json.loads(line) for line in done.stderr.strip().splitlines()]
    assert [("first", "r1", "outer"), ("second", "r1", "inner"), ("after", None, None)] == [
        (d["event"], d.get("run_id"), d.get("phase")) for d in lines]


def test_bound_context_without_configuration_uses_structlog_defaults() -> None:
    """A library user who never configures logging still gets the bound context."""
    probe = ("from workflow.log import bound, get_logger\n"
             "with bound(phase='data'):\n"
             "    get_logger('probe').info('inside')\n")
    done = _python(probe)
    assert "inside" in done.stdout and "phase=data" in done.stdout  # structlog's default output


def test_the_console_scan_imports_no_cli_framework(tmp_path: Path) -> None:
    """``ktmb scan`` parses its own arguments: neither typer nor click nor the CLI module."""
    out = tmp_path / "m.json"
    probe = ("import json, os, sys\n"
             "import workflow.process as process\n"
             "def report(code):\n"
             "    loaded = sorted({m.split('.')[0] for m in sys.modules} | set(sys.modules))\n"
             "    print(json.dumps([code, loaded]))\n"
             "    os._exit(0)\n"
             "process.exit_now = report\n"
             f"sys.argv = ['ktmb', 'scan', {str(MANIFESTS)!r}, '--out', {str(out)!r}]\n"
             "from workflow.entry import main\n"
             "main()\n")
    done = _python(probe)
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0 == code
    assert out.is_file()
    assert set() == set(loaded) & {"typer", "click", "workflow.cli", "importlib.metadata",
                                   *HEAVY}


_MODEL_PROBE = ("import importlib, json, os, sys\n"
                "from workflow.entry import skip_pydantic_plugin_discovery\n"
                "skipped = skip_pydantic_plugin_discovery()\n"
                "from pydantic import BaseModel, ValidationError\n"
                "class Probe(BaseModel):\n"
                "    n: int\n"
                "assert 3 == Probe.model_validate({'n': '3'}).n\n"
                "try:\n"
                "    Probe(n='x')\n"
                "    raise SystemExit('no validation error')\n"
                "except ValidationError:\n"
                "    pass\n"
                "loader = importlib.import_module('pydantic.plugin._loader')\n"
                "print(json.dumps([skipped, 'importlib.metadata' in sys.modules,\n"
                "                  hasattr(loader, 'entry_points')]))\n")


def test_disabled_pydantic_plugins_are_not_discovered() -> None:
    """With every plugin disabled, models work and importlib.metadata is never imported."""
    done = subprocess.run([sys.executable, "-c", _MODEL_PROBE], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=True,
                          env={**os.environ, "PYDANTIC_DISABLE_PLUGINS": "__all__"})
    assert [True, False, False] == json.loads(done.stdout)


def test_enabled_pydantic_plugins_keep_pydantic_s_loader() -> None:
    """An explicit empty PYDANTIC_DISABLE_PLUGINS (plugins on) leaves discovery to pydantic."""
    done = subprocess.run([sys.executable, "-c", _MODEL_PROBE], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=True,
                          env={**os.environ, "PYDANTIC_DISABLE_PLUGINS": ""})
    assert [False, True, True] == json.loads(done.stdout)
