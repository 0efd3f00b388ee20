"""``ktmb triage``: the decisions stored for an application, and decisions on a finished run.

Decisions taken at a gate (``ktmb approve --edits``) are stored for the application already;
``ktmb triage record`` takes decisions on the findings of a run that did not stop at a gate (a
completed run), for the application's next runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workflow.command_env import CommandEnv, handled
from workflow.console import say

__all__ = ["triage_app"]

#: The ``ktmb triage`` commands.
triage_app = typer.Typer(no_args_is_help=True,
                         help="Triage decisions that carry over to an application's next runs.")


@triage_app.command("list")
@handled
def list_decisions(application: Annotated[str, typer.Argument(help="The application.")],
                   as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The decisions in force for an application, one per finding."""
    decisions = CommandEnv().runs().triage.decisions(application)
    if as_json:
        say(json.dumps([d.model_dump(mode="json") for d in decisions], indent=2), err=False)
        return
    for d in decisions:
        extra = "; ".join(part for part in (
            f"severity {d.severity.value}" if d.severity else "",
            f"owner {d.owner}" if d.owner else "",
            f"until {d.expires.isoformat()}" if d.expires else "",
            d.reason or "") if part)
        say(f"{d.status.value:<15} {d.finding}  by {d.by} on {d.at:%Y-%m-%d}"
            + (f"  ({extra})" if extra else ""), err=False)


@triage_app.command("record")
@handled
def record(run_id: Annotated[str, typer.Argument(help="The run whose findings are triaged.")],
           edits: Annotated[Path, typer.Option(
               help="YAML/JSON edits, as for 'ktmb approve --edits' (no removals).")],
           by: Annotated[str | None, typer.Option(help="Reviewer name.")] = None) -> None:
    """Record decisions on a run's findings; they apply from the application's next run."""
    env = CommandEnv()
    from workflow.gates import load_edits

    parsed = load_edits(edits)
    runs = env.runs()
    count = runs.record_triage(run_id, parsed, by=by or env.settings.user)
    application = runs.info(run_id).application
    say(f"{count} decision{'' if count == 1 else 's'} recorded for {application}; they apply "
        "from its next run", event="triage_recorded", run_id=run_id, decisions=count)


@triage_app.command("history")
@handled
def history(application: Annotated[str, typer.Argument(help="The application.")],
            finding: Annotated[str | None, typer.Option(help="One finding's id.")] = None,
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every decision taken on an application's findings, oldest first."""
    rows = CommandEnv().runs().triage.history(application, finding)
    if as_json:
        say(json.dumps(rows, indent=2, default=str), err=False)
        return
    for row in rows:
        decision = row["decision"]
        say(f"{row['decided_at']:%Y-%m-%d %H:%M}  {row['decided_by']:<16} "
            f"{decision.get('status', ''):<15} {row['finding_id']}", err=False)
