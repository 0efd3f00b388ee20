"""Runs started from the command line record who started them, even without ``$USER``."""

from __future__ import annotations

import getpass
import json

import pytest

from tests.security.cli_process import MANIFESTS, ktmb

pytestmark = pytest.mark.e2e


def test_cli_run_records_the_account_without_user_variables(cli_env: dict[str, str]) -> None:
    """No KTMB_USER, USER or LOGNAME (a container, cron): the OS account is the creator."""
    env = {k: v for k, v in cli_env.items() if k not in {"KTMB_USER", "USER", "LOGNAME"}}
    started = ktmb(env, "run", MANIFESTS)
    assert 0 == started.returncode, started.stderr
    listed = ktmb(env, "runs", "--json")
    assert 0 == listed.returncode, listed.stderr
    assert [getpass.getuser()] == [r["created_by"] for r in json.loads(listed.stdout)]


def test_cli_run_records_ktmb_user(cli_env: dict[str, str]) -> None:
    """KTMB_USER names the creator of a run and of a batch's runs."""
    env = {**cli_env, "KTMB_USER": "alice"}
    assert 0 == ktmb(env, "run", MANIFESTS).returncode
    queued = ktmb(env, "batch", MANIFESTS, "--no-wait")
    assert 0 == queued.returncode, queued.stderr
    listed = json.loads(ktmb(env, "runs", "--json").stdout)
    assert ["alice", "alice"] == [r["created_by"] for r in listed]
