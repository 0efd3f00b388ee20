"""The Ollama provider through the real ``ollama`` client against an httpx transport double."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from agents.enrichment.answer import RawPhaseAnswer
from agents.llm.client import RetryPolicy
from agents.llm.factory import make_model_client
from agents.llm.hosts import check_model_host
from agents.llm.ollama import DEFAULT_SEED, OllamaModelClient
from tests.unit.llm.llm_support import (
    FakeOllamaServer,
    enrich_phase,
    make_inventory,
    ollama_chat_response,
    ollama_tags_response,
    passages,
    rule_findings,
    shop_manifests,
    threat,
)
from workflow.domain.errors import ConfigError, ModelOutputError, ModelUnavailableError
from workflow.domain.threat_model import Origin, Phase

Handler = Callable[[httpx.Request], httpx.Response]
NO_WAIT = RetryPolicy(attempts=3, reasks=2, backoff=0.0, max_backoff=0.0, cooldown=60.0)


class Recorder:
    """An Ollama server double: answers /api/chat from a script, records every request."""

    def __init__(self, chat: list[httpx.Response | Exception],
                 tags: httpx.Response | None = None) -> None:
        self.chat = list(chat)
        self.tags = tags or ollama_tags_response("phi4-mini:latest")
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/tags":
            return self.tags
        assert "/api/chat" == request.url.path
        chats = [r for r in self.requests if r.url.path == "/api/chat"]
        item = self.chat[min(len(chats) - 1, len(self.chat) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == "/api/chat"]


def client(recorder: Recorder, **kwargs: Any) -> OllamaModelClient:
    kwargs.setdefault("retry", NO_WAIT)
    return OllamaModelClient("phi4-mini", "http://127.0.0.1:11434",
                             transport=httpx.MockTransport(recorder), **kwargs)


VALID = json.dumps({"threats": [threat()], "recommendations": []})


def test_request_carries_model_schema_and_options() -> None:
    """The chat request names the model, sends the JSON schema and fixed sampling options."""
    recorder = Recorder([ollama_chat_response(VALID)])
    answer = client(recorder).structured(RawPhaseAnswer, system="SYS", prompt="USER",
                                         num_ctx=8192)
    body = recorder.chat_bodies()[0]
    assert "phi4-mini" == body["model"]
    assert RawPhaseAnswer.model_json_schema() == body["format"]
    assert {"num_ctx": 8192, "temperature": 0, "seed": DEFAULT_SEED,
            "num_predict": 1024} == body["options"]
    assert False is body["stream"]
    assert [{"role": "system", "content": "SYS"},
            {"role": "user", "content": "USER"}] == body["messages"]
    assert "Internet attacker escapes the privileged web pod" == answer.value.threats[0]["title"]
    assert (120, 30) == (answer.prompt_tokens, answer.completion_tokens)


def test_schema_sent_is_the_strict_phase_answer() -> None:
    """The format schema requires both lists and bounds likelihood and impact to 1-5."""
    schema = RawPhaseAnswer.model_json_schema()
    threat_schema = schema["$defs"]["ThreatProposal"]
    assert ["threats", "recommendations"] == schema["required"]
    assert [1, 2, 3, 4, 5] == threat_schema["properties"]["likelihood"]["enum"]
    assert "citations" in threat_schema["required"]


def test_digest_recorded_after_first_answer() -> None:
    """The model digest from /api/tags goes into LlmInfo after the first answer."""
    recorder = Recorder([ollama_chat_response(VALID)])
    model = client(recorder)
    assert None is model.info.digest
    model.structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert f"sha256:{'ab' * 32}" == model.info.digest


def test_malformed_json_is_reasked_then_accepted() -> None:
    """An answer that is not JSON gets one re-ask; the valid second answer is used."""
    recorder = Recorder([ollama_chat_response("Sure! Here are threats: {oops"),
                         ollama_chat_response(VALID)])
    answer = client(recorder).structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    bodies = recorder.chat_bodies()
    assert 2 == len(bodies)
    assert 3 == len(bodies[1]["messages"])
    assert "could not be used" in bodies[1]["messages"][2]["content"]
    assert (240, 60) == (answer.prompt_tokens, answer.completion_tokens)


def test_invalid_after_reasks_raises_model_output_error() -> None:
    """An answer that never validates stops after 1 + reasks calls."""
    recorder = Recorder([ollama_chat_response('{"threats": "none"}')])
    with pytest.raises(ModelOutputError, match="no valid answer after 3 asks"):
        client(recorder).structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert 3 == len(recorder.chat_bodies())


def test_truncated_answer_is_named_in_the_reask() -> None:
    """A cut-off answer (done_reason=length) is re-asked, saying it was cut off."""
    cut = VALID[: len(VALID) // 2]
    recorder = Recorder([ollama_chat_response(cut, done_reason="length"),
                         ollama_chat_response(VALID)])
    client(recorder).structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert "cut off at 1024 tokens" in recorder.chat_bodies()[1]["messages"][2]["content"]


def test_host_down_raises_unavailable_and_cools_down() -> None:
    """A refused connection is retried, then reported; the next call fails fast."""
    recorder = Recorder([httpx.ConnectError("refused")])
    model = client(recorder)
    with pytest.raises(ModelUnavailableError, match="is not reachable"):
        model.structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert 3 == len(recorder.chat_bodies())
    with pytest.raises(ModelUnavailableError, match="cooldown"):
        model.structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert 3 == len(recorder.chat_bodies())


def test_retries_back_off_exponentially() -> None:
    """Waits between tries double from the policy's backoff."""
    waits: list[float] = []
    recorder = Recorder([httpx.ConnectError("refused")])
    model = client(recorder, retry=RetryPolicy(attempts=4, backoff=0.5, max_backoff=1.5),
                   sleep=waits.append)
    with pytest.raises(ModelUnavailableError):
        model.structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert [0.5, 1.0, 1.5] == waits


def test_timeout_raises_unavailable() -> None:
    """A read timeout on every try is reported as a slow host."""
    recorder = Recorder([httpx.ReadTimeout("slow")])
    with pytest.raises(ModelUnavailableError, match="did not answer within 7s"):
        client(recorder, timeout=7.0).structured(RawPhaseAnswer, system="s", prompt="p",
                                                 num_ctx=4096)


def test_server_error_is_retried() -> None:
    """An HTTP 500 is transient: the next try's answer is used."""
    recorder = Recorder([httpx.Response(500, json={"error": "runner crashed"}),
                         ollama_chat_response(VALID)])
    answer = client(recorder).structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert 1 == len(answer.value.threats)
    assert 2 == len(recorder.chat_bodies())


def test_missing_model_names_the_pull_command() -> None:
    """HTTP 404 (model not pulled) is not retried and says how to pull it."""
    recorder = Recorder([httpx.Response(404, json={"error": "model 'phi4-mini' not found"})])
    with pytest.raises(ModelUnavailableError, match="run: ollama pull phi4-mini"):
        client(recorder).structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert 1 == len(recorder.chat_bodies())


def test_real_closed_loopback_port_is_host_down() -> None:
    """A loopback port with no server behind it is reported as unreachable (no mocks)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = make_model_client("ollama", host=f"127.0.0.1:{port}", retry=NO_WAIT)
    assert model is not None
    with pytest.raises(ModelUnavailableError, match=f"127.0.0.1:{port} is not reachable"):
        model.structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)


def test_enrichment_degrades_when_host_is_down() -> None:
    """With the host down the phase keeps its rule findings and records why."""
    recorder = Recorder([httpx.ConnectError("refused")])
    result = enrich_phase(Phase.CONTROLS, make_inventory(shop_manifests()), rule_findings(),
                          passages(), None, None, client(recorder))
    assert () == result.findings
    assert result.degradation is not None
    assert "not reachable" in result.degradation
    assert 1 == result.usage.calls


def test_enrichment_drops_hallucinations_from_ollama() -> None:
    """Unknown resources and citations from a real-shaped answer are dropped and counted."""
    answer = {"threats": [
        threat(),
        threat(title="Pivot to the payments database",
               resources=["StatefulSet/shop/payments-db"], citations=["kb:made-up"]),
        threat(title="Token theft", resources=["Deployment/shop/web", "Pod/shop/ghost"],
               citations=["kb:nsa#rbac", "CIS 5.1.1"]),
    ], "recommendations": [
        {"finding_id": "controls.privileged-container@Deployment/shop/web",
         "recommendation": "Use a baseline PSS label on namespace shop."},
        {"finding_id": "controls.made-up@Deployment/shop/web", "recommendation": "x"},
    ]}
    recorder = Recorder([ollama_chat_response(json.dumps(answer))])
    result = enrich_phase(Phase.CONTROLS, make_inventory(shop_manifests()), rule_findings(),
                          passages(), None, None, client(recorder))
    assert None is result.degradation
    assert [
        "llm.controls@Deployment/shop/web#internet-attacker-escapes-the-privileged-web-pod",
        "llm.controls@Deployment/shop/web#token-theft",
    ] == [f.id for f in result.findings]
    assert {"no_known_resource": 1, "unknown_citation": 2, "unknown_finding": 1,
            "unknown_resource": 2} == result.drops
    assert 6 == result.dropped
    assert {Origin.LLM} == {f.origin for f in result.findings}
    assert ["controls.privileged-container@Deployment/shop/web"] == list(
        result.recommendations)


def test_remote_host_is_refused_with_one_line() -> None:
    """A public model host is a configuration error (exit code 2) on a single line."""
    with pytest.raises(ConfigError) as caught:
        make_model_client("ollama", host="http://8.8.8.8:11434")
    assert 2 == caught.value.exit_code
    assert 1 == len(str(caught.value).splitlines())
    assert "--allow-remote-model" in str(caught.value)


@pytest.mark.parametrize("host", [
    "http://93.184.216.34", "100.64.0.1", "169.254.169.254", "[2001:db8::5]:11434",
    "http://[::ffff:8.8.8.8]:11434"])
def test_public_and_link_local_hosts_are_refused(host: str) -> None:
    """Anything outside loopback and the private ranges is refused."""
    with pytest.raises(ConfigError, match="not a loopback or private address"):
        check_model_host(host)


@pytest.mark.parametrize(("host", "url"), [
    ("localhost", "http://localhost:11434"), ("10.1.2.3:8080", "http://10.1.2.3:8080"),
    ("http://172.20.0.5", "http://172.20.0.5:80"), ("https://192.168.1.9", "https://192.168.1.9:443"),
    ("[fd00::7]", "http://[fd00::7]:11434"), ("[::1]:9999", "http://[::1]:9999"),
    ("127.8.0.1:1", "http://127.8.0.1:1")])
def test_local_and_private_hosts_are_accepted(host: str, url: str) -> None:
    """Loopback, RFC 1918 and unique-local IPv6 hosts are accepted and normalised."""
    assert url == check_model_host(host)


def test_remote_host_allowed_when_asked() -> None:
    """--allow-remote-model lets a public host through without resolving it."""
    model = make_model_client("ollama", host="https://models.example.com", allow_remote=True)
    assert isinstance(model, OllamaModelClient)
    assert "https://models.example.com:443" == model.host


def test_host_comes_from_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --host the client uses $OLLAMA_HOST, and checks it too."""
    monkeypatch.setenv("OLLAMA_HOST", "10.0.0.8:11500")
    model = make_model_client("ollama")
    assert isinstance(model, OllamaModelClient)
    assert "http://10.0.0.8:11500" == model.host
    monkeypatch.setenv("OLLAMA_HOST", "203.0.113.7")
    with pytest.raises(ConfigError):
        make_model_client("ollama")


def test_factory_off_unknown_and_missing_gguf(tmp_path: Any) -> None:
    """off gives no client; an unknown provider or a missing GGUF is a config error."""
    assert None is make_model_client("off")
    with pytest.raises(ConfigError, match="unknown model provider"):
        make_model_client("openai")
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_bytes(b"PK\x03\x04")
    with pytest.raises(ConfigError, match="is not a GGUF file"):
        make_model_client("llamacpp", str(not_gguf))
    with pytest.raises(ConfigError, match="does not exist"):
        make_model_client("llamacpp", str(tmp_path / "absent.gguf"))


def test_llamacpp_missing_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without llama-cpp-python the error names the exact install command."""
    from agents.llm import factory

    monkeypatch.setattr(factory, "llama_cpp_available", lambda: False)
    with pytest.raises(ConfigError, match=r"pip install 'ktmb\[llamacpp\]'"):
        factory.make_model_client("llamacpp")


def test_proxy_environment_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP(S)_PROXY cannot divert model traffic away from the checked host (real sockets)."""
    body = ollama_chat_response(VALID).content
    with FakeOllamaServer(body) as model_host, FakeOllamaServer(b"{}") as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        model = make_model_client("ollama", host=f"127.0.0.1:{model_host.port}", retry=NO_WAIT)
        assert model is not None
        answer = model.structured(RawPhaseAnswer, system="s", prompt="p", num_ctx=4096)
    assert 1 == len(answer.value.threats)
    assert "/api/chat" == model_host.paths[0]
    assert [] == proxy.paths
