"""The first stage: which passages a question starts from. BM25 (tantivy), dense (exact inner product
over the passage vectors the embedding reranker keeps) or hybrid (both, fused). `search`, the walk's
seeds and the agent's search action all go through one `FirstStage`.

Dense search is exact: one float32 matrix of every passage's unit vector, built once and kept, times
the query vector (numpy matmul). Measured at ADGM's 13.7k passages × 384 dimensions: bench/TRAVERSAL.md
(hybrid first stage); an ANN library earns its keep only at hundreds of thousands of passages."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from graph.index import heading_only
from graph.model import Passage
from server.corpus import Corpus
from server.errors import UsageError
from server.limits import CHOICES, check_choice

__all__ = ["MODES", "FUSIONS", "DEFAULT_MODE", "PassageVectors", "DenseIndex", "FirstStage", "fuse_rrf",
           "fuse_normalised", "check_mode"]

MODES = CHOICES["mode"][0]  # bm25, dense, hybrid
FUSIONS = ("rrf", "normalised")
DEFAULT_MODE = "hybrid"  # chosen by measurement: bench/TRAVERSAL.md (hybrid first stage)
RRF_K = 60
DEPTH = 100  # candidates each side contributes to a fusion


class PassageVectors(Protocol):
    """What dense search needs of an embedding model (EmbeddingReranker has both)."""

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...

    def passage_matrix(self, passages: list[Passage]) -> np.ndarray: ...


def check_mode(mode: str) -> str:
    return check_choice("mode", mode)


def fuse_rrf(lists: list[list[tuple[int, float]]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of ranked (position, score) lists: sum of 1 / (k + rank)."""
    out: dict[int, float] = {}
    for ranked in lists:
        for rank, (pos, _) in enumerate(ranked, 1):
            out[pos] = out.get(pos, 0.0) + 1.0 / (k + rank)
    return sorted(out.items(), key=lambda kv: -kv[1])


def fuse_normalised(lists: list[list[tuple[int, float]]], weights: list[float]) -> list[tuple[int, float]]:
    """Weighted sum of min-max normalised scores (a passage absent from a list scores 0 there)."""
    out: dict[int, float] = {}
    for ranked, w in zip(lists, weights):
        if not ranked:
            continue
        scores = [s for _, s in ranked]
        lo, hi = min(scores), max(scores)
        span = hi - lo if hi > lo else 1.0
        for pos, s in ranked:
            out[pos] = out.get(pos, 0.0) + w * (s - lo) / span
    return sorted(out.items(), key=lambda kv: -kv[1])


class DenseIndex:
    """Exact dense search: a contiguous float32 matrix of the searchable passages' vectors (heading-only
    passages left out, as BM25 leaves them out), built on first use from the vector cache (free when
    `readtrail index --vectors` or the server's warm-up filled it) and kept."""

    def __init__(self, corpus: Corpus, model: PassageVectors) -> None:
        self.corpus, self.model = corpus, model
        self.rows = np.array([i for i, p in enumerate(corpus.passages) if not heading_only(p)], dtype=np.int64)
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()
        self._doc_rows: dict[str, np.ndarray] = {}

    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    m = self.model.passage_matrix([self.corpus.passages[i] for i in self.rows])
                    self._matrix = np.ascontiguousarray(m, dtype=np.float32)
        return self._matrix

    @property
    def ready(self) -> bool:
        """True once the matrix is built (a query then costs milliseconds)."""
        return self._matrix is not None

    def search(self, query: str, k: int, doc_id: str | None = None) -> list[tuple[int, float]]:
        """The top k (passage position, cosine) pairs, best first."""
        q = np.asarray(self.model.query_vector(query), dtype=np.float32)
        return self.search_vector(q, k, doc_id)

    def search_vector(self, q: np.ndarray, k: int, doc_id: str | None = None) -> list[tuple[int, float]]:
        m = self.matrix
        if doc_id is None:
            sub, scores = None, m @ q
        else:
            sub = self._doc_rows.get(doc_id)
            if sub is None:
                sub = self._doc_rows[doc_id] = np.array(
                    [j for j, i in enumerate(self.rows) if self.corpus.passages[i].doc_id == doc_id], dtype=np.int64)
            scores = m[sub] @ q
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        at = top if sub is None else sub[top]
        return [(int(self.rows[j]), float(scores[t])) for j, t in zip(at, top)]


@dataclass(frozen=True)
class FusionOptions:
    method: str = "normalised"  # rrf or normalised: chosen on training questions (bench/hybrid.py choose)
    rrf_k: int = RRF_K
    dense_weight: float = 0.3  # normalised fusion: the dense side's weight (0.3 beat 0.5, 0.7 and RRF there)
    depth: int = DEPTH


class FirstStage:
    """Ranked passages for a query by mode. `dense` is a DenseIndex, or a function building one on
    first use (None: BM25 only, and asking for dense or hybrid is a UsageError)."""

    def __init__(self, corpus: Corpus, dense: DenseIndex | Callable[[], DenseIndex] | None = None,
                 mode: str = DEFAULT_MODE, fusion: FusionOptions = FusionOptions()) -> None:
        self.corpus = corpus
        self._dense = dense
        self.mode = check_mode(mode) if dense is not None else "bm25"
        self.fusion = fusion
        self._lock = threading.Lock()

    @property
    def dense_ready(self) -> bool:
        """True once the dense side's matrix is built (a dense or hybrid query then costs milliseconds)."""
        return isinstance(self._dense, DenseIndex) and self._dense.ready

    @property
    def dense(self) -> DenseIndex:
        if self._dense is None:
            raise UsageError("dense and hybrid search need an embedding model; this server has none: use mode 'bm25'")
        if not isinstance(self._dense, DenseIndex):
            with self._lock:
                if not isinstance(self._dense, DenseIndex):
                    self._dense = self._dense()
        return self._dense  # type: ignore[return-value]

    def positions(self, query: str, k: int, mode: str | None = None, doc_id: str | None = None) -> list[tuple[int, float]]:
        """The top k (passage position, score) pairs, best first."""
        mode = check_mode(mode or self.mode)
        if mode == "bm25":
            return [(h.pos, h.score) for h in self.corpus.stored.bm25.search(query, k, 0, doc_id)]
        if mode == "dense":
            return self.dense.search(query, k, doc_id)
        depth = max(k, self.fusion.depth)
        bm = [(h.pos, h.score) for h in self.corpus.stored.bm25.search(query, depth, 0, doc_id)]
        de = self.dense.search(query, depth, doc_id)
        if self.fusion.method == "rrf":
            fused = fuse_rrf([bm, de], self.fusion.rrf_k)
        else:
            w = self.fusion.dense_weight
            fused = fuse_normalised([bm, de], [1.0 - w, w])
        return fused[:k]

    def ranked(self, query: str, k: int, mode: str | None = None, doc_id: str | None = None) -> list[tuple[Passage, float]]:
        return [(self.corpus.passages[pos], s) for pos, s in self.positions(query, k, mode, doc_id)]
