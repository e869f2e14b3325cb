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

__all__ = ["EDGE_KINDS", "build_graph", "doc_node", "graph_from"]

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
    titles: dict[str, str] = {}
    for p in passages:
        titles.setdefault(p.doc_id, p.doc_title)
    return graph_from(
        [p.id for p in passages], [p.doc_id for p in passages], titles, containment,
        ((r.src, t, r.text) for r in references for t in r.targets), ((m.src, m.dst, m.term) for m in mentions),
    )


def graph_from(
    ids: Sequence[str],
    doc_of: Sequence[str],
    titles: dict[str, str],
    containment: Iterable[tuple[str, str]],
    references: Iterable[tuple[str, str, str]],
    mentions: Iterable[tuple[str, str, str]],
) -> nx.MultiDiGraph:
    """`build_graph` from plain values: passage ids and their documents' ids in reading order, each
    document's title, (parent, child) pairs, (source, target, text) of reference and mention edges.
    What `graph.store` builds from an index's sidecar arrays without a `Passage` per row."""
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

    node_attrs = {d: {"kind": "passage", "doc_id": d} for d in titles}
    only_next, only_prev = _ONLY["next"], _ONLY["prev"]
    previous: str | None = None
    previous_doc: str | None = None
    for pid, d in zip(ids, doc_of):
        if pid in nodes:  # an id seen before (not from an index, whose ids are unique): the general path
            add_node(pid, node_attrs[d])
            if previous is not None and previous_doc == d:
                add_edge(previous, pid, "next")
                add_edge(pid, previous, "prev")
        else:
            nodes[pid] = node_attrs[d]
            out: dict[str, Any] = {}
            into: dict[str, Any] = {}
            succ[pid] = out
            pred[pid] = into
            if previous is not None and previous_doc == d:  # a new node: both pairs are new
                succ[previous][pid] = only_next
                into[previous] = only_next
                out[previous] = only_prev
                pred[previous][pid] = only_prev
        previous, previous_doc = pid, d
    has_parent: set[str] = set()
    only_parent, only_child = _ONLY["parent"], _ONLY["child"]
    for parent, child in containment:
        if parent in nodes and child in nodes and parent != child:
            if parent in succ[child] or child in succ[parent]:  # a pair with edges already: its own key dict
                add_edge(child, parent, "parent")
                add_edge(parent, child, "child")
            else:  # what add_edge does for two new pairs
                succ[child][parent] = only_parent
                pred[parent][child] = only_parent
                succ[parent][child] = only_child
                pred[child][parent] = only_child
            has_parent.add(child)
    doc_nodes: dict[str, str] = {}
    for pid, d in zip(ids, doc_of):
        node = doc_nodes.get(d)
        if node is None:
            node = doc_nodes[d] = doc_node(d)
            if node not in nodes:
                add_node(node, {"kind": "document", "doc_id": d, "title": titles[d]})
        if pid not in has_parent:
            if node in succ[pid]:  # not from an index (a passage id that is a document node's name)
                add_edge(pid, node, "parent")
                add_edge(node, pid, "child")
            else:  # both pairs new, as add_edge would find them
                succ[pid][node] = only_parent
                pred[node][pid] = only_parent
                succ[node][pid] = only_child
                pred[pid][node] = only_child
    for src, target, text in references:
        if target in nodes and target != src:
            add_edge(src, target, "reference", text)
    for src, dst, term in mentions:
        if dst in nodes and src in nodes and src != dst:
            add_edge(src, dst, "mention", term)
    nx._clear_cache(g)
    return nx.freeze(g)
