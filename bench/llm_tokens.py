"""Model cost per application: calls, tokens per phase and per run, drops, wall time, warm cache.

For every application in ``../shared/corpus/apps`` (skipped cleanly when absent) the script
loads the manifests with ``workflow.domain.inputs.load_inputs``, runs each phase's rule
catalogue when one exists, takes the built-in corpus passages tagged for the phase as
stand-in retrieval results (best five, in corpus order), and calls
``agents.enrichment.enrich_phase`` for the eight
phases twice with one in-memory answer cache: a cold run (model calls) and a warm run (which
must make zero calls).

Usage::

    python bench/llm_tokens.py                       # gemma-3-270m via llama.cpp, all apps
    python bench/llm_tokens.py --apps guestbook sock-shop --max-tokens 256
    python bench/llm_tokens.py --llm ollama --model phi4-mini
    python bench/llm_tokens.py --estimate-only       # prompts only, no model (all apps, fast)
    python bench/llm_tokens.py --json bench/llm_tokens.json

Token counts are the model's own (llama.cpp usage / Ollama prompt_eval_count and eval_count);
``est`` is the budget estimator (ceil(chars / 3.5)) that sizes prompts before any call.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agents.enrichment.enricher import Enricher
from agents.enrichment.prompt import Budget, prepare_prompt
from agents.facts.derived import Facts
from agents.llm.client import ModelClient, RetryPolicy
from agents.llm.factory import make_model_client
from agents.llm.llamacpp import LlamaCppModelClient
from agents.llm_cache import MemoryLlmCache
from agents.phases import PHASE_SPECS
from agents.rules.base import run_rules
from workflow.domain.inputs import LoadedInputs, load_inputs
from workflow.domain.passages import Passage
from workflow.domain.settings import Settings
from workflow.domain.threat_model import Finding, Phase
from workflow.log import configure_logging

CORPUS_APPS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "apps"
TARGET_TOKENS = 25_000


def phase_findings(facts: Facts) -> dict[Phase, list[Finding]]:
    """Each phase's rule findings, phase by phase as a run takes them (no gates)."""
    found: dict[Phase, list[Finding]] = {}
    for spec in PHASE_SPECS:
        earlier = [f for items in found.values() for f in items]
        found[spec.phase] = run_rules(spec.rules, facts.with_findings(earlier))
    return found


def corpus_passages(phase: Phase, limit: int = 5) -> list[Passage]:
    """Built-in corpus passages tagged for the phase (stand-in for hybrid retrieval)."""
    try:
        from kb.corpus import load_corpus

        documents = load_corpus()
    except Exception:  # the knowledge base is optional for this measurement
        return []
    found = [Passage(chunk_id=p.id, document=doc.title, section=p.title, text=p.text)
             for doc in documents for p in doc.passages if phase.value in p.phases]
    return found[:limit]


def load_app(app: Path, home: Path) -> LoadedInputs:
    """Manifests (and any Markdown notes) of one corpus application."""
    notes = sorted(p for p in app.rglob("*.md") if p.is_file())
    settings = Settings(home=home, redaction_key="bench-key", user="bench")
    return load_inputs([app], settings=settings, architecture=notes)


def run_app(app: Path, model: ModelClient | None, cache: MemoryLlmCache, budget: Budget,
            home: Path) -> dict[str, Any]:
    """Cold and warm enrichment of every phase of one application."""
    loaded = load_app(app, home)
    facts = Facts(loaded.inventory)
    by_phase = phase_findings(facts)
    inputs = {spec: (by_phase[spec.phase], corpus_passages(spec.phase)) for spec in PHASE_SPECS}
    report: dict[str, Any] = {"app": app.name, "resources": len(loaded.inventory.resources),
                              "phases": []}
    if model is None:
        for spec, (found, passages) in inputs.items():
            prepared = prepare_prompt(spec, facts, found, passages, loaded.notes,
                                      None, application=app.name, budget=budget)
            report["phases"].append({
                "phase": spec.phase.value, "rule_findings": len(found), "est": prepared.tokens,
                "trimmed_passages": len(prepared.trimmed),
                "trimmed_other": len(prepared.trimmed_facts)})
        return report
    enricher = Enricher(model, cache, application=app.name, budget=budget)
    for label in ("cold", "warm"):
        for spec, (found, passages) in inputs.items():
            started = time.monotonic()
            result = enricher.enrich(spec, facts, found, passages, loaded.notes, None)
            row = {"phase": spec.phase.value, "run": label, "rule_findings": len(found),
                   "est": result.prompt_tokens_estimate, "calls": result.usage.calls,
                   "cached": result.usage.cached_calls,
                   "prompt_tokens": result.usage.prompt_tokens,
                   "completion_tokens": result.usage.completion_tokens,
                   "proposed": result.proposed, "dropped": result.dropped,
                   "kept": len(result.findings) + len(result.recommendations),
                   "trimmed_passages": len(result.trimmed),
                   "trimmed_other": len(result.trimmed_facts),
                   "degradation": result.degradation,
                   "seconds": round(time.monotonic() - started, 2)}
            report["phases"].append(row)
            print(f"  {app.name:32} {label:4} {spec.phase.value:12} calls={row['calls']} "
                  f"tokens={row['prompt_tokens']}+{row['completion_tokens']} est={row['est']} "
                  f"dropped={row['dropped']}/{row['proposed']} {row['seconds']}s"
                  + (f" DEGRADED: {row['degradation']}" if row["degradation"] else ""),
                  file=sys.stderr, flush=True)
    return report


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Per-run totals of one application."""
    rows = report["phases"]
    if rows and "run" not in rows[0]:
        est = sum(r["est"] for r in rows)
        return {"app": report["app"], "resources": report["resources"], "est_prompt": est}
    cold = [r for r in rows if r["run"] == "cold"]
    warm = [r for r in rows if r["run"] == "warm"]
    tokens = sum(r["prompt_tokens"] + r["completion_tokens"] for r in cold)
    proposed = sum(r["proposed"] for r in cold)
    dropped = sum(r["dropped"] for r in cold)
    return {
        "app": report["app"], "resources": report["resources"],
        "calls": sum(r["calls"] for r in cold),
        "prompt_tokens": sum(r["prompt_tokens"] for r in cold),
        "completion_tokens": sum(r["completion_tokens"] for r in cold),
        "tokens": tokens, "under_target": tokens < TARGET_TOKENS,
        "proposed": proposed, "dropped": dropped,
        "dropped_share": round(dropped / proposed, 3) if proposed else 0.0,
        "degraded_phases": sum(1 for r in cold if r["degradation"]),
        "seconds": round(sum(r["seconds"] for r in cold), 1),
        "warm_calls": sum(r["calls"] for r in warm),
        "warm_seconds": round(sum(r["seconds"] for r in warm), 2),
    }


def print_tables(reports: list[dict[str, Any]], estimate_only: bool) -> None:
    """Markdown tables: per phase, then per application."""
    if estimate_only:
        print("| app | resources | " + " | ".join(p.value for p in Phase)
              + " | est. prompt tokens / run |")
        print("|---|---:|" + "---:|" * (len(Phase) + 1))
        for report in reports:
            cells = " | ".join(str(r["est"]) for r in report["phases"])
            print(f"| {report['app']} | {report['resources']} | {cells} | "
                  f"{summarise(report)['est_prompt']} |")
        return
    print("| app | phase | rule findings | calls | prompt tok | completion tok | est | "
          "proposed | dropped | trimmed p/o | s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for report in reports:
        for r in report["phases"]:
            if r["run"] == "cold":
                print(f"| {report['app']} | {r['phase']} | {r['rule_findings']} | {r['calls']} "
                      f"| {r['prompt_tokens']} | {r['completion_tokens']} | {r['est']} | "
                      f"{r['proposed']} | {r['dropped']} | "
                      f"{r['trimmed_passages']}/{r['trimmed_other']} | {r['seconds']} |")
    print()
    print("| app | resources | calls | prompt tok | completion tok | tokens/run | < 25k | "
          "dropped share | degraded | cold s | warm calls | warm s |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for report in reports:
        s = summarise(report)
        print(f"| {s['app']} | {s['resources']} | {s['calls']} | {s['prompt_tokens']} | "
              f"{s['completion_tokens']} | {s['tokens']} | {'yes' if s['under_target'] else 'NO'}"
              f" | {s['dropped_share']:.1%} ({s['dropped']}/{s['proposed']}) | "
              f"{s['degraded_phases']} | {s['seconds']} | {s['warm_calls']} | "
              f"{s['warm_seconds']} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", nargs="*", help="application names (default: all)")
    parser.add_argument("--llm", default="llamacpp", choices=("llamacpp", "ollama"))
    parser.add_argument("--model", default=None, help="GGUF path or Ollama model name")
    parser.add_argument("--max-tokens", type=int, default=None,
                        help="answer token cap (llamacpp; bounds wall time of a rambling model)")
    parser.add_argument("--reasks", type=int, default=2)
    parser.add_argument("--estimate-only", action="store_true",
                        help="render the prompts within the budget and count, no model")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures")
    args = parser.parse_args(argv)
    configure_logging(json_logs=False, level="WARNING", stream=sys.stderr)
    if not CORPUS_APPS.is_dir():
        print(f"skipped: no corpus at {CORPUS_APPS}")
        return 0
    apps = sorted(p for p in CORPUS_APPS.iterdir() if p.is_dir()
                  and (not args.apps or p.name in args.apps))
    model: ModelClient | None = None
    if not args.estimate_only:
        model = make_model_client(args.llm, args.model,
                                  retry=RetryPolicy(reasks=args.reasks))
        if isinstance(model, LlamaCppModelClient) and args.max_tokens:
            model.max_tokens = args.max_tokens
    budget = Budget()
    cache = MemoryLlmCache()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ktmb-bench-") as home:
        reports = [run_app(app, model, cache, budget, Path(home)) for app in apps]
    provider = ("none (estimate only)" if model is None
                else f"{model.info.provider}/{model.info.model}")
    print(f"# llm_tokens: {len(apps)} apps, provider {provider}"
          f", budget {budget.max_prompt_tokens} prompt tokens/phase, num_ctx {budget.num_ctx}, "
          f"wall {time.monotonic() - started:.1f}s\n")
    print_tables(reports, args.estimate_only)
    if args.json:
        args.json.write_text(json.dumps({"reports": reports,
                                         "summary": [summarise(r) for r in reports]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
