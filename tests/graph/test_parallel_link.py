"""The link stage in worker processes (`graph.parallel`) writes the index the serial one writes, byte for byte."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench import scale_corpus as gen
from bench.same_index import differences, generation
from graph import parallel
from graph.parse_worker import ParseWorker
from graph.pipeline import build_index
from server.settings import SAMPLE_CORPUS
from tests.conftest import SHARED_DATA, shared_data


def _build(source: Path, index: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("READTRAIL_LINK_WORKERS", str(workers))
    steps: list[tuple[str, int, int, str]] = []
    build_index([source], index, progress=lambda *a: steps.append(a))
    assert ("link", 3, 3, "done") in steps and any(s[0] == "index" for s in steps)  # progress as before
    bm25 = [s for s in steps if s[0] == "index"]
    assert bm25[-1][1] == bm25[-1][2]  # BM25 built in a process of its own: its progress told, to the end
    assert not [p.name for p in index.iterdir() if p.name.startswith(".build-")]  # no scratch folder left
    return generation(index)


@pytest.mark.timeout(300)
def test_parallel_build_equals_serial_on_the_sample_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serial = _build(SAMPLE_CORPUS / "docs", tmp_path / "serial", 0, monkeypatch)
    pooled = _build(SAMPLE_CORPUS / "docs", tmp_path / "pooled", 2, monkeypatch)
    assert differences(serial, pooled) == []


@pytest.mark.timeout(300)
def test_parallel_build_equals_serial_on_a_scale_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared_data("adgm", "corpus.jsonl")
    corpus = tmp_path / "c"  # three files: the workers take the first ones' passages while the rest are parsed
    gen.main(["--passages", "3000", "--seed", "12", "--out", str(corpus), "--data", str(SHARED_DATA), "--per-file", "1000"])
    serial = _build(corpus, tmp_path / "serial", 0, monkeypatch)
    refs = (serial / "references.jsonl").read_text(encoding="utf-8")
    assert refs.count("\n") > 500 and (serial / "mentions.jsonl").stat().st_size > 0  # something to compare
    for workers in (2, 3):
        assert differences(serial, _build(corpus, tmp_path / f"pooled{workers}", workers, monkeypatch)) == []


def test_workers_only_above_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("READTRAIL_LINK_WORKERS", raising=False)
    assert parallel.link_workers(parallel.MIN_PASSAGES - 1) == 0
    monkeypatch.setenv("READTRAIL_LINK_WORKERS", "1")
    assert parallel.link_workers(10**7) == 0
    monkeypatch.setenv("READTRAIL_LINK_WORKERS", "x")
    with pytest.raises(ValueError, match="READTRAIL_LINK_WORKERS"):
        parallel.link_workers(10)


def test_fewer_workers_or_none_when_the_memory_available_does_not_hold_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("READTRAIL_LINK_WORKERS", raising=False)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    gb = 1024 * 1024  # kB
    # 1M passages with 2 workers held ~7 GB together (measured): 24 GB available holds 4 workers
    assert parallel.fits_in_memory(1_000_000, 2, available_kb=24 * gb)
    assert not parallel.fits_in_memory(1_000_000, 2, available_kb=6 * gb)
    for available, want in ((24 * gb, 4), (9 * gb, 2), (6 * gb, 0)):
        monkeypatch.setattr(parallel, "_available_kb", lambda a=available: a)
        assert parallel.link_workers(1_000_000) == want, available
    monkeypatch.setattr(parallel, "_available_kb", lambda: None)  # unknown: the cores decide
    assert parallel.link_workers(1_000_000) == 4
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert parallel.link_workers(1_000_000) == 0  # 2 cores: serial (a pool saved 20 % of the time for twice the memory)
    monkeypatch.setattr(parallel, "_available_kb", lambda: 1 * gb)
    monkeypatch.setenv("READTRAIL_LINK_WORKERS", "3")  # the user's number stands
    assert parallel.link_workers(1_000_000) == 3


def test_shards_keep_order_and_balance() -> None:
    items = list(range(100))
    got = parallel.shards(items, lambda x: 1, 4)
    assert [x for s in got for x in s] == items and [len(s) for s in got] == [25, 25, 25, 25]
    assert parallel.shards([5], lambda x: 1, 8) == [[5]]
    assert parallel.shards([], lambda x: 1, 8) == []


@pytest.mark.timeout(60)
def test_a_pool_started_while_parsing_lets_the_parse_worker_end() -> None:
    """A worker forked while the parse worker runs does not hold its pipe open (it would never see the end of
    its requests: `ParseWorker.close` waited 5 s, then killed it)."""
    with ParseWorker() as worker:
        worker.parse("a.md", b"# A\n\nSome text.\n", "a", 60)
        pool = parallel.pooled(2)
        try:
            assert pool.apply(len, ([1, 2],)) == 2
            t = time.perf_counter()
            assert worker.close() == 0
            assert time.perf_counter() - t < 4
        finally:
            pool.terminate()
            pool.join()
