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

__all__ = ["FusionReranker", "features", "fit_weights", "fit_rank_weights", "fit_fusion", "write_fusion", "FEATURES",
           "EQUAL_WEIGHTS", "COSINE_GRID"]

FEATURES = ("bm25_norm", "cosine")
# Label-free default: BM25 normalised by the best candidate's score, plus the cosine. Measured better than
# either alone on NFCorpus dev and obliqa_dev (bench/RERANKER.md), where MiniLM alone loses to BM25 on ADGM.
EQUAL_WEIGHTS = {"bias": 0.0, "bm25_norm": 1.0, "cosine": 1.0}


def features(corpus, query: str, passages: Sequence[Passage], cos: list[float]) -> np.ndarray:
    ranked = dict((p.id, s) for p, s in corpus.bm25(query, max(100, len(passages))))
    bm = np.array([ranked.get(p.id, 0.0) for p in passages], dtype=np.float64)
    top = bm.max() if len(bm) and bm.max() > 0 else 1.0
    return np.stack([bm / top, np.asarray(cos, dtype=np.float64)], axis=1)


def fit_weights(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(x, y)
    return {"bias": float(clf.intercept_[0]), **{n: float(w) for n, w in zip(FEATURES, clf.coef_[0])}}


# Cosine weights tried against BM25's 1 by `fit_rank_weights` (only the ratio matters to a ranking).
COSINE_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.7, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0)


def fit_rank_weights(groups: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Weights for the ranking itself: BM25 (normalised) at 1 and the cosine weight of COSINE_GRID whose
    ranking of each group (one query's candidates: features, gains) has the best mean nDCG@10; ties go
    to the weight nearest 1 (the label-free default). Logistic regression fits each pair alone, which is
    not what a ranking needs (on ADGM it chose weights worse than equal ones on the obliqa split)."""
    from server.eval.metrics import ndcg_at  # the evaluation's own nDCG (linear gains)

    rels = [{str(i): float(v) for i, v in enumerate(g) if v > 0} for _, g in groups]

    def mean_ndcg(w: float) -> float:
        ranked = ([str(i) for i in np.argsort(-(x[:, 0] + w * x[:, 1]), kind="stable")] for x, _ in groups)
        return sum(ndcg_at(r, rel, 10) for r, rel in zip(ranked, rels)) / max(1, len(groups))

    scored = [(round(mean_ndcg(w), 6), -abs(np.log((w + 1e-3) / 1.0)), w) for w in COSINE_GRID]
    best = max(scored)[2]
    return {"bias": 0.0, "bm25_norm": 1.0, "cosine": float(best)}


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


def fit_fusion(corpus, queries: dict[str, str], qrels: dict[str, dict[str, float]], embedder: EmbeddingReranker,
               out: Path, candidates: int = 50, max_queries: int = 200, seed: int = 0, first_stage=None) -> Path:
    """Fit the weights on labelled queries and write a fusion folder: fusion.json plus the model card; the
    embedding model is referenced, not copied. The pairs are each query's top `candidates` of the first
    stage that will feed the fusion when served (a `server.retrieval.FirstStage`, e.g. hybrid), else of
    BM25: weights fitted on BM25's candidates alone never see the dense side's additions, which have
    little or no BM25 score (on NFCorpus they are what lifts the fusion past BM25 + 0.05)."""
    import random

    qids = sorted(q for q in queries if any(s > 0 for s in qrels.get(q, {}).values()))
    random.Random(seed).shuffle(qids)
    xs, ys = [], []
    for q in qids[:max_queries]:
        hits = first_stage.ranked(queries[q], candidates) if first_stage is not None else corpus.bm25(queries[q], candidates)
        ps = [p for p, _ in hits]
        if not ps:
            continue
        xs.append(features(corpus, queries[q], ps, embedder.score(queries[q], ps)))
        ys += [1 if qrels[q].get(p.id, 0) > 0 else 0 for p in ps]
    if not xs or len(set(ys)) < 2:
        raise ValueError("fusion needs labelled queries whose candidates (the first stage's, else BM25's) include relevant and irrelevant passages")
    weights = fit_weights(np.concatenate(xs), np.array(ys))
    data = {"queries": min(len(qids), max_queries), "pairs": len(ys), "positives": int(sum(ys)),
            "candidates_from": first_stage.mode if first_stage is not None else "bm25"}
    return write_fusion(out, weights, embedder, data, candidates)


def write_fusion(out: Path, weights: dict[str, float], embedder, data: dict, candidates: int) -> Path:
    """A fusion folder (fusion.json + model card) over `embedder` (any reranker with a model_path, or
    the zero-shot MiniLM); the scoring model is referenced, not copied."""
    from datetime import datetime, timezone

    from server.rerank import CARD, ZERO_SHOT

    version = datetime.now(timezone.utc).strftime("fusion-%Y%m%d-%H%M%S")
    folder = Path(out) / version
    folder.mkdir(parents=True, exist_ok=False)
    (folder / "fusion.json").write_text(json.dumps({"features": list(FEATURES), "weights": weights}, indent=2), encoding="utf-8")
    base = ZERO_SHOT if embedder.name == ZERO_SHOT else (getattr(embedder, "source", None)
                                                         or str(Path(embedder.model_path).resolve()))
    card = {"kind": "fusion", "version": version, "embedding": base, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data": data,
            "hyperparameters": {"candidates": candidates, "model": "logistic regression (balanced)", "features": list(FEATURES)}}
    (folder / CARD).write_text(json.dumps(card, indent=2), encoding="utf-8")
    (folder / "README.md").write_text(f"# readtrail fusion reranker {version}\n\nLogistic regression over {', '.join(FEATURES)}; "
                                      f"embedding: {base}.\n\n```json\n{json.dumps(weights, indent=2)}\n```\n", encoding="utf-8")
    (Path(out) / "LATEST").write_text(version + "\n", encoding="utf-8")
    return folder
