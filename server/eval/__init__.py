"""Evaluation: run a strategy (server.eval.strategies) over BEIR-like queries and qrels, report metrics."""
from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.corpus import Corpus
from server.eval.metrics import all_gold_at, mrr_at, ndcg_at, percentile, recall_at
from server.eval.strategies import Strategy

__all__ = ["load_queries", "load_qrels", "evaluate", "EvalReport", "select_queries"]


def load_queries(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with Path(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out[str(row["_id"])] = str(row["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: each line must be a JSON object with _id and text ({exc})") from exc
    return out


def load_qrels(path: Path) -> dict[str, dict[str, float]]:
    qrels: dict[str, dict[str, float]] = defaultdict(dict)
    with Path(path).open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t"), 1):
            if not row or (n == 1 and not row[-1].strip().lstrip("-").replace(".", "").isdigit()):
                continue  # blank line or header
            if len(row) < 3:
                raise ValueError(f"{path}:{n}: expected query-id<TAB>corpus-id<TAB>score")
            qrels[row[0]][row[1]] = float(row[2])
    return dict(qrels)


def select_queries(queries: dict[str, str], qrels: dict[str, dict[str, float]], limit: int | None) -> dict[str, str]:
    """The judged queries, the first `limit` of them if given."""
    judged = [(q, t) for q, t in queries.items() if q in qrels]
    return dict(judged[:limit] if limit else judged)


@dataclass
class EvalReport:
    metrics: dict[str, float]
    per_query: list[dict[str, Any]] = field(default_factory=list)

    def flat(self) -> dict[str, float]:
        return dict(self.metrics)


def evaluate(
    corpus: Corpus,
    queries: dict[str, str],
    qrels: dict[str, dict[str, float]],
    strategy: Strategy,
    depth: int = 100,
    progress: Callable[[Iterable[str]], Iterable[str]] = lambda xs: xs,
) -> EvalReport:
    judged = [q for q in queries if q in qrels and any(r > 0 for r in qrels[q].values())]
    if not judged:
        raise ValueError("no query has a relevance judgement: check that the qrels ids match the queries file")
    rows: list[dict[str, Any]] = []
    for qid in progress(judged):
        t = time.perf_counter()
        ranked = strategy(corpus, queries[qid], depth)
        ms = (time.perf_counter() - t) * 1000
        rels = qrels[qid]
        rows.append({
            "id": qid, "ms": ms, "ranked": ranked[:10],
            "ndcg@10": ndcg_at(ranked, rels, 10), "recall@10": recall_at(ranked, rels, 10),
            "recall@100": recall_at(ranked, rels, 100), "mrr@10": mrr_at(ranked, rels, 10),
            "all_gold@10": all_gold_at(ranked, rels, 10),
        })
    n = len(rows)
    metrics = {key: round(sum(r[key] for r in rows) / n, 4) for key in ("ndcg@10", "recall@10", "recall@100", "mrr@10", "all_gold@10")}
    latencies = [r["ms"] for r in rows]
    metrics["latency_p50_ms"] = round(percentile(latencies, 50), 2)
    metrics["latency_p95_ms"] = round(percentile(latencies, 95), 2)
    metrics["queries"] = n
    return EvalReport(metrics=metrics, per_query=rows)
