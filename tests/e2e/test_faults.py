"""Crashes lose nothing: `readtrail index` SIGKILLed midway leaves the previous index serving
unchanged, and the next run succeeds and cleans up after the dead one; a server SIGKILLed while
clients write feedback keeps every row it acknowledged."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client

from graph.notices import LIST_NAME
from server.corpus.feedback import FeedbackStore
from tests.e2e.helpers import READTRAIL, env, http_server_process

pytestmark = pytest.mark.slow

WORDS = ("patient dose review escalate sepsis fluid antibiotic lactate oxygen nurse record consent "
         "audit risk ward discharge transfer").split()


def write_corpus(root: Path, documents: int, sections: int = 8, seed: int = 0) -> Path:
    """`documents` Markdown policies with numbered sections that cite each other."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for d in range(documents):
        parts = [f"# Policy {d}\n"]
        for s in range(1, sections + 1):
            text = " ".join(rng.choice(WORDS) for _ in range(60))
            parts.append(f"\n## {s} Section {s}\n\n{text}. See Section {rng.randint(1, sections)}.\n")
        (root / f"policy-{d:05d}.md").write_text("".join(parts), encoding="utf-8")
    return root


def _search(index: Path, query: str) -> dict:
    out = subprocess.run([READTRAIL, "search", "--index", str(index), "--json", "-k", "5", query],
                         capture_output=True, text=True, timeout=60, env=env())
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def _index(sources: Path, index: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([READTRAIL, "index", str(sources), "--index", str(index)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())  # a full pipe would stall it


def _kill_when(proc: subprocess.Popen[bytes], ready, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, "the index run finished before it could be killed: make the corpus bigger"
        assert time.time() < deadline, "the index run never reached the point to kill it at"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def test_sigkilled_index_leaves_the_previous_index_serving(tmp_path: Path) -> None:
    index = tmp_path / "index"
    old = write_corpus(tmp_path / "old", documents=5, seed=1)
    assert subprocess.run([READTRAIL, "index", str(old), "--index", str(index)], capture_output=True,
                          timeout=120, env=env()).returncode == 0
    current = (index / "CURRENT").read_text(encoding="utf-8")
    queries = ["sepsis lactate escalate", "discharge consent audit", "Section 3"]
    before = [_search(index, q) for q in queries]
    big = write_corpus(tmp_path / "big", documents=800, seed=2)

    started = time.time()  # killed while parsing and linking
    _kill_when(_index(big, index), lambda: time.time() - started > 1.0)
    # killed while writing the new generation beside the live one
    _kill_when(_index(big, index), lambda: any(p.name.endswith(".tmp") for p in index.iterdir()))
    assert [p for p in index.iterdir() if p.name.endswith(".tmp")], "the dead run left its half-written generation"

    assert (index / "CURRENT").read_text(encoding="utf-8") == current
    assert [_search(index, q) for q in queries] == before

    again = subprocess.run([READTRAIL, "index", str(big), "--index", str(index)], capture_output=True, text=True,
                           timeout=180, env=env())
    assert again.returncode == 0, again.stderr[-2000:]  # the dead run's lock died with it
    assert (index / "CURRENT").read_text(encoding="utf-8") != current
    # the index folder holds the live generation, its pointer, the lock and the list of files not read
    leftovers = sorted(p.name for p in index.iterdir() if p.name not in ("CURRENT", ".lock", LIST_NAME))
    assert leftovers == [(index / "CURRENT").read_text(encoding="utf-8").strip()], leftovers
    assert _search(index, "sepsis lactate escalate")["hits"][0]["document"].startswith("policy-")


def test_sigkilled_server_keeps_every_acknowledged_feedback_row(tiny_index: Path, tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    acked: dict[int, str] = {}  # row id -> query, for every call the server acknowledged
    ids = ["aml:1.1", "aml:2.1", "gen:4", "gen:5"]

    async def writer(url: str, n: int) -> None:
        try:
            async with Client(url) as c:
                for i in range(10_000):
                    query = f"client {n} question {i}"
                    with anyio.fail_after(10):
                        r = await c.call_tool("feedback", {"query": query, "passage_id": ids[i % 4], "verdict": "relevant"})
                    assert not r.is_error, r.content
                    assert r.structured_content["stored"] is True
                    acked[r.structured_content["id"]] = query
        except Exception:  # noqa: BLE001 - the server was killed under us: stop writing
            return

    # no reranker warm-up: this test is about feedback durability, and a warm-up competes for the CPU
    with http_server_process(tiny_index, READTRAIL_FEEDBACK=str(db), READTRAIL_WARM="0") as (proc, url):
        async def go() -> None:
            async with anyio.create_task_group() as tg:
                for n in range(6):
                    tg.start_soon(writer, url, n)
                with anyio.fail_after(60):
                    while len(acked) < 150:
                        await anyio.sleep(0.01)
                os.kill(proc.pid, signal.SIGKILL)  # mid-write: calls are in flight
        anyio.run(go)
        assert proc.wait(timeout=10) == -signal.SIGKILL

    with http_server_process(tiny_index, READTRAIL_FEEDBACK=str(db)) as (_proc, url):  # restart on the same file
        async def after() -> None:
            async with Client(url) as c:
                r = await c.call_tool("feedback", {"query": "after restart", "passage_id": "gen:4", "verdict": "skipped"})
                assert not r.is_error
        anyio.run(after)
    rows = {f.id: f.query for f in FeedbackStore(db).all()}
    missing = {i: q for i, q in acked.items() if rows.get(i) != q}
    assert not missing, f"{len(missing)} acknowledged rows lost, e.g. {list(missing.items())[:3]}"
    assert "after restart" in rows.values()
