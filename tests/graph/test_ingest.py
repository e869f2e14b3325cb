"""Ingesting folders: dispatch, ids, and one line per bad file while the rest is indexed."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from graph.ingest import IngestResult, ingest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "docs"
GOOD = b"# Title\n\n## 1 Scope\n\nSome text.\n"
SECRET = "OUTSIDE-SECRET"


def outside_folder(tmp_path: Path, name: str) -> Path:
    """A folder beside the one indexed, holding one file `name` that must never be indexed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / name).write_text(f"# Secret\n\n{SECRET}\n", encoding="utf-8")
    return outside


def reasons(result: IngestResult) -> dict[str, str]:
    return {Path(e.path).name: e.reason for e in result.errors}


def test_fixture_folder() -> None:
    seen: list[tuple[int, int, str]] = []
    result = ingest([FIXTURES], progress=lambda d, n, p: seen.append((d, n, p)))
    assert result.errors == []
    assert result.files_seen == 5 and result.files_ignored == 0
    assert [(d, n) for d, n, _ in seen] == [(i, 5) for i in range(1, 6)]
    ids = [p.id for p in result.passages]
    assert len(ids) == len(set(ids))
    for pid in ("guidelines.sepsis-care:3.2.1", "guidelines.handover:4.1", "web.policy:2.1", "guidelines.discharge:2", "t-3", "w-1"):
        assert pid in ids
    # sorted walk: data/ before guidelines/ before web/
    docs = list(dict.fromkeys(p.doc_id for p in result.passages))
    assert docs == [
        "data.trials.trials_rules", "data.trials.w-1", "data.trials.w-2", "guidelines.sepsis-care",
        "guidelines.discharge", "guidelines.handover", "web.policy",
    ]
    assert all(" " not in i and "/" not in i for i in ids)


def test_file_given_on_its_own_is_named_by_its_stem() -> None:
    result = ingest([FIXTURES / "guidelines" / "Sepsis Care.md"])
    assert result.passages[1].id == "sepsis-care:1"


def test_bad_files_are_reported_one_line_each_and_the_rest_indexed(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_bytes(GOOD)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_bytes(b"  \n\n\t\n")
    (tmp_path / "binary.txt").write_bytes(b"abc\x00\x01\x02" * 10)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog\n%%EOF")
    (tmp_path / "fake.pdf").write_bytes(b"just text")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 rules apply.".encode("latin-1"))
    (tmp_path / "rows.jsonl").write_bytes(b'{"_id": "r1", "text": "ok"}\n{bad\n{"_id": "r1", "text": "dup"}\n')
    (tmp_path / "big.txt").write_bytes(b"x" * 5000)
    (tmp_path / "image.png").write_bytes(b"\x89PNG")  # walked, unknown: counted and reported
    (tmp_path / ".hidden.md").write_bytes(GOOD)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_bytes(GOOD)
    result = ingest([tmp_path], max_file_bytes=4000)
    r = reasons(result)
    assert set(r) == {"empty.txt", "blank.md", "binary.txt", "broken.pdf", "fake.pdf", "latin1.txt", "rows.jsonl", "big.txt",
                      "image.png", ".hidden.md", ".git"}
    assert r["empty.txt"] == "empty file: skipped"
    assert r["blank.md"].startswith("empty file (only whitespace)")
    assert r["binary.txt"].startswith("binary file (NUL bytes in the first 8 KB)")
    assert r["broken.pdf"].startswith("could not parse: ")
    assert r["fake.pdf"] == "could not parse: not a PDF: no %PDF- header"
    assert r["latin1.txt"] == "invalid UTF-8 at byte 3: indexed with replacement characters"
    assert r["rows.jsonl"] == "2 lines skipped: line 2 not JSON; line 3 duplicate _id 'r1'"
    assert r["big.txt"] == "file is 0.0 MB, over the 0.0 MB limit: skipped"
    assert r["image.png"].startswith("unsupported file type '.png': skipped")
    assert r[".hidden.md"] == r[".git"] == "hidden: skipped"
    assert all("\n" not in e.reason for e in result.errors)
    assert {p.id for p in result.passages} == {"good:p0", "good:1", "latin1:p0", "r1"}
    assert "Caf\ufffd rules" in next(p.text for p in result.passages if p.id == "latin1:p0")
    assert result.files_ignored == 1
    assert result.files_seen == 9


def test_explicit_unknown_file_and_missing_path_are_reported(tmp_path: Path) -> None:
    (tmp_path / "notes.doc").write_bytes(b"\xd0\xcf\x11\xe0")  # Word 97-2003: not read
    result = ingest([tmp_path / "notes.doc", tmp_path / "missing.md"])
    r = reasons(result)
    assert r["notes.doc"].startswith("unsupported file type '.doc': skipped")
    assert r["missing.md"] == "no such file or folder"
    assert result.passages == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    outside = outside_folder(tmp_path, "secret.md")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.md").write_bytes(GOOD)
    os.symlink(outside / "secret.md", root / "leak.md")
    os.symlink(outside, root / "leakdir")
    os.symlink(root / "sub" / "a.md", root / "alias.md")  # inside: fine, but not read twice
    os.symlink(root, root / "sub" / "loop")  # a loop back to the root
    os.symlink(tmp_path / "nowhere.md", root / "dangling.md")
    result = ingest([root])
    r = reasons(result)
    assert "symlink points outside" in r["leak.md"] and "not followed" in r["leak.md"]
    assert "symlink points outside" in r["leakdir"]
    assert r["dangling.md"] == "broken symlink: skipped"
    assert all(SECRET not in p.text for p in result.passages)
    assert result.files_seen == 1
    assert {p.doc_id for p in result.passages} == {"sub.a"}  # the file itself, not the link to it


def test_colliding_doc_ids_and_passage_ids_are_renamed_and_reported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(GOOD)
    (tmp_path / "a.txt").write_bytes(b"SECTION 1\nOther text.\n")
    (tmp_path / "x.jsonl").write_bytes(b'{"_id": "q1", "text": "first"}\n')
    (tmp_path / "y.jsonl").write_bytes(b'{"_id": "q1", "text": "second"}\n')
    result = ingest([tmp_path])
    ids = [p.id for p in result.passages]
    assert len(ids) == len(set(ids))
    assert "a:1" in ids and "a-2:1" in ids
    assert "q1" in ids and "q1~dup2" in ids
    r = reasons(result)
    assert r["a.txt"] == "doc id 'a' already used by " + str(tmp_path / "a.md") + ": renamed 'a-2'"
    assert r["y.jsonl"].startswith("1 passage id(s) already used by another file")


def test_large_text_file_is_linear(tmp_path: Path) -> None:
    para = ("The ward keeps a record of every visit and every dose given to a patient. " * 6).strip()
    block = "\n\n".join(para for _ in range(200)) + "\n\n"
    big = tmp_path / "big.txt"
    big.write_text(block * 50)  # ~4.5 MB, 10,000 paragraphs
    t = time.perf_counter()
    result = ingest([big])
    elapsed = time.perf_counter() - t
    assert result.errors == []
    assert all(len(p.text) <= 1500 for p in result.passages)
    assert len(result.passages) == 3334  # three paragraphs a passage
    assert elapsed < 20


def test_shared_adgm_corpus_ingests(tmp_path: Path) -> None:
    shared = Path(os.environ.get("READTRAIL_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    src = shared / "adgm" / "corpus.jsonl"
    if not src.exists():
        pytest.skip(f"{src} is absent (shared evaluation data lives beside the checkout)")
    result = ingest([src])
    assert result.errors == [] and len(result.passages) == 13_732 and result.documents == 40
    first = result.passages[0]
    assert first.id == "bd35fb2d-4de6-48fb-ab3c-baead722854f" and first.label == "1." and first.ord == 0


# --- files that change between the walk and the read -------------------------------------

def _swap_after_first_file(swap):
    """A progress callback that runs `swap()` once, after the first file is read."""
    def progress(done: int, total: int, path: str) -> None:
        if done == 1:
            swap()
    return progress


def test_file_swapped_for_a_symlink_after_the_walk_is_refused(tmp_path: Path) -> None:
    outside = outside_folder(tmp_path, "secret.md")
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.md").write_bytes(GOOD)
    (root / "b.md").write_bytes(GOOD)

    def swap() -> None:
        (root / "b.md").unlink()
        os.symlink(outside / "secret.md", root / "b.md")

    result = ingest([root], progress=_swap_after_first_file(swap))
    assert all(SECRET not in p.text for p in result.passages)
    assert reasons(result)["b.md"] == "is a symlink: skipped"
    assert {p.doc_id for p in result.passages} == {"a"}


def test_folder_swapped_for_a_symlink_after_the_walk_is_refused(tmp_path: Path) -> None:
    outside = outside_folder(tmp_path, "b.md")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a.md").write_bytes(GOOD)
    (root / "sub" / "b.md").write_bytes(GOOD)

    def swap() -> None:
        (root / "sub").rename(tmp_path / "old-sub")
        os.symlink(outside, root / "sub")  # sub/b.md now names outside/b.md, itself no link

    result = ingest([root], progress=_swap_after_first_file(swap))
    assert all(SECRET not in p.text for p in result.passages)
    assert reasons(result)["b.md"].startswith(f"resolves outside {root.resolve()} (to {outside.resolve() / 'b.md'})")


def test_file_swapped_for_a_fifo_after_the_walk_is_refused_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(GOOD)
    (tmp_path / "b.md").write_bytes(GOOD)

    def swap() -> None:
        (tmp_path / "b.md").unlink()
        os.mkfifo(tmp_path / "b.md")

    result = ingest([tmp_path], progress=_swap_after_first_file(swap))
    assert reasons(result)["b.md"] == "not a regular file (FIFO): skipped"


# --- files that would stall indexing ----------------------------------------------------

def test_html_that_stalls_the_parser_is_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    """`<a ` * 30,000 (90 KB) took minutes in html.parser: every `<` rescanned the rest."""
    (tmp_path / "bad.html").write_text("<a " * 30_000, encoding="utf-8")
    (tmp_path / "good.md").write_bytes(GOOD)
    t = time.perf_counter()
    result = ingest([tmp_path])
    assert time.perf_counter() - t < 10
    bad = [e.reason for e in result.errors if e.path.endswith("bad.html")]
    assert bad == ["markup not closed at the end of the file (from character 0): left out", "no text found: nothing indexed"]
    assert {p.doc_id for p in result.passages} == {"good"}


@pytest.mark.timeout(60)
def test_a_parse_over_the_time_limit_is_cut_and_reported(tmp_path: Path) -> None:
    """`<![CDATA[ >` * 60,000 is still quadratic in html.parser (~15 s): the time limit ends it."""
    (tmp_path / "slow.html").write_text("<![CDATA[ >" * 60_000, encoding="utf-8")
    (tmp_path / "good.md").write_bytes(GOOD)
    t = time.perf_counter()
    result = ingest([tmp_path], parse_seconds=1)
    assert time.perf_counter() - t < 10
    assert reasons(result)["slow.html"] == "parsing took over 1 s (the time limit per file): skipped"
    assert {p.doc_id for p in result.passages} == {"good"}


# --- every file left out is reported, printably -----------------------------------------

def test_every_entry_not_indexed_is_reported_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_bytes(GOOD)
    (tmp_path / "data.gz").write_bytes(b"\x1f\x8b")  # without an extension inside: sniffed once decompressed
    (tmp_path / "data.json.gz").write_bytes(b"\x1f\x8b")
    (tmp_path / "style.css").write_bytes(b"p {}\n")
    (tmp_path / "Makefile").write_bytes(b"all:\n")  # no extension, text: read
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / ".hidden.md").write_bytes(GOOD)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_bytes(GOOD)
    os.symlink(tmp_path / "good.md", tmp_path / "alias.md")
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    result = ingest([tmp_path])
    r = reasons(result)
    assert r == {
        "data.gz": "gzip file cut short: skipped", "data.json.gz": _unsupported(".json.gz"), "style.css": _unsupported(".css"),
        "pipe.md": "not a regular file (FIFO): skipped",
        ".hidden.md": "hidden: skipped", ".git": "hidden: skipped",
        "alias.md": f"the same file as {tmp_path / 'good.md'}, read once: skipped",
        "loop": f"symlink to {tmp_path.resolve()}, a folder walked already: skipped",
    }
    assert [p.doc_id for p in result.passages] == ["makefile", "good", "good"]
    assert result.files_ignored == 2


def _unsupported(suffix: str) -> str:
    return (f"unsupported file type {suffix!r}: skipped (read: .docx, .htm, .html, .jsonl, .markdown, .md, .pdf, .rst, .text, "
            ".txt; .gz of these; text without such an extension)")


def test_devices_and_sockets_are_reported(tmp_path: Path) -> None:
    import socket

    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.md"))
    try:
        result = ingest([tmp_path, Path("/dev/null")])
    finally:
        sock.close()
    r = reasons(result)
    assert r["s.md"] == "not a regular file (socket): skipped"
    assert r["null"] == "not a regular file or folder (device): skipped"


def test_names_with_control_characters_are_reported_escaped(tmp_path: Path) -> None:
    names = ["fake\nindexed 99 passages.md", "red\x1b[31m\x07.rst", "sep\u2028x.txt", "rtl\u202eexe.md"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    os.mkfifo(os.path.join(os.fsencode(tmp_path), b"bad-\xff.md"))  # not UTF-8: a lone surrogate in str
    (tmp_path / "tab\tdir").mkdir()
    (tmp_path / "tab\tdir" / "x\x1b.md").write_bytes(b"\x00binary")
    result = ingest([tmp_path, tmp_path / "gone\x1b[2J.md"])
    assert len(result.errors) == 7
    for e in result.errors:
        assert e.path.isprintable() and e.reason.isprintable(), e
        e.path.encode("utf-8")  # printable on any UTF-8 terminal
    shown = {e.path.rsplit("/", 1)[-1] for e in result.errors}
    assert shown == {"fake\\nindexed 99 passages.md", "red\\x1b[31m\\x07.rst", "sep\\u2028x.txt", "rtl\\u202eexe.md",
                     "bad-\\udcff.md", "x\\x1b.md", "gone\\x1b[2J.md"}
    assert any(e.path.endswith("tab\\tdir/x\\x1b.md") for e in result.errors)
