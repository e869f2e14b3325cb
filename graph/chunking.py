"""Sections -> passages, structure first.

Each section is one passage unless its text is longer than `max_chars`; then it is
split at paragraph boundaries, then sentences, then lines, then spaces, and a
pathological run without any is cut hard; the pieces are packed greedily back up to
`max_chars`, so tiny consecutive paragraphs share a passage.  No passage is longer
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

# (how to split, what joins the pieces again)
_LEVELS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[ \t]*\n(?:[ \t]*\n)+"), "\n\n"),  # paragraphs
    (re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=\S)"), " "),  # sentences
    (re.compile(r"\n"), "\n"),  # lines
    (re.compile(r"[ \t\f\v]+"), " "),  # words
]


def _pieces(text: str, max_chars: int, level: int, out: list[tuple[str, str]], sep: str) -> None:
    """Append (piece, separator before it) to `out`, every piece at most max_chars long."""
    if len(text) <= max_chars:
        if text.strip():
            out.append((text, sep))
        return
    if level == len(_LEVELS):
        for i in range(0, len(text), max_chars):
            out.append((text[i:i + max_chars], sep if i == 0 else ""))
        return
    pattern, joiner = _LEVELS[level]
    parts = pattern.split(text)
    if len(parts) == 1:
        _pieces(text, max_chars, level + 1, out, sep)
        return
    first = True
    for part in parts:
        part = part.strip()
        if not part:
            continue
        _pieces(part, max_chars, level + 1, out, sep if first else joiner)
        first = False


def split_text(text: str, max_chars: int = 1500) -> list[str]:
    """`text` in pieces of at most `max_chars`, split at the largest structure that fits."""
    text = text.strip()
    if not text:
        return []
    if len(text) <= max_chars:
        return [text]
    units: list[tuple[str, str]] = []
    _pieces(text, max(1, max_chars), 0, units, "")
    chunks: list[str] = []
    cur: list[str] = []
    cur_len = 0
    for piece, sep in units:
        if cur and cur_len + len(sep) + len(piece) > max_chars:
            chunks.append("".join(cur).strip())
            cur, cur_len = [], 0
        if cur:
            cur.append(sep)
            cur_len += len(sep)
        cur.append(piece)
        cur_len += len(piece)
    if cur:
        chunks.append("".join(cur).strip())
    return [c for c in chunks if c]


def _has_children(sections: list[Section], i: int) -> bool:
    return i + 1 < len(sections) and sections[i + 1].level > sections[i].level


def chunk(doc: ParsedDocument, max_chars: int = 1500) -> list[Passage]:
    """The passages of `doc` in reading order (`ord` 0, 1, ...)."""
    if doc.prechunked:
        fallback = passage_ids(doc.doc_id, [(s.label, 0) for s in doc.sections])
        return [
            Passage(
                id=s.id or fallback[i], doc_id=doc.doc_id, doc_title=doc.title, ord=i, text=s.text,
                label=s.label, heading_path=list(s.heading_path), anchors=list(s.anchors),
            )
            for i, s in enumerate(doc.sections)
        ]
    planned: list[tuple[Section, int, str]] = []  # section, piece number, text
    for i, s in enumerate(doc.sections):
        texts = split_text(s.text, max_chars)
        if not texts and s.heading_path and _has_children(doc.sections, i):
            texts = split_text(s.heading_path[-1], max_chars)
        planned.extend((s, part, t) for part, t in enumerate(texts))
    ids = passage_ids(doc.doc_id, [(s.label, part) for s, part, _ in planned])
    return [
        Passage(
            id=pid, doc_id=doc.doc_id, doc_title=doc.title, ord=ord_, text=t, label=s.label,
            heading_path=list(s.heading_path), anchors=list(s.anchors) if part == 0 else [],
        )
        for ord_, (pid, (s, part, t)) in enumerate(zip(ids, planned))
    ]
