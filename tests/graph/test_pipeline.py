"""build_index: the per-file limits are its parameters, and every file left out is in the report."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from graph.pipeline import build_index
from graph.store import load_index


@pytest.mark.timeout(120)
def test_files_over_the_limits_are_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.md").write_text("# Good\n\n## 1 Scope\n\nPumps are checked daily.\n", encoding="utf-8")
    (src / "bad.html").write_text("<a " * 30_000, encoding="utf-8")  # hung `readtrail index`
    (src / "slow.html").write_text("<![CDATA[ >" * 60_000, encoding="utf-8")  # ~15 s in html.parser
    (src / "big.txt").write_text("word " * 220_000, encoding="utf-8")
    os.mkfifo(src / "pipe\x1b.md")
    t = time.perf_counter()
    report = build_index([src], tmp_path / "index", max_file_bytes=1_000_000, parse_seconds=1)
    assert time.perf_counter() - t < 30
    lines = [f"{e.path}: {e.reason}" for e in report.errors]
    assert lines == [
        f"{src}/pipe\\x1b.md: not a regular file (FIFO): skipped",
        f"{src}/bad.html: markup not closed at the end of the file (from character 0): left out",
        f"{src}/bad.html: no text found: nothing indexed",
        f"{src}/big.txt: file is 1.1 MB, over the 1.0 MB limit: skipped",
        f"{src}/slow.html: parsing took over 1 s (the time limit per file): skipped",
    ]
    assert (report.files_seen, report.documents, report.passages) == (4, 1, 2)
    stored = load_index(tmp_path / "index")
    assert {p.doc_id for p in stored.passages} == {"good"}
    assert stored.meta["errors"] == lines
