"""The evaluation strategies, in one explicit table. A strategy ranks passage ids for one question:
(corpus, question, depth) -> ids, best first. The reranker and the chat model are independent choices:
each is given (or a function building it on first use), never picked by the strategy itself."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from server.corpus import Corpus
from server.llm.chat import ChatModel
from server.rerank.base import Reranker
from server.retrieval import FirstStage
from server.traversal import MIXED_HEAD, MIXED_MARGIN, AgentOptions, Budget, DeepSearchResult, PlanOptions, WalkOptions, with_defaults
from server.traversal.agent import agent
from server.traversal.plan import planned
from server.traversal.walk import walk

__all__ = ["Strategy", "StrategyParts", "STRATEGIES", "NEEDS_RERANKER", "NEEDS_FIRST_STAGE", "NEEDS_MODEL", "make_strategy",
           "rerank_ids"]

Strategy = Callable[[Corpus, str, int], list[str]]


def _once(part: Any) -> Callable[[], Any]:
    """A ready part, or a function building it on first use (a model loads on the first question)."""
    held: list[Any] = []

    def get() -> Any:
        if not held:
            held.append(part() if callable(part) and not hasattr(part, "score") and not hasattr(part, "complete") else part)
        return held[0]
    return get


@dataclass
class StrategyParts:
    reranker: Reranker | Callable[[], Reranker] | None = None
    model: ChatModel | Callable[[], ChatModel] | None = None
    candidates: int = 50  # bm25+rerank: BM25 candidates to rerank
    max_steps: int | None = None
    max_seconds: float | None = None
    walk_options: WalkOptions = field(default_factory=WalkOptions)
    agent_options: AgentOptions = field(default_factory=AgentOptions)
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    on_result: Callable[[DeepSearchResult], None] | None = None  # sees every walk/agent result (traces)
    # dense and hybrid strategies, and walk/agent seeded by hybrid: the first stage (or its builder)
    first_stage: FirstStage | Callable[[], FirstStage] | None = None


def rerank_ids(corpus: Corpus, reranker: Reranker, question: str, candidates: int, depth: int,
               first_stage: FirstStage | None = None, mode: str = "bm25") -> list[str]:
    """The first stage's top `candidates` (BM25 by default) reordered by the reranker, then the first
    stage's tail down to `depth`."""
    n = max(candidates, depth, 1)
    hits = first_stage.ranked(question, n, mode) if first_stage is not None else corpus.bm25(question, n)
    passages = [p for p, _ in hits[:max(candidates, 1)]]
    if not passages:
        return []
    scores = reranker.score(question, passages)
    order = sorted(range(len(passages)), key=lambda i: -scores[i])
    ranked = [passages[i].id for i in order] + [p.id for p, _ in hits[len(passages):]]
    return ranked[:depth]


def _budget(strategy: str, parts: StrategyParts) -> Budget:
    steps, seconds = with_defaults(strategy, parts.max_steps, parts.max_seconds)  # 0 is a value, None the default
    return Budget(max_steps=steps, max_seconds=float(seconds))


def _bm25(parts: StrategyParts) -> Strategy:
    return lambda corpus, question, depth: [p.id for p, _ in corpus.bm25(question, depth)]


def _bm25_rerank(parts: StrategyParts) -> Strategy:
    reranker = _once(parts.reranker)
    return lambda corpus, question, depth: rerank_ids(corpus, reranker(), question, parts.candidates, depth)


def _first_stage(parts: StrategyParts) -> Callable[[], FirstStage]:
    get = _once(parts.first_stage)

    def first_stage() -> FirstStage:
        if parts.first_stage is None:
            raise ValueError("this strategy needs a first stage with dense vectors (StrategyParts.first_stage)")
        return get()
    return first_stage


def _dense_only(mode: str) -> Callable[[StrategyParts], Strategy]:
    def make(parts: StrategyParts) -> Strategy:
        first_stage = _first_stage(parts)
        return lambda corpus, question, depth: [p.id for p, _ in first_stage().ranked(question, depth, mode)]
    return make


def _first_stage_rerank(mode: str) -> Callable[[StrategyParts], Strategy]:
    def make(parts: StrategyParts) -> Strategy:
        reranker, first_stage = _once(parts.reranker), _first_stage(parts)
        return lambda corpus, question, depth: rerank_ids(corpus, reranker(), question, parts.candidates, depth,
                                                          first_stage(), mode)
    return make


def _seeded_stage(parts: StrategyParts, seeded: str | None) -> Callable[[Corpus], FirstStage | None]:
    """The walk's first stage in `seeded` mode (None: BM25 seeds, no first stage needed)."""
    first_stage = _first_stage(parts) if seeded else None

    def get(corpus: Corpus) -> FirstStage | None:
        stage = first_stage() if first_stage else None
        if stage is not None and stage.mode != seeded:
            stage = FirstStage(corpus, stage.dense, seeded, stage.fusion)
        return stage
    return get


def _walk(parts: StrategyParts, seeded: str | None = None, head: int = 0) -> Strategy:
    reranker, stage = _once(parts.reranker), _seeded_stage(parts, seeded)
    options = replace(parts.walk_options, head=head, margin=MIXED_MARGIN) if head else parts.walk_options

    def run(corpus: Corpus, question: str, depth: int) -> list[str]:
        result = walk(corpus, reranker(), question, _budget("walk", parts), depth, options, None, stage(corpus))
        if parts.on_result:
            parts.on_result(result)
        return result.ranked_ids()
    return run


def _planned(parts: StrategyParts, seeded: str | None = None) -> Strategy:
    reranker, model, stage = _once(parts.reranker), _once(parts.model), _seeded_stage(parts, seeded)

    def run(corpus: Corpus, question: str, depth: int) -> list[str]:
        result = planned(corpus, reranker(), question, _budget("planned", parts), model(), depth, parts.plan_options,
                         None, stage(corpus))
        if parts.on_result:
            parts.on_result(result)
        return result.ranked_ids()
    return run


def _agent(parts: StrategyParts) -> Strategy:
    reranker, model = _once(parts.reranker), _once(parts.model)
    first_stage = _first_stage(parts) if parts.first_stage is not None else None

    def run(corpus: Corpus, question: str, depth: int) -> list[str]:
        result = agent(corpus, reranker(), question, _budget("agent", parts), model(), depth, parts.agent_options,
                       None, first_stage() if first_stage else None)
        if parts.on_result:
            parts.on_result(result)
        return result.ranked_ids()
    return run


STRATEGIES: dict[str, Callable[[StrategyParts], Strategy]] = {
    "bm25": _bm25,
    "bm25+rerank": _bm25_rerank,
    "dense": _dense_only("dense"),
    "hybrid": _dense_only("hybrid"),
    "hybrid+rerank": _first_stage_rerank("hybrid"),
    "walk": _walk,
    "walk+hybrid": lambda parts: _walk(parts, "hybrid"),
    "mixed": lambda parts: _walk(parts, None, MIXED_HEAD),
    "mixed+hybrid": lambda parts: _walk(parts, "hybrid", MIXED_HEAD),
    "planned": _planned,
    "planned+hybrid": lambda parts: _planned(parts, "hybrid"),
    "agent": _agent,
}
NEEDS_RERANKER = ("bm25+rerank", "hybrid+rerank", "walk", "walk+hybrid", "mixed", "mixed+hybrid", "planned", "planned+hybrid",
                  "agent")
NEEDS_FIRST_STAGE = ("dense", "hybrid", "hybrid+rerank", "walk+hybrid", "mixed+hybrid", "planned+hybrid")
NEEDS_MODEL = ("planned", "planned+hybrid", "agent")


def make_strategy(name: str, parts: StrategyParts | None = None) -> Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    parts = parts or StrategyParts()
    if name in NEEDS_RERANKER and parts.reranker is None:
        raise ValueError(f"strategy {name!r} needs a reranker")
    if name in NEEDS_FIRST_STAGE and parts.first_stage is None:
        raise ValueError(f"strategy {name!r} needs a first stage with dense vectors")
    if name in NEEDS_MODEL and parts.model is None:
        raise ValueError(f"strategy {name!r} needs a chat model")
    return STRATEGIES[name](parts)
