"""Pruning pgserver's handle list: processes that are gone leave it, live ones stay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from workflow.embedded_server import prune_dead_handles


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_dead_processes_leave_the_handle_list(tmp_path: Path) -> None:
    """A reaped pid is pruned; this (live) process stays."""
    handles = tmp_path / ".handle_pids.json"
    dead = _dead_pid()
    handles.write_text(json.dumps([dead, os.getpid()]))
    assert [dead] == prune_dead_handles(tmp_path)
    assert [os.getpid()] == json.loads(handles.read_text())


def test_a_zombie_is_not_alive(tmp_path: Path) -> None:
    """A killed child its parent has not reaped yet does not hold the server."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        proc.kill()
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # a zombie until reaped
        handles = tmp_path / ".handle_pids.json"
        handles.write_text(json.dumps([proc.pid]))
        assert [proc.pid] == prune_dead_handles(tmp_path)
        assert [] == json.loads(handles.read_text())
    finally:
        proc.wait()


def test_a_pid_reused_after_the_list_was_written_is_not_the_holder(tmp_path: Path) -> None:
    """A live process started after the list's last write is another process on a reused pid."""
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([os.getpid()]))
    os.utime(handles, (0, 0))  # written in 1970, long before this process started
    assert [os.getpid()] == prune_dead_handles(tmp_path)


def test_no_handle_list_prunes_nothing(tmp_path: Path) -> None:
    """A data directory without a handle list is left as it is."""
    assert [] == prune_dead_handles(tmp_path)
    assert not (tmp_path / ".handle_pids.json").exists()
