"""The read side depends on three small Protocols (graph.backends): the embedded implementations satisfy
them, and a Corpus runs on another text index without a change (the seam a distributed backend uses)."""
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from graph.backends import GraphStore, PassageStore, TextIndex
from graph.graph import build_graph
from graph.index import BM25Index
from graph.store import PassageTable, StoredIndex, load_index
from server.corpus import Corpus
from tests.conftest import tiny_passages


def test_embedded_backends_satisfy_the_protocols(tiny_index: Path) -> None:
    stored = load_index(tiny_index)
    assert isinstance(stored.bm25, BM25Index) and isinstance(stored.bm25, TextIndex)
    assert isinstance(stored.passages, PassageTable) and isinstance(stored.passages, PassageStore)
    assert isinstance(stored.graph, nx.MultiDiGraph) and isinstance(stored.graph, GraphStore)
    assert [p.id for p in stored.passages] == [p.id for p in tiny_passages()]
    assert stored.passages[-1].id == tiny_passages()[-1].id and stored.passages[1:3][0].id == "aml:1.1"


@dataclass
class _Hit:
    pos: int
    score: float


class _SubstringIndex:
    """A stand-in for a remote engine: passages whose text holds every query word."""

    def __init__(self, passages) -> None:
        self.passages = passages

    @staticmethod
    def terms(query: str) -> list[str]:
        return query.lower().split()

    def search(self, query: str, limit: int, offset: int = 0, doc_id: str | None = None) -> list[_Hit]:
        words = self.terms(query)
        hits = [_Hit(i, 1.0) for i, p in enumerate(self.passages)
                if all(w in p.text.lower() for w in words) and (doc_id is None or p.doc_id == doc_id)]
        return hits[offset: offset + limit]


def test_corpus_runs_on_another_text_index(tmp_path: Path) -> None:
    ps = tiny_passages()
    index = _SubstringIndex(ps)
    assert isinstance(index, TextIndex)
    stored = StoredIndex(folder=tmp_path, generation=tmp_path, meta={}, passages=ps, references=[], mentions=[],
                         graph=build_graph(ps, [], [], []), bm25=index)
    corpus = Corpus(stored)
    assert [h.id for h in corpus.search("suspicious report").hits] == ["aml:2.1"]
    assert [p.id for p in corpus.neighbors("aml:2.1", before=1, after=1).passages] == ["aml:2", "aml:2.1"]
