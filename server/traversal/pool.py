"""The candidate pool both strategies grow: passages reached so far, each scored once by the reranker,
with how it was reached. Graph expansion (references, mentions, reading order, sections) lives here."""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from server.corpus import Corpus
from server.rerank.base import Reranker
from server.traversal.budget import Budget, OnStep
from server.traversal.result import Evidence, TraceStep

__all__ = ["Pool", "expand_targets", "seed_pool", "EXPAND_CAPS"]

# How many targets of each edge kind one expansion may add (a section with 300 children must not flood).
EXPAND_CAPS = {"reference": 8, "mention": 4, "next": 1, "prev": 1, "parent": 1, "child": 4}


def expand_targets(corpus: Corpus, pid: str, kinds: Iterable[str] = tuple(EXPAND_CAPS)) -> list[tuple[str, str]]:
    """(target id, edge kind) pairs out of a passage, capped per kind, document nodes skipped."""
    wanted = set(kinds)
    counts: dict[str, int] = {}
    out: dict[str, str] = {}
    if pid not in corpus.graph:
        return []
    for _, dst, data in corpus.graph.out_edges(pid, data=True):
        kind = data.get("kind", "")
        if kind not in wanted or dst in out or dst == pid or dst not in corpus.by_id:
            continue
        if counts.get(kind, 0) >= EXPAND_CAPS.get(kind, 4):
            continue
        counts[kind] = counts.get(kind, 0) + 1
        out[dst] = kind
    # references first: they are the hop one-shot retrieval misses
    order = {k: i for i, k in enumerate(("reference", "mention", "child", "parent", "next", "prev"))}
    return sorted(out.items(), key=lambda kv: order.get(kv[1], 9))


@dataclass
class Pool:
    corpus: Corpus
    reranker: Reranker
    question: str
    rerank: dict[str, float] = field(default_factory=dict)
    via: dict[str, str] = field(default_factory=dict)
    from_id: dict[str, str | None] = field(default_factory=dict)
    bm25_rank: dict[str, int] = field(default_factory=dict)
    expanded: set[str] = field(default_factory=set)
    kept: list[str] = field(default_factory=list)

    def add(self, items: Iterable[tuple[str, str]], src: str | None = None) -> list[str]:
        """Add (id, via) pairs; score only the new ones, in one reranker batch. Returns the new ids."""
        new: dict[str, str] = {}
        for pid, via in items:
            if pid not in self.rerank and pid not in new and pid in self.corpus.by_id:
                new[pid] = via
        if not new:
            return []
        ids = list(new)
        scores = self.reranker.score(self.question, [self.corpus.passage(p) for p in ids])
        for pid, s in zip(ids, scores):
            self.rerank[pid] = float(s)
            self.via[pid] = new[pid]
            self.from_id[pid] = src
        return ids

    def add_bm25(self, query: str, k: int, via: str = "bm25") -> list[str]:
        hits = self.corpus.bm25(query, k)
        for rank, (p, _) in enumerate(hits):
            self.bm25_rank.setdefault(p.id, rank)
        return self.add(((p.id, via) for p, _ in hits))

    def expand(self, pid: str, kinds: Iterable[str] = tuple(EXPAND_CAPS)) -> list[str]:
        self.expanded.add(pid)
        return self.add(expand_targets(self.corpus, pid, kinds), src=pid)

    def final_score(self, pid: str, hop_weight: float = 0.5, keep_bonus: float = 0.0) -> float:
        """The reranker score, lifted toward the score of the passage that cites it: a cited rule is
        often worded unlike the question but needed beside the passage that cites it."""
        s = self.rerank[pid]
        src = self.from_id.get(pid)
        if src is not None and self.via.get(pid) in ("reference", "mention") and src in self.rerank:
            s = max(s, hop_weight * self.rerank[src] + (1 - hop_weight) * s)
        if pid in self.kept:
            s += keep_bonus
        return s

    def ranked(self, hop_weight: float = 0.5, keep_bonus: float = 0.0) -> list[str]:
        return sorted(self.rerank, key=lambda p: -self.final_score(p, hop_weight, keep_bonus))

    def evidence(self, k: int, hop_weight: float = 0.5, keep_bonus: float = 0.0) -> list[Evidence]:
        out = []
        for pid in self.ranked(hop_weight, keep_bonus)[:k]:
            p = self.corpus.passage(pid)
            text = p.text if len(p.text) <= 300 else p.text[:300].rstrip() + " …"
            out.append(Evidence(
                id=pid, document=p.doc_id, label=p.label, score=round(self.final_score(pid, hop_weight, keep_bonus), 4),
                rerank_score=round(self.rerank[pid], 4), kept=pid in self.kept, via=self.via[pid],
                from_id=self.from_id.get(pid), text=text,
            ))
        return out


def seed_pool(pool: Pool, question: str, seeds: int, budget: Budget, on_step: OnStep | None) -> TraceStep:
    """Step 0 of both strategies: BM25 candidates for the question, scored by the reranker."""
    t = time.perf_counter()
    added = pool.add_bm25(question, seeds)
    step = TraceStep(step=0, action="seed", args={"query": question[:200], "k": seeds}, added=added,
                     ms=round((time.perf_counter() - t) * 1000, 2))
    if on_step:
        on_step(0, budget.max_steps, f"seeded {len(added)} candidates")
    return step
