"""Negatives for a (query, positive) pair: random, mined by embedding search, and from the graph.
None of them is ever a judged positive of the query."""
from __future__ import annotations

import os
import random
from collections import defaultdict

from server.corpus import Corpus
from server.rerank.embedding import passage_text
from server.training.pairs import Example

__all__ = ["random_negative", "graph_negatives", "bm25_negatives", "mine_negatives", "near_duplicate"]

GRAPH_KINDS = {"next", "prev", "reference", "parent", "child", "mention"}


def near_duplicate(a: str, b: str, threshold: float = 0.9) -> bool:
    """Token-set Jaccard: two passages this close are the same text for training purposes."""
    ta, tb = set(a.lower().split()), set(b.lower().split())
    if not ta or not tb:
        return a.strip() == b.strip()
    return len(ta & tb) / len(ta | tb) >= threshold


def random_negative(corpus: Corpus, exclude: set[str], rng: random.Random) -> str | None:
    for _ in range(50):
        p = corpus.passages[rng.randrange(len(corpus.passages))]
        if p.id not in exclude:
            return p.id
    return None


def graph_negatives(corpus: Corpus, pid: str, exclude: set[str], rng: random.Random, limit: int = 3) -> list[str]:
    """Neighbouring and cross-referenced passages of the positive (either direction) that are not relevant."""
    g = corpus.graph
    if pid not in g:
        return []
    found: dict[str, None] = {}
    for _, dst, d in g.out_edges(pid, data=True):
        if d.get("kind") in GRAPH_KINDS:
            found[dst] = None
    for src, _, d in g.in_edges(pid, data=True):
        if d.get("kind") in GRAPH_KINDS:
            found[src] = None
    positive_text = corpus.passage(pid).text
    cands = [n for n in found if n in corpus.by_id and n not in exclude
             and not near_duplicate(corpus.passage(n).text, positive_text)]
    rng.shuffle(cands)
    return cands[:limit]


def bm25_negatives(corpus: Corpus, query: str, pid: str, exclude: set[str], rng: random.Random, limit: int = 1,
                   depth: int = 10) -> list[str]:
    """Passages BM25 ranks in the query's top `depth` that are not judged relevant (nor near-duplicates of the
    positive): the candidates a reranker of BM25's list must learn to push down. No model, no encoding."""
    positive_text = corpus.passage(pid).text
    cands = [p.id for p, _ in corpus.bm25(query, depth) if p.id not in exclude and p.id != pid
             and not near_duplicate(p.text, positive_text)]
    rng.shuffle(cands)
    return cands[:limit]


def mine_negatives(examples: list[Example], corpus: Corpus, positives: dict[str, set[str]], model,
                   pool: int = 30, range_min: int = 0, num_negatives: int = 5, cache_folder: str | None = None,
                   embedder=None) -> dict[int, list[str]]:
    """Hard negatives per example index via `sentence_transformers.util.mine_hard_negatives`, over the
    union of BM25's top `pool` for the examples' queries (bounded cost on a CPU). Candidates that are
    judged positives of the query (under ANY id with that text) or near-duplicates of the positive
    are dropped; a relative margin keeps negatives at least 5% less similar than the positive."""
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts: dict[str, str] = {}
    for q in {e.query for e in examples}:
        for p, _ in corpus.bm25(q, pool):
            texts[p.id] = passage_text(p)
    for e in examples:
        texts[e.positive] = passage_text(corpus.passage(e.positive))
    ids_of: dict[str, list[str]] = defaultdict(list)
    for pid, t in texts.items():
        ids_of[t].append(pid)
    ds = Dataset.from_dict({"query": [e.query for e in examples],
                            "positive": [texts[e.positive] for e in examples]})
    if embedder is not None:  # passage vectors from the reranker's cache (shared with serving and eval)
        model = _CachedDocuments(embedder, {t: corpus.passage(pids[0]) for t, pids in ids_of.items()})
    mined = mine_hard_negatives(
        ds, model, corpus=list(ids_of), range_min=range_min, range_max=pool, relative_margin=0.05,
        num_negatives=num_negatives, sampling_strategy="top", output_format="n-tuple", batch_size=64,
        verbose=False, cache_folder=cache_folder,
    )
    neg_cols = [c for c in mined.column_names if c.startswith("negative")]
    # mined rows keep the dataset order but drop rows with too few negatives: match them back by (query, positive)
    by_pair: dict[tuple[str, str], list[str]] = {}
    for row in mined:
        by_pair[(row["query"], row["positive"])] = [row[c] for c in neg_cols]
    out: dict[int, list[str]] = {}
    for i, e in enumerate(examples):
        pos_text = texts[e.positive]
        chosen: list[str] = []
        for t in by_pair.get((e.query, pos_text), []):
            pids = ids_of.get(t, [])
            if not pids or any(p in positives.get(e.query, ()) or p == e.positive for p in pids):
                continue
            if near_duplicate(t, pos_text):
                continue
            chosen.append(pids[0])
        out[i] = chosen
    return out


class _CachedDocuments:
    """The SentenceTransformer that mine_hard_negatives sees, with passage (document) vectors taken from an
    EmbeddingReranker's cache instead of being encoded again; everything else is the real model."""

    def __init__(self, embedder, passages_by_text: dict) -> None:
        self._embedder, self._passages = embedder, passages_by_text

    def __getattr__(self, name: str):
        return getattr(self._embedder.model, name)

    def encode_document(self, texts, **kwargs):
        import numpy as np

        if all(t in self._passages for t in texts):
            return self._embedder.vectors([self._passages[t] for t in texts]).astype(np.float32)
        return self._embedder.model.encode_document(texts, **kwargs)
