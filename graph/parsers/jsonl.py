"""BEIR-like JSONL, already split into passages: one record a line.

Fields: `_id`, `text`, `title`, optional `doc_id`, `doc_name`, `passage_id`, `ord`.
Records are grouped into documents by `doc_id` (else `doc_name`; with neither each
record is a document of its own), sorted by `ord` when every record of the document
has one (file order otherwise).  Each record is one `Section` with `id=_id` and
`label=passage_id`; its heading path is the document's name, then the record's
title when that says more than "docname label" (a Wikipedia paragraph's or a
paper's title).  Broken lines, records without `_id` or `text`, repeated ids and
records with empty text and no label are skipped and reported in one warning.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from graph.ids import safe_id, slug
from graph.model import ParsedDocument, Section
from graph.parsers.text import ParseError, Warn, decode, iter_lines

__all__ = ["parse"]

_SHOWN_PROBLEMS = 5


@lru_cache(maxsize=1 << 16)  # a document's name and its records' titles repeat on every record
def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


def _says_more(title: str, doc_name: str | None, label: str | None) -> bool:
    """True when `title` is more than the document name and/or the record's label."""
    t = _norm(title)
    if not t:
        return False
    trivial = {_norm(x) for x in (doc_name or "", label or "", f"{doc_name or ''} {label or ''}")}
    return t not in trivial


def _str_field(rec: dict[str, Any], key: str) -> str | None:
    v = rec.get(key)
    if v is None or isinstance(v, (dict, list, bool)):
        return None
    s = str(v).strip()
    return s or None


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, line_no: int, what: str) -> None:
        self.items.append(f"line {line_no} {what}")

    def summary(self) -> str:
        n = len(self.items)
        shown = "; ".join(self.items[:_SHOWN_PROBLEMS]) + ("; ..." if n > _SHOWN_PROBLEMS else "")
        return f"{n} line{'s' if n != 1 else ''} skipped: {shown}"


def parse(path: Path, raw: bytes, doc_id: str, warn: Warn | None = None) -> list[ParsedDocument]:
    """The documents of a JSONL file, in order of their first record."""
    problems = _Problems()
    seen: set[str] = set()
    renamed = 0
    groups: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for line_no, line in enumerate(iter_lines(decode(raw)), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            problems.add(line_no, "not JSON")
            continue
        if not isinstance(rec, dict):
            problems.add(line_no, "not a JSON object")
            continue
        rid = _str_field(rec, "_id")
        if rid is None:
            problems.add(line_no, "missing _id")
            continue
        text = rec.get("text")
        if not isinstance(text, str):
            problems.add(line_no, "missing text")
            continue
        pid = safe_id(rid)
        if pid != rid:
            renamed += 1
        if pid in seen:
            problems.add(line_no, f"duplicate _id {rid!r}")
            continue
        if not text.strip() and _str_field(rec, "passage_id") is None:
            problems.add(line_no, "empty text and no passage_id")
            continue
        seen.add(pid)
        key = _str_field(rec, "doc_id") or _str_field(rec, "doc_name")
        group = f"d:{key}" if key is not None else f"r:{pid}"
        groups.setdefault(group, []).append((rec, pid))
    if warn and problems.items:
        warn(problems.summary())
    if warn and renamed:
        warn(f"{renamed} _id(s) with whitespace or '/' had them replaced by '-'")
    if not groups:
        raise ParseError("no usable records" + (f" ({problems.summary()})" if problems.items else ""))

    docs: list[ParsedDocument] = []
    used_ids: dict[str, int] = {}
    for records in groups.values():
        first = records[0][0]
        doc_name = _str_field(first, "doc_name")
        title = doc_name or _str_field(first, "title") or records[0][1]
        if all(isinstance(r.get("ord"), (int, float)) and not isinstance(r.get("ord"), bool) for r, _ in records):
            records = sorted(records, key=lambda r: r[0]["ord"])
        name = doc_name or _str_field(first, "doc_id") or records[0][1]
        sub_id = f"{doc_id}.{slug(name)}"
        n = used_ids.get(sub_id, 0) + 1
        used_ids[sub_id] = n
        if n > 1:
            sub_id = f"{sub_id}-{n}"
        sections = []
        norm_title = _norm(title)
        for rec, pid in records:
            label = _str_field(rec, "passage_id")
            rtitle = _str_field(rec, "title") or ""
            heading_path = [title]
            if rtitle and _norm(rtitle) != norm_title and _says_more(rtitle, doc_name, label):
                heading_path.append(" ".join(rtitle.split()))
            sections.append(Section(text=rec["text"], heading_path=heading_path, label=label, level=1, id=pid))
        docs.append(ParsedDocument(doc_id=sub_id, title=title, source=str(path), sections=sections, prechunked=True))
    return docs
