"""A real documentation folder (/usr/share/doc): compressed text, READMEs without an extension, and a
report that groups the hundreds of routine notices such a folder gives."""
from __future__ import annotations

import gzip
import shutil
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from graph.ingest import NOT_TEXT, RENAMED, SAME_FILE, UNREAD_TYPE, IngestError, ingest
from graph.links import LinkIndex
from graph.notices import LIST_NAME, summary
from graph.pipeline import build_index
from graph.safe_open import FileRefused, gunzip
from server.cli import main
from server.corpus import Corpus
from tests.graph.test_incremental import _same_as_full

pytestmark = pytest.mark.timeout(300)


def _gz(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("utf-8") if isinstance(text, str) else text))


def _doc_folder(root: Path) -> Path:
    src = root / "doc"
    _gz(src / "pump" / "guide.md.gz", "# Pump Guide\n\n## Priming\n\nPrime the peristaltic pump before use. See [the FAQ](faq.html).\n")
    _gz(src / "pump" / "faq.html.gz", "<html><head><title>Pump FAQ</title></head><body><h1>FAQ</h1>"
                                       "<p>The occlusion alarm sounds when the line kinks.</p></body></html>")
    _gz(src / "pump" / "README.gz", "Pump package\n\nZebrafish husbandry notes live here.\n")
    _gz(src / "pump" / "changelog.Debian.gz", "pump (1.2-1) unstable; urgency=low\n\n  * Fix the flux capacitor.\n")
    _gz(src / "pump" / "NEWS.gz", ("Pump news\n\n" + "Version notes. " * 700 + "\nCaf\xe9 release.\n").encode("latin-1"))
    (src / "pump" / "copyright").write_text("Copyright 2020 Pump Authors\nLicense: GPL-2+\n", encoding="utf-8")
    (src / "pump" / "core").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)  # binary, no extension
    (src / "pump" / "latin").write_bytes("Caf\xe9 notes\n".encode("latin-1"))  # not UTF-8, no extension
    _gz(src / "pump" / "data.json.gz", '{"a": 1}')
    return src


def test_compressed_and_extensionless_text_is_indexed_and_searchable(tmp_path: Path) -> None:
    src = _doc_folder(tmp_path)
    report = build_index([src], tmp_path / "index")
    corpus = Corpus.open(tmp_path / "index")
    docs = {p.doc_id: p for p in corpus.passages}
    assert {"pump.guide", "pump.faq", "pump.readme", "pump.news", "pump.changelog.debian", "pump.copyright"} == set(docs)
    assert docs["pump.guide"].source == "pump/guide.md.gz" and docs["pump.guide"].doc_title == "Pump Guide"
    assert docs["pump.faq"].doc_title == "Pump FAQ"
    assert (docs["pump.readme"].doc_title, docs["pump.changelog.debian"].doc_title) == ("README", "changelog.Debian")
    for query, doc in [("peristaltic", "pump.guide"), ("zebrafish husbandry", "pump.readme"),
                       ("flux capacitor", "pump.changelog.debian"), ("occlusion alarm", "pump.faq")]:
        assert corpus.search(query, k=1).hits[0].id.startswith(doc + ":"), query
    # the link to faq.html reaches faq.html.gz's document
    assert any(t.startswith("pump.faq:") for r in corpus.stored.references if r.src.startswith("pump.guide:") for t in r.targets)
    r = {Path(e.path).name: e for e in report.errors}
    assert set(r) == {"core", "latin", "data.json.gz", "NEWS.gz"}
    assert r["NEWS.gz"].reason == "invalid UTF-8 at byte 10515: indexed with replacement characters"  # past the sniff
    assert r["core"].kind == NOT_TEXT and r["core"].reason.startswith("binary file (")
    assert r["latin"].kind == NOT_TEXT and r["latin"].reason.startswith("not UTF-8 text (byte 3)")
    assert r["data.json.gz"].kind == UNREAD_TYPE and r["data.json.gz"].key == ".json.gz"


def test_a_gzip_bomb_is_refused_without_being_decompressed_whole(tmp_path: Path) -> None:
    bomb = gzip.compress(b"a" * 50_000_000, compresslevel=9)  # 50 MB of text in ~50 KB
    (tmp_path / "bomb.md.gz").write_bytes(bomb)
    (tmp_path / "ok.md").write_text("# Ok\n\nFine.\n", encoding="utf-8")
    result = ingest([tmp_path], max_file_bytes=1_000_000)
    assert [(Path(e.path).name, e.reason) for e in result.errors] == [
        ("bomb.md.gz", "decompresses to over the 1.0 MB limit (from 0.0 MB compressed): skipped")]
    assert {p.doc_id for p in result.passages} == {"ok"}
    tracemalloc.start()
    try:
        with pytest.raises(FileRefused):
            gunzip(bomb, 1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000  # about the limit, not the 50 MB the bomb holds
    assert gunzip(gzip.compress(b"one ") + gzip.compress(b"two"), 100) == b"one two"  # every member
    for cut in (gzip.compress(b"some text " * 100)[:-6], b"\x1f\x8b"):
        with pytest.raises(FileRefused, match="cut short"):
            gunzip(cut, 1_000_000)


def test_a_changed_gz_file_is_read_again_and_the_index_is_a_full_builds(tmp_path: Path) -> None:
    src = _doc_folder(tmp_path)
    time.sleep(1.1)  # written over a second before the scan, as in /usr/share/doc: a re-index trusts their stat (RACY_NS)
    index = tmp_path / "index"
    build_index([src], index)
    _gz(src / "pump" / "guide.md.gz", "# Pump Guide\n\n## Priming\n\nPrime the centrifugal pump. See [the FAQ](faq.html).\n")
    report = build_index([src], index)  # seen: the 6 read, and the 2 not text (read again, as every file not indexed)
    assert any("invalid UTF-8 at byte 10515" in e.reason for e in report.errors)  # NEWS.gz unchanged: its notes are kept
    assert report.incremental.startswith("5 of 8 files unchanged"), report.incremental
    corpus = Corpus.open(index)
    assert corpus.search("centrifugal", k=1).hits[0].id.startswith("pump.guide:")
    assert not corpus.search("peristaltic", k=1).hits
    _same_as_full(src, index, tmp_path)


def test_a_compressed_page_answers_for_its_name_unless_the_page_itself_is_there() -> None:
    links = LinkIndex([("a/x.html.gz", "x-gz"), ("a/y.html", "y"), ("a/y.html.gz", "y-gz"), ("a/index.md", "index")])
    assert links.locate("x.html#top", "a/index.md", "index").doc == "x-gz"
    assert links.locate("y.html", "a/index.md", "index").doc == "y"
    assert links.locate("x.html.gz", "a/index.md", "index").doc == "x-gz"


def test_routine_notices_are_grouped_and_problems_listed_one_by_one() -> None:
    errors = [IngestError(f"/d/s{i}.css", "unsupported file type '.css': skipped", UNREAD_TYPE, ".css") for i in range(3)]
    errors += [IngestError(f"/d/a{i}.json.gz", "unsupported file type '.json.gz': skipped", UNREAD_TYPE, ".json.gz")
               for i in range(5)]
    errors += [IngestError("/d/bad.pdf", "could not parse: not a PDF"),
               IngestError("/d/x.md", "doc id 'x' already used by /d/x.html: renamed 'x-2'", RENAMED),
               IngestError("/d/y.md", "doc id 'y' already used by /d/y.html: renamed 'y-2'", RENAMED)]
    lines = summary(errors, "/i/not-indexed.txt")
    assert lines[0] == "/d/bad.pdf: could not parse: not a PDF"
    assert lines[1].startswith("skipped 8 files of types readtrail does not read: .json.gz 5, .css 3 (it reads .docx, ")
    assert lines[2] == ("renamed 2 documents whose name another file had (same path, another extension), e.g. "
                        "/d/x.md: doc id 'x' already used by /d/x.html: renamed 'x-2'")
    assert lines[3] == "every file not indexed, with its reason: /i/not-indexed.txt (or index with --verbose)"
    assert len(lines) == 4
    assert summary(errors[8:9], "/i/not-indexed.txt") == ["/d/bad.pdf: could not parse: not a PDF"]


def test_the_index_command_prints_a_summary_and_lists_every_file_beside_the_index(tmp_path: Path) -> None:
    src = _doc_folder(tmp_path)
    for i in range(4):
        (src / f"s{i}.css").write_text("p {}\n", encoding="utf-8")
    (src / "pump" / "guide.html").write_text("<h1>Guide</h1><p>Rendered.</p>", encoding="utf-8")
    (src / "bad.pdf").write_bytes(b"not a pdf")
    index = tmp_path / "index"
    out = CliRunner().invoke(main, ["index", str(src), "--index", str(index)])
    assert out.exit_code == 0, out.output
    said = [ln.strip() for ln in out.stderr.splitlines() if ln.strip() and "it/s" not in ln and "s/it" not in ln]
    notices = said[: said.index(next(ln for ln in said if ln.startswith("indexed ")))]
    assert notices[0] == f"{src / 'bad.pdf'}: could not parse: not a PDF: no %PDF- header"
    assert notices[1] == f"{src / 'pump' / 'NEWS.gz'}: invalid UTF-8 at byte 10515: indexed with replacement characters"
    assert notices[2].startswith("skipped 5 files of types readtrail does not read: .css 4, .json.gz 1 (it reads ")
    assert notices[3].startswith("renamed 1 documents whose name another file had")
    assert notices[4].startswith("skipped 2 files without an extension readtrail reads that are not UTF-8 text, e.g. ")
    assert notices[5] == f"every file not indexed, with its reason: {index / LIST_NAME} (or index with --verbose)"
    assert len(notices) == 6
    listed = (index / LIST_NAME).read_text(encoding="utf-8").splitlines()
    assert len(listed) == 10 and sum(".css: unsupported file type '.css'" in ln for ln in listed) == 4
    shutil.rmtree(index)
    verbose = CliRunner().invoke(main, ["index", str(src), "--index", str(index), "--verbose"])
    assert verbose.exit_code == 0, verbose.output
    assert all(f"  {ln}" in verbose.stderr for ln in listed)


def test_a_folder_keeps_its_name_when_a_link_before_it_points_to_it(tmp_path: Path) -> None:
    """Debian's doc-dir links: /usr/share/doc/cpp-12 -> gcc-12-base; gcc-12-base's files are named as gcc-12-base's."""
    (tmp_path / "gcc-base").mkdir()
    (tmp_path / "gcc-base" / "README").write_text("The compiler base package.\n", encoding="utf-8")
    (tmp_path / "cpp").symlink_to("gcc-base")
    (tmp_path / "gcc-base" / "up").symlink_to("..")  # a loop, walked once
    result = ingest([tmp_path])
    assert [p.doc_id for p in result.passages] == ["gcc-base.readme"]
    assert {Path(e.path).name: (e.reason, e.kind) for e in result.errors} == {
        "cpp": (f"symlink to {(tmp_path / 'gcc-base').resolve()}, a folder walked already: skipped", SAME_FILE),
        "up": (f"symlink to {tmp_path.resolve()}, a folder walked already: skipped", SAME_FILE)}
