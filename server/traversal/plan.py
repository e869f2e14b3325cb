"""`planned`: the model plans, the walk reads. Before the walk, the local chat model writes what a search
for the question would miss as 1-3 short search queries (each part of a multi-part question, each of two
things compared, the thing a description points to, a term the question relies on), in one short
schema-constrained generation whose deadline leaves the walk its time. The walk then seeds from the
question and every planned query (one first-stage ranking for all: a planned query's top hit ranks as
high as the question's) and expands as `walk` does. Without a usable plan it is the walk."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.corpus import Corpus
from server.llm.chat import ChatModel, Completion
from server.llm.prompts import load_prompt
from server.rerank.base import Reranker
from server.retrieval import FirstStage
from server.traversal.budget import Budget, OnStep
from server.traversal.pool import Pool, seed_pool
from server.traversal.result import DeepSearchResult, TraceStep
from server.traversal.walk import WalkOptions, expand_until_done

__all__ = ["PlanOptions", "plan_schema", "parse_plan", "plan_queries", "planned", "plan_prompt_version"]

QUERY_MAX = 100  # characters in one planned query


@dataclass(frozen=True)
class PlanOptions:
    max_queries: int = 3
    max_tokens: int = 48  # one short generation: 3 phrases of 2-6 words fit in ~30 tokens
    per_query: int = 10  # first-stage hits each planned query adds to the pool
    # False: a planned query's hits join as candidates, ranked by the reranker against the question (and
    # the question's own first-stage rank); True: their rank in the planned query's list also counts as a
    # first-stage rank (the best over the question and every query). On obliqa_mp_val (100 q) True cost
    # 0.09 all-gold@10 [0.03, 0.16]: a vague planned phrase's top hits outrank the question's
    # (bench/TRAVERSAL.md, "The model plans, the walk reads").
    rank_plans: bool = False
    walk: WalkOptions = field(default_factory=WalkOptions)
    # time kept for the walk after the plan: seeding each planned query at the question's measured seed
    # time, and never less than this
    min_walk_seconds: float = 0.3
    prompts: Path | None = None  # a prompts folder (Settings.prompts); None: the packaged prompts


def plan_prompt_version(folder: Path | None = None) -> str:
    return f"plan_system@{load_prompt('plan_system', folder).version}"


def plan_schema(max_queries: int) -> dict[str, Any]:
    """{"queries": [1..max_queries strings]}; no maxLength (llama.cpp expands it into nested rules,
    slow to sample): max_tokens bounds the output and parse_plan the length."""
    return {"type": "object", "required": ["queries"], "properties": {
        "queries": {"type": "array", "minItems": 1, "maxItems": max_queries,
                    "items": {"type": "string", "minLength": 2}}}}


_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def parse_plan(text: str, question: str, max_queries: int = 3, complete: bool = True) -> list[str]:
    """The usable queries of a model's answer: distinct, 2-QUERY_MAX characters, none the question
    itself. `complete=False`: `text` is a generation cut at the deadline; the queries written out in
    full before the cut are kept."""
    items: list[Any]
    if complete:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return []
        items = parsed.get("queries", []) if isinstance(parsed, dict) else []
        if not isinstance(items, list):
            return []
    else:
        _, bracket, rest = text.partition("[")
        items = []
        for m in _STRING.finditer(rest if bracket else ""):
            try:
                items.append(json.loads(f'"{m.group(1)}"'))
            except json.JSONDecodeError:
                continue
    seen = {_norm(question)}
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            continue
        q = re.sub(r"\s+", " ", item).strip()
        key = _norm(q)
        if len(q) < 2 or len(q) > QUERY_MAX or not key or key in seen:
            continue
        seen.add(key)
        out.append(q)
        if len(out) >= max_queries:
            break
    return out


def plan_queries(model: ChatModel, question: str, deadline: float | None, o: PlanOptions) -> tuple[list[str], Completion]:
    """One generation: the planned queries (possibly none) and the model's completion."""
    messages = [{"role": "system", "content": load_prompt("plan_system", o.prompts).text},
                {"role": "user", "content": f"Question: {question}"}]
    done = model.complete(messages, plan_schema(o.max_queries), max_tokens=o.max_tokens, deadline=deadline)
    if done.cut:
        return parse_plan(done.partial, question, o.max_queries, complete=False), done
    return parse_plan(done.text, question, o.max_queries), done


def planned(corpus: Corpus, reranker: Reranker, question: str, budget: Budget, model: ChatModel, k: int = 10,
            options: PlanOptions = PlanOptions(), on_step: OnStep | None = None,
            first_stage: FirstStage | None = None) -> DeepSearchResult:
    o = options
    pool = Pool(corpus, reranker, question, first_stage)
    trace: list[TraceStep] = [seed_pool(pool, question, o.walk.seeds, budget, on_step)]
    # The plan's deadline keeps time for seeding its queries (each like the question's seed) and the walk.
    reserve = max(o.min_walk_seconds, trace[0].ms / 1000 * o.max_queries)
    deadline = budget.started + budget.max_seconds - reserve
    t = time.perf_counter()
    queries: list[str] = []
    done = Completion(text="", cut=True)
    if deadline > t:
        queries, done = plan_queries(model, question, deadline, o)
    added: list[str] = []
    for q in queries:
        added += pool.add_bm25(q, o.per_query, via="plan", ranked=o.rank_plans)
    error = None if queries else ("cut at the time budget" if done.cut else "no usable query")
    step = TraceStep(step=0, action="plan", args={"queries": queries}, valid=bool(queries), error=error, added=added,
                     ms=round((time.perf_counter() - t) * 1000, 2), llm_ms=round(done.ms, 2),
                     prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens,
                     raw=(done.text or done.partial)[:300])
    trace.append(step)
    if on_step:
        on_step(0, budget.max_steps, f"planned {len(queries)} queries: +{len(added)} candidates")
    stopped = expand_until_done(pool, budget, o.walk, trace, on_step)
    return DeepSearchResult(
        question=question, strategy="planned", model=model.name,
        reranker=getattr(reranker, "name", type(reranker).__name__), prompt_version=plan_prompt_version(o.prompts),
        evidence=pool.evidence(k, o.walk.ranking), trace=trace, steps=budget.steps, stopped=stopped,
        candidates=len(pool.rerank), ms=round(budget.elapsed_ms(), 2), note=budget.note(stopped),
    )
