"""Stable, human-writable ids for documents and passages.

doc id: the file's path inside the indexed folder, lowercased, extension dropped,
`/` -> `.`, every other character outside [a-z0-9._-] -> `-`
(`Guidelines/Sepsis Care.md` -> `guidelines.sepsis-care`).  With several source folders the
indexed folder is the one they share, so each path starts with its source folder's name
(`valgrind/html/index.html` -> `valgrind.html.index`; `graph.ingest`).

passage id (files): `{doc_id}:{label}` when the section's label is unique in the
document, `{doc_id}:{label}~2`, `~3`... for the further pieces of a split section,
`{doc_id}:p{ord}` for unlabelled passages and duplicate labels.  Pre-chunked
sources (JSONL) keep their own ids.  Ids never contain `/` or whitespace.

paths: a passage keeps its file's path inside the indexed folder (with several sources, the folder
they share), so that two `index.html` stay apart.

titles: two documents with one title (two `README.md`, two pages titled "Introduction")
are told apart by their path: `README (docs/a/README.md)`.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path, PurePath

from graph.model import Passage

__all__ = ["doc_id_for", "slug", "slug_doc_id", "passage_ids", "safe_id", "distinct_titles"]

_NOT_DOC_CHAR = re.compile(r"[^a-z0-9._-]")
_UNSAFE_ID = re.compile(r"[\s/]+")


def slug(name: str) -> str:
    """`name` lowercased, every character outside [a-z0-9._-] -> `-` (never empty)."""
    return _NOT_DOC_CHAR.sub("-", name.lower()) or "doc"


def slug_doc_id(relative: str | PurePath, keep_suffix: bool = False) -> str:
    """The doc id of a relative path (`Guidelines/Sepsis Care.md` -> `guidelines.sepsis-care`); `keep_suffix`: a
    name whose last part is no extension (`changelog.Debian`, read as text) keeps it (`changelog.debian`)."""
    rel = PurePath(relative)
    parts = list(rel.parts)
    if not parts:
        return "doc"
    parts[-1] = rel.stem if rel.suffix and not keep_suffix else rel.name
    joined = ".".join(p for p in parts if p not in ("", ".", "/"))
    return slug(joined)


def doc_id_for(path: Path, root: Path) -> str:
    """The doc id of `path` inside `root` (a file given on its own: its parent is the root)."""
    try:
        rel = PurePath(path).relative_to(root)
    except ValueError:
        rel = PurePath(PurePath(path).name)
    if not rel.parts:  # the path is the root itself
        rel = PurePath(PurePath(path).name)
    return slug_doc_id(rel)


def safe_id(raw: str) -> str:
    """`raw` with runs of whitespace and `/` replaced by `-` (ids are used in URIs and paths)."""
    return _UNSAFE_ID.sub("-", raw.strip()) or "-"


def passage_ids(doc_id: str, pieces: Sequence[tuple[str | None, int]]) -> list[str]:
    """Ids for a document's passages in reading order.

    `pieces[i]` is (label of the section passage i comes from, index of the passage
    within that section: 0 for its first piece).  A label names the document's
    passages only when one section carries it; otherwise `p{ord}`.  The result is
    unique even for odd labels that look like `p3` or end in `~2`.
    """
    sections_per_label = Counter(label for label, part in pieces if label and part == 0)
    ids: list[str] = []
    used: set[str] = set()
    for ord_, (label, part) in enumerate(pieces):
        if label and sections_per_label[label] == 1:
            base = f"{doc_id}:{safe_id(label)}"
            pid = base if part == 0 else f"{base}~{part + 1}"
        else:
            pid = f"{doc_id}:p{ord_}"
        if pid in used:
            n = 2
            while f"{pid}~{n}" in used:
                n += 1
            pid = f"{pid}~{n}"
        used.add(pid)
        ids.append(pid)
    return ids


def distinct_titles(passages: Sequence[Passage]) -> int:
    """Give documents that share a title their path in it (in place); returns how many were renamed."""
    docs: dict[str, tuple[str, str]] = {}  # doc id -> (title, source)
    for p in passages:
        docs.setdefault(p.doc_id, (p.doc_title, p.source or p.doc_id))
    shared = Counter(title.strip().lower() for title, _ in docs.values())
    renamed = {
        d: f"{title} ({source})" for d, (title, source) in docs.items()
        if shared[title.strip().lower()] > 1 and source not in title
    }
    for p in passages:
        if p.doc_id in renamed:
            p.doc_title = renamed[p.doc_id]
    return len(renamed)
