"""Retrieval metrics over ranked id lists and graded relevance judgements."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["ndcg_at", "recall_at", "mrr_at", "all_gold_at", "percentile"]


def ndcg_at(ranked: Sequence[str], rels: Mapping[str, float], k: int) -> float:
    """nDCG@k with linear gains (as pytrec_eval / BEIR)."""
    dcg = sum(rels.get(pid, 0.0) / math.log2(i + 2) for i, pid in enumerate(ranked[:k]))
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def _relevant(rels: Mapping[str, float]) -> set[str]:
    return {pid for pid, r in rels.items() if r > 0}


def recall_at(ranked: Sequence[str], rels: Mapping[str, float], k: int) -> float:
    gold = _relevant(rels)
    return len(gold.intersection(ranked[:k])) / len(gold) if gold else 0.0


def mrr_at(ranked: Sequence[str], rels: Mapping[str, float], k: int) -> float:
    gold = _relevant(rels)
    for i, pid in enumerate(ranked[:k]):
        if pid in gold:
            return 1.0 / (i + 1)
    return 0.0


def all_gold_at(ranked: Sequence[str], rels: Mapping[str, float], k: int) -> float:
    gold = _relevant(rels)
    return float(bool(gold) and gold.issubset(ranked[:k]))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
