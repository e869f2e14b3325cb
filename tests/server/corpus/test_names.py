"""Unknown names cost the same on 50 documents as on 50,000: suggestions search a sorted window,
and a title two documents share is refused with their ids (never one picked silently)."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import networkx as nx
import pytest

from graph.model import Passage
from server.corpus import Corpus
from server.corpus.names import NameIndex
from server.errors import UsageError

N_DOCS = 50_000


@pytest.fixture(scope="module")
def big() -> Corpus:
    """50,000 one-passage documents; a stand-in for the stored index (no tantivy needed to look up names)."""
    passages = [Passage(id=f"policy-{i:05d}:1", doc_id=f"policy-{i:05d}", doc_title=f"Ward policy number {i}",
                        ord=0, text="text", label="1", heading_path=[]) for i in range(N_DOCS)]
    passages.append(Passage(id="readme-a:1", doc_id="a/README", doc_title="README", ord=0, text="a", label="1", heading_path=[]))
    passages.append(Passage(id="readme-b:1", doc_id="b/README", doc_title="README", ord=0, text="b", label="1", heading_path=[]))
    stored = SimpleNamespace(passages=passages, by_id={p.id: i for i, p in enumerate(passages)},
                             graph=nx.MultiDiGraph(), references=[], mentions=[], bm25=None)
    return Corpus(stored)  # type: ignore[arg-type]


def test_unknown_names_are_fast_on_50000_documents(big: Corpus) -> None:
    for name in ("Ward policy numbr 12345", "policy-1234x", "zzz nothing like it"):
        t = time.perf_counter()
        with pytest.raises(UsageError, match="unknown document"):
            big.document_id(name)
        assert time.perf_counter() - t < 0.2
    t = time.perf_counter()
    with pytest.raises(UsageError, match="unknown passage id"):
        big.passage("policy-12345:2")
    assert time.perf_counter() - t < 0.2


def test_four_unknown_lookups_at_once_stay_fast(big: Corpus) -> None:
    errors: list[float] = []

    def one(i: int) -> None:
        t = time.perf_counter()
        try:
            big.document_id(f"Ward policy numbr {i}")
        except UsageError:
            errors.append(time.perf_counter() - t)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(errors) == 4 and time.perf_counter() - t < 0.5


def test_suggestions_still_find_near_misses(big: Corpus) -> None:
    with pytest.raises(UsageError, match="Did you mean 'Ward policy number 4242'"):
        big.document_id("Ward policy number 4242x")
    assert big.document_id("ward POLICY number 7") == "policy-00007"  # titles match case-insensitively


def test_a_shared_title_is_refused_with_the_ids(big: Corpus) -> None:
    with pytest.raises(UsageError, match=r"2 documents are titled 'README'.*'a/README'.*'b/README'"):
        big.document_id("README")
    assert big.document_id("a/README") == "a/README"


def test_name_index_window_bounds_the_work() -> None:
    index = NameIndex([f"name {i}" for i in range(1000)], window=5)
    assert index.suggest("name 500x")[0] == "name 500"
    assert index.suggest("zzz") == []
    assert index.exact("NAME 7") == "name 7"
