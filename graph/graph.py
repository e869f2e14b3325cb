"""The passage graph: networkx MultiDiGraph with typed edges, built from passages and links."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx

from graph.model import Mention, Passage, Reference

__all__ = ["EDGE_KINDS", "build_graph", "doc_node"]

EDGE_KINDS = ("next", "prev", "parent", "child", "reference", "mention")


def doc_node(doc_id: str) -> str:
    return f"doc::{doc_id}"


def build_graph(
    passages: Sequence[Passage],
    references: Iterable[Reference],
    containment: Iterable[tuple[str, str]],
    mentions: Iterable[Mention],
) -> nx.MultiDiGraph:
    """Passages and documents as nodes; reading order, containment, references, mentions as edges.

    `parent` points from a child to its container, `child` the other way; a document node is
    the parent of its passages that have no other parent.
    """
    g = nx.MultiDiGraph()
    previous: Passage | None = None
    for p in passages:
        g.add_node(p.id, kind="passage", doc_id=p.doc_id)
        if previous is not None and previous.doc_id == p.doc_id:
            g.add_edge(previous.id, p.id, kind="next")
            g.add_edge(p.id, previous.id, kind="prev")
        previous = p
    has_parent: set[str] = set()
    for parent, child in containment:
        if parent in g and child in g and parent != child:
            g.add_edge(child, parent, kind="parent")
            g.add_edge(parent, child, kind="child")
            has_parent.add(child)
    for p in passages:
        node = doc_node(p.doc_id)
        if node not in g:
            g.add_node(node, kind="document", doc_id=p.doc_id, title=p.doc_title)
        if p.id not in has_parent:
            g.add_edge(p.id, node, kind="parent")
            g.add_edge(node, p.id, kind="child")
    for ref in references:
        for target in ref.targets:
            if target in g and target != ref.src:
                g.add_edge(ref.src, target, kind="reference", text=ref.text)
    for m in mentions:
        if m.dst in g and m.src in g and m.src != m.dst:
            g.add_edge(m.src, m.dst, kind="mention", text=m.term)
    return g
