"""BEIR-like JSONL, already split into passages: one record a line.

Fields: `_id`, `text`, `title`, optional `doc_id`, `doc_name`, `passage_id`, `ord`.
Records are grouped into documents by `doc_id` (else `doc_name`; with neither each
record is a document of its own), sorted by `ord` when every record of the document
has one (file order otherwise).  Each record is one `Section` with `id=_id` and
`label=passage_id`; its heading path is the document's name, then the record's
title when that says more than "docname label" (a Wikipedia paragraph's or a
paper's title).  Broken lines, records without `_id` or `text`, repeated ids and
records with empty text and no label are skipped and reported in one warning.

A re-parse of a changed file need not decode every record (`parse_lines`): each line is known by a hash
of its bytes, and a table of what the previous parse learnt from each line (its record's id, document
and name, or why it was skipped: `Lines`) lets the grouping be replayed without JSON; a document's
digest is a hash of its lines' hashes, so only documents with a new line are decoded and built.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from graph.ids import safe_id, slug
from graph.model import ParsedDocument, Section
from graph.parsers.text import ParseError, Warn, decode, iter_lines

__all__ = ["parse", "parse_lines", "Lines"]

_SHOWN_PROBLEMS = 5
_BOM = "\ufeff".encode("utf-8")

# A line table (JSON, kept by the caller for the next parse of the same file):
# {"names": [[doc key, doc name], ...], "lines": {line hash: what the line gave}}, where what a line gave is
# the reason it was skipped (a str) or [passage id, index into names, empty text without a label (0/1), _id]
# (the last two only when not 0 and the passage id).
Lines = dict[str, Any]


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


def _split(raw: bytes) -> list[bytes]:
    """The file's lines as UTF-8 bytes, as `iter_lines(decode(raw))` splits them (undecodable bytes replaced)."""
    try:
        if not raw.isascii():
            raw.decode("utf-8")
    except UnicodeDecodeError:
        return [line.encode("utf-8") for line in iter_lines(decode(raw))]
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw.split(b"\n")


class _Table:
    """A line table (`Lines`): the previous parse's, for lookups, and this parse's, filled as lines are read."""

    def __init__(self, table: Lines | None) -> None:
        old = table or {}
        self.old: dict[str, Any] = old.get("lines") or {}
        self.names: list[tuple[str | None, str | None]] = [(k, n) for k, n in old.get("names") or []]
        self.number = {kn: i for i, kn in enumerate(self.names)}
        # the group a record of each name goes to ("d:" and its doc_id or doc_name; None: a document of its own)
        self.groups: list[str | None] = [None if k is None else f"d:{k}" for k, _ in self.names]
        self.lines: dict[str, Any] = {}

    def read(self, text: str) -> tuple[str | list[Any], dict[str, Any] | None]:
        """(what a non-blank line gives, as the table keeps it; its record, if it has one)."""
        try:
            rec = json.loads(text)
        except ValueError:
            return "not JSON", None
        if not isinstance(rec, dict):
            return "not a JSON object", None
        rid = _str_field(rec, "_id")
        if rid is None:
            return "missing _id", None
        body = rec.get("text")
        if not isinstance(body, str):
            return "missing text", None
        pid = safe_id(rid)
        empty = not body.strip() and _str_field(rec, "passage_id") is None
        doc_name, doc_id = _str_field(rec, "doc_name"), _str_field(rec, "doc_id")
        kn = (doc_id or doc_name, doc_name or doc_id)
        n = self.number.get(kn)
        if n is None:
            n = self.number[kn] = len(self.names)
            self.names.append(kn)
            self.groups.append(None if kn[0] is None else f"d:{kn[0]}")
        return ([pid, n, int(empty), rid] if empty or rid != pid else [pid, n]), rec

    def dump(self) -> Lines:
        """This parse's table (names no line uses any more left out)."""
        used = sorted({e[1] for e in self.lines.values() if not isinstance(e, str)})
        if len(used) == len(self.names):
            return {"names": [list(kn) for kn in self.names], "lines": self.lines}
        new = {n: i for i, n in enumerate(used)}
        lines = {h: e if isinstance(e, str) else [e[0], new[e[1]], *e[2:]] for h, e in self.lines.items()}
        return {"names": [list(self.names[n]) for n in used], "lines": lines}


def parse(path: Path, raw: bytes, doc_id: str, warn: Warn | None = None) -> list[ParsedDocument]:
    """The documents of a JSONL file, in order of their first record."""
    docs, _, _ = parse_lines(path, raw, doc_id, warn)
    return [d for d in docs if isinstance(d, ParsedDocument)]


def parse_lines(
    path: Path, raw: bytes, doc_id: str, warn: Warn | None = None, known: set[str] | frozenset[str] = frozenset(),
    table: Lines | None = None,
) -> tuple[list[ParsedDocument | str], list[str], Lines]:
    """(the documents of a JSONL file, in order of their first record, a document whose digest is in `known`
    given as that digest; each document's digest; the file's line table for the next parse).  `table`: the
    line table of a previous parse of this file (any version of it): lines found there are not decoded."""
    problems = _Problems()
    seen: set[str] = set()
    renamed = 0
    lines = _split(raw)
    hashes: list[str] = []
    records: dict[int, dict[str, Any]] = {}  # line index -> its record, for the lines decoded
    groups: dict[str, list[tuple[int, list[Any]]]] = {}
    tab = _Table(table)
    for i, line in enumerate(lines):
        h = hashlib.blake2b(line, digest_size=16).hexdigest()
        hashes.append(h)
        got = tab.old.get(h)
        if got is None:
            text = line.decode("utf-8")
            if not text.strip():
                continue
            got, rec = tab.read(text)
            if rec is not None:
                records[i] = rec
        tab.lines[h] = got
        if isinstance(got, str):
            problems.add(i + 1, got)
            continue
        pid = got[0]
        rid = got[3] if len(got) > 2 else pid
        if pid != rid:
            renamed += 1
        if pid in seen:
            problems.add(i + 1, f"duplicate _id {rid!r}")
            continue
        if len(got) > 2 and got[2]:
            problems.add(i + 1, "empty text and no passage_id")
            continue
        seen.add(pid)
        groups.setdefault(tab.groups[got[1]] or f"r:{pid}", []).append((i, got))
    if warn and problems.items:
        warn(problems.summary())
    if warn and renamed:
        warn(f"{renamed} _id(s) with whitespace or '/' had them replaced by '-'")
    if not groups:
        raise ParseError("no usable records" + (f" ({problems.summary()})" if problems.items else ""))

    docs: list[ParsedDocument | str] = []
    digests: list[str] = []
    used_ids: dict[str, int] = {}
    for members in groups.values():
        first = members[0][1]
        sub_id = f"{doc_id}.{slug(tab.names[first[1]][1] or first[0])}"
        n = used_ids.get(sub_id, 0) + 1
        used_ids[sub_id] = n
        if n > 1:
            sub_id = f"{sub_id}-{n}"
        h = hashlib.sha256(json.dumps([sub_id, str(path), [hashes[i] for i, _ in members]]).encode("utf-8")).hexdigest()
        digests.append(h)
        if h in known:
            docs.append(h)
            continue
        recs = [(records[i] if i in records else json.loads(lines[i].decode("utf-8")), got[0]) for i, got in members]
        docs.append(_document(path, sub_id, recs))
    return docs, digests, tab.dump()


def _document(path: Path, sub_id: str, records: list[tuple[dict[str, Any], str]]) -> ParsedDocument:
    """One document from its records (record, passage id), in file order."""
    first = records[0][0]
    doc_name = _str_field(first, "doc_name")
    title = doc_name or _str_field(first, "title") or records[0][1]
    if all(isinstance(r.get("ord"), (int, float)) and not isinstance(r.get("ord"), bool) for r, _ in records):
        records = sorted(records, key=lambda r: r[0]["ord"])
    sections = []
    norm_title = _norm(title)
    for rec, pid in records:
        label = _str_field(rec, "passage_id")
        rtitle = _str_field(rec, "title") or ""
        heading_path = [title]
        if rtitle and _norm(rtitle) != norm_title and _says_more(rtitle, doc_name, label):
            heading_path.append(" ".join(rtitle.split()))
        sections.append(Section(text=rec["text"], heading_path=heading_path, label=label, level=1, id=pid))
    return ParsedDocument(doc_id=sub_id, title=title, source=str(path), sections=sections, prechunked=True)
