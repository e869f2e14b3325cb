"""Chunking: size bounds, reading order, the id scheme, and no text lost."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.chunking import chunk, split_text
from graph.ids import doc_id_for, passage_ids, safe_id, slug_doc_id
from graph.model import ParsedDocument, Section
from graph.parsers import markdown as md_parser

_WS = re.compile(r"\s+")


def nonspace(s: str) -> str:
    return _WS.sub("", s)


def doc(*sections: Section, prechunked: bool = False) -> ParsedDocument:
    return ParsedDocument(doc_id="guide", title="Guide", source="guide.md", sections=list(sections), prechunked=prechunked)


# --- ids ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("Guidelines/Sepsis Care.md", "guidelines.sepsis-care"),
        ("a/b/c.txt", "a.b.c"),
        ("README", "readme"),
        ("Über Straße (v2).HTML", "-ber-stra-e--v2-"),
        ("data/corpus.v1.jsonl", "data.corpus.v1"),
    ],
)
def test_doc_id_scheme(rel: str, expected: str) -> None:
    assert slug_doc_id(rel) == expected
    assert doc_id_for(Path("/src") / rel, Path("/src")) == expected


def test_doc_id_of_a_file_outside_root_is_its_name() -> None:
    assert doc_id_for(Path("/elsewhere/Notes.md"), Path("/src")) == "notes"


def test_passage_ids_scheme() -> None:
    pieces = [(None, 0), ("3.2", 0), ("3.2", 1), ("3.2", 2), ("4", 0), ("4", 0), ("5 a/b", 0)]
    assert passage_ids("d", pieces) == ["d:p0", "d:3.2", "d:3.2~2", "d:3.2~3", "d:p4", "d:p5", "d:5-a-b"]


def test_passage_ids_unique_even_for_odd_labels() -> None:
    ids = passage_ids("d", [(None, 0), ("p0", 0)])
    assert len(set(ids)) == 2
    assert safe_id("  a b\t/c ") == "a-b-c"


# --- sections -> passages ---------------------------------------------------------------

def test_one_section_one_passage_with_its_fields() -> None:
    d = doc(
        Section("Intro text.", ["Guide"], None, 1, anchors=["guide"]),
        Section("Scope text.", ["Guide", "1 Scope"], "1", 2, anchors=["1-scope"]),
    )
    ps = chunk(d)
    assert [(p.id, p.ord, p.label, p.text) for p in ps] == [
        ("guide:p0", 0, None, "Intro text."), ("guide:1", 1, "1", "Scope text."),
    ]
    assert ps[1].heading_path == ["Guide", "1 Scope"] and ps[1].anchors == ["1-scope"]
    assert ps[1].doc_id == "guide" and ps[1].doc_title == "Guide"


def test_long_section_is_split_at_paragraphs_within_bound() -> None:
    paras = [f"Paragraph {i} " + "word " * 40 for i in range(10)]
    d = doc(Section("\n\n".join(paras), ["G", "3.2 Escalation"], "3.2", 2, anchors=["a"]), Section("Next.", [], "4", 1))
    ps = chunk(d, max_chars=500)
    assert all(len(p.text) <= 500 for p in ps)
    assert [p.id for p in ps[:3]] == ["guide:3.2", "guide:3.2~2", "guide:3.2~3"]
    assert ps[-1].id == "guide:4"
    assert [p.ord for p in ps] == list(range(len(ps)))
    assert all(p.text.startswith("Paragraph") for p in ps[:-1])  # cut at paragraph boundaries
    assert ps[0].anchors == ["a"] and ps[1].anchors == []
    assert all(p.label == "3.2" and p.heading_path[-1] == "3.2 Escalation" for p in ps[:-1])


def test_small_paragraphs_are_packed_up_to_the_bound() -> None:
    text = "\n\n".join(f"Tiny paragraph {i}." for i in range(100))
    ps = chunk(doc(Section(text)), max_chars=200)
    assert 10 <= len(ps) <= 15
    assert all(len(p.text) <= 200 for p in ps)


def test_sentences_then_hard_cut() -> None:
    long_sentences = " ".join(f"Sentence number {i} says something." for i in range(50))
    pieces = split_text(long_sentences, 120)
    assert all(len(p) <= 120 for p in pieces)
    assert all(p.startswith("Sentence number") for p in pieces)
    blob = "x" * 1000
    assert split_text(blob, 300) == ["x" * 300] * 3 + ["x" * 100]


def test_empty_sections_dropped_unless_they_have_children() -> None:
    d = doc(
        Section("", ["G"], None, 1),  # parent of what follows: kept, its heading as text
        Section("", ["G", "3 Response"], "3", 2),  # parent of 3.1: kept
        Section("Screen.", ["G", "3 Response", "3.1 Screening"], "3.1", 3),
        Section("", ["G", "4 Empty"], "4", 2),  # a stray heading: dropped
        Section("   ", [], None, 0),
    )
    ps = chunk(d)
    assert [(p.id, p.text) for p in ps] == [("guide:p0", "G"), ("guide:3", "3 Response"), ("guide:3.1", "Screen.")]


def test_duplicate_labels_fall_back_to_ord() -> None:
    d = doc(Section("a", [], "1", 1), Section("b", [], "1", 1), Section("c", [], "2", 1))
    assert [p.id for p in chunk(d)] == ["guide:p0", "guide:p1", "guide:2"]


def test_prechunked_sections_are_kept_as_they_are() -> None:
    long = "y " * 2000
    d = doc(
        Section("", ["R"], "1.1", 1, id="u-1"), Section(long, ["R"], "1.2", 1, id="u-2"), Section("z", ["R"], None, 1),
        prechunked=True,
    )
    ps = chunk(d, max_chars=100)
    assert [p.id for p in ps] == ["u-1", "u-2", "guide:p2"]
    assert ps[0].text == "" and ps[1].text == long


def test_markdown_fixture_ids() -> None:
    path = Path(__file__).resolve().parent.parent / "fixtures" / "docs" / "guidelines" / "Sepsis Care.md"
    [d] = md_parser.parse(Path("guidelines/Sepsis Care.md"), path.read_bytes(), "guidelines.sepsis-care")
    ids = [p.id for p in chunk(d)]
    assert ids[:6] == [
        "guidelines.sepsis-care:p0", "guidelines.sepsis-care:1", "guidelines.sepsis-care:3",
        "guidelines.sepsis-care:3.1", "guidelines.sepsis-care:3.2", "guidelines.sepsis-care:3.2.1",
    ]
    assert "guidelines.sepsis-care:5" in ids and "guidelines.sepsis-care:12" in ids


# --- properties -------------------------------------------------------------------------

_words = st.text(alphabet=st.sampled_from("abc XYZ.!?\n\t\"')"), min_size=0, max_size=600)
_section = st.builds(
    Section,
    text=_words,
    heading_path=st.lists(st.text(alphabet="abc ", max_size=8), max_size=3),
    label=st.one_of(st.none(), st.sampled_from(["1", "1.1", "2", "A"])),
    level=st.integers(0, 4),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_section, max_size=8), st.integers(min_value=1, max_value=400))
def test_chunk_bounds_order_ids_and_no_text_lost(sections: list[Section], max_chars: int) -> None:
    d = doc(*sections)
    ps = chunk(d, max_chars=max_chars)
    assert [p.ord for p in ps] == list(range(len(ps)))
    assert len({p.id for p in ps}) == len(ps)
    assert all(not re.search(r"[\s/]", p.id) for p in ps)
    assert all(0 < len(p.text) <= max_chars for p in ps)
    # every non-space character of every section with text is in its passages, in order
    with_text = [nonspace(s.text) for s in sections if s.text.strip()]
    got = "".join(nonspace(p.text) for p in ps)
    expected = "".join(with_text)
    if all(s.text.strip() or not s.heading_path for s in sections):  # no heading-only passages added
        assert got == expected
    else:
        assert all(t in got for t in with_text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000), st.integers(min_value=1, max_value=500))
def test_split_text_keeps_every_character(text: str, max_chars: int) -> None:
    pieces = split_text(text, max_chars)
    assert all(0 < len(p) <= max_chars for p in pieces)
    assert nonspace("".join(pieces)) == nonspace(text)
