"""``--rules`` / ``--skip-rules``: the selection, its errors, and the phases that honour it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.catalogue import ALL_RULES, rules_for
from agents.phase_runner import run_phase
from agents.phases import spec_for
from agents.rule_selection import RuleSelection, split_patterns
from agents.run_context import RunContext
from workflow.domain.errors import ConfigError
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.run import RunOptions
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Phase
from workflow.scan import scan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "payments" / "manifests"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> LoadedInputs:
    """The payments example, loaded once."""
    home = tmp_path_factory.mktemp("home")
    return load_inputs([EXAMPLE], settings=Settings(home=home, redaction_key="test-key"))


def test_patterns_may_be_repeated_and_comma_separated() -> None:
    """``--rules a,b --rules c`` is three patterns; blanks are dropped."""
    assert ("a", "b", "c") == split_patterns(["a, b", "c,", " "])
    assert () == split_patterns(None)


@pytest.mark.parametrize(("include", "exclude", "message"), [
    (["contrl.privileged-container"], [],
     "--rules: no rule matches 'contrl.privileged-container'; did you mean "
     "controls.privileged-container?"),
    (["zzz.*"], [], "--rules: no rule matches 'zzz.*'; the rule ids are in docs/RULES.md"),
    ([], ["Controls.*"], "--skip-rules: no rule matches 'Controls.*'; the rule ids are in "
                         "docs/RULES.md"),
    (["controls.*"], ["controls.*"], "--rules and --skip-rules leave no rule to run"),
])
def test_a_pattern_that_selects_nothing_is_an_error(include: list[str], exclude: list[str],
                                                     message: str) -> None:
    """An unknown id, a glob matching no rule or an empty selection is a ConfigError (exit 2)."""
    with pytest.raises(ConfigError) as raised:
        RuleSelection.of(include, exclude)
    assert message == str(raised.value)
    assert 2 == raised.value.exit_code


def test_ids_and_globs_select_and_skip() -> None:
    """Include by id or glob, then exclude; case-sensitive."""
    selection = RuleSelection.of(["controls.*", "identity.wildcard-rbac"],
                                 ["controls.privileged-container"])
    selected = {rule.RULE.id for rule in ALL_RULES if selection.selects(rule.RULE.id)}
    expected = {rule.RULE.id for rule in rules_for(Phase.CONTROLS)} - {
        "controls.privileged-container"} | {"identity.wildcard-rbac"}
    assert expected == selected
    assert not selection.everything
    assert RuleSelection().everything


def test_the_selection_says_what_it_leaves_out() -> None:
    """The model records how many rules did not run and the patterns given."""
    selection = RuleSelection.of(["identity.wildcard-rbac"])
    assert (f"{len(ALL_RULES) - 1} of {len(ALL_RULES)} rules not run (--rules "
            "identity.wildcard-rbac): their findings are absent from this model") == (
        selection.describe())


def test_a_phase_runs_only_the_selected_rules(inputs: LoadedInputs) -> None:
    """run_phase reads the selection from the run context and runs nothing else."""
    every = run_phase(spec_for(Phase.CONTROLS), RunContext(inputs=inputs))
    only = run_phase(spec_for(Phase.CONTROLS), RunContext(
        inputs=inputs, rules=RuleSelection.of(["controls.privileged-container"])))
    assert len({f.rule for f in every.findings}) > 1
    assert {"controls.privileged-container"} == {f.rule for f in only.findings}
    assert [f for f in every.findings if f.rule == "controls.privileged-container"] == (
        only.findings)
    assert "rules" in only.degradations
    assert "rules" not in every.degradations


def test_scan_honours_the_run_options(inputs: LoadedInputs) -> None:
    """A scan with rules and skip_rules options has findings of the selected rules only."""
    model = scan(inputs, application="payments",
                 options=RunOptions(rules=("controls.*", "network.*"),
                                    skip_rules=("network.open-egress",)))
    rules = {f.rule for f in model.findings}
    assert rules
    assert all(r.startswith(("controls.", "network.")) for r in rules)
    assert "network.open-egress" not in rules
    assert ["rules"] == [d.component for d in model.degradations if d.component == "rules"]


def test_scan_refuses_a_pattern_that_matches_nothing(inputs: LoadedInputs) -> None:
    """Options built in code are checked too: an unknown id never selects silently nothing."""
    with pytest.raises(ConfigError, match="--rules: no rule matches 'nothing'"):
        scan(inputs, application="payments", options=RunOptions(rules=("nothing",)))
