"""The feedback store: round trip, validation, concurrent writers (threads and processes), export."""
from __future__ import annotations

import json
import multiprocessing as mp
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main
from server.errors import UsageError
from server.corpus.feedback import VERDICTS, FeedbackStore


def test_round_trip_and_latest_verdict_wins(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    a = store.add("who reports?", "aml:2.1", "relevant", note="the rule itself", client="t")
    store.add("who reports?", "gen:5", "misleading")
    store.add("who reports?", "gen:5", "skipped")  # a later, weaker verdict replaces the earlier one
    rows = store.all()
    assert [r.verdict for r in rows] == ["relevant", "misleading", "skipped"] and rows[0].id == a
    assert rows[0].client == "t" and rows[0].note == "the rule itself" and rows[0].time > 0
    pairs = {p["passage_id"]: p for p in store.pairs()}
    assert pairs["aml:2.1"]["label"] == 1.0 and pairs["gen:5"]["verdict"] == "skipped"
    assert FeedbackStore(tmp_path / "fb.sqlite3").count() == 3  # durable: a new connection sees them
    mode = store._conn().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode.lower() == "wal"


@pytest.mark.parametrize("kwargs, text", [
    ({"verdict": "great"}, "verdict must be one of"),
    ({"query": " "}, "query is empty"),
    ({"note": "x" * 5000}, "note is 5000 characters"),
    ({"passage_id": ""}, "passage_id is empty"),
])
def test_validation(tmp_path: Path, kwargs: dict, text: str) -> None:
    args = {"query": "q", "passage_id": "p", "verdict": "relevant", **kwargs}
    with pytest.raises(UsageError, match=text):
        FeedbackStore(tmp_path / "fb.sqlite3").add(**args)


def test_export_weights_by_strength(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    for pid, verdict in [("a", "relevant"), ("b", "irrelevant"), ("c", "misleading"), ("d", "skipped")]:
        store.add("q", pid, verdict)
    n = store.export(tmp_path / "pairs.jsonl")
    rows = {r["passage_id"]: r for r in map(json.loads, (tmp_path / "pairs.jsonl").read_text(encoding="utf-8").splitlines())}
    assert n == 4 and rows["a"]["label"] == 1.0
    assert rows["c"]["weight"] > rows["b"]["weight"] > rows["d"]["weight"] > 0  # misleading > irrelevant > skipped
    assert all(rows[p]["label"] == 0.0 for p in "bcd")
    assert set(VERDICTS) == {"relevant", "irrelevant", "misleading", "skipped"}


def test_concurrent_threads(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")

    def write(t: int) -> None:
        for i in range(25):
            store.add(f"q{t}", f"p{i}", "relevant")

    threads = [threading.Thread(target=write, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 150


def _proc_write(path: str, n: int, tag: str) -> None:
    store = FeedbackStore(path)
    for i in range(n):
        store.add(f"q-{tag}", f"p{i}", "irrelevant")


def test_concurrent_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "fb.sqlite3")
    FeedbackStore(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_proc_write, args=(path, 30, str(k))) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert FeedbackStore(path).count() == 90


def test_cli_add_and_export(tmp_path: Path, tiny_index: Path) -> None:
    db = tmp_path / "fb.sqlite3"
    r = CliRunner().invoke(main, ["feedback", "add", "who files reports?", "aml:2.1", "relevant", "--db", str(db),
                                  "--index", str(tiny_index)])
    assert r.exit_code == 0, r.output
    bad = CliRunner().invoke(main, ["feedback", "add", "q", "nope", "relevant", "--db", str(db), "--index", str(tiny_index)])
    assert bad.exit_code != 0 and "unknown passage id" in bad.output
    out = tmp_path / "pairs.jsonl"
    r = CliRunner().invoke(main, ["feedback", "export", "--out", str(out), "--db", str(db)])
    assert r.exit_code == 0 and "wrote 1 pairs" in r.output
    assert json.loads(out.read_text(encoding="utf-8"))["passage_id"] == "aml:2.1"
