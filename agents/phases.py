"""The eight phases in the order a run takes them, each declared in its own module."""

from __future__ import annotations

from agents import (
    architecture,
    compliance,
    controls,
    data,
    identity,
    logging,
    network,
    risk_review,
)
from agents.phase import PhaseSpec
from workflow.domain.threat_model import Phase

__all__ = ["PHASE_SPECS", "spec_for"]

#: Every phase's declaration, in the order of :data:`workflow.domain.threat_model.PHASES`.
PHASE_SPECS: tuple[PhaseSpec, ...] = (
    architecture.PHASE,
    identity.PHASE,
    data.PHASE,
    logging.PHASE,
    network.PHASE,
    controls.PHASE,
    compliance.PHASE,
    risk_review.PHASE,
)
_BY_PHASE = {spec.phase: spec for spec in PHASE_SPECS}


def spec_for(phase: Phase | str) -> PhaseSpec:
    """The declaration of a phase."""
    return _BY_PHASE[Phase(phase)]
