"""A learned fusion of cheap features: logistic regression over BM25 (normalised within the
candidate set) and the embedding cosine. Weights are saved as JSON (no pickle)."""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from graph.model import Passage
from server.rerank.embedding import EmbeddingReranker

__all__ = ["FusionReranker", "features", "fit_weights", "FEATURES"]

FEATURES = ("bm25_norm", "cosine")


def features(corpus, query: str, passages: Sequence[Passage], cos: list[float]) -> np.ndarray:
    ranked = dict((p.id, s) for p, s in corpus.bm25(query, max(100, len(passages))))
    bm = np.array([ranked.get(p.id, 0.0) for p in passages], dtype=np.float64)
    top = bm.max() if len(bm) and bm.max() > 0 else 1.0
    return np.stack([bm / top, np.asarray(cos, dtype=np.float64)], axis=1)


def fit_weights(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(x, y)
    return {"bias": float(clf.intercept_[0]), **{n: float(w) for n, w in zip(FEATURES, clf.coef_[0])}}


class FusionReranker:
    def __init__(self, embedder: EmbeddingReranker, corpus, weights: dict[str, float], name: str | None = None) -> None:
        self.embedder, self.corpus, self.weights = embedder, corpus, weights
        self.name = name or f"fusion:{embedder.name}"

    @classmethod
    def load(cls, folder: Path, embedder: EmbeddingReranker, corpus) -> FusionReranker:
        weights = json.loads((folder / "fusion.json").read_text(encoding="utf-8"))["weights"]
        return cls(embedder, corpus, weights, name=f"fusion:{folder}")

    def score(self, query: str, passages: Sequence[Passage]) -> list[float]:
        if not passages:
            return []
        x = features(self.corpus, query, passages, self.embedder.score(query, passages))
        w = np.array([self.weights[n] for n in FEATURES])
        z = x @ w + self.weights["bias"]
        return [1.0 / (1.0 + math.exp(-v)) for v in z]
