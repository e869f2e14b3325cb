"""`planned` with a real GGUF model (SmolLM2-135M, packaged) and llama.cpp: the plan is one
schema-constrained generation whose queries join the walk's seeds, and its deadline holds."""
from __future__ import annotations

import json
import time

import pytest

from server.corpus import Corpus
from server.llm.chat import LlamaChat
from server.traversal import PlanOptions, WalkOptions, deep_search
from server.traversal.plan import parse_plan, plan_queries
from tests.server.traversal.fixture_corpus import OverlapReranker, write_traversal_index

pytestmark = pytest.mark.slow

QUESTION = "Who must the money laundering reporting officer notify, and how long are records kept?"
PLAN = PlanOptions(walk=WalkOptions(seeds=3))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus.open(write_traversal_index(tmp_path_factory.mktemp("plan-llm") / "index"))


def test_the_plan_is_schema_valid_json_and_its_queries_seed_the_walk(corpus: Corpus, smollm2: LlamaChat) -> None:
    queries, done = plan_queries(smollm2, QUESTION, time.perf_counter() + 120, PLAN)
    assert not done.cut and done.completion_tokens <= PLAN.max_tokens
    if done.completion_tokens < PLAN.max_tokens:  # ended by the grammar, not by max_tokens: whole JSON
        answer = json.loads(done.text)
        assert set(answer) == {"queries"} and 1 <= len(answer["queries"]) <= PLAN.max_queries
        assert queries == parse_plan(done.text, QUESTION, PLAN.max_queries)
    result = deep_search(corpus, OverlapReranker(), QUESTION, "planned", max_steps=2, max_seconds=120, k=5,
                         model=smollm2, plan_options=PLAN)
    step = result.trace[1]
    assert result.trace[0].action == "seed" and step.action == "plan" and step.llm_ms and step.llm_ms > 0
    assert step.args["queries"] == queries  # temperature 0: the same plan again
    assert all(e.via == "plan" for e in result.evidence if e.id in step.added and e.id not in result.trace[0].added)
    assert result.model == smollm2.name and 1 <= len(result.evidence) <= 5


@pytest.mark.parametrize("seconds", [0.5, 1.0])
def test_a_planned_search_ends_within_its_budget(corpus: Corpus, smollm2: LlamaChat, seconds: float) -> None:
    smollm2._llm.reset()  # nothing cached: the system prompt must be read again, within the deadline
    t = time.perf_counter()
    result = deep_search(corpus, OverlapReranker(), QUESTION, "planned", max_steps=2, max_seconds=seconds,
                         model=smollm2, plan_options=PLAN)
    assert time.perf_counter() - t <= seconds + 0.5
    assert result.evidence and result.trace[1].action == "plan"
