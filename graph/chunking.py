"""Sections -> passages, structure first.

Each section is one passage unless its text is longer than `max_chars`; then it is
cut into pieces of at most `max_chars`, each ending at the last paragraph break in
reach, else the last sentence end, line break or space, and a pathological run
without any is cut hard.  Pieces take as many whole paragraphs as fit, so tiny
consecutive paragraphs share a passage.  No passage is longer
than `max_chars` (pre-chunked sources excepted: their passages are kept as they are).

A section with empty text is dropped, unless sections nested under it follow: then
its passage is its heading, a place for references and links to land.  Sections of
pre-chunked documents (JSONL) are passages one to one, empty or not.

Ids: see `graph.ids`.
"""
from __future__ import annotations

import re

from graph.ids import passage_ids
from graph.model import ParsedDocument, Passage, Section

__all__ = ["chunk", "split_text"]

_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+")
_NONSPACE = re.compile(r"\S")


def _last(pattern: re.Pattern[str], text: str, start: int, end: int) -> int:
    """Where the last match of `pattern` in text[start:end] begins, or -1."""
    pos = -1
    for m in pattern.finditer(text, start, end):
        pos = m.start()
    return pos


def _cut(text: str, start: int, end: int) -> int:
    """Where the piece text[start:...] of at most end-start characters should end: at the last
    paragraph break in reach, else sentence end, else line break, else space, else `end`."""
    for find in (
        lambda: _last(_PARAGRAPH, text, start, end + 1),
        lambda: _last(_SENTENCE, text, start, end + 1),
        lambda: text.rfind("\n", start, end + 1),
        lambda: max(text.rfind(" ", start, end + 1), text.rfind("\t", start, end + 1)),
    ):
        pos = find()
        if pos > start:
            return pos
    return end


def split_text(text: str, max_chars: int = 1500) -> list[str]:
    """`text` in pieces of at most `max_chars`, each cut at the largest structure in reach.

    Linear in the length of `text` (a window of `max_chars` is searched per piece), so a
    huge file without blank lines, or with no spaces at all, costs no more than a normal one.
    """
    max_chars = max(1, max_chars)
    pieces: list[str] = []
    n = len(text)
    start = 0
    while True:
        m = _NONSPACE.search(text, start)
        if m is None:
            break
        start = m.start()
        if n - start <= max_chars:
            pieces.append(text[start:].rstrip())
            break
        end = _cut(text, start, start + max_chars)
        piece = text[start:end].rstrip()
        if piece:
            pieces.append(piece)
        start = end
    return pieces


def _has_children(sections: list[Section], i: int) -> bool:
    return i + 1 < len(sections) and sections[i + 1].level > sections[i].level


def chunk(doc: ParsedDocument, max_chars: int = 1500) -> list[Passage]:
    """The passages of `doc` in reading order (`ord` 0, 1, ...)."""
    if doc.prechunked:
        fallback = passage_ids(doc.doc_id, [(s.label, 0) for s in doc.sections])
        return [
            Passage(
                id=s.id or fallback[i], doc_id=doc.doc_id, doc_title=doc.title, ord=i, text=s.text,
                label=s.label, heading_path=list(s.heading_path), anchors=list(s.anchors), source=doc.source,
            )
            for i, s in enumerate(doc.sections)
        ]
    planned: list[tuple[Section, int, str, list[str]]] = []  # section, piece number, text, anchors
    orphans: list[str] = []  # anchors of dropped empty sections: a link to one lands on what follows
    for i, s in enumerate(doc.sections):
        texts = split_text(s.text, max_chars)
        if not texts and s.heading_path and _has_children(doc.sections, i):
            texts = split_text(s.heading_path[-1], max_chars)
        if not texts:
            orphans.extend(s.anchors)
            continue
        planned.extend((s, part, t, orphans + s.anchors if part == 0 else []) for part, t in enumerate(texts))
        orphans = []
    if orphans and planned:
        planned[-1][3].extend(orphans)
    ids = passage_ids(doc.doc_id, [(s.label, part) for s, part, _, _ in planned])
    return [
        Passage(
            id=pid, doc_id=doc.doc_id, doc_title=doc.title, ord=ord_, text=t, label=s.label,
            heading_path=list(s.heading_path), anchors=list(dict.fromkeys(anchors)), source=doc.source,
        )
        for ord_, (pid, (s, part, t, anchors)) in enumerate(zip(ids, planned))
    ]
