"""`walk`: reranker-guided best-first expansion, no LLM. BM25 seeds are scored by the reranker; each
step expands the best passage not yet expanded (its references, mentions, neighbours, sections)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from server.corpus import Corpus
from server.rerank.base import Reranker
from server.retrieval import FirstStage
from server.traversal.budget import Budget, OnStep
from server.traversal.pool import Pool, Ranking, linked, seed_pool
from server.traversal.result import DeepSearchResult, TraceStep

__all__ = ["WalkOptions", "walk", "expand_step", "expand_until_done", "gate_step", "rerank_only", "RERANK_CANDIDATES",
           "GATE_DEPTH"]

RERANK_CANDIDATES = 50  # `rerank`: first-stage candidates the reranker orders (as eval's hybrid+rerank)
GATE_DEPTH = 10  # WalkOptions.gate compares the two rankings' top this many


@dataclass(frozen=True)
class WalkOptions:
    seeds: int = 30  # BM25 candidates scored by the reranker before the first step (bench/walk_sweep.py)
    frontier: int = 12  # only passages ranked this high are worth expanding
    per_step: int = 3  # passages expanded per step
    ranking: Ranking = Ranking()  # see Pool.scores
    # 0: always the walk's ranking. n > 0: the walk's ranking only when a passage it brings into the top
    # GATE_DEPTH (one that search + rerank leaves out) is linked by a reference or mention to one of
    # search + rerank's top n; else search + rerank's (`rerank_only`). Chosen on training questions
    # (bench/gate.py): where the walk's additions hang on no trusted passage, they crowd out the ones a
    # multi-part question needs.
    gate: int = 0


def expand_step(pool: Pool, options: WalkOptions, number: int) -> TraceStep | None:
    """One walk step: expand the best passages not yet expanded (None when there are none left)."""
    ranked = pool.ranked(options.ranking)[: options.frontier]
    best = [p for p in ranked if p not in pool.expanded][: options.per_step]
    if not best:
        return None
    t = time.perf_counter()
    added = pool.expand(best)
    return TraceStep(step=number, action="expand", args={"ids": best}, added=added,
                     ms=round((time.perf_counter() - t) * 1000, 2))


def walk(corpus: Corpus, reranker: Reranker, question: str, budget: Budget, k: int = 10,
         options: WalkOptions = WalkOptions(), on_step: OnStep | None = None,
         first_stage: FirstStage | None = None) -> DeepSearchResult:
    reranked = rerank_only(corpus, reranker, question, budget, max(k, GATE_DEPTH), first_stage) if options.gate else None
    pool = Pool(corpus, reranker, question, first_stage)
    trace: list[TraceStep] = [seed_pool(pool, question, options.seeds, budget, on_step)]
    stopped = expand_until_done(pool, budget, options, trace, on_step)
    evidence = pool.evidence(max(k, GATE_DEPTH), options.ranking)
    if reranked is not None:
        gate = gate_step(corpus, reranked.ranked_ids(), [e.id for e in evidence], options.gate, budget.steps + 1)
        trace.insert(0, reranked.trace[0].model_copy(update={"action": "rerank"}))
        trace.append(gate)
        if gate.args["used"] == "rerank":
            evidence = reranked.evidence
    return DeepSearchResult(
        question=question, strategy="walk", reranker=getattr(reranker, "name", type(reranker).__name__),
        evidence=evidence[:k], trace=trace, steps=budget.steps, stopped=stopped,
        candidates=len(pool.rerank | dict.fromkeys(reranked.ranked_ids() if reranked else [], 0.0)),
        ms=round(budget.elapsed_ms(), 2), note=budget.note(stopped),
    )


def gate_step(corpus: Corpus, reranked: list[str], walked: list[str], anchors: int, number: int) -> TraceStep:
    """WalkOptions.gate: the walk's ranking when a passage it adds to the top GATE_DEPTH is linked (a
    reference or mention, either way) to one of the reranked top `anchors`; else the reranked one."""
    t = time.perf_counter()
    trusted = set(reranked[:anchors])
    added = [p for p in walked[:GATE_DEPTH] if p not in reranked[:GATE_DEPTH]]
    hung = [p for p in added if trusted & linked(corpus, p)]
    return TraceStep(step=number, action="gate", args={"used": "walk" if hung else "rerank", "linked": hung,
                                                       "anchors": sorted(trusted)},
                     ms=round((time.perf_counter() - t) * 1000, 2))


def expand_until_done(pool: Pool, budget: Budget, options: WalkOptions, trace: list[TraceStep],
                      on_step: OnStep | None) -> str:
    """Expansion steps on a seeded pool until the budget or the frontier ends; appends each step to
    `trace` and returns why it stopped. A step like the slowest non-model step so far that would overrun is
    not started."""
    stopped = budget.exhausted()
    while stopped is None:
        if not budget.fits(max((t.ms for t in trace if t.llm_ms is None), default=0.0)):  # model steps aside
            return "max_seconds"
        step = expand_step(pool, options, budget.steps + 1)
        if step is None:
            return "exhausted"
        budget.steps += 1
        trace.append(step)
        if on_step:
            on_step(budget.steps, budget.max_steps, f"expanded {len(step.args['ids'])} passages: +{len(step.added)}")
        stopped = budget.exhausted()
    return stopped


def rerank_only(corpus: Corpus, reranker: Reranker, question: str, budget: Budget, k: int = 10,
                first_stage: FirstStage | None = None, on_step: OnStep | None = None) -> DeepSearchResult:
    """`rerank`: the first stage's top RERANK_CANDIDATES ordered by the reranker, no expansion. For a
    question whose passages do not cite each other, where the walk's linked partners crowd them out."""
    from server.traversal.result import Evidence

    t = time.perf_counter()
    hits = first_stage.ranked(question, RERANK_CANDIDATES) if first_stage else corpus.bm25(question, RERANK_CANDIDATES)
    passages = [p for p, _ in hits]
    scores = reranker.score(question, passages) if passages else []
    order = sorted(range(len(passages)), key=lambda i: -scores[i])[:k]
    step = TraceStep(step=0, action="seed", args={"query": question[:200], "k": RERANK_CANDIDATES},
                     added=[p.id for p in passages], ms=round((time.perf_counter() - t) * 1000, 2))
    if on_step:
        on_step(0, budget.max_steps, f"reranked {len(passages)} candidates")
    evidence = [Evidence(id=passages[i].id, document=passages[i].doc_id, label=passages[i].label,
                         score=round(float(scores[i]), 5), rerank_score=round(float(scores[i]), 4), via="bm25",
                         text=passages[i].text if len(passages[i].text) <= 300 else passages[i].text[:300].rstrip() + " …")
                for i in order]
    return DeepSearchResult(question=question, strategy="rerank", reranker=getattr(reranker, "name", type(reranker).__name__),
                            evidence=evidence, trace=[step], steps=0, stopped="exhausted", candidates=len(passages),
                            ms=round(budget.elapsed_ms(), 2))
