"""Retrieval quality and latency on the built-in corpus.

Runs every labelled question of ``bench/data/kb_queries.yaml`` in three modes (vector-only,
full-text-only, hybrid RRF) and prints recall@5, hit@5, MRR and query latency p50/p95, plus the
ingestion throughput of the built-in corpus. Uses a throw-away embedded PostgreSQL under /tmp
unless ``KTMB_DATABASE_URL`` is set.

    /tmp/venv/bin/python bench/kb_retrieval.py [--k 5] [--show-misses]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from kb.embeddings import MiniLMEmbedder
from kb.ingest import ensure_builtin
from kb.retrieval import KbRetriever, KnowledgeBase, SearchMode
from kb.store import Principal
from workflow.db import open_database
from workflow.domain.settings import Settings

QUERIES = Path(__file__).parent / "data" / "kb_queries.yaml"


def load_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["queries"])


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def evaluate(retriever: KbRetriever, queries: list[dict[str, Any]], mode: SearchMode,
             k: int) -> dict[str, Any]:
    recalls, hits, rr, latencies, misses = [], [], [], [], []
    for item in queries:
        relevant = set(item["relevant"])
        start = time.perf_counter()
        found = retriever.search_mode(item["q"], mode=mode, k=max(k, 10))
        latencies.append((time.perf_counter() - start) * 1000)
        ids = [p.chunk_id for p in found]
        top = ids[:k]
        recalls.append(len(relevant & set(top)) / len(relevant))
        hits.append(1.0 if relevant & set(top) else 0.0)
        rank = next((i for i, cid in enumerate(ids, start=1) if cid in relevant), None)
        rr.append(1.0 / rank if rank else 0.0)
        if not relevant & set(top):
            misses.append((item["q"], sorted(relevant), top))
    return {"recall": statistics.mean(recalls), "hit": statistics.mean(hits),
            "mrr": statistics.mean(rr), "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95), "misses": misses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    home = Path(tempfile.mkdtemp(prefix="ktmb-bench-", dir="/tmp"))
    db = open_database(Settings(home=home, database_url=os.environ.get("KTMB_DATABASE_URL")))
    embedder = MiniLMEmbedder()
    embedder.embed(["warm up"])
    kb = KnowledgeBase(db, embedder=embedder)
    start = time.perf_counter()
    status = ensure_builtin(kb.store, embedder)
    elapsed = time.perf_counter() - start
    print(f"built-in corpus: {status.documents} documents, {status.passages} passages; "
          f"ingested (parse+embed+insert) in {elapsed:.2f} s = "
          f"{status.passages / elapsed:.1f} chunks/s (changed={status.changed})")
    queries = load_queries()
    retriever = kb.retriever(Principal(user="bench", groups=("bench",)))
    retriever.search_mode("warm up the connection pool", mode=SearchMode.HYBRID)
    print(f"{len(queries)} labelled questions, k={args.k}")
    print(f"{'mode':8} {'recall@5':>9} {'hit@5':>7} {'MRR':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for mode in (SearchMode.VECTOR, SearchMode.TEXT, SearchMode.HYBRID):
        result = evaluate(retriever, queries, mode, args.k)
        print(f"{mode.value:8} {result['recall']:9.3f} {result['hit']:7.3f} {result['mrr']:7.3f} "
              f"{result['p50']:8.1f} {result['p95']:8.1f}")
        if args.show_misses:
            for question, relevant, top in result["misses"]:
                print(f"   miss: {question!r} wanted {relevant} got {top}")
    print("(latency includes embedding the question with MiniLM on the CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
