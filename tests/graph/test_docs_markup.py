"""Documentation markup: reference-style links, comments, asides with headings, tables of contents,
heading-only passages kept out of BM25."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.chunking import chunk
from graph.parsers.markdown import parse_markdown
from graph.parsers.text import parse_text


def _md(text: str):
    return parse_markdown(text, "d", "d.md", "D")


def test_reference_links_are_inlined_outside_code() -> None:
    doc = _md(
        "# T\n\nSee [the rules][r], [R][] and [r], not `[r]` nor [undefined][x] nor ![img][r].\n\n"
        "```\n[r]\n```\n\n[r]: ch04.html#rules \"Title\"\n[R2]: <other.html>\n"
    )
    text = "\n".join(s.text for s in doc.sections)
    assert "[the rules](ch04.html#rules)" in text and "[R](ch04.html#rules)" in text and "[r](ch04.html#rules)" in text
    assert "`[r]`" in text and "[undefined][x]" in text and "![img][r]" in text
    assert "```\n[r]\n```" in text  # code fences untouched
    assert "[r]:" not in text and "other.html" not in text  # definitions are not text


def test_comments_are_dropped_even_over_lines() -> None:
    doc = _md("# T\n\nbefore <!-- inline --> after\n\n<!--\nhidden [x](y.md)\n-->\nvisible\n")
    text = "\n".join(s.text for s in doc.sections)
    assert "inline" not in text and "hidden" not in text and "before  after" in text and "visible" in text


def test_heading_in_a_block_quote_is_a_section_and_the_text_after_it_returns_to_its_own() -> None:
    doc = _md("# T\n\n## A\n\ntext a\n\n> ### Where’s the `->` Operator?\n>\n> aside\n\nafter\n")
    aside = next(s for s in doc.sections if "aside" in s.text)
    assert "wheres-the---operator" in aside.anchors  # mdBook / GitHub slug
    after = next(s for s in doc.sections if s.text == "after")
    assert after.heading_path == ["T", "A"] and after.anchors == []


def test_dot_leader_table_of_contents_is_dropped() -> None:
    doc = parse_text("CONTENTS\n1 Scope .......... 3\n2 Escalation . . . . . . 12\nAnnex … … 40\n\nReal text here.\n",
                     "d", "D", "d.txt")
    text = "\n".join(s.text for s in doc.sections)
    assert "Scope" not in text and "Escalation" not in text and "Real text here." in text


def test_heading_only_passages_are_not_indexed_alone(tmp_path: Path) -> None:
    pytest.importorskip("tantivy")
    from graph.index import BM25Index, build_bm25, heading_only

    passages = chunk(_md("# Guide\n\n## 4 Escalation\n\n### 4.1 Sepsis\n\nCall the sepsis team for escalation.\n"))
    alone = [p for p in passages if heading_only(p)]
    assert [p.heading_path[-1] for p in alone] == ["Guide", "4 Escalation"]
    build_bm25(passages, tmp_path / "bm25")
    hits = BM25Index(tmp_path / "bm25", {p.id: i for i, p in enumerate(passages)}).search("sepsis escalation", 10)
    assert [passages[h.pos].label for h in hits] == ["4.1"]


def test_heading_attributes_give_ids() -> None:
    doc = _md("# A {#a-id .wide}\n\nx\n\n## B {: #b-id}\n\ny\n\n## Set {a, b}\n\nz\n")
    assert [s.anchors for s in doc.sections] == [["a", "a-id"], ["b", "b-id"], ["set-a-b"]]
    assert [s.heading_path[-1] for s in doc.sections] == ["A", "B", "Set {a, b}"]


def test_links_in_inline_code_are_examples_but_code_in_link_text_is_fine() -> None:
    from graph.references import extract_citations

    cs = extract_citations("Write `[b](b.md)` or ``[c](c.md)``; see [The `match` construct](m.md) and `Rule 2.4.1`.")
    assert [c.anchor for c in cs] == ["m.md"]


def test_rst_titles_levels_labels_and_literal_blocks() -> None:
    from graph.parsers.rst import parse_rst

    doc = parse_rst(
        "=====\nTitle\n=====\n\nIntro text.\n\n.. _first-label:\n\nFirst part\n----------\n\nExample::\n\n"
        "    code --here\n\nSub\n~~~\n\nDeep text.\n\n----\n\nSecond\n------\n\nMore.\n", "d", "d.rst", "D")
    assert doc.title == "Title"
    assert [(s.level, s.heading_path[-1]) for s in doc.sections] == [(1, "Title"), (2, "First part"), (3, "Sub"), (2, "Second")]
    first = doc.sections[1]
    assert first.anchors == ["first-part", "first-label", "rst-label:first-label"]
    assert "Example:" in first.text and "    code --here" in first.text


def test_running_headers_footers_and_page_numbers_are_dropped() -> None:
    from graph.parsers.pages import strip_running_lines

    body = ["Call the team.", "Give fluids.", "Take cultures.", "Review in an hour."]
    pages = [f"Sepsis Guideline v2\n{n}.1\n{body[n - 1]}\nCONFIDENTIAL - page {n} of 4\n{n}" for n in range(1, 5)]
    out = strip_running_lines(pages)
    assert out == [f"{n}.1\n{body[n - 1]}" for n in range(1, 5)]
    assert strip_running_lines(["Title\nText one", "Title\nText two"]) == ["Title\nText one", "Title\nText two"]  # too few pages


def test_links_in_html_headings_follow_the_heading() -> None:
    from graph.parsers.html import parse_html

    doc = parse_html('<h2>Index <a href="a.html">A-I</a> <a href="b.html">J-R</a><a class="mark" href="#index">#</a></h2><p>x</p>',
                     "d", "d.html", "D")
    assert doc.sections[0].heading_path == ["Index A-I J-R"]
    assert doc.sections[0].text.startswith("[A-I](a.html) [J-R](b.html)")


def test_footnotes_are_not_link_definitions() -> None:
    doc = _md("# T\n\nHashing[^sip] and [sip].\n\n[^sip]: [SipHash](https://en.wikipedia.org/wiki/SipHash)\n")
    text = doc.sections[0].text
    assert "Hashing[^sip] and [sip]." in text and "[^sip]: [SipHash](https://en.wikipedia.org/wiki/SipHash)" in text


def test_a_comment_marker_in_code_is_text() -> None:
    doc = _md("# T\n\nWrite `<!--` to open a comment and `-->` to close it.\n\nThis paragraph stays.\n")
    text = doc.sections[0].text
    assert "Write `<!--` to open" in text and "This paragraph stays." in text


def test_html_link_left_open_before_an_unclosed_template_ends() -> None:
    from graph.parsers.html import parse_html

    doc = parse_html("<p><a href='#x'><template><a href='#y'>text", "d", "d.html", "D")  # used to loop forever
    assert doc.doc_id == "d"


_RST_TOKENS = ["=", "===", "----", "\n", "\n\n", "Title", ".. _lab:", ".. _x: http://a", ".. note::", ".. toctree::",
               "   ", "   a <b>", ":ref:`x`", ":doc:`y <z>`", "`t <u>`_", "x_", "`a b`_", "::", ".. ", "`", "<", "_"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_RST_TOKENS), max_size=60).map("".join))
def test_rst_parser_never_crashes(source: str) -> None:
    from graph.parsers import rst

    docs = rst.parse(Path("x.rst"), source.encode("utf-8"), "x")
    assert len(docs) == 1 and all(isinstance(s.text, str) for s in docs[0].sections)
