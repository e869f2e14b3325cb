from pathlib import Path

from graph.index import BM25Index, query_words
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


def test_query_words_drop_common_words_and_possessives() -> None:
    assert query_words("What is the firm's duty under Rule 9.2.1?") == ["firm", "duty", "under", "rule", "9", "2", "1"]
    assert query_words("What is the firm's duty under Rule 9.2.1?", dotted=False) == ["firm", "duty", "under", "rule", "9.2.1"]
    assert query_words("What is the firm's duty", frozenset(), possessive=False, dotted=False) == [
        "what", "is", "the", "firm's", "duty"]
    assert query_words("doesn't it") == ["doesn", "t"]
    assert query_words("what is it") == ["what", "is", "it"]  # nothing but common words: all of them


def test_a_question_of_common_words_still_finds_passages(tiny_index: Path) -> None:
    stored = load_index(tiny_index)
    assert stored.bm25.search("to the", 3)  # "to" and "the" are searched when nothing else is left
    with_common = [h.pos for h in stored.bm25.search("what are the reporting duties of the officer", 3)]
    assert with_common and with_common == [h.pos for h in stored.bm25.search("reporting duties officer", 3)]
