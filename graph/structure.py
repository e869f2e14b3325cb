"""Containment edges (parent, child) inside one document, from numbered labels or heading paths.

Numbered labels: the parent is the nearest existing ancestor by label components, so `2.4.2`
contains `2.4.2.(1)` and `2.4.2.1`, `PART 5` contains `PART 5.12` (labels that carry the part).
A bare "Part 5" does not contain a separately numbered "5.1": parts and sections are numbered
independently in legislation. Passages without a numbered parent fall back to heading paths.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence

from graph.model import Passage
from graph.references import label_parts, normalize_label

__all__ = ["containment", "normalize_label"]


def _label_parent(p: Passage, parts: list[str], index: dict[str, list[tuple[int, str]]]) -> str | None:
    for k in range(len(parts) - 1, 0, -1):
        hits = index.get(".".join(parts[:k]))
        if not hits:
            continue
        # the nearest occurrence before the child, else the first one
        i = bisect_right(hits, (p.ord, "\uffff")) - 1
        pid = hits[i][1] if i >= 0 else hits[0][1]
        if pid != p.id:
            return pid
    return None


def _heading_parents(doc: list[Passage]) -> dict[str, str]:
    """Parent = latest earlier passage whose heading_path is the longest strict prefix of the child's."""
    out: dict[str, str] = {}
    last_at: dict[tuple[str, ...], str] = {}
    for p in doc:
        hp = tuple(h.strip() for h in p.heading_path if h and h.strip())
        for k in range(len(hp) - 1, 0, -1):
            parent = last_at.get(hp[:k])
            if parent is not None and parent != p.id:
                out[p.id] = parent
                break
        if hp:
            # paths that diverge from this one are closed; the first passage of a path owns it
            for key in [key for key in last_at if key != hp[: len(key)]]:
                del last_at[key]
            last_at.setdefault(hp, p.id)
    return out


def containment(passages: Sequence[Passage]) -> list[tuple[str, str]]:
    """(parent_id, child_id) edges; parent and child always share a document."""
    by_doc: dict[str, list[Passage]] = defaultdict(list)
    for p in passages:
        by_doc[p.doc_id].append(p)
    edges: list[tuple[str, str]] = []
    for doc in by_doc.values():
        doc.sort(key=lambda x: x.ord)
        index: dict[str, list[tuple[int, str]]] = defaultdict(list)
        parts_of: dict[str, list[str]] = {}
        for p in doc:
            if p.label:
                parts = label_parts(p.label)
                if parts:
                    parts_of[p.id] = parts
                    index[".".join(parts)].append((p.ord, p.id))
        heading = _heading_parents(doc)
        for p in doc:
            parent = _label_parent(p, parts_of[p.id], index) if p.id in parts_of else None
            if parent is None:
                parent = heading.get(p.id)
            if parent is not None:
                edges.append((parent, p.id))
    return edges
