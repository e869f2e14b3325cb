"""The `bm25+rerank` evaluation strategy: BM25's top `candidates`, reordered by a reranker."""
from __future__ import annotations

from typing import Any

from server.corpus import Corpus
from server.evaluate import Strategy, register_strategy
from server.rerank.base import Reranker

__all__ = ["rerank_ids", "bm25_rerank"]


def rerank_ids(corpus: Corpus, reranker: Reranker, question: str, candidates: int, depth: int) -> list[str]:
    hits = corpus.bm25(question, max(candidates, 1))
    passages = [p for p, _ in hits]
    if not passages:
        return []
    scores = reranker.score(question, passages)
    order = sorted(range(len(passages)), key=lambda i: -scores[i])
    ranked = [passages[i].id for i in order]
    if depth > len(ranked):  # keep BM25's tail beyond the reranked window
        ranked += [p.id for p, _ in corpus.bm25(question, depth)[len(ranked):]]
    return ranked[:depth]


@register_strategy("bm25+rerank")
def bm25_rerank(reranker: str | Reranker | None = None, candidates: int = 50, corpus: Corpus | None = None,
                **_options: Any) -> Strategy:
    """Options: reranker (a folder, a Reranker, or None for the zero-shot default), candidates."""
    from server.rerank import load_reranker

    built: dict[str, Reranker] = {}

    def get(c: Corpus) -> Reranker:
        if "r" not in built:
            built["r"] = reranker if (reranker is not None and not isinstance(reranker, str)) else load_reranker(reranker, c)
        return built["r"]

    if corpus is not None:
        get(corpus)
    return lambda c, question, depth: rerank_ids(c, get(c), question, candidates, depth)
