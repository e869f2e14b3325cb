"""The traversal loop's logic with a deterministic reranker and a queue-driven fake model."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from server.corpus import Corpus
from server.errors import UsageError
from server.traversal import WalkOptions, deep_search
from server.traversal.agent import ACTIONS, AgentOptions, action_schema
from server.llm.chat import Completion
from tests.server.traversal.fixture_corpus import INJECTION_ID, OverlapReranker, write_traversal_index

# Few seeds: the fixture is so small that BM25 would otherwise seed every passage.
AGENT = AgentOptions(seeds=5, warm_expand=0)  # the loop alone; warm start tested below
WALK = WalkOptions(seeds=5)
QUESTION = "What must the money laundering reporting officer do about suspicious activity reports?"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus.open(write_traversal_index(tmp_path_factory.mktemp("trav") / "index"))


Reply = str | Callable[[str, dict[str, Any]], str]


class ScriptedModel:
    """Answers from a queue; a callable entry sees the screen and schema. Records every call."""

    name = "scripted"

    def __init__(self, replies: list[Reply], delay: float = 0.0) -> None:
        self.replies = list(replies)
        self.delay = delay
        self.calls: list[tuple[list[dict[str, str]], dict[str, Any]]] = []

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96,
                 deadline: float | None = None) -> Completion:
        self.calls.append((messages, schema))
        if deadline is not None and time.perf_counter() + self.delay > deadline:  # as LlamaChat: cut at the deadline
            time.sleep(max(0.0, deadline - time.perf_counter()))
            return Completion(text="", ms=self.delay * 1000, cut=True)
        time.sleep(self.delay)
        reply = self.replies.pop(0) if self.replies else '{"action": "stop"}'
        text = reply(messages[-1]["content"], schema) if callable(reply) else reply
        return Completion(text=text, prompt_tokens=100, completion_tokens=8, ms=self.delay * 1000)


def handle_for(screen: str, needle: str) -> str:
    """The handle (P3, R1) of the screen line containing `needle`."""
    for line in screen.splitlines():
        if needle in line:
            return line.split(":")[0].split()[0]
    raise AssertionError(f"{needle!r} not on screen:\n{screen}")


def enums(schema: dict[str, Any], action: str, arg: str) -> list[str]:
    for alt in schema["anyOf"]:
        if alt["properties"]["action"]["const"] == action:
            return alt["properties"][arg]["enum"]
    return []


# -- walk ------------------------------------------------------------------------------------

def test_walk_reaches_a_cited_rule_that_bm25_misses(corpus: Corpus) -> None:
    assert "gen:4" not in [p.id for p, _ in corpus.bm25(QUESTION, WALK.seeds)]
    steps: list[tuple[int, int, str]] = []
    result = deep_search(corpus, OverlapReranker(), QUESTION, "walk", max_steps=5, max_seconds=5, k=10,
                         on_step=lambda s, n, m: steps.append((s, n, m)), walk_options=WALK)
    ids = result.ranked_ids()
    assert "gen:4" in ids and "aml:2.1" in ids
    assert result.steps <= 5 and len(result.trace) == result.steps + 1
    assert result.trace[0].action == "seed" and all(t.action == "expand" for t in result.trace[1:])
    assert [s for s, _, _ in steps] == list(range(result.steps + 1))
    assert next(e for e in result.evidence if e.id == "gen:4").via in ("reference", "mention")


def test_walk_scores_each_passage_once(corpus: Corpus) -> None:
    rr = OverlapReranker()
    deep_search(corpus, rr, QUESTION, "walk", max_steps=10, max_seconds=5, walk_options=WALK)
    assert len(rr.scored) == len(set(rr.scored))


def test_walk_stops_when_nothing_is_left_to_expand(corpus: Corpus) -> None:
    result = deep_search(corpus, OverlapReranker(), QUESTION, "walk", max_steps=50, max_seconds=10, walk_options=WALK)
    assert result.stopped == "exhausted" and result.steps < 50


@pytest.mark.parametrize("kwargs, message", [
    ({"question": " "}, "question is empty"),
    ({"question": "x" * 3000}, "keep it under"),
    ({"strategy": "dfs"}, "unknown strategy"),
    ({"max_steps": 0}, "max_steps must be between"),
    ({"max_seconds": 1000}, "max_seconds must be between"),
    ({"k": 500}, "k must be between"),
    ({"strategy": "agent"}, "needs a GGUF model"),
])
def test_arguments_are_checked(corpus: Corpus, kwargs: dict[str, Any], message: str) -> None:
    args = {"question": QUESTION, "strategy": "walk", **kwargs}
    with pytest.raises(UsageError, match=message):
        deep_search(corpus, OverlapReranker(), **args)


# -- agent with a scripted model ---------------------------------------------------------------

def test_agent_follows_a_reference_then_keeps_and_stops(corpus: Corpus) -> None:
    model = ScriptedModel([
        lambda screen, _: json.dumps({"action": "follow", "reference": handle_for(screen, '"Section 4 of the GEN Rules"')}),
        lambda screen, _: json.dumps({"action": "keep", "passage": handle_for(screen, "[General Rules 4]")}),
        '{"action": "stop"}',
    ])
    result = deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=6, max_seconds=10, model=model, agent_options=AGENT)
    assert [t.action for t in result.trace] == ["seed", "follow", "keep", "stop"]
    assert result.trace[1].added == ["gen:4"] and result.stopped == "stop"
    kept = [e for e in result.evidence if e.kept]
    assert [e.id for e in kept] == ["gen:4"] and kept[0].via == "reference" and kept[0].from_id == "aml:2.1"
    assert result.prompt_version and result.prompt_version.startswith("agent_system@")
    assert all(t.valid and t.llm_ms is not None and t.raw for t in result.trace[1:])


def test_schema_lists_only_what_is_on_the_screen(corpus: Corpus) -> None:
    model = ScriptedModel([])
    deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=1, max_seconds=10, model=model, agent_options=AGENT)
    (messages, schema), = model.calls
    screen = messages[-1]["content"]
    passages = enums(schema, "keep", "passage")
    assert passages == enums(schema, "read", "passage") == [f"P{i}" for i in range(1, len(passages) + 1)]
    assert all(f"\n{h} [" in screen for h in passages)
    assert all(f"\n{h}: " in screen for h in enums(schema, "follow", "reference"))
    assert {alt["properties"]["action"]["const"] for alt in schema["anyOf"]} <= set(ACTIONS)
    assert "R9" not in json.dumps(schema) and "P99" not in json.dumps(schema)
    assert messages[0]["role"] == "system" and QUESTION in screen
    assert "SYSTEM NOTE" in screen or INJECTION_ID not in screen  # one line of it at most, as data


@pytest.mark.parametrize("raw, error", [
    ('{"action": "follow", "reference": "R9"}', "not on the screen"),
    ('{"action": "keep", "passage": "P99"}', "not on the screen"),
    ('{"action": "delete", "passage": "all"}', "unknown action"),
    ('{"action": "feedback"}', "unknown action"),
    ('{"action": "search", "query": "   "}', "query must be"),
    ('{"action": "stop", "passage": "P1"}', "takes no arguments"),
    ("follow R1 please", "not JSON"),
])
def test_invalid_actions_cost_a_step_and_are_recorded(corpus: Corpus, raw: str, error: str) -> None:
    model = ScriptedModel([raw, '{"action": "stop"}'])
    result = deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=4, max_seconds=10, model=model, agent_options=AGENT)
    bad = result.trace[1]
    assert bad.action == "invalid" and not bad.valid and error in (bad.error or "") and bad.added == []
    assert result.steps == 2 and result.trace[2].action == "stop"
    assert "refused" in model.calls[1][0][-1]["content"]  # the model is told on the next screen


def test_kept_passages_leave_the_screen(corpus: Corpus) -> None:
    model = ScriptedModel(['{"action": "keep", "passage": "P1"}'] * 2)
    result = deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=2, max_seconds=10, model=model, agent_options=AGENT)
    kept = [t.args["id"] for t in result.trace[1:]]
    assert len(set(kept)) == 2 and {e.id for e in result.evidence if e.kept} == set(kept)
    assert "kept: [" in model.calls[1][0][-1]["content"]


def test_search_action_adds_new_candidates(corpus: Corpus) -> None:
    model = ScriptedModel(['{"action": "search", "query": "fees payable annually"}'])
    result = deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=1, max_seconds=10, model=model, agent_options=AGENT)
    assert "gen:6" in result.trace[1].added and result.trace[1].args == {"query": "fees payable annually"}


def test_agent_respects_the_step_budget(corpus: Corpus) -> None:
    model = ScriptedModel(['{"action": "read", "passage": "P1"}'] * 20)
    result = deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=3, max_seconds=10, model=model, agent_options=AGENT)
    assert result.steps == 3 and len(model.calls) == 3 and result.stopped == "max_steps"


def test_agent_does_not_start_a_step_it_cannot_finish_in_time(corpus: Corpus) -> None:
    model = ScriptedModel(['{"action": "read", "passage": "P1"}'] * 20, delay=0.3)
    result = deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=20, max_seconds=1.0, model=model, agent_options=AGENT)
    assert result.stopped == "max_seconds" and result.ms < 1000 + 300
    assert len(result.trace) == result.steps + 1


def test_a_model_step_cut_at_the_deadline_is_recorded_and_ends_the_walk(corpus: Corpus) -> None:
    model = ScriptedModel(['{"action": "read", "passage": "P1"}'] * 5, delay=2.0)  # one step costs more than the budget
    result = deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=5, max_seconds=0.5, model=model,
                         agent_options=AGENT)
    assert result.stopped == "max_seconds" and result.ms < 1000
    cut = result.trace[-1]
    assert cut.action == "invalid" and not cut.valid and cut.error == "cut at the time budget"


def test_action_schema_without_candidates_offers_search_and_stop() -> None:
    schema = action_schema({}, {})
    assert [a["properties"]["action"]["const"] for a in schema["anyOf"]] == ["search", "stop"]


def test_agent_options_screen_size(corpus: Corpus) -> None:
    model = ScriptedModel([])
    deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=1, max_seconds=10, model=model,
                agent_options=AgentOptions(screen_passages=2))
    assert enums(model.calls[0][1], "keep", "passage") == ["P1", "P2"]


def test_eval_strategies_take_the_reranker_they_are_given(corpus: Corpus) -> None:
    from server.eval.strategies import StrategyParts, make_strategy

    walk = make_strategy("walk", StrategyParts(reranker=OverlapReranker(), walk_options=WALK))
    assert "gen:4" in walk(corpus, QUESTION, 20)
    seen = []
    agent = make_strategy("agent", StrategyParts(model=ScriptedModel([]), reranker=OverlapReranker(),
                                                 on_result=seen.append, agent_options=AGENT))
    assert len(agent(corpus, QUESTION, 3)) == 3 and seen[0].strategy == "agent"


def test_warm_start_expands_before_the_first_turn(corpus: Corpus) -> None:
    model = ScriptedModel([])
    result = deep_search(corpus, OverlapReranker(), QUESTION, "agent", max_steps=1, max_seconds=10, model=model,
                         agent_options=AgentOptions(seeds=5, warm_steps=2, warm_expand=2))
    assert [t.action for t in result.trace] == ["seed", "expand", "expand", "stop"]
    assert all(t.step == 0 and len(t.args["ids"]) == 2 for t in result.trace[1:3]) and result.steps == 1
    first, second = (set(t.args["ids"]) for t in result.trace[1:3])
    assert not first & second  # the second warm step expands passages the first did not


def test_rerank_strategy_orders_first_stage_candidates_without_expanding(corpus: Corpus) -> None:
    rr = OverlapReranker()
    result = deep_search(corpus, rr, QUESTION, "rerank", k=3)
    assert result.strategy == "rerank" and result.steps == 0 and [t.action for t in result.trace] == ["seed"]
    scores = [e.rerank_score for e in result.evidence]
    assert len(result.evidence) == 3 and scores == sorted(scores, reverse=True)
    assert set(result.ranked_ids()) <= set(result.trace[0].added)


def test_mix_keeps_search_and_rerank_s_head_then_the_walk_s_best_additions() -> None:
    from server.traversal import Evidence
    from server.traversal.walk import MIXED_DEPTH, mix

    def ev(*ids: str) -> list[Evidence]:
        return [Evidence(id=i, document="d", score=0.0, rerank_score=0.0, via="bm25", text="") for i in ids]

    reranked = ev(*[f"r{i}" for i in range(12)])
    walked = ev("r0", "w1", "r1", "w2", "w3", "w4", "r11")
    ids = [e.id for e in mix(reranked, walked, 7)]
    assert ids[:MIXED_DEPTH] == ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "w1", "w2", "w3"]
    assert ids[MIXED_DEPTH:] == ["r7", "r8", "r9", "r10", "r11", "w4"] and len(ids) == len(set(ids))


def test_mixed_is_the_default_and_starts_from_search_and_rerank(corpus: Corpus) -> None:
    from server.traversal.budget import Budget
    from server.traversal.walk import rerank_only

    result = deep_search(corpus, OverlapReranker(), QUESTION, max_steps=5, max_seconds=5, walk_options=WALK)
    assert result.strategy == "mixed" and result.trace[0].action == "rerank" and result.trace[1].action == "seed"
    reranked = rerank_only(corpus, OverlapReranker(), QUESTION, Budget(1, 5.0), 10).ranked_ids()
    assert result.ranked_ids()[:7] == reranked[:7]
    assert all(t.action == "expand" for t in result.trace[2:]) and result.steps == len(result.trace) - 2


def test_a_walk_addition_displaces_a_reranked_passage_only_when_the_walk_rates_it_a_margin_higher() -> None:
    from server.traversal import Evidence
    from server.traversal.walk import MIXED_DEPTH, mix

    def ev(*ids: str) -> list[Evidence]:
        return [Evidence(id=i, document="d", score=0.0, rerank_score=0.0, via="bm25", text="") for i in ids]

    reranked = ev(*[f"r{i}" for i in range(12)])
    walked = ev("r0", "w1", "r8", "w2", "w3")  # additions: w1, r8 (already in the reranked slots), w2
    scores = {"w1": 0.30, "w2": 0.20, "r9": 0.26, "r7": 0.10}  # r8 unscored by the walk; r9 is displaced first
    ids = [e.id for e in mix(reranked, walked, 7, scores, margin=0.05)]
    # w1 (0.30 >= 0.26 + 0.05 is false): r9 stays; w2 (0.20 vs r9 0.26): refused too
    assert ids[:MIXED_DEPTH] == ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r7", "r9"]
    scores["w1"] = 0.35  # now w1 clears r9's score by the margin; w2 then faces r7 (0.10): accepted
    ids = [e.id for e in mix(reranked, walked, 7, scores, margin=0.05)]
    assert ids[:MIXED_DEPTH] == ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "w1", "r8", "w2"]
    assert ids[MIXED_DEPTH:] == ["r7", "r9", "r10", "r11", "w3"] and len(ids) == len(set(ids))
    no_gate = [e.id for e in mix(reranked, walked, 7)]  # without the walk's scores: every addition enters
    assert no_gate[:MIXED_DEPTH] == ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "w1", "r8", "w2"]
