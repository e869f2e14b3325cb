"""The deep_search MCP tool in memory: argument errors, model errors and the bounded gate."""
from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
import pytest
from mcp import Client

from server.corpus import Corpus
from server.mcp import create_server
from server.services import Busy, Gate, Services
from tests.conftest import make_services
from tests.server.traversal.fixture_corpus import OverlapReranker, write_traversal_index

QUESTION = "What must the money laundering reporting officer do about suspicious activity reports?"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return Corpus.open(write_traversal_index(tmp_path_factory.mktemp("tools") / "index"))


def _app(corpus: Corpus, **options: object) -> Services:
    # unit test: a stand-in reranker; the e2e test uses the real one
    return make_services(corpus, Path(tempfile.mkdtemp(prefix="rt-home-")), reranker_override=OverlapReranker(), **options)


def _call(app: Services, args: dict[str, object]) -> tuple[object, list[tuple[float, float | None, str | None]]]:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        progress.append((p, total, message))

    async def go() -> object:
        async with Client(create_server(app)) as client:
            return await client.call_tool("deep_search", args, progress_callback=on_progress)
    return anyio.run(go), progress


def test_walk_in_memory_reports_each_step(corpus: Corpus) -> None:
    out, progress = _call(_app(corpus), {"question": QUESTION, "max_steps": 3})
    assert not out.is_error  # type: ignore[attr-defined]
    result = out.structured_content  # type: ignore[attr-defined]
    assert [p for p, _, _ in progress] == list(range(result["steps"] + 1))


@pytest.mark.parametrize("args, message", [
    ({"question": ""}, "question is empty"),
    ({"question": QUESTION, "k": 0}, "k must be between 1 and 50"),
    ({"question": QUESTION, "max_seconds": 0.1}, "max_seconds must be between"),
    ({"question": QUESTION, "strategy": "bfs"}, "strategy"),
])
def test_bad_arguments_are_tool_errors(corpus: Corpus, args: dict[str, object], message: str) -> None:
    out, _ = _call(_app(corpus), args)
    assert out.is_error and message in out.content[0].text  # type: ignore[attr-defined]


def test_bad_model_is_a_clear_tool_error(corpus: Corpus, tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"\x00\x01 not gguf")
    out, _ = _call(_app(corpus, model=str(fake)), {"question": QUESTION, "strategy": "agent"})
    assert out.is_error and "not a GGUF model" in out.content[0].text  # type: ignore[attr-defined]
    out, _ = _call(_app(corpus, model=str(tmp_path / "missing.gguf")), {"question": QUESTION, "strategy": "agent"})
    assert out.is_error and "does not exist" in out.content[0].text  # type: ignore[attr-defined]


def test_gate_queues_a_few_then_says_busy() -> None:
    gate = Gate(running=1, waiting=1)
    order: list[str] = []

    async def hold(name: str, release: anyio.Event) -> None:
        async with gate.slot():
            order.append(name)
            await release.wait()

    async def go() -> None:
        first, second = anyio.Event(), anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold, "a", first)
            await anyio.sleep(0.01)
            tg.start_soon(hold, "b", second)  # waits in the queue
            await anyio.sleep(0.01)
            assert gate.queued == 1
            with pytest.raises(Busy, match="retry in a few seconds"):
                async with gate.slot():
                    pass
            first.set()
            await anyio.sleep(0.01)
            second.set()
        assert order == ["a", "b"]
    anyio.run(go)


class SlowToWarm(OverlapReranker):
    """A reranker whose passage vectors take a while to build (as MiniLM's do on a fresh server)."""

    def __init__(self) -> None:
        super().__init__()
        self.precomputed = 0

    def precompute(self, passages: list[object], progress: object = None) -> None:
        import time

        time.sleep(0.5)
        self.precomputed = len(passages)


def test_the_lifespan_warms_the_reranker_and_the_first_deep_search_steps(corpus: Corpus, tmp_path: Path) -> None:
    rr = SlowToWarm()
    services = make_services(corpus, tmp_path, reranker_override=rr, warm=True)
    out, progress = _call(services, {"question": QUESTION, "max_steps": 2})
    assert not out.is_error and out.structured_content["steps"] >= 1  # type: ignore[attr-defined]
    assert rr.precomputed == len(corpus.passages)  # every passage vector was built before the walk
    assert services.wait_warm(0)


class NeverWarm(OverlapReranker):
    """A reranker whose warm-up outlasts the wait (a large corpus's: hours), with a tiny dense side."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.release = threading.Event()

    def precompute(self, passages: list[object], progress: object = None) -> None:
        self.release.wait(30)

    def query_vector(self, text: str):
        import numpy as np

        return np.ones(4, dtype=np.float32)

    def passage_matrix(self, passages: list[object]):
        import numpy as np

        return np.ones((len(passages), 4), dtype=np.float32)


def test_deep_search_waits_for_the_warm_up_only_so_long_then_seeds_from_bm25(corpus: Corpus, tmp_path: Path) -> None:
    import time

    rr = NeverWarm()
    services = make_services(corpus, tmp_path, reranker_override=rr, warm=True, search_mode="hybrid", warm_wait_s=1.5)
    seconds: list[float] = []
    results: list[object] = []
    messages: list[str | None] = []

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        messages.append(message)

    async def go() -> None:  # one server (one warm-up), two calls
        async with Client(create_server(services)) as client:
            for _ in range(2):
                t = time.monotonic()
                results.append(await client.call_tool("deep_search", {"question": QUESTION, "max_steps": 2},
                                                       progress_callback=on_progress))
                seconds.append(time.monotonic() - t)
                messages.append("--")
    try:
        anyio.run(go)
        first, second = (r.structured_content for r in results)  # type: ignore[attr-defined]
        assert not any(r.is_error for r in results) and first["evidence"] and second["evidence"]  # type: ignore[attr-defined]
        assert 1.5 <= seconds[0] < 20  # the bound, not the warm-up's 30 s
        assert seconds[1] < 1.5  # waited once: the next call seeds from BM25 at once
        assert "seeded by BM25" in first["note"] and "seeded by BM25" in second["note"]
        cut = messages.index("--")
        assert any("warm up" in (m or "") for m in messages[:cut]) and not any("warm up" in (m or "") for m in messages[cut:])
        assert not services.wait_warm(0)  # both answered while the warm-up was still running
    finally:
        rr.release.set()
    assert services.wait_warm(10)


class SlowPace(NeverWarm):
    """A warm-up whose pace says it ends long after any wait: 512 of 100,000 passages in 0.2 s (about 40 s)."""

    def precompute(self, passages: list[object], progress=None) -> None:  # type: ignore[no-untyped-def]
        import time

        time.sleep(0.2)
        if progress:
            progress(512, 100_000)
        self.release.wait(30)


def test_deep_search_stops_waiting_as_soon_as_the_warm_up_cannot_end_within_the_wait(corpus: Corpus, tmp_path: Path) -> None:
    import time

    rr = SlowPace()
    services = make_services(corpus, tmp_path, reranker_override=rr, warm=True, search_mode="hybrid", warm_wait_s=20)
    services.warm_in_background()  # what the server's lifespan starts
    try:
        start = time.monotonic()
        assert services.wait_warm_once(20) is False
        assert time.monotonic() - start < 5  # its pace (~40 s to go) says 20 s of waiting would not see it end
        assert services.warm_wait_over and services.wait_warm_once(20) is False  # and the next call does not wait
        eta = services.warm_eta()
        assert eta is not None and eta > 20
    finally:
        rr.release.set()
    assert services.wait_warm(10)
