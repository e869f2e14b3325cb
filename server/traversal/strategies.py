"""`walk` and `agent` as evaluation strategies (`readtrail eval --strategy walk|agent [--model PATH]`).
The reranker and the model load on the first question, once."""
from __future__ import annotations

from typing import Any

from server.corpus import Corpus
from server.evaluate import Strategy, register_strategy
from server.traversal import DEFAULTS, AgentOptions, Budget, WalkOptions
from server.traversal.agent import agent
from server.traversal.walk import walk

__all__ = ["walk_strategy", "agent_strategy"]


def _reranker_loader(reranker: Any) -> Any:
    """A function corpus -> Reranker that builds it once; `reranker` may already be an instance."""
    held: dict[str, Any] = {}

    def get(corpus: Corpus) -> Any:
        if "r" not in held:
            if hasattr(reranker, "score"):
                held["r"] = reranker
            else:
                from server.rerank import load_reranker

                held["r"] = load_reranker(reranker, corpus)
        return held["r"]
    return get


def _budget(strategy: str, max_steps: int | None, max_seconds: float | None) -> Budget:
    d = DEFAULTS[strategy]
    return Budget(max_steps=max_steps or d["max_steps"], max_seconds=float(max_seconds or d["max_seconds"]))


@register_strategy("walk")
def walk_strategy(reranker: Any = None, max_steps: int | None = None, max_seconds: float | None = None,
                  walk_options: WalkOptions | None = None, **_ignored: Any) -> Strategy:
    get_reranker = _reranker_loader(reranker)
    options = walk_options or WalkOptions()

    def run(corpus: Corpus, question: str, depth: int) -> list[str]:
        result = walk(corpus, get_reranker(corpus), question, _budget("walk", max_steps, max_seconds), depth, options)
        return result.ranked_ids()
    return run


@register_strategy("agent")
def agent_strategy(model: Any = None, reranker: Any = None, max_steps: int | None = None,
                   max_seconds: float | None = None, agent_options: AgentOptions | None = None,
                   on_result: Any = None, **_ignored: Any) -> Strategy:
    """`model`: a GGUF path, a packaged name, a ChatModel, or None for the default packaged model.
    `on_result(result)` sees every DeepSearchResult (traces for the benchmark)."""
    get_reranker = _reranker_loader(reranker)
    held: dict[str, Any] = {}
    options = agent_options or AgentOptions()

    def run(corpus: Corpus, question: str, depth: int) -> list[str]:
        if "m" not in held:
            if hasattr(model, "complete"):
                held["m"] = model
            else:
                from server.traversal.llm import load_chat_model

                held["m"] = load_chat_model(model)
        result = agent(corpus, get_reranker(corpus), question, _budget("agent", max_steps, max_seconds),
                       held["m"], depth, options)
        if on_result:
            on_result(result)
        return result.ranked_ids()
    return run
