"""Incremental re-indexing: only changed files are read again, and the result is exactly a full build's."""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from graph.pipeline import build_index
from graph.store import current_generation, load_index

pytestmark = pytest.mark.timeout(300)

FILES = {
    "guide/intro.md": "# Introduction\n\n## 1 Scope\n\nSee [the setup](setup.md#2-install) and section 2.1 of the Setup Guide.\n"
                      "Read [the FAQ](../faq.md) too.\n",
    "guide/setup.md": "# Setup Guide\n\n## 2 Install\n\nInstall the pump driver.\n\n## 3 Checks\n\nCheck the pump daily.\n",
    "faq.md": "# FAQ\n\n## Why\n\nBecause the Setup Guide says so. Back to [intro](guide/intro.md).\n",
    "old.md": "# Old Notes\n\n## 1 History\n\nThe Old Notes were replaced by the Setup Guide.\n",
    "data/records.jsonl": "".join(json.dumps(r) + "\n" for r in [
        {"_id": "r1", "doc_id": "d1", "doc_name": "Fees Rules", "passage_id": "1.1", "text": "Fees are due yearly."},
        {"_id": "r2", "doc_id": "d1", "doc_name": "Fees Rules", "passage_id": "1.2", "text": "See Rule 1.1 for when."},
        {"_id": "r3", "doc_id": "d2", "doc_name": "Conduct Rules", "passage_id": "4.1", "text": "Conduct rule 4.1 text."},
        {"_id": "r4", "doc_id": "d2", "doc_name": "Conduct Rules", "passage_id": "4.2", "text": "Fees under Rule 1.2 of the Fees Rules."},
    ]),
}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _snapshot(index: Path) -> dict[str, object]:
    s = load_index(index)
    gen = current_generation(index)
    return {
        "passages": [asdict(p) for p in s.passages],
        "references": [asdict(r) for r in s.references],
        "mentions": [asdict(m) for m in s.mentions],
        "containment": (gen / "containment.jsonl").read_text(encoding="utf-8"),
        "edges": sorted((u, v, d["kind"], d.get("text", "")) for u, v, d in s.graph.edges(data=True)),
        "errors": s.meta["errors"],
        "search": [[s.passages[h.pos].id for h in s.bm25.search(q, 5)] for q in ("pump", "fees rule", "setup guide")],
    }


def _same_as_full(src: Path, incremental: Path, tmp: Path) -> None:
    full = tmp / "full"
    shutil.rmtree(full, ignore_errors=True)
    build_index([src], full, full=True)
    got, want = _snapshot(incremental), _snapshot(full)
    for key in want:
        assert got[key] == want[key], key


def _targets(index: Path, src_id: str) -> dict[str, list[str]]:
    return {r.text: r.targets for r in load_index(index).references if r.src == src_id}


def test_reindex_reads_only_changes_and_equals_a_full_build(tmp_path: Path) -> None:
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    first = build_index([src], index)
    assert first.incremental == "full build (no index yet)"
    assert _targets(index, "guide.intro:1")["[the setup](setup.md#2-install)"] == ["guide.setup:2"]

    # body text only: no name or path changes, so only what consults guide.setup is resolved again
    _write(src, {"guide/setup.md": FILES["guide/setup.md"] + "\n### 2.1 Drivers\n\nUse driver 7.\n"})
    report = build_index([src], index)
    assert report.incremental.startswith("4 of 5 files unchanged, 1 documents changed, references of 2 resolved again")
    assert _targets(index, "guide.intro:1")["section 2.1 of the Setup Guide"] == ["guide.setup:2.1"]  # newly resolved
    _same_as_full(src, index, tmp_path)

    # one JSONL document changes: the other one in the same file is kept
    records = FILES["data/records.jsonl"].replace("Conduct rule 4.1 text.", "Conduct rule 4.1, amended.")
    _write(src, {"data/records.jsonl": records})
    report = build_index([src], index)
    assert report.incremental.startswith("4 of 5 files unchanged, 1 documents changed")
    _same_as_full(src, index, tmp_path)

    # a link broken (the anchor goes), a link made (to a new file), a file deleted, a file added
    _write(src, {
        "guide/setup.md": "# Setup Guide\n\n## 5 Install\n\nInstall the pump driver.\n",
        "faq.md": FILES["faq.md"] + "\nSee also [new](guide/new.md).\n",
        "guide/new.md": "# New Page\n\n## 1 Fresh\n\nFresh text about the pump, see [intro](intro.md#1-scope).\n",
    })
    (src / "old.md").unlink()
    report = build_index([src], index)
    assert report.incremental.startswith("2 of 5 files unchanged, 4 documents changed")
    intro = _targets(index, "guide.intro:1")
    assert intro["[the setup](setup.md#2-install)"] == ["guide.setup:p0"]  # no such anchor: the page's top
    assert intro["section 2.1 of the Setup Guide"] == []
    assert _targets(index, "faq:p1")["[new](guide/new.md)"] == ["guide.new:p0"]
    assert "old" not in {p.doc_id for p in load_index(index).passages}
    _same_as_full(src, index, tmp_path)


def test_other_options_or_full_rebuild_everything(tmp_path: Path) -> None:
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    assert build_index([src], index).incremental.startswith("5 of 5 files unchanged, 0 documents changed")
    assert build_index([src], index, site_root="/docs/").incremental == "full build (other sources, options or readtrail version)"
    assert build_index([src], index, site_root="/docs/", full=True).incremental == "full build (--full)"
    assert build_index([src], index, site_root="/docs/", parse_seconds=5).incremental.startswith("full build")


@pytest.mark.parametrize("setting", ["FORMAT_VERSION", "MAX_CHARS", "_code_version"])
def test_another_format_chunk_size_or_write_side_code_rebuilds_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str,
) -> None:
    from graph import previous

    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    value = (lambda: "other code") if setting == "_code_version" else getattr(previous, setting) + 1
    monkeypatch.setattr(previous, setting, value)
    assert build_index([src], index).incremental == "full build (other sources, options or readtrail version)"


def test_unchanged_files_are_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import ingest

    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    parsed: list[str] = []
    real = ingest._parse

    def spy(worker, c, raw, seconds, errors, **kw):  # type: ignore[no-untyped-def]
        parsed.append(c.path.name)
        return real(worker, c, raw, seconds, errors, **kw)

    monkeypatch.setattr(ingest, "_parse", spy)
    (src / "faq.md").write_text(FILES["faq.md"] + "More.\n", encoding="utf-8")
    build_index([src], index)
    assert parsed == ["faq.md"]


def test_old_generation_stays_while_a_reader_holds_it(tmp_path: Path) -> None:
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    reader = load_index(index)
    first = reader.generation
    build_index([src], index)
    assert first.is_dir() and current_generation(index) != first  # still read: kept
    reader.lease.release()
    build_index([src], index)
    assert not first.exists()  # let go: removed by the next index
    assert len([g for g in index.iterdir() if g.name.startswith("gen-")]) == 1


def test_bm25_is_updated_in_a_copy_until_stale_passages_pass_their_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import linking

    monkeypatch.setattr(linking, "STALE_SHARE", 1.0)  # always update: this corpus is tiny
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    before = current_generation(index)
    _write(src, {"guide/setup.md": "# Setup Guide\n\n## 2 Install\n\nInstall the infusion driver weekly.\n"})
    build_index([src], index)
    stored = load_index(index)
    found = lambda q: [stored.passages[h.pos].id for h in stored.bm25.search(q, 5)]  # noqa: E731
    assert found("infusion weekly") == ["guide.setup:2"]
    assert found("daily") == []  # the replaced passage is gone from the results
    assert found("fees yearly")[0] == "r1"  # unchanged documents keep their positions right
    assert json.loads((stored.generation / "state" / "manifest.json").read_text(encoding="utf-8"))["stale"] == 3
    assert not before.exists()
    got, full = _snapshot(index), None
    build_index([src], tmp_path / "full", full=True)
    full = _snapshot(tmp_path / "full")
    assert {k: v for k, v in got.items() if k != "search"} == {k: v for k, v in full.items() if k != "search"}


def test_a_crash_midway_leaves_the_old_index_and_the_next_run_recovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import linking

    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    before, rows = current_generation(index), _snapshot(index)

    def crash(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(linking, "STALE_SHARE", 1.0)
    monkeypatch.setattr(linking, "update_bm25", crash)
    (src / "faq.md").write_text(FILES["faq.md"] + "Changed.\n", encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        build_index([src], index)
    assert current_generation(index) == before and _snapshot(index) == rows
    assert [p.name for p in index.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    assert build_index([src], index).incremental.startswith("4 of 5 files unchanged, 1 documents changed")
    _same_as_full(src, index, tmp_path)


@pytest.mark.parametrize("damage", ["manifest", "citations"])
def test_damaged_state_means_a_full_build(tmp_path: Path, damage: str) -> None:
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    state = current_generation(index) / "state"
    if damage == "manifest":
        (state / "manifest.json").write_text("{not json", encoding="utf-8")
    else:
        lines = (state / "citations.jsonl").read_text(encoding="utf-8").splitlines()
        (state / "citations.jsonl").write_text("\n".join(line[:40] + "garbage" for line in lines) + "\n", encoding="utf-8")
    _write(src, {"guide/setup.md": FILES["guide/setup.md"] + "\n### 2.1 Drivers\n\nUse driver 7.\n"})
    report = build_index([src], index)
    # a state file that is not as written: nothing is taken from the previous generation
    assert report.incremental.startswith("full build (no incremental state)" if damage == "manifest"
                                         else "full build (previous rows unreadable")
    _same_as_full(src, index, tmp_path)


def test_files_whose_stat_is_unchanged_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import ingest, previous

    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    read: list[str] = []
    real = ingest._read

    def spy(c, max_file_bytes, errors):  # type: ignore[no-untyped-def]
        read.append(c.path.name)
        return real(c, max_file_bytes, errors)

    monkeypatch.setattr(ingest, "_read", spy)
    build_index([src], index)
    read.clear()
    build_index([src], index)  # files written just before the last scan: their stat is not trusted
    assert len(read) == 5
    monkeypatch.setattr(previous, "RACY_NS", 0)  # no wait for the clock in a test
    read.clear()
    faq = src / "faq.md"
    faq.write_text(FILES["faq.md"].replace("Why", "How"), encoding="utf-8")  # same size, other bytes
    report = build_index([src], index)
    assert read == ["faq.md"] and report.incremental.startswith("4 of 5 files unchanged, 1 documents changed")
    read.clear()
    build_index([src], index)
    assert read == []
    _same_as_full(src, index, tmp_path)


def test_unchanged_documents_are_neither_read_back_nor_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import ingest, linking

    monkeypatch.setattr(linking, "STALE_SHARE", 1.0)  # a BM25 rebuild reads every text back: not on this tiny corpus
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    chunked: list[str] = []
    real = ingest.chunk

    def spy(doc, max_chars):  # type: ignore[no-untyped-def]
        chunked.append(doc.doc_id)
        return real(doc, max_chars)

    monkeypatch.setattr(ingest, "chunk", spy)
    _write(src, {"guide/setup.md": FILES["guide/setup.md"] + "\nAlso weekly.\n"})
    assert build_index([src], index).incremental.endswith(" 0 read back")
    records = FILES["data/records.jsonl"].replace("Conduct rule 4.1 text.", "Conduct rule 4.1, amended.")
    _write(src, {"data/records.jsonl": records})
    chunked.clear()
    assert build_index([src], index).incremental.endswith(" 0 read back")
    assert chunked == ["data.records.conduct-rules"]  # the other document of the file is taken as it was
    _same_as_full(src, index, tmp_path)


def test_in_a_changed_document_only_passages_whose_text_changed_are_read_for_citations_and_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import linking, resolver

    monkeypatch.setattr(linking, "STALE_SHARE", 1.0)
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    extracted: list[str] = []
    scanned: list[str] = []
    real_extract, real_scan = resolver.extract_citations, linking.scan
    monkeypatch.setattr(resolver, "extract_citations", lambda text: extracted.append(text) or real_extract(text))
    monkeypatch.setattr(linking, "scan", lambda p, trie: scanned.append(p.id) or real_scan(p, trie))
    records = FILES["data/records.jsonl"].replace("Conduct rule 4.1 text.", "Conduct rule 4.1, amended.")
    _write(src, {"data/records.jsonl": records})
    assert build_index([src], index).incremental.endswith("1 documents changed, references of 1 resolved again, 0 read back")
    assert extracted == ["Conduct rule 4.1, amended."] and scanned == ["r3"]  # not r4, its unchanged neighbour
    _same_as_full(src, index, tmp_path)


def test_a_title_told_apart_anew_or_a_new_name_reads_back_what_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph import linking

    monkeypatch.setattr(linking, "STALE_SHARE", 1.0)
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    # a second "FAQ": the unchanged faq.md's title becomes "FAQ (faq.md)", so its rows are written anew, and
    # "FAQ" names no single document now: other mention names, every passage (6) is scanned again
    _write(src, {"more/faq.md": "# FAQ\n\n## How\n\nAsk the Old Notes desk.\n"})
    report = build_index([src], index)
    assert report.incremental.endswith("2 documents changed, references of 7 resolved again, 6 read back")
    assert load_index(index).passages.doc_titles["faq"] == "FAQ (faq.md)"
    _same_as_full(src, index, tmp_path)
    # a new document name ("Pump Manual") others may mention: every passage is scanned again
    _write(src, {"guide/pump.md": "# Pump Manual\n\n## 1 Use\n\nRead the Pump Manual first.\n"})
    _write(src, {"old.md": FILES["old.md"] + "See the Pump Manual.\n"})
    build_index([src], index)
    _same_as_full(src, index, tmp_path)


def test_previous_rows_changed_behind_the_state_mean_a_full_build(tmp_path: Path) -> None:
    src, index = tmp_path / "src", tmp_path / "index"
    _write(src, FILES)
    build_index([src], index)
    rows = current_generation(index) / "passages.jsonl"
    rows.write_text(rows.read_text(encoding="utf-8").replace("Because the Setup Guide", "Because the Setup Guidx"),
                    encoding="utf-8")
    _write(src, {"guide/setup.md": FILES["guide/setup.md"] + "\nAlso weekly.\n"})
    report = build_index([src], index)
    assert report.incremental.startswith("full build (previous rows unreadable")
    _same_as_full(src, index, tmp_path)
