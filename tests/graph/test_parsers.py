"""Parsers on hand-written fixtures: headings, labels, heading paths, anchors, links, dropped markup."""
from __future__ import annotations

import json
import os
import time
import zlib
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.model import ParsedDocument, Section
from graph.parsers import PARSERS, ParseError, parser_for
from graph.parsers import html as html_parser
from graph.parsers import jsonl as jsonl_parser
from graph.parsers import markdown as md_parser
from graph.parsers import pdf as pdf_parser
from graph.parsers import text as text_parser
from graph.parsers.text import github_slug, heading_label, humanise

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "docs"
SHARED_DATA = Path(os.environ.get("READTRAIL_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def minimal_pdf(pages: list[list[str]], title: str | None = None, compress: bool = False) -> bytes:
    """A valid PDF whose pages show `pages` (lines of Helvetica text); no third-party writer."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    objs: dict[int, bytes] = {}
    page_ids = [5 + 2 * i for i in range(len(pages))]
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {len(pages)} >>".encode()
    objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs[4] = f"<< /Title ({esc(title)}) >>".encode() if title else b"<< >>"
    for pid, lines in zip(page_ids, pages):
        ops = " ".join(f"({esc(line)}) Tj T*" for line in lines)
        content = f"BT /F1 11 Tf 14 TL 72 740 Td {ops} ET".encode("latin-1")
        extra = b""
        if compress:
            content = zlib.compress(content)
            extra = b" /Filter /FlateDecode"
        objs[pid] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {pid + 1} 0 R >>"
        ).encode()
        objs[pid + 1] = b"<< /Length %d%s >>\nstream\n" % (len(content), extra) + content + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def parse_fixture(rel: str) -> list[ParsedDocument]:
    path = FIXTURES / rel
    return parser_for(path)(Path(rel), path.read_bytes(), "doc")


def by_label(doc: ParsedDocument) -> dict[str | None, Section]:
    return {s.label: s for s in doc.sections if s.label}


# --- registry ------------------------------------------------------------------------

def test_registry_covers_every_extension_case_insensitively() -> None:
    for ext in (".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf", ".jsonl", ".rst", ".docx"):
        assert ext in PARSERS
        assert parser_for(Path("x" + ext.upper())) is PARSERS[ext]
    assert parser_for(Path("x.doc")) is None
    assert parser_for(Path("README")) is None


# --- heading labels --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("heading", "label"),
    [
        ("3.2 Escalation", "3.2"),
        ("3.2. Escalation", "3.2"),
        ("Rule 2.4.2 Notification", "2.4.2"),
        ("Article 5 Scope", "5"),
        ("Section 113 Powers of the Regulator", "113"),
        ("Section 113(1)", "113(1)"),
        ("Rule 3.6A.4", "3.6A.4"),
        ("Chapter 4", "4"),
        ("Part 2", "2"),
        ("PART IV", "IV"),
        ("§ 12 Audit", "12"),
        ("Appendix A", "A"),
        ("SECTION VIII.D.2.", "VIII.D.2"),
        ("Introduction", None),
        ("2024 Annual report", None),
        ("Section civil matters", None),
        ("Appendix material", None),
        ("12% growth", None),
    ],
)
def test_heading_label(heading: str, label: str | None) -> None:
    assert heading_label(heading) == label


def test_slug_and_humanise() -> None:
    assert github_slug("3.2 Escalation") == "32-escalation"
    assert github_slug("Use `foo` and [bar](x.md)!") == "use-foo-and-bar"
    assert humanise("sepsis_care-v2") == "Sepsis care v2"
    assert humanise("ICU Rules") == "ICU Rules"


# --- Markdown ---------------------------------------------------------------------------

def test_markdown_title_paths_and_labels() -> None:
    [doc] = parse_fixture("guidelines/Sepsis Care.md")
    assert doc.title == "Sepsis Care Guideline"  # first H1 wins over front matter
    assert not doc.prechunked
    labels = [s.label for s in doc.sections]
    assert labels == [None, "1", "3", "3.1", "3.2", "3.2.1", "3.2.2", "3.2.3", "3.3", "5", None, "12"]
    sec = by_label(doc)
    assert sec["3.1"].heading_path == ["Sepsis Care Guideline", "3 Recognition and response", "3.1 Screening"]
    assert sec["3.3"].heading_path[-1] == "Rule 3.3 Notification"
    assert sec["5"].heading_path == ["Sepsis Care Guideline", "Article 5 Antibiotics"]
    assert sec["12"].heading_path[-1] == "§ 12 Audit"
    # numbered clauses are sections of their own, under their heading
    assert sec["3.2.1"].text.startswith("3.2.1 The nurse must")
    assert sec["3.2.1"].heading_path[-1] == "3.2 Escalation"
    assert sec["3.2.1"].level > sec["3.2"].level
    assert sec["3.2"].text == ""


def test_markdown_code_fence_setext_and_anchors() -> None:
    [doc] = parse_fixture("guidelines/Sepsis Care.md")
    sec = by_label(doc)
    assert "# 4 This is code, not a heading" in sec["5"].text  # not a heading
    assert "4" not in sec
    appendix = doc.sections[10]
    assert appendix.heading_path[-1] == "Appendix material"  # setext H2
    assert appendix.level == 2
    assert appendix.text == "1.5 mg of anything is not a clause number here."  # not a clause
    assert sec["3.2"].anchors == ["32-escalation"]
    assert sec["3.3"].anchors == ["rule-33-notification", "notify"]  # explicit {#id}
    assert "antibiotics" in sec["5"].anchors  # <a id> just before the heading
    assert doc.sections[0].anchors == ["sepsis-care-guideline"]


def test_markdown_links_kept_and_front_matter_dropped() -> None:
    [doc] = parse_fixture("guidelines/Sepsis Care.md")
    intro = doc.sections[0].text
    assert "[the escalation rules](#32-escalation)" in intro
    assert "[NICE guidance](https://www.nice.org.uk/guidance/ng51)" in intro
    assert all("author: Ward 4" not in s.text for s in doc.sections)


def test_markdown_title_fallbacks() -> None:
    [doc] = md_parser.parse(Path("notes/ward_rules.md"), b"---\ntitle: 'Ward Rules'\n---\n\n## 1 Scope\n\nAll.\n", "d")
    assert doc.title == "Ward Rules"
    assert doc.sections[0].heading_path == ["1 Scope"]  # no H1: no title in the path
    [doc] = md_parser.parse(Path("notes/ward_rules.md"), b"Just text.\n", "d")
    assert doc.title == "Ward rules"
    assert doc.sections == [Section(text="Just text.", heading_path=[], label=None, level=0)]


def test_markdown_repeated_headings_get_numbered_slugs_and_unclosed_fence_is_body() -> None:
    raw = b"# T\n\n## Notes\n\na\n\n## Notes\n\nb\n\n```\n# not a heading\n"
    [doc] = md_parser.parse(Path("x.md"), raw, "x")
    assert [s.anchors for s in doc.sections[1:]] == [["notes"], ["notes-1"]]
    assert "# not a heading" in doc.sections[-1].text


def test_markdown_clause_needs_matching_number() -> None:
    raw = b"## 4 Doses\n\n4.1 Adults get one tablet.\n\n4.2 Children get half.\n\n7.5 Weird number is text.\n"
    [doc] = md_parser.parse(Path("x.md"), raw, "x")
    assert [s.label for s in doc.sections] == ["4", "4.1", "4.2"]
    assert "7.5 Weird number is text." in doc.sections[-1].text


# --- plain text -------------------------------------------------------------------------

def test_text_headings_and_lists() -> None:
    [doc] = parse_fixture("guidelines/handover.txt")
    assert doc.title == "Handover"
    assert [s.label for s in doc.sections] == [None, "4", "4.1", "4.2"]
    assert doc.sections[0].heading_path == ["WARD HANDOVER"]
    assert doc.sections[2].heading_path == ["WARD HANDOVER", "SECTION 4", "4.1 Documentation"]
    assert doc.sections[1].text == "Every patient is discussed in bed order."
    # a numbered list inside a paragraph is body text
    assert "1. Check the fire exits\n2. Check the resuscitation trolley" in doc.sections[3].text


def test_text_sentences_starting_with_numbers_are_not_headings() -> None:
    raw = b"3 mg of morphine is the dose.\n\n2024 was a busy year\n\n1. Wash hands\n2. Dry hands\n"
    [doc] = text_parser.parse(Path("a.txt"), raw, "a")
    assert [s.label for s in doc.sections] == [None]
    assert doc.sections[0].text.startswith("3 mg of morphine")


def test_text_crlf_and_bom() -> None:
    [doc] = text_parser.parse(Path("a.txt"), "\ufeffSECTION 1\r\nBody line.\r\n".encode(), "a")
    assert doc.sections[0].label == "1"
    assert doc.sections[0].text == "Body line."


# --- HTML -------------------------------------------------------------------------------

def test_html_drops_scripts_and_keeps_links() -> None:
    [doc] = parse_fixture("web/policy.html")
    all_text = "\n".join(s.text for s in doc.sections) + " ".join(p for s in doc.sections for p in s.heading_path)
    for hidden in ("secret", "color: red", "Enable JavaScript", "template text", "fake"):
        assert hidden not in all_text
    assert doc.title == "Visiting Policy & Hours"  # <title>, entities decoded
    intro = doc.sections[0].text
    assert "[visiting hours](#hours)" in intro
    assert "[infection rules](https://example.org/infection.html)" in intro
    assert "welcome – within" in intro


def test_html_headings_anchors_entities_pre() -> None:
    [doc] = parse_fixture("web/policy.html")
    sec = by_label(doc)
    assert sec["2.1"].heading_path == ["Visiting Policy", "2.1 Visiting hours"]
    assert sec["2.1"].anchors == ["hours-section", "21-visiting-hours", "hours"]
    assert "flu" in sec["2.2"].anchors  # <a name>
    assert "top" in doc.sections[0].anchors
    assert "From 10:00 to 20:00 <every day>." in sec["2.1"].text
    assert "No flowers in intensive care" in sec["2.2"].text
    assert "  ICU      14:00-16:00" in sec["2.2"].text  # <pre> keeps its spacing


def test_html_title_falls_back_to_h1_then_file_name() -> None:
    [doc] = html_parser.parse(Path("a/b.html"), b"<h1>Main <b>Title</b></h1><p>x</p>", "b")
    assert doc.title == "Main Title"
    [doc] = html_parser.parse(Path("a/visit_rules.htm"), b"<p>x &amp; y</p>", "b")
    assert doc.title == "Visit rules"
    assert doc.sections[0].text == "x & y"


def test_html_unclosed_tags_do_not_lose_text() -> None:
    [doc] = html_parser.parse(Path("a.html"), b"<h2>1 Intro<p>first<p>second <a href='x.html'>link", "a")
    text = "\n".join(s.text for s in doc.sections) + " ".join(doc.sections[0].heading_path)
    assert "first" in text and "second" in text and "link" in text


# --- PDF --------------------------------------------------------------------------------

def test_pdf_pages_and_headings(tmp_path: Path) -> None:
    raw = minimal_pdf(
        [
            ["Discharge checklist", "Every patient leaves with a letter."],
            ["Section 2 Medicines", "Pharmacy checks (all) medicines before discharge."],
        ],
        title="Discharge Rules",
        compress=True,
    )
    [doc] = pdf_parser.parse(Path("discharge.pdf"), raw, "discharge")
    assert doc.title == "Discharge Rules"
    text = "\n".join(s.text for s in doc.sections)
    assert "Every patient leaves with a letter." in text
    assert "Pharmacy checks (all) medicines" in text
    assert by_label(doc)["2"].heading_path == ["Section 2 Medicines"]


def test_pdf_errors_are_one_line() -> None:
    with pytest.raises(ParseError, match="no %PDF- header"):
        pdf_parser.parse(Path("x.pdf"), b"hello, not a pdf", "x")
    with pytest.raises(ParseError) as e:
        pdf_parser.parse(Path("x.pdf"), b"%PDF-1.4\n1 0 obj garbage\n%%EOF", "x")
    assert "\n" not in str(e.value)
    with pytest.raises(ParseError, match="no extractable text"):
        pdf_parser.parse(Path("x.pdf"), minimal_pdf([[]]), "x")


# --- JSONL ------------------------------------------------------------------------------

def test_jsonl_groups_sorts_and_keeps_ids() -> None:
    docs = parse_fixture("data/trials.jsonl")
    assert [d.doc_id for d in docs] == ["doc.trials_rules", "doc.w-1", "doc.w-2"]
    rules = docs[0]
    assert rules.prechunked and rules.title == "TRIALS_RULES"
    assert [s.id for s in rules.sections] == ["t-1", "t-2", "t-3", "t-4"]  # by ord
    assert [s.label for s in rules.sections] == ["1.", "1.1", "1.1.1", "1.1.2"]
    assert rules.sections[1].text == ""  # empty, but labelled: a heading row, kept
    assert rules.sections[2].heading_path == ["TRIALS_RULES"]  # "TRIALS_RULES 1.1.1" adds nothing
    wiki = docs[1]
    assert wiki.title == "Demon Dice"
    assert wiki.sections[0].heading_path == ["Demon Dice"]
    assert wiki.sections[0].text.startswith("Demon Dice is")  # title not prepended


def test_jsonl_record_titles_that_say_more_go_to_heading_path() -> None:
    lines = [
        {"_id": "a1", "doc_name": "Paper set", "title": "Statins and cancer", "text": "Abstract one."},
        {"_id": "a2", "doc_name": "Paper set", "title": "Paper set", "text": "Abstract two."},
    ]
    raw = "\n".join(json.dumps(x) for x in lines).encode()
    [doc] = jsonl_parser.parse(Path("c.jsonl"), raw, "c")
    assert doc.sections[0].heading_path == ["Paper set", "Statins and cancer"]
    assert doc.sections[1].heading_path == ["Paper set"]


def test_jsonl_bad_lines_are_skipped_and_reported() -> None:
    raw = b"\n".join([
        b'{"_id": "a", "text": "fine"}',
        b"{not json",
        b'{"text": "no id"}',
        b'{"_id": "b"}',
        b'{"_id": "a", "text": "again"}',
        b'["a list"]',
        b'{"_id": "c", "text": "  "}',
        b'{"_id": "d", "text": "", "passage_id": "4.1"}',
        b"",
        b'{"_id": 7, "text": "numeric id"}',
    ])
    notes: list[str] = []
    docs = jsonl_parser.parse(Path("c.jsonl"), raw, "c", warn=notes.append)
    assert [s.id for d in docs for s in d.sections] == ["a", "d", "7"]
    assert len(notes) == 1
    assert notes[0].startswith("6 lines skipped: line 2 not JSON; line 3 missing _id; line 4 missing text;")
    assert "line 5 duplicate _id 'a'" in notes[0] and "..." in notes[0]


def test_jsonl_without_usable_records_raises() -> None:
    with pytest.raises(ParseError, match="no usable records"):
        jsonl_parser.parse(Path("c.jsonl"), b"nope\n", "c")


def test_jsonl_ids_never_contain_slash_or_space() -> None:
    notes: list[str] = []
    [doc] = jsonl_parser.parse(Path("c.jsonl"), b'{"_id": "a b/c", "text": "t"}', "c", warn=notes.append)
    assert doc.sections[0].id == "a-b-c"
    assert "replaced" in notes[0]


_JSONL_LINES = [
    b'{"_id": "a", "text": "fine", "doc_id": 1}', b"{not json", b'{"text": "no id"}', b'{"_id": "b"}', b'["a list"]',
    b'{"_id": "a", "text": "again", "doc_id": 2}', b'{"_id": "c", "text": "  "}', b'{"_id": "d", "text": "", "passage_id": "4.1"}',
    b"", b"  ", b"\xc2\xa0", b"\xff\xfe not UTF-8", b'\xef\xbb\xbf{"_id": "bom", "text": "t"}',
    b'{"_id": 7, "text": "numeric id", "doc_name": "X", "ord": 2}', b'{"_id": "e f/g", "text": "t", "doc_name": "X", "ord": 1}',
    b'{"_id": "h", "text": "t", "doc_name": "X", "doc_id": "Y"}', b'{"_id": "i", "text": "t", "doc_id": "X", "title": "Zed"}',
    b'{"_id": "k", "text": "caf\xc3\xa9", "doc_name": "x ", "ord": true}', b'{"_id": "m", "text": "t", "doc_name": "x"}\r',
    b'{"_id": "n", "text": "t", "doc_name": "x_", "passage_id": "2"}',
]


def _parsed(path: Path, raw: bytes, **kw) -> tuple[object, list[str]]:  # type: ignore[no-untyped-def]
    notes: list[str] = []
    try:
        docs, digests, _ = jsonl_parser.parse_lines(path, raw, "c", warn=notes.append, **kw)
    except ParseError as e:
        return str(e), notes
    return [(d if isinstance(d, str) else asdict(d), h) for d, h in zip(docs, digests)], notes


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_JSONL_LINES), max_size=10), st.lists(st.sampled_from(_JSONL_LINES), max_size=10),
       st.sampled_from([b"\n", b"\r\n"]))
def test_jsonl_reparse_with_the_previous_line_table_is_a_fresh_parse(before: list[bytes], after: list[bytes], nl: bytes) -> None:
    path = Path("c.jsonl")
    try:
        _, old_digests, table = jsonl_parser.parse_lines(path, nl.join(before), "c")
    except ParseError:
        old_digests, table = [], None
    fresh, notes = _parsed(path, nl.join(after))
    again, notes_again = _parsed(path, nl.join(after), known=set(old_digests), table=table)
    assert notes_again == notes
    if isinstance(fresh, str):
        assert again == fresh
        return
    assert [h for _, h in again] == [h for _, h in fresh]
    # a document with a digest known already comes as that digest; the others as a fresh parse gives them
    assert [d if h not in old_digests else h for d, h in fresh] == [d for d, _ in again]
    assert [asdict(d) for d in jsonl_parser.parse(path, nl.join(after), "c")] == [d for d, _ in fresh]


def test_jsonl_reparse_decodes_only_new_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [{"_id": f"r{i}", "doc_name": f"Doc {i % 3}", "passage_id": str(i), "text": f"Text {i}."} for i in range(30)]
    raw = "".join(json.dumps(r) + "\n" for r in records).encode()
    docs, digests, table = jsonl_parser.parse_lines(Path("c.jsonl"), raw, "c")
    records[4]["text"] = "Changed."  # a record of Doc 1
    records.append({"_id": "r30", "doc_name": "Doc 2", "text": "New."})
    changed = "".join(json.dumps(r) + "\n" for r in records).encode()
    decoded: list[str] = []
    real = json.loads
    monkeypatch.setattr(jsonl_parser.json, "loads", lambda s: decoded.append(s) or real(s))
    again, digests_again, _ = jsonl_parser.parse_lines(Path("c.jsonl"), changed, "c", known=set(digests), table=table)
    assert again[0] == digests[0] and isinstance(again[1], ParsedDocument) and isinstance(again[2], ParsedDocument)
    assert digests_again[0] == digests[0] and digests_again[1:] != digests[1:]
    # the two new lines, then the other records of the two documents built again (9 of Doc 1, 10 of Doc 2)
    assert len(decoded) == 2 + 9 + 10
    assert [asdict(d) for d in again[1:]] == [asdict(d) for d in jsonl_parser.parse(Path("c.jsonl"), changed, "c")[1:]]


@pytest.mark.parametrize(("name", "count"), [("adgm", 13_732), ("hotpotqa100", 994), ("nfcorpus", 3_633)])
def test_jsonl_shared_corpora_parse_fast(name: str, count: int) -> None:
    path = SHARED_DATA / name / "corpus.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is absent (shared evaluation data lives beside the checkout)")
    raw = path.read_bytes()
    notes: list[str] = []
    t = time.perf_counter()
    docs = jsonl_parser.parse(path, raw, "corpus", warn=notes.append)
    assert time.perf_counter() - t < 5
    assert notes == []
    sections = [s for d in docs for s in d.sections]
    assert len(sections) == count
    assert len({s.id for s in sections}) == count
    if name == "adgm":
        assert len(docs) == 40
        first = docs[0].sections[:2]
        assert [s.label for s in first] == ["1.", "1.1"] and first[1].text == "Jurisdiction"
        assert first[1].heading_path == [docs[0].title]
        assert sum(1 for s in sections if s.text == "") == 692  # heading rows are kept
    if name == "hotpotqa100":
        assert docs[0].title == "Demon Dice" and len(docs) == count


# --- properties: never crash on arbitrary input ----------------------------------------

_texty = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)
_markupy = st.lists(
    st.sampled_from([
        "# ", "## 3.2 ", "### Rule 1.2 ", "\n", "\n\n", "===", "---", "```", "~~~", "{#x}", "<a id='a'></a>",
        "[t](u)", "3.2.1 ", "SECTION 4", "<h1>", "</h1>", "<h2 id=x>", "<script>", "</script>", "<p>", "<pre>",
        "</pre>", "<a href='#x'>", "</a>", "&amp;", "&#0;", "&bogus;", "<!--", "-->", "text", " ", "\t", "\r",
        "ÄÖ", "\x00", "<br/>", "<template>", "</h2>", "1. ", "(a) ", "§ ",
    ]),
    max_size=60,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_texty, _markupy), st.sampled_from([md_parser.parse, text_parser.parse, html_parser.parse]))
def test_text_parsers_never_crash(source: str, parse) -> None:
    docs = parse(Path("x.any"), source.encode("utf-8", errors="replace"), "x")
    assert len(docs) == 1
    for s in docs[0].sections:
        assert isinstance(s.text, str) and all(isinstance(h, str) for h in s.heading_path)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_parsers_never_crash_on_bytes(raw: bytes) -> None:
    for parse in (md_parser.parse, text_parser.parse, html_parser.parse):
        parse(Path("x.any"), raw, "x")
    try:
        jsonl_parser.parse(Path("x.jsonl"), raw, "x")
    except ParseError:
        pass
    try:
        pdf_parser.parse(Path("x.pdf"), raw, "x")
    except ParseError:
        pass


def test_pdf_text_headings_inside_blocks_need_a_clear_break() -> None:
    text = "Intro line ends here\n30 Minutes of arrival matter.\nDone.\n3.4 Escalation Rules\nBody.\nSection 5 Audit\nMore"
    doc = text_parser.parse_text(text, "x", "X", "x.pdf", headings_anywhere=True)
    assert [(s.label, s.text) for s in doc.sections] == [
        (None, "Intro line ends here\n30 Minutes of arrival matter.\nDone."), ("3.4", "Body."), ("5", "More"),
    ]


def test_text_run_in_numbered_paragraphs_are_body() -> None:
    raw = b"4. Redistribution. You may reproduce and distribute copies of the\nWork in any medium.\n"
    [doc] = text_parser.parse(Path("license.txt"), raw, "license")
    assert [(s.label, s.text) for s in doc.sections] == [(None, raw.decode().strip())]


def test_html_nav_menus_are_dropped() -> None:
    [doc] = html_parser.parse(Path("a.html"), b"<nav><ul><li><a href='x.html'>1. Menu</a></li></ul></nav><p>Body</p>", "a")
    assert [s.text for s in doc.sections] == ["Body"]
