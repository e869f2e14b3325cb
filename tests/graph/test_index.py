from pathlib import Path

from graph.index import BM25Index
from graph.store import load_index


def _bm25(tiny_index: Path) -> BM25Index:
    return load_index(tiny_index).bm25


def test_stemmed_search_ranks_the_matching_passage_first(tiny_index: Path) -> None:
    hits = _bm25(tiny_index).search("notifying the regulator in writing", 3)
    assert hits and hits[0].pos == 4  # gen:4 "Notifications to the Regulator ... in writing"


def test_document_filter_and_paging(tiny_index: Path) -> None:
    ix = _bm25(tiny_index)
    assert {h.pos for h in ix.search("rules officer records", 10, doc_id="gen")} <= {4, 5}
    everything = ix.search("the", 10)
    assert ix.search("the", 2, offset=1)[0].pos == everything[1].pos


def test_query_syntax_is_inert(tiny_index: Path) -> None:
    ix = _bm25(tiny_index)
    for q in ['title:"(( AND OR', "*:*", "doc_id:gen", "NOT money", "+++---", ""]:
        ix.search(q, 5)  # never raises
    assert ix.search("+++---", 5) == []
