"""The candidate pool both strategies grow: passages reached so far, each scored once by the reranker,
with how it was reached. Graph expansion (references, mentions, reading order, sections) lives here."""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from server.corpus import Corpus
from server.rerank.base import Reranker
from server.retrieval import FirstStage
from server.traversal.budget import Budget, OnStep
from server.traversal.result import Evidence, TraceStep

__all__ = ["Pool", "Ranking", "expand_targets", "seed_pool", "EXPAND_CAPS"]

# How many targets of each edge kind one expansion may add (a section with 300 children must not flood).
# "cited_by" walks a reference backwards: BM25 often finds the cited rule, not the passage citing it.
EXPAND_CAPS = {"reference": 10, "mention": 6, "cited_by": 10, "next": 1, "prev": 1, "parent": 1, "child": 3}
LINK_KINDS = ("reference", "mention", "cited_by")  # edges that pair two passages in the ranking
BM25_DEPTH = 300  # BM25 ranks known for this many passages per question (one tantivy call)
RRF_K = 10


def expand_targets(corpus: Corpus, pid: str, kinds: Iterable[str] = tuple(EXPAND_CAPS)) -> list[tuple[str, str]]:
    """(target id, edge kind) pairs out of a passage, capped per kind, document nodes skipped."""
    wanted = set(kinds)
    counts: dict[str, int] = {}
    out: dict[str, str] = {}
    if pid not in corpus.graph:
        return []
    edges = [(dst, data.get("kind", "")) for _, dst, data in corpus.graph.out_edges(pid, data=True)]
    if "cited_by" in wanted:
        edges += [(src, "cited_by") for src, _, data in corpus.graph.in_edges(pid, data=True) if data.get("kind") == "reference"]
    for dst, kind in edges:
        if kind not in wanted or dst in out or dst == pid or dst not in corpus.by_id:
            continue
        if counts.get(kind, 0) >= EXPAND_CAPS.get(kind, 4):
            continue
        counts[kind] = counts.get(kind, 0) + 1
        out[dst] = kind
    # references first: they are the hop one-shot retrieval misses
    order = {k: i for i, k in enumerate(("reference", "cited_by", "mention", "child", "parent", "next", "prev"))}
    return sorted(out.items(), key=lambda kv: order.get(kv[1], 9))


@dataclass(frozen=True)
class Ranking:
    """How the pool is ordered (Pool.scores). Chosen on ADGM training questions by bench/walk_sweep.py."""
    pair_weight: float = 0.7  # share of the best linked partner's own score a passage adds
    keep_bonus: float = 0.0  # added to passages the agent kept


@dataclass
class Pool:
    corpus: Corpus
    reranker: Reranker
    question: str
    first_stage: FirstStage | None = None  # seeds and searches: BM25 when None
    rerank: dict[str, float] = field(default_factory=dict)
    via: dict[str, str] = field(default_factory=dict)
    from_id: dict[str, str | None] = field(default_factory=dict)
    bm25_rank: dict[str, int] = field(default_factory=dict)
    expanded: set[str] = field(default_factory=set)
    kept: list[str] = field(default_factory=list)
    # undirected reference/mention pairs in the pool: every two pool passages a reference or mention
    # joins, however each was reached
    links: dict[str, set[str]] = field(default_factory=dict)

    def add(self, items: Iterable[tuple[str, str]], src: str | None = None) -> list[str]:
        """Add (id, via) pairs reached from `src`; score only the new ones. Returns the new ids."""
        return self._add((pid, via, src) for pid, via in items)

    def _add(self, items: Iterable[tuple[str, str, str | None]]) -> list[str]:
        """(id, via, src) triples; one reranker call for all new ids."""
        new: dict[str, tuple[str, str | None]] = {}
        for pid, via, src in items:
            if src is not None and via in LINK_KINDS and pid != src:
                self.links.setdefault(src, set()).add(pid)
                self.links.setdefault(pid, set()).add(src)
            if pid not in self.rerank and pid not in new and pid in self.corpus.by_id:
                new[pid] = (via, src)
        if not new:
            return []
        ids = list(new)
        scores = self.reranker.score(self.question, [self.corpus.passage(p) for p in ids])
        for pid, s in zip(ids, scores):
            self.rerank[pid] = float(s)
            self.via[pid], self.from_id[pid] = new[pid]
        self._link_in_pool(ids)
        return ids

    def _link_in_pool(self, ids: list[str]) -> None:
        """Pair new passages with pool passages they cite, are cited by, or mention (either way): a
        passage found by BM25 and the rule it cites, found by reading order, are still a pair."""
        graph = self.corpus.graph
        for pid in ids:
            ends = [(dst, d) for _, dst, d in graph.out_edges(pid, data=True)]
            ends += [(src, d) for src, _, d in graph.in_edges(pid, data=True)]
            for other, data in ends:
                if other != pid and other in self.rerank and data.get("kind") in ("reference", "mention"):
                    self.links.setdefault(pid, set()).add(other)
                    self.links.setdefault(other, set()).add(pid)

    def add_bm25(self, query: str, k: int, via: str = "bm25", ranked: bool | None = None) -> list[str]:
        """The top k first-stage hits (BM25, dense or hybrid: `first_stage`; BM25 without one) join
        the pool; for the question itself, first-stage ranks are kept deeper (BM25_DEPTH) so that
        passages reached through the graph get a rank too. `ranked` (default: for the question only):
        the hits' ranks count as first-stage ranks, the best over every query so ranked (a planned
        query's top hit ranks as high as the question's)."""
        ranked = via == "bm25" if ranked is None else ranked
        depth = max(k, BM25_DEPTH) if via == "bm25" else k
        hits = self.first_stage.ranked(query, depth) if self.first_stage else self.corpus.bm25(query, depth)
        if ranked:
            for rank, (p, _) in enumerate(hits):
                self.bm25_rank[p.id] = min(rank, self.bm25_rank.get(p.id, rank))
        return self.add(((p.id, via) for p, _ in hits[:k]))

    def expand(self, pids: Iterable[str], kinds: Iterable[str] = tuple(EXPAND_CAPS)) -> list[str]:
        """Add what the passages link to, in one reranker call."""
        pids, kinds = list(pids), tuple(kinds)
        self.expanded.update(pids)
        return self._add((dst, kind, pid) for pid in pids for dst, kind in expand_targets(self.corpus, pid, kinds))

    def scores(self, r: Ranking = Ranking()) -> dict[str, float]:
        """Each passage's own score fuses its BM25 rank and its reranker rank (reciprocal ranks); a
        passage linked by a reference or mention adds its best partner's own score times pair_weight,
        so a rule and the rule it cites rise together (answers often need both)."""
        by_rr = sorted(self.rerank, key=lambda p: -self.rerank[p])
        own = {p: 1 / (RRF_K + self.bm25_rank.get(p, BM25_DEPTH)) + 1 / (RRF_K + i) for i, p in enumerate(by_rr)}
        kept = set(self.kept)
        return {
            p: s + r.pair_weight * max((own[q] for q in self.links.get(p, ()) if q in own), default=0.0)
            + (r.keep_bonus if p in kept else 0.0)
            for p, s in own.items()
        }

    def ranked(self, r: Ranking = Ranking()) -> list[str]:
        return self._order(self.scores(r))

    def _order(self, scores: dict[str, float]) -> list[str]:
        return sorted(scores, key=lambda p: (-scores[p], -self.rerank[p]))

    def evidence(self, k: int, r: Ranking = Ranking()) -> list[Evidence]:
        scores = self.scores(r)
        out = []
        for pid in self._order(scores)[:k]:
            p = self.corpus.passage(pid)
            text = p.text if len(p.text) <= 300 else p.text[:300].rstrip() + " …"
            out.append(Evidence(
                id=pid, document=p.doc_id, label=p.label, score=round(scores[pid], 5),
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
