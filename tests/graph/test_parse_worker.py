"""The parse worker: a file over its time is cut off, the next file gets a fresh child."""
from __future__ import annotations

import json
import threading
import time

import pytest

from graph.parse_worker import ParseFailed, ParseWorker, parse_budget

SLOW_HTML = b"<![CDATA[ >" * 60_000  # quadratic in html.parser: ~15 s


@pytest.mark.timeout(60)
def test_timeout_kills_the_child_and_the_next_file_is_parsed() -> None:
    with ParseWorker() as worker:
        t = time.perf_counter()
        with pytest.raises(ParseFailed, match="took over 1 s"):
            worker.parse("slow.html", SLOW_HTML, "slow", 1.0)
        assert time.perf_counter() - t < 5
        docs, notes, *_ = worker.parse("ok.md", b"# Ok\n\n## 1 Scope\n\nText.\n", "ok", 10.0)
    assert [d.doc_id for d in docs] == ["ok"] and docs[0].sections[-1].text == "Text."
    assert notes == []


def test_parse_errors_and_warnings_come_back_as_lines() -> None:
    with ParseWorker() as worker:
        with pytest.raises(ParseFailed, match="^could not parse: not a PDF"):
            worker.parse("x.pdf", b"just text", "x", 10.0)
        docs, notes, *_ = worker.parse("t.html", "<p>café ☃ 𝔘</p><b".encode("utf-8"), "t", 10.0)
    assert notes == ["markup not closed at the end of the file (from character 15): left out"]
    assert docs[0].sections[0].text == "café ☃ 𝔘"


def test_budget_grows_past_10_mb() -> None:
    assert parse_budget(20, 1_000) == 20
    assert parse_budget(20, 50_000_000) == 100


@pytest.mark.timeout(60)
def test_a_child_that_dies_mid_file_is_reported_and_replaced() -> None:
    with ParseWorker() as worker:
        worker.parse("warm.md", b"# Warm\n", "warm", 10.0)
        threading.Timer(0.5, worker._proc.kill).start()  # as the OOM killer or a crash would
        with pytest.raises(ParseFailed, match=r"the parser process died \(exit code -9\)"):
            worker.parse("slow.html", SLOW_HTML, "slow", 30.0)
        docs, *_ = worker.parse("ok.md", b"# Ok\n\nText.\n", "ok", 10.0)
    assert docs[0].title == "Ok"


def test_a_jsonl_file_comes_back_with_its_line_table_and_a_reparse_sends_only_new_documents() -> None:
    raw = b'{"_id": "a", "doc_name": "A", "text": "One."}\n{"_id": "b", "doc_name": "B", "text": "Two."}\n'
    with ParseWorker() as worker:
        first = worker.parse("c.jsonl", raw, "c", 10.0)
        assert [d.doc_id for d in first.docs] == ["c.a", "c.b"] and first.lines is not None
        again = worker.parse("c.jsonl", raw.replace(b"Two.", b"Two, changed."), "c", 10.0, known=first.digests,
                             lines=first.lines)
        assert worker.parse("ok.md", b"# Ok\n", "ok", 10.0).lines is None
    assert again.docs[0] == first.digests[0] and again.docs[1].sections[0].text == "Two, changed."
    assert again.digests[0] == first.digests[0] and again.digests[1] != first.digests[1]


@pytest.mark.parametrize("table", ["not json", "[1, 2]", '{"names": 3, "lines": {"x": [1]}}'])
def test_a_damaged_line_table_means_every_line_is_read(table: str) -> None:
    raw = b'{"_id": "a", "doc_name": "A", "text": "One."}\n{"_id": "a", "doc_name": "A", "text": "Again."}\n'
    with ParseWorker() as worker:
        fresh = worker.parse("c.jsonl", raw, "c", 10.0)
        # the damaged table's lines hashed as the file's: a lookup finds them
        damaged = table.replace('"x"', json.dumps(next(iter(json.loads(fresh.lines)["lines"]))))
        again = worker.parse("c.jsonl", raw, "c", 10.0, lines=damaged)
    assert [d.sections[0].text for d in again.docs] == ["One."] and again.digests == fresh.digests
    assert again.notes == fresh.notes == ["1 line skipped: line 2 duplicate _id 'a'"]
