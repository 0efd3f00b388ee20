"""Request bodies: refused unread without credentials, capped with them (a real ``ktmb serve``).

The requests are written on a raw socket so the probes control exactly what the server has been
sent: headers alone (a server that answers has not waited for the body) or a chunked body
streamed until the server stops it. The server's peak resident memory is read from
``/proc/PID/status`` (``VmHWM``, reset through ``/proc/PID/clear_refs``).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.probes import ALICE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REQUEST_CAP = 8 * 1024 * 1024
BIG = 50_000_000
BOUNDARY = "ktmb-probe-boundary"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(cli_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, int]]:
    """``ktmb serve`` on a free loopback port with an 8 MiB request cap: (port, pid)."""
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{ALICE} alice payments\n", encoding="utf-8")
    tokens.chmod(0o600)
    port = _free_port()
    env = {**cli_env, "KTMB_API_TOKENS_FILE": str(tokens), "KTMB_EMBEDDINGS": "off",
           "KTMB_SERVER_PATHS": str(tmp_path), "KTMB_MAX_REQUEST_BYTES": str(REQUEST_CAP),
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workflow", "serve", "--host", "127.0.0.1", "--port",
             str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"ktmb serve exited with {process.returncode}:\n"
                            f"{log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("ktmb serve did not answer within 90 s")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class Answer:
    """What the server answered on a raw connection."""

    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines and lines[0] else 0
        self.headers = {k.strip().lower(): v.strip() for k, _, v in
                        (line.partition(":") for line in lines[1:])}

    def error(self) -> dict[str, str]:
        """The ``{error, detail}`` body, checked to be one line."""
        body: dict[str, str] = json.loads(self.body.decode("utf-8"))
        assert ["detail", "error"] == sorted(body)
        assert 1 == len(body["detail"].splitlines())
        return body


def _exchange(port: int, head: str, chunks: Iterator[bytes] | None = None,
              timeout: float = 20.0) -> Answer:
    """Send ``head`` (and stream ``chunks`` from a thread); read the answer until it is whole."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sent = [0]

    def stream() -> None:
        try:
            for chunk in chunks or ():
                sock.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:
            pass  # the server answered and closed: what a capped body should get

    try:
        sock.sendall(head.encode("latin-1"))
        sender = threading.Thread(target=stream, daemon=True)
        sender.start()
        raw = b""
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                raise AssertionError(f"no answer within {timeout}s (the server waits for the "
                                     f"body; {sent[0]:,} bytes sent)") from None
            except ConnectionResetError:
                data = b""
            if not data:
                break
            raw += data
            answer = Answer(raw)
            length = answer.headers.get("content-length")
            if b"\r\n\r\n" in raw and length is not None and len(answer.body) >= int(length):
                break
        return Answer(raw)
    finally:
        sock.close()


def _head(path: str, *, length: int | None, content_type: str, token: str | None) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}"]
    lines.append(f"Content-Length: {length}" if length is not None
                 else "Transfer-Encoding: chunked")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return "\r\n".join(lines) + "\r\n\r\n"


def _chunked(parts: Iterator[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def _big_json() -> Iterator[bytes]:
    yield b'{"paths": ["/srv/app"], "application": "'
    block = b"a" * 65536
    for _ in range(BIG // len(block)):
        yield block
    yield b'"}'


def _big_upload() -> Iterator[bytes]:
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"manifests\"; "
           "filename=\"big.yaml\"\r\nContent-Type: application/yaml\r\n\r\n").encode()
    block = b"# padding padding padding padding padding padding padding padding\n" * 1000
    for _ in range(BIG // len(block)):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


JSON = "application/json"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.mark.parametrize(("path", "content_type"), [
    ("/runs/from-path", JSON), ("/runs", MULTIPART), ("/runs/some-run/approve", JSON),
    ("/runs/some-run/reject", JSON), ("/no/such/endpoint", JSON)])
def test_unauthenticated_body_is_refused_unread(server: tuple[int, int], path: str,
                                                content_type: str) -> None:
    """A 50 MB body without credentials gets 401 before any of it is sent, in flat memory."""
    port, pid = server
    before = _status_kb(pid, "VmRSS")
    answer = _exchange(port, _head(path, length=BIG, content_type=content_type, token=None))
    assert 401 == answer.status
    assert "Unauthorized" == answer.error()["error"]
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert _status_kb(pid, "VmRSS") - before < 10_000


def test_unauthenticated_form_post_goes_to_login_unread(server: tuple[int, int]) -> None:
    """A 50 MB web-UI form post without a session is sent to the login page, body unread."""
    port, _pid = server
    answer = _exchange(port, _head("/ui/runs", length=BIG, content_type=MULTIPART, token=None))
    assert (303, "/ui/login?next=/ui/runs") == (answer.status, answer.headers["location"])


def test_bad_token_with_a_body_is_refused_unread(server: tuple[int, int]) -> None:
    """A body sent with an unknown token gets 401 before any of it is sent."""
    port, _pid = server
    answer = _exchange(port, _head("/runs/from-path", length=BIG, content_type=JSON,
                                   token="not-a-token-0123456789"))
    assert (401, "the API token is not valid") == (answer.status, answer.error()["detail"])


@pytest.mark.parametrize(("path", "content_type", "cap"), [
    ("/runs/from-path", JSON, "1,048,576"), ("/runs", MULTIPART, f"{REQUEST_CAP:,}")])
def test_declared_oversized_body_is_413_unread(server: tuple[int, int], path: str,
                                               content_type: str, cap: str) -> None:
    """With credentials, a Content-Length over the cap gets 413 before the body is sent."""
    port, _pid = server
    answer = _exchange(port, _head(path, length=BIG, content_type=content_type, token=ALICE))
    assert 413 == answer.status
    error = answer.error()
    assert "TooLarge" == error["error"]
    assert cap in error["detail"]
    assert "close" == answer.headers.get("connection")


@pytest.mark.parametrize(("path", "content_type", "chunks"), [
    ("/runs/from-path", JSON, _big_json), ("/runs", MULTIPART, _big_upload)])
def test_streamed_oversized_body_is_413_in_bounded_memory(
        server: tuple[int, int], path: str, content_type: str,
        chunks: Callable[[], Iterator[bytes]]) -> None:
    """A 50 MB chunked body over the cap gets 413 and the server's peak memory stays flat."""
    port, pid = server
    Path(f"/proc/{pid}/clear_refs").write_text("5", encoding="ascii")  # reset VmHWM
    before = _status_kb(pid, "VmRSS")
    answer = _exchange(port, _head(path, length=None, content_type=content_type, token=ALICE),
                       _chunked(chunks()), timeout=60)
    peak = _status_kb(pid, "VmHWM")
    assert peak - before < 20_000, f"peak memory grew by {peak - before:,} kB"
    assert 413 == answer.status, answer.body[:300]
    assert "TooLarge" == answer.error()["error"]
    health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
    assert 200 == health.status_code
