"""Paired bootstrap over queries: is system B better than system A on the same questions?"""
from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

__all__ = ["paired_bootstrap"]


def paired_bootstrap(a: Sequence[float] | Mapping[str, float], b: Sequence[float] | Mapping[str, float],
                     resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Mean of b - a over paired queries with a percentile bootstrap interval (resampling queries).

    `a` and `b` are per-query scores, as two equal-length sequences or two {query id: score} maps (paired
    on the ids both have). Returns {"diff", "lo", "hi", "n", "p_b_not_better"}: the share of resamples
    where b's mean is not above a's (a one-sided bootstrap p-value)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = sorted(set(a) & set(b))
        xs, ys = [float(a[k]) for k in keys], [float(b[k]) for k in keys]
    else:
        xs, ys = [float(v) for v in a], [float(v) for v in b]  # type: ignore[union-attr]
        if len(xs) != len(ys):
            raise ValueError(f"paired scores need equal lengths ({len(xs)} vs {len(ys)})")
    n = len(xs)
    if n == 0:
        raise ValueError("no paired queries")
    d = [y - x for x, y in zip(xs, ys)]
    rng = random.Random(seed)
    means = sorted(sum(d[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    tail = (1 - confidence) / 2
    lo = means[int(tail * resamples)]
    hi = means[min(resamples - 1, int((1 - tail) * resamples) - 1)]
    return {"diff": round(sum(d) / n, 4), "lo": round(lo, 4), "hi": round(hi, 4), "n": n,
            "p_b_not_better": round(sum(m <= 0 for m in means) / resamples, 4)}
