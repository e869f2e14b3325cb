import pytest

from server.corpus import Corpus
from server.errors import UsageError


def test_search_returns_ranked_hits_with_references_and_paging(tiny_corpus: Corpus) -> None:
    r = tiny_corpus.search("suspicious activity report", k=1)
    assert r.hits[0].id == "aml:2.1"
    assert {x.text for x in r.hits[0].references} >= {"Section 4 of the GEN Rules", "Rule 99.9"}
    assert r.next_offset == 1
    page2 = tiny_corpus.search("suspicious activity report officer", k=1, offset=1)
    assert page2.hits and page2.hits[0].id != "aml:2.1"


def test_search_trims_text_and_flags_it(tiny_corpus: Corpus) -> None:
    hit = tiny_corpus.search("money laundering reporting officer", k=1, max_chars=50).hits[0]
    assert hit.truncated and len(hit.text) <= 52


def test_search_by_document_title_and_unknown_document(tiny_corpus: Corpus) -> None:
    r = tiny_corpus.search("rules records regulator officer", document="General Rules")
    assert r.hits and all(h.document == "gen" for h in r.hits)
    with pytest.raises(UsageError, match="list_documents"):
        tiny_corpus.search("rules", document="Genral Rulez")


@pytest.mark.parametrize("kwargs, message", [
    ({"query": ""}, "empty"), ({"query": "x", "k": 0}, "k must be"), ({"query": "x", "k": 101}, "k must be"),
    ({"query": "x" * 3000}, "under"), ({"query": "!!!"}, "no searchable words"),
])
def test_bad_search_calls_say_how_to_fix(tiny_corpus: Corpus, kwargs: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        tiny_corpus.search(**kwargs)


def test_neighbors_marks_target_and_reports_edges_of_document(tiny_corpus: Corpus) -> None:
    r = tiny_corpus.neighbors("aml:1", before=2, after=1)
    assert [p.id for p in r.passages] == ["aml:1", "aml:1.1"]
    assert [p.is_target for p in r.passages] == [True, False]
    assert "2 requested" in (r.note or "")
    with pytest.raises(UsageError, match="unknown passage"):
        tiny_corpus.neighbors("aml:9")


def test_follow_reference_lists_then_follows(tiny_corpus: Corpus) -> None:
    listing = tiny_corpus.follow_reference("aml:2.1")
    texts = {(r.text, r.resolved) for r in listing.references}
    assert ("Rule 99.9", False) in texts and ("Section 4 of the GEN Rules", True) in texts
    assert "could not be resolved" in (listing.note or "")
    followed = tiny_corpus.follow_reference("aml:2.1", "section 4 of the gen rules")
    assert [t.id for t in followed.targets] == ["gen:4"]
    by_id = tiny_corpus.follow_reference("aml:2.1", "gen:4")
    assert [t.id for t in by_id.targets] == ["gen:4"]
    unresolved = tiny_corpus.follow_reference("aml:2.1", "Rule 99.9")
    assert unresolved.targets == [] and "unresolved" in (unresolved.note or "")
    with pytest.raises(UsageError, match="Its references"):
        tiny_corpus.follow_reference("aml:2.1", "Article 7")


def test_get_passage_links(tiny_corpus: Corpus) -> None:
    v = tiny_corpus.get_passage("aml:2.1")
    assert v.parent == "aml:2" and v.previous == "aml:2" and v.next is None
    assert tiny_corpus.get_passage("aml:2.1").truncated is False
    assert "aml:1.1" in tiny_corpus.get_passage("aml:2.1").cited_by


def test_outline_and_list_documents(tiny_corpus: Corpus) -> None:
    o = tiny_corpus.outline("aml")
    assert [e.label for e in o.entries] == ["1", "1.1", "2", "2.1"] and o.total == 4
    docs = tiny_corpus.list_documents(limit=1)
    assert docs.total == 2 and docs.next_offset == 1 and docs.documents[0].first_passage == "aml:1"
    with pytest.raises(UsageError):
        tiny_corpus.list_documents(limit=0)
