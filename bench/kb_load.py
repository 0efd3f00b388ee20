"""Ingestion throughput and query latency at scale (built-in corpus + synthetic 100,000 chunks).

1. Ingests the built-in corpus the normal way (parse, embed with MiniLM, insert) and times it.
2. Builds a synthetic collection of ``--chunks`` chunks (default 100,000) in group ``bench``:
   each chunk is 3-5 sentences drawn from one built-in passage plus a unique token, and its
   vector is that passage's real MiniLM vector plus Gaussian noise (renormalised) — embedding
   100,000 texts with MiniLM on this CPU would take hours, and the index/search cost does not
   depend on where the vectors come from. Loaded with binary COPY after dropping the search
   indexes, which are then rebuilt (REFERENCE §3.2).
3. Times the labelled questions (bench/data/kb_queries.yaml) against all readable collections as
   a principal of group ``bench`` (row-level security on), per mode, database time only (the
   question embeddings are computed beforehand; MiniLM query time is printed separately), and
   reports recall@5 of the hybrid mode with the 100,000 distractors present.

    /tmp/venv/bin/python bench/kb_load.py [--chunks 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from pgvector import HalfVector

from kb.corpus import load_corpus
from kb.embeddings import MiniLMEmbedder
from kb.ingest import embedding_text, ensure_builtin
from kb.retrieval import RRF_K, identifier_terms
from kb.store import BUILTIN, KnowledgeStore, Principal
from workflow.db import open_database
from workflow.domain.settings import Settings

QUERIES = Path(__file__).parent / "data" / "kb_queries.yaml"
PRINCIPAL = Principal(user="bench", groups=("bench",))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def noisy(vector: list[float], rng: random.Random, sigma: float) -> list[float]:
    out = [x + rng.gauss(0.0, sigma) for x in vector]
    norm = sum(x * x for x in out) ** 0.5
    return [x / norm for x in out]


def synthetic_rows(store: KnowledgeStore, count: int, embedder: MiniLMEmbedder,
                   seed: int) -> tuple[int, float]:
    """Create the synthetic collection and COPY ``count`` chunks; returns (rows, seconds)."""
    rng = random.Random(seed)
    passages = [(doc.title, p) for doc in load_corpus() for p in doc.passages]
    vectors = embedder.embed([embedding_text(p.title, p.text, t) for t, p in passages])
    sentences = [re.split(r"(?<=[.;])\s+", p.text) for _, p in passages]
    per_doc = 100
    start = time.perf_counter()
    with store.writing("synthetic") as conn:
        store.create_collection(conn, name="synthetic", embedding_model=embedder.model,
                                dimension=embedder.dimension, read_groups=["bench"],
                                public=False, created_by="bench")
        store.drop_search_indexes(conn)
        rows: list[tuple[Any, ...]] = []
        for doc_number in range(count // per_doc):
            doc_id, _ = store.insert_document(
                conn, collection="synthetic", doc_key=f"syn-{doc_number:05d}",
                source_path=f"/synthetic/{doc_number:05d}.md", title=f"Synthetic {doc_number}",
                sha256=f"{doc_number:064x}", metadata={"kind": "synthetic"}, ingested_by="bench")
            for ordinal in range(per_doc):
                pick = rng.randrange(len(passages))
                _title, passage = passages[pick]
                pool = sentences[pick]
                text = " ".join(rng.choice(pool) for _ in range(rng.randint(3, 5)))
                text += f" Reference SYN{doc_number:05d}X{ordinal:03d}."
                rows.append((doc_id, "synthetic", f"syn-{doc_number:05d}#{ordinal}", ordinal,
                             f"{passage.title} (variant {ordinal})", text,
                             list(passage.frameworks), list(passage.phases),
                             HalfVector(noisy(vectors[pick], rng, 0.04))))
            if len(rows) >= 10_000:
                store.copy_chunks(conn, rows)
                rows = []
        store.copy_chunks(conn, rows)
    copy_seconds = time.perf_counter() - start
    return count // per_doc * per_doc, copy_seconds


def time_queries(store: KnowledgeStore, queries: list[dict[str, Any]],
                 vectors: list[list[float]], rounds: int,
                 embedder: MiniLMEmbedder | None = None) -> dict[str, dict[str, float]]:
    """Latency per mode; with ``embedder``, also ``hybrid+embed``: the question embedded with
    MiniLM (overlapping the full-text legs, as kb.retrieval does) and searched, timed together
    (what a caller of the knowledge base waits for)."""
    results: dict[str, dict[str, float]] = {}
    collections = [BUILTIN, "synthetic"]
    embed_pool = ThreadPoolExecutor(max_workers=1)
    modes = ("vector", "text", "hybrid") + (("hybrid+embed",) if embedder is not None else ())
    for mode in modes:
        latencies: list[float] = []
        recalls: list[float] = []
        for round_number in range(rounds):
            for item, vector in zip(queries, vectors, strict=True):
                text = None if mode == "vector" else item["q"]
                start = time.perf_counter()
                source: Any = None if mode == "text" else vector
                if mode == "hybrid+embed" and embedder is not None:
                    # As kb.retrieval does: embed on a worker while the database ranks text.
                    pending = embed_pool.submit(embedder.embed, [item["q"]])
                    source = lambda pending=pending: pending.result()[0]  # noqa: E731
                rows = store.search(
                    PRINCIPAL, text=text, identifiers=identifier_terms(item["q"]) if text else None,
                    vector=source,
                    vector_collections=collections, collections=None, framework=None,
                    phase=None, k=5, pool=40, rrf_k=RRF_K)
                latencies.append((time.perf_counter() - start) * 1000)
                if round_number == 0:
                    relevant = set(item["relevant"])
                    top = {r.anchor for r in rows if r.collection == BUILTIN}
                    recalls.append(len(relevant & top) / len(relevant))
        results[mode] = {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                         "recall": statistics.mean(recalls), "n": len(latencies)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=0,
                        help="time only the first N labelled questions (0 = all)")
    parser.add_argument("--reuse", type=Path, default=None,
                        help="KTMB_HOME of an earlier run: skip loading, only time queries")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    home = args.reuse or Path(tempfile.mkdtemp(prefix="ktmb-kbload-", dir="/tmp"))
    db = open_database(Settings(home=home, database_url=os.environ.get("KTMB_DATABASE_URL")))
    store = KnowledgeStore(db)
    embedder = MiniLMEmbedder()
    embedder.embed(["warm up"])

    start = time.perf_counter()
    status = ensure_builtin(store, embedder)
    seconds = time.perf_counter() - start
    print(f"built-in corpus: {status.passages} chunks ingested (parse + MiniLM embed + insert) "
          f"in {seconds:.1f} s = {status.passages / seconds:.1f} chunks/s")

    queries = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))["queries"]
    if args.queries:
        queries = queries[:args.queries]
    start = time.perf_counter()
    vectors = [embedder.embed([item["q"]])[0] for item in queries]
    embed_ms = (time.perf_counter() - start) * 1000 / len(queries)
    print(f"MiniLM question embedding: {embed_ms:.1f} ms per question (mean)")

    if args.reuse is None:
        small = time_queries(store, queries, vectors, args.rounds)
        print(f"built-in only ({status.passages} chunks), database time per query:")
        for mode, figures in small.items():
            print(f"  {mode:6} p50 {figures['p50']:6.1f} ms  p95 {figures['p95']:6.1f} ms  "
                  f"recall@5 {figures['recall']:.3f}  (n={figures['n']:.0f})")
        count, copy_seconds = synthetic_rows(store, args.chunks, embedder, args.seed)
        print(f"synthetic load: {count} chunks with COPY (generated columns computed, no "
              f"search indexes) in {copy_seconds:.1f} s = {count / copy_seconds:.0f} chunks/s")
        with store.db.connection() as conn:
            start = time.perf_counter()
            timings = store.build_search_indexes(conn)
            total = time.perf_counter() - start
        print("index build: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
              + f"; total {total:.1f} s; end-to-end {count / (copy_seconds + total):.0f} "
              "chunks/s")
    else:
        count = store.count_chunks(PRINCIPAL, ["synthetic"])

    big = time_queries(store, queries, vectors, args.rounds, embedder)
    print(f"built-in + {count} synthetic chunks, time per query (RLS on, group bench; database "
          "time only except hybrid+embed):")
    for mode, figures in big.items():
        print(f"  {mode:6} p50 {figures['p50']:6.1f} ms  p95 {figures['p95']:6.1f} ms  "
              f"recall@5 {figures['recall']:.3f}  (n={figures['n']:.0f})")
    target = big["hybrid"]["p95"]
    print(f"target hybrid p95 < 50 ms at 100k: {'met' if target < 50 else 'NOT met'} "
          f"({target:.1f} ms database time; {big['hybrid+embed']['p95']:.1f} ms with the "
          "question's MiniLM embedding)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
