"""The web UI's session cookie: a server-side session id, revoked at logout; tokens at start."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.security.probes import ALICE, assert_clean_error
from workflow.api.auth import SESSION_COOKIE
from workflow.domain.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _login(client: TestClient, token: str = ALICE) -> str:
    """Log in through the form; the session cookie's value."""
    response = client.post("/ui/login", data={"token": token, "next": "/ui/"},
                           follow_redirects=False)
    assert 303 == response.status_code, response.text
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    return value


def test_cookie_is_not_the_api_token(make_client: Callable[..., TestClient],
                                     settings: Settings) -> None:
    """The cookie holds a random session id, stored only as a digest, never the API token."""
    client = make_client()
    first = _login(client)
    assert ALICE not in first
    me = client.get("/me").json()
    assert ("alice", "cookie") == (me["user"], me["via"])
    client.cookies.clear()
    second = _login(client)
    assert first != second
    with psycopg.connect(settings.database_url or "") as conn:
        rows = conn.execute("SELECT * FROM ui_sessions").fetchall()
    stored = " ".join(str(v) for row in rows for v in row)
    assert 2 == len(rows)
    assert first not in stored and second not in stored and ALICE not in stored


def test_logout_revokes_the_session(make_client: Callable[..., TestClient]) -> None:
    """After logout the old cookie value is refused (401), even when a client keeps it."""
    client = make_client()
    old = _login(client)
    csrf = client.get("/me").json()["csrf_token"]
    other = make_client()
    other.cookies.set(SESSION_COOKIE, old)
    assert 200 == other.get("/me").status_code
    response = client.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert 303 == response.status_code
    assert_clean_error(other.get("/me"), 401)
    assert_clean_error(other.get("/runs"), 401)


def test_expired_session_is_refused(make_client: Callable[..., TestClient],
                                    settings: Settings) -> None:
    """A session past its expiry is refused; the UI sends its holder to the login page."""
    client = make_client()
    _login(client)
    assert 200 == client.get("/me").status_code
    with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
        conn.execute("UPDATE ui_sessions SET created_at = now() - interval '13 hours', "
                     "expires_at = now() - interval '1 hour'")
    assert_clean_error(client.get("/me"), 401)
    page = client.get("/ui/", follow_redirects=False)
    assert (303, "/ui/login?next=/ui/") == (page.status_code, page.headers["location"])
    assert 200 == client.get("/ui/login").status_code


def test_removing_the_token_ends_its_sessions(make_client: Callable[..., TestClient],
                                              tokens_file: Path) -> None:
    """A session ends when the API token it was opened with leaves the tokens file."""
    client = make_client()
    _login(client)
    assert 200 == client.get("/me").status_code
    kept = [line for line in tokens_file.read_text(encoding="utf-8").splitlines()
            if not line.startswith(ALICE)]
    tokens_file.write_text("\n".join(kept) + "\n", encoding="utf-8")
    assert_clean_error(client.get("/me"), 401)


def test_session_lifetime_is_configurable(make_client: Callable[..., TestClient]) -> None:
    """The cookie lives as long as the session: KTMB_SESSION_HOURS (12 by default)."""
    default = make_client().post("/ui/login", data={"token": ALICE}, follow_redirects=False)
    assert "max-age=43200" in default.headers["set-cookie"].lower()
    short = make_client(session_hours=0.5).post("/ui/login", data={"token": ALICE},
                                                follow_redirects=False)
    assert "max-age=1800" in short.headers["set-cookie"].lower()


def test_csrf_token_is_per_session(make_client: Callable[..., TestClient]) -> None:
    """Two sessions of one reviewer have different CSRF tokens; one's does not serve the other."""
    one = make_client()
    two = TestClient(one.app, raise_server_exceptions=False)
    _login(one)
    _login(two)
    first = one.get("/me").json()["csrf_token"]
    second = two.get("/me").json()["csrf_token"]
    assert first != second
    refused = two.post("/ui/logout", data={"csrf": first}, follow_redirects=False)
    assert 403 == refused.status_code
    assert 200 == two.get("/me").status_code


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("text", ["", "# only a comment\n\n   \n"])
def test_serve_refuses_an_empty_tokens_file(cli_env: dict[str, str], tmp_path: Path,
                                            text: str) -> None:
    """`ktmb serve` with an empty KTMB_API_TOKENS_FILE exits 2 with one line, like a missing one."""
    tokens = tmp_path / "tokens"
    tokens.write_text(text, encoding="utf-8")
    tokens.chmod(0o600)
    env = {**cli_env, "KTMB_API_TOKENS_FILE": str(tokens), "KTMB_EMBEDDINGS": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "workflow", "serve", "--port", str(_free_port())], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.communicate(timeout=20)
        pytest.fail("ktmb serve started with an empty tokens file")
    assert 2 == process.returncode, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert 1 == len(lines), err
    assert "KTMB_API_TOKENS_FILE" in lines[0]
    assert "Traceback" not in err
