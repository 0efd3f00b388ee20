"""The options ``run`` and ``scan`` share: one application's inputs, and what to do with them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflow.console import OPTION_HELP, logs_are_json, warn
from workflow.domain.renderers import RenderOptions, kube_version

__all__ = ["AppOpt", "ArchitectureOpt", "ClassificationOpt", "CloudOpt", "FailOnOpt",
           "KubeVersionOpt", "NamespaceOpt", "PathsArg", "ProfileOpt", "RulesOpt", "SetOpt",
           "SkipRulesOpt", "SuppressionsOpt", "ValuesOpt", "print_warnings", "render_options",
           "rule_patterns"]


def print_warnings(warnings: list[str]) -> None:
    """The loader's warnings (files skipped), for a person.

    With --log-json the loader's own ``input_skipped`` events carry them.
    """
    if not logs_are_json():
        for warning in warnings:
            warn(warning)


PathsArg = Annotated[list[str], typer.Argument(help=OPTION_HELP["paths"])]
AppOpt = Annotated[str | None, typer.Option("--app", help=OPTION_HELP["app"])]
ArchitectureOpt = Annotated[list[Path] | None, typer.Option(help=OPTION_HELP["architecture"])]
CloudOpt = Annotated[str | None, typer.Option(help=OPTION_HELP["cloud"])]
ClassificationOpt = Annotated[str | None, typer.Option(help=OPTION_HELP["classification"])]
FailOnOpt = Annotated[str | None, typer.Option(help=OPTION_HELP["fail_on"])]
NamespaceOpt = Annotated[str | None, typer.Option(
    "--namespace", "-n", help="Namespace of the objects that name none (as kubectl apply -n); "
    "ServiceAccount subjects without one are resolved there too. Default: default.")]
ProfileOpt = Annotated[Path | None, typer.Option(help=OPTION_HELP["profile"])]
SuppressionsOpt = Annotated[Path | None, typer.Option(help=OPTION_HELP["suppressions"])]
RulesOpt = Annotated[list[str] | None, typer.Option("--rules", help=OPTION_HELP["rules"])]
SkipRulesOpt = Annotated[list[str] | None, typer.Option("--skip-rules",
                                                        help=OPTION_HELP["skip_rules"])]


def rule_patterns(rules: list[str] | None,
                   skip_rules: list[str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The checked ``--rules`` and ``--skip-rules`` patterns.

    Raises:
        ConfigError: a pattern matches no rule, or the two leave none to run.
    """
    from agents.rule_selection import RuleSelection  # loads the rule catalogue

    selection = RuleSelection.of(rules or (), skip_rules or ())
    return selection.include, selection.exclude


ValuesOpt = Annotated[list[Path] | None, typer.Option("--values", help=OPTION_HELP["values"])]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help=OPTION_HELP["set"])]
KubeVersionOpt = Annotated[str | None, typer.Option("--kube-version",
                                                    help=OPTION_HELP["kube_version"])]


def render_options(values: list[Path] | None, set_values: list[str] | None,
                   version: str | None) -> RenderOptions:
    """The rendering options of ``--values``, ``--set`` and ``--kube-version``."""
    return RenderOptions(values=tuple(values or ()), set_values=tuple(set_values or ()),
                         kube_version=kube_version(version) if version else None)
