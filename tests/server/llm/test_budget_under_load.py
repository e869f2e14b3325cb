"""Budgets that hold on a loaded machine: the real GGUF (SmolLM2-135M) and llama.cpp, with two busy
processes saturating the CPU while the agent runs. A prompt is read in chunks with the deadline checked
between them, so a deep_search ends within max_seconds + 0.5 s however slow the model has become."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from server.corpus import Corpus
from server.cpu import threads_for_load
from server.llm.chat import LlamaChat
from server.llm.registry import ModelError, resolve_model_path
from server.traversal import AgentOptions, deep_search
from tests.server.traversal.fixture_corpus import OverlapReranker, write_traversal_index

pytestmark = pytest.mark.slow

SLACK_S = 0.5
QUESTIONS = [
    "What must the money laundering reporting officer do about suspicious activity reports?",
    "Which fees are payable annually and to whom?",
    "When must a notification be made to the regulator in writing?",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus.open(write_traversal_index(tmp_path_factory.mktemp("trav-load") / "index"))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory):
    try:
        return resolve_model_path("smollm2-135m", tmp_path_factory.mktemp("models"))
    except ModelError as exc:
        pytest.skip(f"SmolLM2 is not available: {exc}")


@pytest.fixture
def busy_cpu() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two processes spinning on the CPU for the test's duration, ended by their own handles."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    time.sleep(0.5)  # let them take the cores
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(timeout=10)


# None picks threads by load, as serving does (one on a loaded machine: with two, a single 4-token chunk
# took 6.4 s here, beyond any budget; chunking cannot split a decode); 1 is what it picks under load.
@pytest.mark.parametrize("threads", [None, 1])
def test_agent_ends_within_its_budget_on_a_loaded_cpu(corpus: Corpus, model_path, busy_cpu, threads) -> None:
    model = LlamaChat(model_path, n_ctx=2048, n_threads=threads)
    assert all(p.poll() is None for p in busy_cpu)
    assert threads_for_load(2) == 1, "two busy processes on the cores: one llama.cpp thread"
    for question, seconds in zip(QUESTIONS, (2.0, 3.0, 1.0)):
        t = time.perf_counter()
        result = deep_search(corpus, OverlapReranker(), question, "agent", max_steps=20, max_seconds=seconds, k=5,
                             model=model, agent_options=AgentOptions(seeds=6, warm_expand=0))
        elapsed = time.perf_counter() - t
        assert elapsed <= seconds + SLACK_S, f"{elapsed:.2f} s against a {seconds} s budget ({result.trace})"
        assert result.stopped in ("max_seconds", "stop", "max_steps")
        if result.stopped == "max_seconds":
            assert result.note and "time budget" in result.note
        assert result.evidence, "what was found before the cut is returned"
    assert all(p.poll() is None for p in busy_cpu), "the load lasted the whole test"


def test_a_cut_prompt_read_is_reused_by_the_next_call(model_path) -> None:
    """Cut mid-prompt, the tokens already read stay in the context: the same prompt again reads only the rest."""
    model = LlamaChat(model_path, n_ctx=2048, n_threads=1)
    messages = [{"role": "system", "content": "You pick one action. " * 30}, {"role": "user", "content": "Choose now. " * 30}]
    schema = {"anyOf": [{"type": "object", "properties": {"action": {"const": "stop"}}, "required": ["action"]}]}
    warm = model.complete([{"role": "user", "content": "hi"}], schema)  # measures the speed
    assert not warm.cut and warm.ms_per_read_token()
    cut = model.complete(messages, schema, deadline=time.perf_counter() + 0.15)
    assert cut.cut and cut.text == "" and 0 < cut.read_tokens
    full = model.complete(messages, schema)
    assert not full.cut and '"stop"' in full.text
    assert full.read_tokens + cut.read_tokens <= full.prompt_tokens + 2  # the cut part was not read twice


def test_a_deadline_already_passed_reads_nothing(model_path) -> None:
    model = LlamaChat(model_path, n_ctx=2048, n_threads=1)
    schema = {"anyOf": [{"type": "object", "properties": {"action": {"const": "stop"}}, "required": ["action"]}]}
    done = model.complete([{"role": "user", "content": "hi"}], schema, deadline=time.perf_counter() - 1)
    assert done.cut and done.read_tokens == 0 and done.ms < 200
