"""build_graph shares the dicts of structural edges (memory at scale): it must still build exactly the
graph that networkx's own add_node/add_edge build, and refuse changes."""
from pathlib import Path

import networkx as nx
import pytest

from graph.graph import build_graph, doc_node
from graph.ingest import ingest
from graph.mentions import find_mentions
from graph.model import Mention, Reference
from graph.resolver import resolve_references
from graph.structure import containment
from server.settings import SAMPLE_CORPUS


def _reference_build(passages, references, contained, mentions) -> nx.MultiDiGraph:
    """build_graph as it was before the dicts were shared: one add_edge per edge."""
    g = nx.MultiDiGraph()
    previous = None
    for p in passages:
        g.add_node(p.id, kind="passage", doc_id=p.doc_id)
        if previous is not None and previous.doc_id == p.doc_id:
            g.add_edge(previous.id, p.id, kind="next")
            g.add_edge(p.id, previous.id, kind="prev")
        previous = p
    has_parent = set()
    for parent, child in contained:
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


def _same(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> None:
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(keys=True, data=True)) == list(b.edges(keys=True, data=True))
    for n in a:  # the order the read side walks them in
        assert list(a.out_edges(n, keys=True, data=True)) == list(b.out_edges(n, keys=True, data=True))
        assert list(a.in_edges(n, keys=True, data=True)) == list(b.in_edges(n, keys=True, data=True))


def test_same_graph_as_add_edge_on_the_sample_corpus() -> None:
    passages = ingest([SAMPLE_CORPUS / "docs"]).passages
    refs, contained, mentions = resolve_references(passages), containment(passages), find_mentions(passages)
    assert sum(r.resolved for r in refs) > 10 and contained and mentions
    _same(build_graph(passages, refs, contained, mentions), _reference_build(passages, refs, contained, mentions))


def test_several_edges_between_one_pair_get_their_own_keys() -> None:
    from tests.conftest import tiny_passages

    ps = tiny_passages()
    a, b = ps[0].id, ps[1].id
    # a reference and a mention over an existing next edge, twice, and one from an unknown passage
    refs = [Reference(src=a, text="see 1.1", targets=[b]), Reference(src=a, text="Rule 1.1", targets=[b]),
            Reference(src="ghost", text="x", targets=[a])]
    mentions = [Mention(src=a, dst=b, term="Appointment")]
    g = build_graph(ps, refs, [(a, b)], mentions)
    _same(g, _reference_build(ps, refs, [(a, b)], mentions))
    assert [d["kind"] for d in g[a][b].values()] == ["next", "child", "reference", "reference", "mention"]
    # the pair's own key dict: the shared one of every other next edge is untouched
    assert [d["kind"] for d in g[ps[1].id][ps[2].id].values()] == ["next"]


def test_graph_is_frozen() -> None:
    from tests.conftest import tiny_passages

    g = build_graph(tiny_passages(), [], [], [])
    with pytest.raises(nx.NetworkXError):
        g.add_edge("x", "y", kind="next")
