"""`walk`: reranker-guided best-first expansion, no LLM. BM25 seeds are scored by the reranker; each
step expands the best passage not yet expanded (its references, mentions, neighbours, sections)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from server.corpus import Corpus
from server.rerank.base import Reranker
from server.retrieval import FirstStage
from server.traversal.budget import Budget, OnStep
from server.traversal.pool import Pool, Ranking, seed_pool
from server.traversal.result import DeepSearchResult, Evidence, TraceStep

__all__ = ["WalkOptions", "walk", "mix", "expand_step", "expand_until_done", "rerank_only", "RERANK_CANDIDATES",
           "MIXED_DEPTH"]

RERANK_CANDIDATES = 50  # `rerank`: first-stage candidates the reranker orders (as eval's hybrid+rerank)
MIXED_DEPTH = 10  # WalkOptions.head: the walk fills the top this many after search + rerank's head


@dataclass(frozen=True)
class WalkOptions:
    seeds: int = 30  # BM25 candidates scored by the reranker before the first step (bench/walk_sweep.py)
    frontier: int = 12  # only passages ranked this high are worth expanding
    per_step: int = 3  # passages expanded per step
    ranking: Ranking = Ranking()  # see Pool.scores
    # 0: the walk's ranking. n > 0 (strategy `mixed`): search + rerank's top n (`rerank_only`) first, then
    # the walk's best passages not among them up to MIXED_DEPTH, then the rest. Chosen on training
    # questions (bench/gate.py): 7 keeps ObliQA at search + rerank and most of the walk's gain on
    # cross-references; the walk's linked additions otherwise crowd out a multi-part question's passages.
    head: int = 0
    # `mixed`: a walk addition displaces one of search + rerank's passages only when the walk scores it at
    # least this much higher (Pool.scores units). 0.05 chosen on training questions (bench/gate.py choose:
    # the best mean all-gold@10 among margins never below bm25+rerank on any training group).
    margin: float = 0.0


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
    reranked = rerank_only(corpus, reranker, question, budget, max(k, MIXED_DEPTH), first_stage) if options.head else None
    pool = Pool(corpus, reranker, question, first_stage)
    trace: list[TraceStep] = [seed_pool(pool, question, options.seeds, budget, on_step)]
    stopped = expand_until_done(pool, budget, options, trace, on_step)
    evidence = pool.evidence(max(k, MIXED_DEPTH), options.ranking)
    if reranked is not None:
        trace.insert(0, reranked.trace[0].model_copy(update={"action": "rerank"}))
        evidence = mix(reranked.evidence, evidence, options.head, pool.scores(options.ranking), options.margin)
    return DeepSearchResult(
        question=question, strategy="mixed" if options.head else "walk",
        reranker=getattr(reranker, "name", type(reranker).__name__), evidence=evidence[:k], trace=trace,
        steps=budget.steps, stopped=stopped, candidates=len(set(pool.rerank) | {e.id for e in evidence}),
        ms=round(budget.elapsed_ms(), 2), note=budget.note(stopped),
    )


def mix(reranked: list[Evidence], walked: list[Evidence], head: int, walk_scores: dict[str, float] | None = None,
        margin: float = 0.0) -> list[Evidence]:
    """`reranked`'s first `head`; then each of the walk's best additions (its passages not among them, up to
    MIXED_DEPTH - head, in its order) takes the slot of the lowest-ranked `reranked` passage left in the
    slots up to MIXED_DEPTH, but with `walk_scores` (the walk's own scores) only when the walk rates it at
    least `margin` above that passage (or the walk never scored that passage); then the rest of both
    (reranked first), each passage once."""
    top, tail = reranked[:head], reranked[head:MIXED_DEPTH]
    top_ids, tail_ids = {e.id for e in top}, {e.id for e in tail}
    adds = [e for e in _once(walked) if e.id not in top_ids][:MIXED_DEPTH - head]
    add_ids = {e.id for e in adds}
    keep, taken = list(tail), set()
    for a in adds:
        out = [d for d in keep if d.id not in add_ids]
        if a.id in tail_ids or not out:
            continue
        d = out[-1]
        if walk_scores is None or d.id not in walk_scores or walk_scores.get(a.id, 0.0) >= walk_scores[d.id] + margin:
            keep.remove(d)
            taken.add(a.id)
    chosen = {e.id for e in keep} | taken
    ranked = top + [a for a in adds if a.id in chosen] + [e for e in tail if e.id in chosen and e.id not in add_ids]
    seen = {e.id for e in ranked}
    return ranked + [e for e in _once(reranked + walked) if e.id not in seen]


def _once(evidence: list[Evidence]) -> list[Evidence]:
    seen: set[str] = set()
    return [e for e in evidence if not (e.id in seen or seen.add(e.id))]


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
