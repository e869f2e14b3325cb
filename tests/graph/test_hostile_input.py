"""Hostile input through the real `readtrail index`: a folder of bad, pathological and malicious
files (generated here, in tmp) is indexed with one line per bad file and a summary, everything
else is searchable, no link out of the folder is followed, and memory stays bounded."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.hostile_rss import index_peak_rss, write_large_text
from graph.ingest import ingest
from graph.resolver import resolve_references
from server.corpus import Corpus

READTRAIL = str(Path(sys.executable).with_name("readtrail"))
SECRET = "OUTSIDE-SECRET-7d1f"
SCRIPT = "SCRIPT-PAYLOAD-93ab"


def _hostile_folder(tmp: Path) -> tuple[Path, dict[str, str]]:
    """The folder to index, and {file name: words its one-line report must contain}."""
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(f"# Secret\n\n{SECRET} must never be indexed.\n", encoding="utf-8")
    src = tmp / "src"
    (src / "sub").mkdir(parents=True)
    w = lambda name, data: (src / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))  # noqa: E731
    w("good.md", "# Escalation Policy\n\n## 1 Scope\n\nNurses escalate a falling blood pressure. See Section 2.\n\n"
                 "## 2 Escalation\n\nCall the outreach team within 15 minutes. See Section 1.\n")  # a reference cycle
    w("sub/cycle-a.md", "# Alpha Rules\n\n## 1 Start\n\nAs set out in Rule 1 of the Beta Rules, pumps are checked.\n")
    w("sub/cycle-b.md", "# Beta Rules\n\n## 1 Start\n\nAs set out in Rule 1 of the Alpha Rules, pumps are logged.\n")
    w("binary.md", bytes(random.Random(0).randrange(256) for _ in range(20_000)) + b"\x00")
    w("elf.txt", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100)
    w("utf16.txt", "Hello world".encode("utf-16"))
    w("latin1.txt", "Caf\xe9 protocols for the night shift.".encode("latin-1"))
    w("empty.md", b"")
    w("blank.txt", b" \n\t\n")
    w("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF")
    w("truncated.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 99999 >>\nstream\nBT /F1 12 Tf")
    w("notapdf.pdf", b"<html>not a pdf</html>")
    w("nest-list.md", "# Deep list\n\n" + "- " * 10_000 + "deepest list item\n")
    w("nest-quote.md", "# Deep quote\n\n" + ">" * 10_000 + " deepest quote\n")
    w("nest-mixed.md", "# Mixed\n\n" + "> 1. - " * 10_000 + "deepest mixed\n")
    w("nest.html", "<html><body><h1>Nested</h1>" + "<div><ul><li><blockquote>" * 10_000 + "deepest html"
                   + "</blockquote></li></ul></div>" * 10_000 + "</body></html>")
    w("longline.md", "# One long line\n\n" + "ward round patient record " * 200_000 + "see Rule 1.2\n")  # 5 MB, one line
    w("scripts.html", f"<html><head><title>Page</title><script>alert(1); var x = '{SCRIPT}';</script>"
                      f"<style>body {{ content: '{SCRIPT}'; }}</style></head><body onload=\"steal('{SCRIPT}')\">"
                      f"<h1>Hand hygiene</h1><p>Wash hands <a href=\"javascript:steal('{SCRIPT}')\">always</a>.</p>"
                      f"<noscript>{SCRIPT}</noscript><iframe src=\"http://evil.example/{SCRIPT}\"></iframe></body></html>")
    w("rows.jsonl", "\n".join([
        json.dumps({"_id": "r1", "title": "Rows", "text": "First row about pumps."}),
        json.dumps({"_id": "r1", "title": "Rows", "text": "Duplicate id."}),
        json.dumps({"title": "Rows", "text": "No id."}),
        json.dumps({"_id": "r3", "title": "Rows"}),
        json.dumps({"_id": "r4", "text": 12345}),
        "{broken json", "[1, 2, 3]", "null", '"a string"',
        json.dumps({"_id": "r5", "title": "Rows", "text": "Fifth row about drips."}),
    ]) + "\n")
    w("allbad.jsonl", "{nope\n[]\n")
    os.symlink(outside / "secret.md", src / "leak.md")
    os.symlink(outside, src / "leakdir")
    os.symlink(src, src / "sub" / "loop")
    os.symlink(tmp / "nowhere.md", src / "dangling.md")
    os.mkfifo(src / "fifo.md")  # reading it would hang the run
    w("evil\x1b[2J\nindexed 0 passages.gz", "a name that clears the screen and forges a summary line")
    expect = {
        "binary.md": "binary file", "elf.txt": "binary file", "utf16.txt": "binary file",
        "latin1.txt": "invalid UTF-8", "empty.md": "empty file", "blank.txt": "empty file",
        "broken.pdf": "could not parse", "truncated.pdf": "could not parse", "notapdf.pdf": "not a PDF",
        "rows.jsonl": "skipped", "allbad.jsonl": "could not parse",
        "leak.md": "symlink points outside", "leakdir": "symlink points outside", "dangling.md": "broken symlink",
        "fifo.md": "not a regular file (FIFO)", "evil\\x1b[2J\\nindexed 0 passages.gz": "not a valid gzip file",
    }
    return src, expect


def test_hostile_folder_reports_each_bad_file_and_indexes_the_rest(tmp_path: Path) -> None:
    src, expect = _hostile_folder(tmp_path)
    index = tmp_path / "index"
    t = time.perf_counter()
    out = subprocess.run([READTRAIL, "index", str(src), "--index", str(index)], capture_output=True, text=True,
                         timeout=300, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - t
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr and "\x1b[2J" not in out.stderr
    lines = [ln.strip() for ln in out.stderr.replace("\r", "\n").splitlines()]
    for name, words in expect.items():
        mine = [ln for ln in lines if f"/{name}: " in ln]
        assert len(mine) == 1 and words in mine[0], (name, mine)
        assert len(mine[0]) < 400
    summary = [ln for ln in lines if ln.startswith("indexed ")]
    assert len(summary) == 1 and "problems)" in summary[0], lines[-5:]

    corpus = Corpus.open(index)
    text = "\n".join(p.text + " ".join(p.heading_path) + p.doc_title for p in corpus.passages)
    assert SECRET not in text and SCRIPT not in text
    docs = {p.doc_id for p in corpus.passages}
    assert {"good", "sub.cycle-a", "sub.cycle-b", "latin1", "nest-list", "nest-quote", "nest-mixed", "nest",
            "longline", "scripts"} <= docs
    assert not any(d.startswith(("leak", "sub.loop", "fifo", "binary", "elf", "utf16")) for d in docs)
    for needle in ("deepest list item", "deepest quote", "deepest mixed", "deepest html", "Wash hands", "Fifth row"):
        assert needle in text, needle
    # the reference cycles resolve both ways and following them terminates
    good = corpus.follow_reference("good:1", "Section 2")
    assert [t.id for t in good.targets] == ["good:2"]
    assert [t.id for t in corpus.follow_reference("good:2", "Section 1").targets] == ["good:1"]
    hits = corpus.search("outreach team 15 minutes", k=3).hits
    assert hits and hits[0].id == "good:2"
    print(f"hostile folder indexed in {seconds:.1f}s: {len(corpus.passages)} passages, {summary[0]}")


@pytest.mark.slow
def test_large_text_file_peak_memory_is_bounded(tmp_path: Path) -> None:
    """A 10 MB text file through `readtrail index` in a child process: peak RSS stays within a
    fixed bound (the 100 MB run takes minutes: `python bench/hostile_rss.py`, figures in SECURITY.md)."""
    big = tmp_path / "src" / "big.txt"
    big.parent.mkdir()
    write_large_text(big, 10 * 1024 * 1024)
    rss_mb, seconds, rc, err = index_peak_rss(big, tmp_path / "index", timeout=600)
    assert rc == 0, err
    print(f"10 MB text file: {seconds:.1f}s, peak RSS {rss_mb:.0f} MB")
    assert rss_mb < 400


_WORDS = ["pumps", "are", "checked", "daily", "see", "the", "ward", "dose"]
_CITES = ["See Section {n}.", "As set out in Rule {n} of the {doc} Rules.", "Section {n}(2) applies.",
          "Rules {n} and {m} apply.", "see [there](#{n})", "Article {n} of the Nowhere Act."]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(st.integers(1, 6), st.sampled_from(_CITES), st.integers(1, 6),
                                   st.integers(0, 3)), min_size=1, max_size=6), min_size=1, max_size=4))
def test_generated_corpora_every_resolved_reference_points_at_a_passage(tmp_path_factory, docs) -> None:
    """Markdown corpora that cite each other (cycles, missing targets, other documents) through
    ingest and resolve_references: every target exists, none is its own source."""
    folder = tmp_path_factory.mktemp("gen")
    names = ["Alpha", "Beta", "Gamma", "Delta"]
    for i, sections in enumerate(docs):
        parts = [f"# {names[i]} Rules\n"]
        for n, cite, m, other in sections:
            body = " ".join(_WORDS[(n + k) % len(_WORDS)] for k in range(8))
            parts.append(f"\n## {n} Heading {n}\n\n{body}. " + cite.format(n=m, m=n, doc=names[other]) + "\n")
        (folder / f"{names[i].lower()}.md").write_text("".join(parts), encoding="utf-8")
    passages = ingest([folder]).passages
    ids = {p.id for p in passages}
    assert len(ids) == len(passages)
    for r in resolve_references(passages):
        assert r.src in ids
        assert all(t in ids and t != r.src for t in r.targets), r
