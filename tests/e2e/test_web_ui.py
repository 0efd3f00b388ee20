"""The web UI end to end: ``ktmb serve`` in a subprocess, driven by a real headless Chromium."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TOKEN = "ui-reviewer-token-0123456789"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "payments"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(cli_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """``ktmb serve`` on a free loopback port, on the test database; yields its base URL."""
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN} rita payments\n", encoding="utf-8")
    tokens.chmod(0o600)
    port = _free_port()
    env = {**cli_env, "KTMB_API_TOKENS_FILE": str(tokens), "KTMB_EMBEDDINGS": "off",
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workflow", "serve", "--host", "127.0.0.1", "--port",
             str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"ktmb serve exited with {process.returncode}:\n"
                            f"{log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("ktmb serve did not answer within 90 s")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _start_run(base: str, approval: str = "architecture,identity") -> str:
    files: list[tuple[str, Any]] = [
        ("manifests", (p.name, p.read_bytes(), "application/yaml"))
        for p in sorted((EXAMPLES / "manifests").glob("*.yaml"))]
    response = httpx.post(f"{base}/runs", headers={"Authorization": f"Bearer {TOKEN}"},
                          files=files, data={"application": "payments",
                                             "approval": approval}, timeout=60)
    assert 202 == response.status_code, response.text
    run_id = str(response.json()["run_id"])
    deadline = time.monotonic() + 90
    while True:
        status = httpx.get(f"{base}/runs/{run_id}",
                           headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
        if status["status"] == "awaiting_approval" and not status["busy"]:
            return run_id
        assert status["status"] in {"queued", "running"}, status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def test_approve_a_phase_in_the_browser(server: str) -> None:
    """Log in, edit and approve the pending phase by clicking, and see the run move on."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright package is not installed")
    run_id = _start_run(server)
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{server}/ui/runs/{run_id}")
            assert "/ui/login" in page.url
            page.fill("#token", TOKEN)
            page.click("#login-submit")
            page.wait_for_url(f"{server}/ui/runs/{run_id}")
            expect = sync_api.expect
            expect(page.locator("#pending-phase")).to_have_text("architecture")
            expect(page.locator("#who-user")).to_have_text("rita")
            first = page.locator("#finding-0")
            first.locator("details.edit summary").click()
            first.locator("select.edit-severity").select_option("low")
            first.locator("textarea.edit-note").fill("Admin ingress is VPN-only; tracked.")
            page.fill("#approve-comment", "Architecture matches the design review.")
            page.click("#approve-button")
            expect(page.locator("#pending-phase")).to_have_text("identity", timeout=60_000)
            expect(page.locator('li.phase[data-phase="architecture"]')).to_have_class(
                "phase phase-approved")
            expect(page.locator("#run-status")).to_have_text("awaiting_approval")
            rows = page.locator("table.approvals tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("rita")
        finally:
            browser.close()
    assert [] == problems
    status = httpx.get(f"{server}/runs/{run_id}", headers={"Authorization": f"Bearer {TOKEN}"},
                       timeout=10).json()
    assert ("awaiting_approval", "identity") == (status["status"], status["pending_phase"])
    approval = status["approvals"][0]
    assert ("architecture", "approved", "rita") == (
        approval["phase"], approval["decision"], approval["decided_by"])
    edit = approval["edits"]["edits"][0]
    assert ("low", "Admin ingress is VPN-only; tracked.") == (edit["severity"], edit["note"])



def test_attack_paths_are_drawn_and_filtered_in_the_browser(server: str, tmp_path: Path) -> None:
    """The risk-review gate lists the paths; the report draws the attack graph and each path,
    and its filter by origin and target redraws them."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                    "(apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright package is not installed")
    run_id = _start_run(server, approval="risk_review")
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{server}/ui/runs/{run_id}")
            page.fill("#token", TOKEN)
            page.click("#login-submit")
            page.wait_for_url(f"{server}/ui/runs/{run_id}")
            expect = sync_api.expect
            expect(page.locator("#pending-phase")).to_have_text("risk_review")
            gate = page.locator("#pending-paths li")
            expect(gate.first).to_contain_text("internet")
            page.click("#approve-button")
            expect(page.locator("#run-status")).to_have_text("completed", timeout=60_000)

            page.goto(f"{server}/ui/runs/{run_id}/report")
            graph = page.locator("#attack-graph svg.attack-drawing")
            expect(graph).to_be_visible()
            box = graph.bounding_box()
            assert box is not None and box["width"] > 400 and box["height"] > 100
            everything = page.locator("article.attack-path").count()
            assert everything > 3
            expect(page.locator("#attack-graph g.vertex[data-id='internet']")).to_have_count(1)
            expect(page.locator("#top-fixes")).to_contain_text("critical")
            page.screenshot(path=str(tmp_path / "report-paths.png"), full_page=True)

            page.select_option("#path-from", "internet")
            page.select_option("#path-to", "data")
            page.click("#path-filter-submit")
            page.wait_for_url("**from=internet**")
            articles = page.locator("article.attack-path")
            expect(articles).to_have_count(1)
            expect(articles.first).to_have_attribute("data-target", "data")
            expect(articles.first.locator("svg.attack-drawing g.vertex")).to_have_count(4)
            kept = page.locator("#attack-graph g.vertex")
            expect(kept).to_have_count(4)
            assert everything > articles.count()
        finally:
            browser.close()
    assert [] == problems
