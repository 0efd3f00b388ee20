"""Scoring in code: the base score, bands and the reviewer's modifiers."""

from __future__ import annotations

import pytest

from workflow.domain.scoring import RiskContext, adjust, score, severity, severity_for
from workflow.domain.threat_model import Severity


@pytest.mark.parametrize(("likelihood", "impact", "band"), [
    (5, 5, Severity.CRITICAL), (4, 5, Severity.CRITICAL), (3, 5, Severity.HIGH),
    (3, 4, Severity.MEDIUM), (2, 3, Severity.LOW), (1, 3, Severity.INFO)])
def test_bands(likelihood: int, impact: int, band: Severity) -> None:
    """likelihood x impact maps to the documented bands."""
    assert band == severity_for(likelihood, impact)


def test_score_is_product_scaled_to_ten() -> None:
    """score = likelihood x impact / 2.5, clamped inputs."""
    assert 10.0 == score(5, 5)
    assert 0.4 == score(0, 1)
    assert Severity.INFO == severity(0.0)


def test_no_context_changes_nothing() -> None:
    """An empty context leaves likelihood and impact alone."""
    result = adjust(3, 3, RiskContext())
    assert (3, 3, ()) == (result.likelihood, result.impact, result.reasons)


def test_each_modifier_moves_one_point() -> None:
    """Exposure raises likelihood, data and reach raise impact, mitigation lowers."""
    assert 4 == adjust(3, 3, RiskContext(internet_exposed=True)).likelihood
    assert 2 == adjust(3, 3, RiskContext(mitigated=True)).likelihood
    assert 4 == adjust(3, 3, RiskContext(sensitive_data=True)).impact
    assert 4 == adjust(3, 4, RiskContext(sensitive_data=True)).impact  # at least a system
    assert 4 == adjust(3, 3, RiskContext(cluster_wide=True)).impact


def test_modifiers_stay_on_scale() -> None:
    """Adjusted values are clamped to 1-5."""
    top = adjust(5, 5, RiskContext(internet_exposed=True, sensitive_data=True,
                                   cluster_wide=True))
    bottom = adjust(1, 1, RiskContext(mitigated=True))
    assert (5, 5) == (top.likelihood, top.impact)
    assert (1, 1) == (bottom.likelihood, bottom.impact)
    assert 10.0 == top.score


def test_reasons_name_every_modifier() -> None:
    """Each applied modifier leaves a reason."""
    result = adjust(2, 2, RiskContext(internet_exposed=True, sensitive_data=True,
                                      mitigated=True))
    assert 3 == len(result.reasons)
    assert (2, 4) == (result.likelihood, result.impact)


def test_unseen_harm_is_not_raised_for_data_or_reach() -> None:
    """What the manifests do not show keeps the visible impact and says so."""
    result = adjust(3, 4, RiskContext(sensitive_data=True, cluster_wide=True,
                                      unseen="the role's policy"))
    assert (3, 4) == (result.likelihood, result.impact)
    assert ["confidence low, severity kept to what is visible: the role's policy is not in "
            "the manifests"] == list(result.reasons)


def test_counted_harm_keeps_at_most_a_limited_impact() -> None:
    """A harm counted by a stronger finding leaves impact 2 at most, with the reason."""
    result = adjust(4, 5, RiskContext(counted_with="a@b"))
    low = adjust(2, 1, RiskContext(counted_with="a@b"))
    assert (4, 2) == (result.likelihood, result.impact)
    assert (2, 1) == (low.likelihood, low.impact)
    assert ["the same harm on the same subject is counted once, by a@b"] == list(low.reasons)


def test_a_step_of_a_path_is_raised_like_exposure_not_on_top_of_it() -> None:
    """Being on a critical or high path raises likelihood once, naming the path, to at most 4."""
    raised = adjust(3, 3, RiskContext(attack_path="internet=>Node/any"))
    assert (4, ("likelihood +1: step of attack path internet=>Node/any",)) == (
        raised.likelihood, raised.reasons)
    assert 4 == adjust(4, 3, RiskContext(attack_path="p")).likelihood  # exploiting is a step
    both = adjust(2, 3, RiskContext(internet_exposed=True, attack_path="p"))
    assert (3, 1) == (both.likelihood, len(both.reasons))
    assert 3 == adjust(3, 3, RiskContext(attack_path="p", unseen="the role")).likelihood
