"""The passage graph: networkx MultiDiGraph with typed edges, built from passages and links.

Memory: a million passages make some five million edges, most of them structural (next/prev,
parent/child) with nothing on them but their kind. Built edge by edge with `add_edge`, each edge owns
two small dicts (its key dict and its attribute dict), about 370 bytes. Here the structural edges
share one attribute dict per kind and, when they are the only edge between their two nodes, one key
dict per kind; passages of a document share one node-attribute dict. The graph is the same graph
(same nodes, edges, keys, attributes and iteration order, `tests/graph/test_graph.py`) and is frozen:
a shared dict must never be changed through one edge, and nothing changes a loaded graph.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx

from graph.model import Mention, Passage, Reference

__all__ = ["EDGE_KINDS", "build_graph", "doc_node"]

EDGE_KINDS = ("next", "prev", "parent", "child", "reference", "mention")
_STRUCTURAL = ("next", "prev", "parent", "child")
_ATTRS = {k: {"kind": k} for k in _STRUCTURAL}  # shared: never mutate
_ONLY = {k: {0: _ATTRS[k]} for k in _STRUCTURAL}  # shared key dict of a pair with one structural edge
_SHARED_KEYDICTS = frozenset(id(d) for d in _ONLY.values())


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
    the parent of its passages that have no other parent. The graph is frozen (`nx.freeze`).
    """
    g = nx.MultiDiGraph()
    nodes, succ, pred = g._node, g._succ, g._pred

    def add_node(n: str, attrs: dict[str, Any]) -> None:
        if n not in nodes:
            succ[n] = {}
            pred[n] = {}
        nodes[n] = attrs

    def add_edge(u: str, v: str, kind: str, text: str | None = None) -> None:
        """What `g.add_edge(u, v, kind=kind[, text=text])` does, sharing the dicts of structural edges."""
        for n in (u, v):  # as add_edge does for a node it has not seen (only a damaged index has one)
            if n not in nodes:
                add_node(n, {})
        data: dict[str, Any] = _ATTRS[kind] if text is None else {"kind": kind, "text": text}
        keydict = succ[u].get(v)
        if keydict is None:
            keydict = _ONLY[kind] if text is None else {0: data}
            succ[u][v] = keydict
            pred[v][u] = keydict
            return
        if id(keydict) in _SHARED_KEYDICTS:  # a second edge between the pair: its own key dict now
            keydict = dict(keydict)
            succ[u][v] = keydict
            pred[v][u] = keydict
        key = len(keydict)  # networkx's new_edge_key
        while key in keydict:
            key += 1
        keydict[key] = data

    node_attrs: dict[str, dict[str, Any]] = {}
    previous: Passage | None = None
    for p in passages:
        attrs = node_attrs.get(p.doc_id)
        if attrs is None:
            attrs = node_attrs[p.doc_id] = {"kind": "passage", "doc_id": p.doc_id}
        add_node(p.id, attrs)
        if previous is not None and previous.doc_id == p.doc_id:
            add_edge(previous.id, p.id, "next")
            add_edge(p.id, previous.id, "prev")
        previous = p
    has_parent: set[str] = set()
    for parent, child in containment:
        if parent in nodes and child in nodes and parent != child:
            add_edge(child, parent, "parent")
            add_edge(parent, child, "child")
            has_parent.add(child)
    for p in passages:
        node = doc_node(p.doc_id)
        if node not in nodes:
            add_node(node, {"kind": "document", "doc_id": p.doc_id, "title": p.doc_title})
        if p.id not in has_parent:
            add_edge(p.id, node, "parent")
            add_edge(node, p.id, "child")
    for ref in references:
        for target in ref.targets:
            if target in nodes and target != ref.src:
                add_edge(ref.src, target, "reference", ref.text)
    for m in mentions:
        if m.dst in nodes and m.src in nodes and m.src != m.dst:
            add_edge(m.src, m.dst, "mention", m.term)
    nx._clear_cache(g)
    return nx.freeze(g)
