"""`planned`: the model's queries join the walk's seeds; parsing, deadlines and the fallback to the walk,
with a scripted model (the real GGUF: tests/server/llm/test_plan_llm.py)."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest

from server.corpus import Corpus
from server.errors import UsageError
from server.eval.strategies import StrategyParts, make_strategy
from server.llm.chat import Completion
from server.traversal import PlanOptions, WalkOptions, deep_search
from server.traversal.plan import parse_plan, plan_schema
from server.traversal.pool import Pool
from tests.server.traversal.fixture_corpus import OverlapReranker, write_traversal_index
from tests.server.traversal.test_traversal import ScriptedModel

# Two seeds: the fixture is small enough that more would seed every passage.
PLAN = PlanOptions(walk=WalkOptions(seeds=2))
QUESTION = "What must the money laundering reporting officer do, and how long does a firm hold on to its files?"
RECORDS = "gen:5"  # "Records are kept for six years ...": the second part, not among the question's seeds


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus.open(write_traversal_index(tmp_path_factory.mktemp("plan") / "index"))


def plan(*queries: str) -> str:
    return json.dumps({"queries": list(queries)})


def test_parse_plan_keeps_distinct_short_queries_and_drops_the_question() -> None:
    q = "Are the Amazon and the Nile both long?"
    raw = plan("Amazon length", "amazon  LENGTH", "Are the Amazon and the Nile both long?", "x" * 101, "Nile length", "more")
    assert parse_plan(raw, q) == ["Amazon length", "Nile length", "more"]
    assert parse_plan(raw, q, max_queries=1) == ["Amazon length"]
    assert parse_plan("not json", q) == [] and parse_plan('{"queries": "one"}', q) == [] and parse_plan("[1]", q) == []


def test_a_generation_cut_at_the_deadline_keeps_the_queries_written_in_full() -> None:
    assert parse_plan('{"queries": ["Amazon length", "Nile le', "q", complete=False) == ["Amazon length"]
    assert parse_plan('{"queries": ["a \\"quoted\\" term", "', "q", complete=False) == ['a "quoted" term']
    assert parse_plan('{"quer', "q", complete=False) == []


def test_plan_schema_bounds_the_number_of_queries() -> None:
    items = plan_schema(2)["properties"]["queries"]
    assert items["maxItems"] == 2 and items["minItems"] == 1 and items["items"]["type"] == "string"


def test_planned_queries_seed_the_walk(corpus: Corpus) -> None:
    walk = deep_search(corpus, OverlapReranker(), QUESTION, "walk", max_steps=1, max_seconds=5, walk_options=PLAN.walk)
    assert RECORDS not in walk.ranked_ids()
    model = ScriptedModel([plan("records kept six years")])
    result = deep_search(corpus, OverlapReranker(), QUESTION, "planned", max_steps=1, max_seconds=5, model=model,
                         plan_options=PLAN)
    assert RECORDS in result.ranked_ids() and result.strategy == "planned" and result.model == "scripted"
    assert next(e for e in result.evidence if e.id == RECORDS).via == "plan"
    seed, step = result.trace[0], result.trace[1]
    assert seed.action == "seed" and step.action == "plan" and step.valid and step.args["queries"] == ["records kept six years"]
    assert RECORDS in step.added and step.llm_ms is not None
    assert all(t.action == "expand" for t in result.trace[2:]) and result.steps == len(result.trace) - 2
    assert result.prompt_version and result.prompt_version.startswith("plan_system@")
    (messages, schema), = model.calls
    assert QUESTION in messages[-1]["content"] and schema == plan_schema(PLAN.max_queries)


def test_without_a_usable_plan_it_is_the_walk(corpus: Corpus) -> None:
    walk = deep_search(corpus, OverlapReranker(), QUESTION, "walk", max_steps=2, max_seconds=5, walk_options=PLAN.walk)
    result = deep_search(corpus, OverlapReranker(), QUESTION, "planned", max_steps=2, max_seconds=5,
                         model=ScriptedModel([plan(QUESTION)]), plan_options=PLAN)
    assert result.ranked_ids() == walk.ranked_ids()
    assert not result.trace[1].valid and result.trace[1].error == "no usable query"


def test_the_plan_deadline_leaves_the_walk_its_time(corpus: Corpus) -> None:
    seen: list[float | None] = []

    class Slow(ScriptedModel):
        def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96,
                     deadline: float | None = None) -> Completion:
            seen.append(deadline)
            return super().complete(messages, schema, max_tokens, deadline)

    t = time.perf_counter()
    result = deep_search(corpus, OverlapReranker(), QUESTION, "planned", max_steps=3, max_seconds=1.0,
                         model=Slow([plan("records")], delay=5.0), plan_options=PLAN)
    took = time.perf_counter() - t
    assert seen[0] is not None and seen[0] <= t + 1.0 - PLAN.min_walk_seconds + 0.01
    assert took <= 1.0 + 0.5 and result.ms <= 1500
    step = result.trace[1]
    assert step.action == "plan" and not step.valid and step.error == "cut at the time budget"
    assert result.evidence  # the question's seeds still answer


def test_planned_needs_a_model(corpus: Corpus) -> None:
    with pytest.raises(UsageError, match="'planned' needs a GGUF model"):
        deep_search(corpus, OverlapReranker(), QUESTION, "planned")


def test_a_planned_querys_top_hit_ranks_as_high_as_the_questions(corpus: Corpus) -> None:
    pool = Pool(corpus, OverlapReranker(), QUESTION)
    pool.add_bm25(QUESTION, 2)
    assert pool.bm25_rank.get(RECORDS, 999) > 0
    pool.add_bm25("records kept six years", 3, via="plan", ranked=True)
    assert pool.bm25_rank[RECORDS] == 0 and pool.via[RECORDS] == "plan"
    unranked = Pool(corpus, OverlapReranker(), QUESTION)
    unranked.add_bm25("records kept six years", 3, via="search")
    assert RECORDS not in unranked.bm25_rank


def test_eval_strategy_planned_runs_the_model_once_per_question(corpus: Corpus) -> None:
    with pytest.raises(ValueError, match="needs a chat model"):
        make_strategy("planned", StrategyParts(reranker=OverlapReranker()))
    model = ScriptedModel([plan("records kept six years")])
    strategy = make_strategy("planned", StrategyParts(reranker=OverlapReranker(), model=model, plan_options=PLAN))
    assert RECORDS in strategy(corpus, QUESTION, 10) and len(model.calls) == 1


def test_services_run_planned_with_the_servers_model_and_prompts(corpus: Corpus, tmp_path: Any) -> None:
    from tests.conftest import make_services

    model = ScriptedModel([plan("records kept six years")])
    services = make_services(corpus, tmp_path, reranker_override=OverlapReranker(), chat_model_override=model,
                             search_mode="bm25")
    result = services.deep_search(QUESTION, "planned", max_steps=1, max_seconds=5)
    assert result.strategy == "planned" and result.trace[1].args["queries"] == ["records kept six years"]
    assert len(model.calls) == 1
