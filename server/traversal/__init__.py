"""Read-time traversal: `deep_search` walks the passage graph for one question, with or without a
local LLM choosing the steps, and returns reranked evidence with a trace of every step."""
from __future__ import annotations

from dataclasses import replace

from server.corpus import Corpus
from server.errors import UsageError
from server.limits import check_range, check_text, shown
from server.rerank.base import Reranker
from server.rerank.deadline import scoring_deadline
from server.retrieval import FirstStage
from server.traversal.agent import AgentOptions, agent
from server.traversal.budget import Budget, OnStep
from server.llm.chat import ChatModel
from server.traversal.result import DeepSearchResult, Evidence, TraceStep
from server.traversal.plan import PlanOptions, planned
from server.traversal.walk import WalkOptions, rerank_only, walk

__all__ = [
    "deep_search", "check_arguments", "with_defaults", "STRATEGY_NAMES", "DEFAULTS", "DEFAULT_STRATEGY", "MIXED_HEAD", "MIXED_MARGIN",
    "DeepSearchResult", "Evidence", "TraceStep", "AgentOptions", "PlanOptions", "WalkOptions", "OnStep", "Budget",
    "NEEDS_MODEL",
]

STRATEGY_NAMES = ("mixed", "walk", "rerank", "planned", "agent")
DEFAULT_STRATEGY = "mixed"  # never below search + rerank on a dev task (bench/TRAVERSAL.md, item 4)
MIXED_HEAD = 7  # `mixed`: search + rerank's top 7, then the walk's best 3 (bench/gate.py, on training questions)
MIXED_MARGIN = 0.05  # ... each only if the walk rates it this much above the passage it displaces (bench/gate.py)
NEEDS_MODEL = ("planned", "agent")
# planned: the walk's steps; its seconds hold one plan (~2-5 s for Qwen2.5-0.5B on a loaded 2-core CPU,
# bench/TRAVERSAL.md) and the walk
DEFAULTS = {"mixed": {"max_steps": 4, "max_seconds": 3.0}, "walk": {"max_steps": 4, "max_seconds": 3.0}, "rerank": {"max_steps": 1, "max_seconds": 3.0},
            "planned": {"max_steps": 4, "max_seconds": 8.0}, "agent": {"max_steps": 6, "max_seconds": 10.0}}


def with_defaults(strategy: str, max_steps: int | None, max_seconds: float | None) -> tuple[int, float]:
    """The step and time budget, the strategy's defaults where not given."""
    d = DEFAULTS.get(strategy, DEFAULTS["walk"])
    return (d["max_steps"] if max_steps is None else max_steps,
            d["max_seconds"] if max_seconds is None else max_seconds)


def check_arguments(question: str, strategy: str, max_steps: int, max_seconds: float, k: int) -> None:
    """Raise UsageError with what to change when an argument is out of bounds."""
    check_text("question", question)
    if strategy not in STRATEGY_NAMES:
        raise UsageError(f"unknown strategy {shown(strategy)}: use 'mixed' (search + rerank, then the walk's best "
                         "additions), 'walk' (follows references, no LLM), 'rerank' "
                         "(search and rerank, no expansion), 'planned' (a local LLM writes extra queries, then the walk) or "
                         "'agent' (a local LLM picks steps)")
    check_range("max_steps", max_steps)
    check_range("max_seconds", max_seconds)
    check_range("k", k, "deep_k")


def deep_search(corpus: Corpus, reranker: Reranker, question: str, strategy: str = DEFAULT_STRATEGY,
                max_steps: int | None = None, max_seconds: float | None = None, k: int = 10,
                model: ChatModel | None = None, on_step: OnStep | None = None,
                walk_options: WalkOptions | None = None, agent_options: AgentOptions | None = None,
                first_stage: FirstStage | None = None, plan_options: PlanOptions | None = None) -> DeepSearchResult:
    """Run one strategy within a budget of steps and seconds. `planned` and `agent` need `model`. Seeds,
    planned queries and the agent's searches come from `first_stage` (BM25 when None)."""
    max_steps, max_seconds = with_defaults(strategy, max_steps, max_seconds)
    check_arguments(question, strategy, max_steps, max_seconds, k)
    budget = Budget(max_steps=max_steps, max_seconds=float(max_seconds))
    with scoring_deadline(budget.started + budget.max_seconds) as deadline:
        result = _run(corpus, reranker, question, strategy, budget, k, model, on_step, walk_options, agent_options,
                      first_stage, plan_options)
    if deadline.unscored:
        result = result.with_note(f"{deadline.unscored} candidate passages were ranked without the reranker's model "
                                  "(their vectors were not computed yet and the time budget came first: the server "
                                  "may still be warming up)")
    return result


def _run(corpus: Corpus, reranker: Reranker, question: str, strategy: str, budget: Budget, k: int,
         model: ChatModel | None, on_step: OnStep | None, walk_options: WalkOptions | None,
         agent_options: AgentOptions | None, first_stage: FirstStage | None,
         plan_options: PlanOptions | None) -> DeepSearchResult:
    if strategy == "rerank":
        return rerank_only(corpus, reranker, question, budget, k, first_stage, on_step)
    if strategy == "walk":
        return walk(corpus, reranker, question, budget, k, walk_options or WalkOptions(), on_step, first_stage)
    if strategy == "mixed":
        return walk(corpus, reranker, question, budget, k,
                    replace(walk_options or WalkOptions(), head=MIXED_HEAD, margin=MIXED_MARGIN),
                    on_step, first_stage)
    if model is None:
        raise UsageError(f"strategy {shown(strategy)} needs a GGUF model: pass --model PATH or set READTRAIL_MODEL")
    if strategy == "planned":
        o = plan_options or PlanOptions()
        if walk_options is not None:
            o = replace(o, walk=walk_options)
        return planned(corpus, reranker, question, budget, model, k, o, on_step, first_stage)
    return agent(corpus, reranker, question, budget, model, k, agent_options or AgentOptions(), on_step, first_stage)
