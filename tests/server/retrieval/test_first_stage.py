"""The hybrid first stage with a deterministic fake encoder (no model): dense search over the passage
matrix, RRF and normalised fusion, `search`'s mode through Services and the MCP schema, and walk seeds
taken from the same first stage."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import anyio
import numpy as np
import pytest

from graph.model import Passage
from server.corpus import Corpus
from server.errors import UsageError
from server.eval.strategies import StrategyParts, make_strategy
from server.retrieval import DenseIndex, FirstStage, FusionOptions, fuse_normalised, fuse_rrf
from server.traversal import deep_search
from tests.conftest import make_services, server_over

SYNONYMS = {"mlro": "officer", "sar": "suspicious"}
OFFICER = {"aml:1.1", "aml:2.1"}  # the passages that say officer


class FakeEncoder:
    """Bag of hashed words, with a few synonyms folded in, unit length: 'MLRO' lands on 'officer'."""

    name = "fake-encoder"

    def __init__(self) -> None:
        self.matrix_calls = 0

    @staticmethod
    def _vec(text: str) -> np.ndarray:
        v = np.zeros(64, dtype=np.float32)
        for w in re.findall(r"[a-z0-9]+", text.lower()):
            w = SYNONYMS.get(w, w)
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def query_vector(self, text: str) -> np.ndarray:
        return self._vec(text)

    def passage_matrix(self, passages: Sequence[Passage]) -> np.ndarray:
        self.matrix_calls += 1
        return np.stack([self._vec(p.text) for p in passages])

    def score(self, query: str, passages: Sequence[Passage]) -> list[float]:
        q = self._vec(query)
        return [float(self._vec(p.text) @ q) for p in passages]


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = fuse_rrf([[(1, 9.0), (2, 5.0)], [(2, 0.9), (3, 0.8)]], k=60)
    assert [p for p, _ in fused] == [2, 1, 3]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_normalised_fusion_weights_min_max_scores() -> None:
    fused = dict(fuse_normalised([[(1, 10.0), (2, 0.0)], [(2, 1.0), (3, 0.0)]], [0.3, 0.7]))
    assert fused == pytest.approx({1: 0.3, 2: 0.7, 3: 0.0})


def test_dense_finds_what_bm25_cannot(tiny_corpus: Corpus) -> None:
    assert tiny_corpus.bm25("MLRO", 5) == []
    dense = DenseIndex(tiny_corpus, FakeEncoder())
    top = [tiny_corpus.passages[p].id for p, _ in dense.search("MLRO", 3)]
    assert set(top[:2]) == OFFICER  # found by the synonym, not a shared word
    assert dense.matrix.dtype == np.float32 and dense.matrix.flags["C_CONTIGUOUS"]
    assert [tiny_corpus.passages[p].doc_id for p, _ in dense.search("MLRO", 5, doc_id="gen")] == ["gen", "gen"]


def test_the_matrix_is_built_once(tiny_corpus: Corpus) -> None:
    enc = FakeEncoder()
    stage = FirstStage(tiny_corpus, DenseIndex(tiny_corpus, enc))
    for q in ("MLRO", "records", "report"):
        stage.ranked(q, 3, "hybrid")
    assert enc.matrix_calls == 1


@pytest.mark.parametrize("fusion", [FusionOptions("rrf"), FusionOptions("normalised", dense_weight=0.5)])
def test_hybrid_keeps_bm25_hits_and_adds_dense_ones(tiny_corpus: Corpus, fusion: FusionOptions) -> None:
    stage = FirstStage(tiny_corpus, DenseIndex(tiny_corpus, FakeEncoder()), "hybrid", fusion)
    bm25 = [p.id for p, _ in stage.ranked("MLRO records", 6, "bm25")]
    hybrid = [p.id for p, _ in stage.ranked("MLRO records", 6)]
    assert bm25 == ["gen:5"] and "gen:5" in hybrid[:3] and OFFICER & set(hybrid[:2])


def test_a_stage_without_vectors_refuses_dense_in_one_line(tiny_corpus: Corpus) -> None:
    stage = FirstStage(tiny_corpus)
    assert stage.mode == "bm25"
    with pytest.raises(UsageError, match="need an embedding model"):
        stage.ranked("report", 3, "dense")


def test_services_search_by_mode(tiny_corpus: Corpus, tmp_path: Path) -> None:
    services = make_services(tiny_corpus, tmp_path, reranker_override=FakeEncoder(), search_mode="hybrid")
    early = services.search("MLRO", k=2)  # the default mode never waits for every passage to be encoded
    assert early.mode == "bm25" and "not ready" in early.hint and "mode='hybrid'" in early.hint
    assert services.search("MLRO", k=2, mode="hybrid").mode == "hybrid"  # asking for it builds the vectors
    found = services.search("MLRO", k=2)
    assert found.mode == "hybrid" and found.hits[0].id in OFFICER
    assert services.search("MLRO", k=2, mode="dense").hits[0].id in OFFICER
    assert services.search("Records", k=2, mode="bm25").hits[0].id == "gen:5"
    page = services.search("report officer", k=1, offset=1, mode="hybrid")
    assert len(page.hits) == 1 and page.hits[0].id == services.search("report officer", k=2).hits[1].id
    with pytest.raises(UsageError, match=r"^unknown mode 'fuzzy': use 'bm25'"):
        services.search("report", mode="fuzzy")


def test_mcp_search_mode_is_an_enum_and_a_bad_one_is_a_tool_error(tiny_corpus: Corpus) -> None:
    from mcp import Client

    async def go() -> None:
        async with Client(server_over(tiny_corpus, reranker_override=FakeEncoder(), search_mode="hybrid")) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            schema = tools["search"].input_schema["properties"]["mode"]
            assert {"bm25", "dense", "hybrid"} == set(next(a for a in schema["anyOf"] if "enum" in a)["enum"])
            ok = await client.call_tool("search", {"query": "MLRO", "k": 2, "mode": "dense"})
            assert not ok.is_error and ok.structured_content["hits"][0]["id"] in OFFICER
            assert ok.structured_content["mode"] == "dense"
            default = await client.call_tool("search", {"query": "MLRO", "k": 2})
            assert default.structured_content["mode"] == "hybrid"
            bad = await client.call_tool("search", {"query": "MLRO", "mode": "fuzzy"})
            assert bad.is_error and len(bad.content[0].text) < 500
    anyio.run(go)


def test_walk_seeds_from_the_first_stage(tiny_corpus: Corpus) -> None:
    enc = FakeEncoder()
    stage = FirstStage(tiny_corpus, DenseIndex(tiny_corpus, enc), "dense")
    plain = deep_search(tiny_corpus, enc, "MLRO", "walk", max_steps=1, k=3)
    seeded = deep_search(tiny_corpus, enc, "MLRO", "walk", max_steps=1, k=3, first_stage=stage)
    assert plain.trace[0].added == []  # BM25 knows no 'MLRO'
    assert OFFICER <= set(seeded.trace[0].added) and seeded.evidence[0].id in OFFICER


def test_hybrid_strategies_need_a_first_stage(tiny_corpus: Corpus) -> None:
    with pytest.raises(ValueError, match="needs a first stage"):
        make_strategy("hybrid+rerank", StrategyParts(reranker=FakeEncoder()))
    enc = FakeEncoder()
    parts = StrategyParts(reranker=enc, first_stage=FirstStage(tiny_corpus, DenseIndex(tiny_corpus, enc)))
    for name in ("dense", "hybrid", "hybrid+rerank", "walk+hybrid"):
        assert make_strategy(name, parts)(tiny_corpus, "MLRO", 3)[0] in OFFICER, name


def test_a_new_generation_gets_its_own_first_stage_built_before_it_serves(tiny_corpus: Corpus, tmp_path: Path) -> None:
    """After a re-index the dense matrix is rebuilt over the new corpus in the loading thread (_swap), so
    hybrid search never ranks positions of the old generation's passages."""
    enc = FakeEncoder()
    services = make_services(tiny_corpus, tmp_path, reranker_override=enc, search_mode="hybrid")
    services.search("MLRO", k=2, mode="hybrid")
    calls = enc.matrix_calls
    new = Corpus.open(tiny_corpus.stored.folder)  # the same index loaded again stands for a new generation
    services._swap(new)
    stage = services.first_stage()
    assert stage.corpus is new and stage.dense_ready and enc.matrix_calls == calls + 1
    assert services.search("MLRO", k=2).mode == "hybrid"
