"""Word files (.docx) through python-docx: sections, numbering, tables, cross-references; bad files reported."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from graph.parsers.word import parse
from graph.pipeline import build_index
from graph.store import load_index
from tests.graph.word_fixture import write_policy_docx

pytestmark = pytest.mark.timeout(120)


def test_headings_numbering_and_tables_make_sections(tmp_path: Path) -> None:
    path = write_policy_docx(tmp_path / "policy.docx")
    (doc,) = parse(Path("policy.docx"), path.read_bytes(), "policy")
    assert doc.title == "Infusion Pump Policy"
    assert [(s.label, s.heading_path) for s in doc.sections] == [
        ("1", ["1 Scope"]), ("2", ["2 Procedure"]), ("2.1", ["2 Procedure", "2.1 Daily checks"]),
        ("2.2", ["2 Procedure", "2.2 Escalation"]),
    ]
    checks = doc.sections[2]
    assert checks.anchors == ["_Ref21"]
    assert checks.text.split("\n\n") == [
        "1. Check the battery before use.", "2. Check the line for air.", "Item | Frequency\nBattery | Daily\nFilter | Weekly",
    ]
    assert "[2.1](#_Ref21)" in doc.sections[3].text and "[scope of this policy](#_RefScope)" in doc.sections[3].text


def test_cross_references_resolve_in_the_index(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_policy_docx(src / "policy.docx")
    (src / "notes.md").write_text("# Notes\n\nPumps: see [the policy](policy.docx#_Ref21).\n", encoding="utf-8")
    report = build_index([src], tmp_path / "index")
    assert report.errors == []
    stored = load_index(tmp_path / "index")
    refs = {(r.src, r.text): r.targets for r in stored.references}
    assert refs[("policy:2.2", "[2.1](#_Ref21)")] == ["policy:2.1"]  # the REF field
    assert refs[("policy:2.2", "[scope of this policy](#_RefScope)")] == ["policy:1"]  # the internal hyperlink
    assert refs[("policy:2.2", "section 2.1")] == ["policy:2.1"]  # in words
    assert refs[("notes:p0", "[the policy](policy.docx#_Ref21)")] == ["policy:2.1"]  # from another file
    hits = stored.bm25.search("battery weekly filter", 3)
    assert stored.passages[hits[0].pos].id == "policy:2.1"  # the table is searchable text


def _zip(**files: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_a_damaged_word_file_is_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_policy_docx(src / "good.docx")
    good = (src / "good.docx").read_bytes()
    (src / "cut.docx").write_bytes(good[: len(good) // 2])  # a copy that stopped halfway
    (src / "not-word.docx").write_bytes(_zip(**{"hello.txt": "hi"}))
    (src / "text.docx").write_text("just text, renamed", encoding="utf-8")
    report = build_index([src], tmp_path / "index")
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert set(reasons) == {"cut.docx", "not-word.docx", "text.docx"}
    for reason in reasons.values():
        assert reason.startswith("could not parse: not a readable Word (.docx) file"), reason
        assert "\n" not in reason
    assert {p.doc_id for p in load_index(tmp_path / "index").passages} == {"good"}
