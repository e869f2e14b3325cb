"""Reranker backends: the zero-shot fallback, a clear error for a folder that is not a model,
the vector cache, the cross-encoder folder path, and the bm25+rerank strategy."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from server.corpus import Corpus
from server.errors import UsageError
from server.eval.strategies import StrategyParts, make_strategy
from server.rerank import ZERO_SHOT, ZERO_SHOT_FUSED, Reranker, detect_kind, load_reranker
from server.rerank.cache import VectorCache

pytestmark = pytest.mark.slow  # loads MiniLM (make test-fast leaves it out)


@pytest.fixture(scope="module")
def zero_shot(tmp_path_factory: pytest.TempPathFactory) -> Reranker:
    return load_reranker(None, cache_dir=tmp_path_factory.mktemp("vectors"))


def test_no_model_configured_says_so_and_uses_zero_shot(zero_shot: Reranker, tiny_corpus: Corpus, capsys,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import server.rerank.embedding as emb

    monkeypatch.setattr(emb, "EmbeddingReranker", lambda path, name, **kw: (path, name))
    assert load_reranker(None, cache_dir=None) == (emb.minilm_path(), ZERO_SHOT)
    assert "no trained reranker configured" in capsys.readouterr().err
    fused = load_reranker(None, tiny_corpus, cache_dir=None)  # with a corpus: BM25 + cosine, no labels
    assert fused.name == ZERO_SHOT_FUSED and "label-free fusion" in capsys.readouterr().err
    assert zero_shot.name == ZERO_SHOT and isinstance(zero_shot, Reranker)
    ps = [tiny_corpus.passage("aml:2.1"), tiny_corpus.passage("gen:5")]
    s = zero_shot.score("How quickly must a suspicious activity report be filed?", ps)
    assert len(s) == 2 and s[0] > s[1]
    assert zero_shot.score("anything", []) == []


def test_folder_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(UsageError, match="not a reranker model folder"):
        load_reranker(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        load_reranker(tmp_path / "missing")


def test_kind_detection(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["XLMRobertaForSequenceClassification"]}), encoding="utf-8")
    assert detect_kind(tmp_path) == "cross-encoder"  # e.g. a bge-reranker folder
    (tmp_path / "readtrail-reranker.json").write_text(json.dumps({"kind": "embedding"}), encoding="utf-8")
    assert detect_kind(tmp_path) == "embedding"


def test_vector_cache_persists_across_instances(tmp_path: Path) -> None:
    c = VectorCache(tmp_path)
    c.put_many(["a", "b"], np.eye(2, dtype=np.float32))
    again = VectorCache(tmp_path)
    got = again.get_many(["a", "b", "c"])
    assert got[2] is None and np.allclose(got[1], [0, 1])
    for i in range(70):  # compaction keeps everything
        c.put_many([f"k{i}"], np.ones((1, 2), np.float32))
    assert len(list(tmp_path.glob("chunk-*.npz"))) < 70 and len(VectorCache(tmp_path)) == 72


def test_cached_vectors_are_reused(zero_shot, tiny_corpus: Corpus) -> None:
    ps = tiny_corpus.passages
    zero_shot.score("reports", ps)
    calls = []
    orig = zero_shot.encode
    zero_shot.encode = lambda texts, show_progress=False: calls.append(len(texts)) or orig(texts)  # type: ignore[method-assign]
    try:
        zero_shot.score("another question", ps)
    finally:
        zero_shot.encode = orig  # type: ignore[method-assign]
    assert calls == [1]  # only the query was encoded


def test_cross_encoder_folder_loads_and_scores(tmp_path: Path, tiny_corpus: Corpus) -> None:
    from sentence_transformers import CrossEncoder

    from server.rerank.embedding import minilm_path

    CrossEncoder(minilm_path(), num_labels=1, device="cpu").save_pretrained(str(tmp_path))
    rr = load_reranker(tmp_path)
    assert rr.name.startswith("cross:")
    assert len(rr.score("reports", tiny_corpus.passages[:3])) == 3


def test_bm25_rerank_strategy(zero_shot, tiny_corpus: Corpus) -> None:
    strat = make_strategy("bm25+rerank", StrategyParts(reranker=zero_shot, candidates=3))
    ranked = strat(tiny_corpus, "suspicious activity report officer", 10)
    bm = [p.id for p, _ in tiny_corpus.bm25("suspicious activity report officer", 10)]
    assert set(ranked[:3]) == set(bm[:3]) and ranked[3:] == bm[3:]


def test_fusion_fits_saves_json_and_reloads(zero_shot, tiny_corpus: Corpus, tmp_path: Path) -> None:
    from server.rerank.fusion import FusionReranker, fit_fusion

    queries = {"q1": "suspicious activity report", "q2": "money laundering reporting officer", "q3": "notifications in writing"}
    qrels = {"q1": {"aml:2.1": 1.0}, "q2": {"aml:1.1": 1.0}, "q3": {"gen:4": 1.0}}
    folder = fit_fusion(tiny_corpus, queries, qrels, zero_shot, tmp_path, candidates=6)
    assert not list(folder.glob("*.pkl")) and json.loads((folder / "fusion.json").read_text(encoding="utf-8"))["weights"]
    rr = load_reranker(tmp_path, tiny_corpus, cache_dir=None)
    assert isinstance(rr, FusionReranker)
    s = rr.score("suspicious activity report", [tiny_corpus.passage("aml:2.1"), tiny_corpus.passage("gen:5")])
    assert s[0] > s[1] and all(0 <= v <= 1 for v in s)

    # fitted on the candidates a hybrid first stage gives (what serving scores), and the card says so
    from server.retrieval import DenseIndex, FirstStage

    stage = FirstStage(tiny_corpus, DenseIndex(tiny_corpus, zero_shot), "hybrid")
    hybrid = fit_fusion(tiny_corpus, queries, qrels, zero_shot, tmp_path / "h", candidates=6, first_stage=stage)
    assert '"candidates_from": "hybrid"' in "".join(f.read_text(encoding="utf-8") for f in hybrid.glob("*.json"))


def test_warm_reranker_cli_caches_every_passage(tiny_index: Path, tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from server.cli import main

    monkeypatch.setenv("READTRAIL_HOME", str(tmp_path))
    r = CliRunner().invoke(main, ["warm-reranker", "--index", str(tiny_index)])
    assert r.exit_code == 0 and "6 passage vectors cached" in r.output, r.output
    assert list((tmp_path / "vectors").rglob("chunk-*.npz"))


def test_rank_weights_pick_the_cosine_weight_that_orders_the_training_queries_best():
    import numpy as np

    from server.rerank.fusion import fit_rank_weights

    # BM25 puts a wrong passage first in every group; the cosine knows better, but only by a little,
    # so a small cosine weight leaves BM25's order and a large one fixes it
    groups = []
    for _ in range(5):
        x = np.array([[1.0, 0.30], [0.8, 0.45], [0.1, 0.0]])
        groups.append((x, np.array([0.0, 1.0, 0.0])))
    w = fit_rank_weights(groups)
    assert w["bm25_norm"] == 1.0 and w["cosine"] > 0.2 / 0.15  # only beyond a ratio of 1.33 does the relevant one lead
    # where BM25 is right already, the tie goes to the weight nearest the label-free default (1)
    right = [(np.array([[1.0, 0.3], [0.2, 0.1]]), np.array([1.0, 0.0]))]
    assert fit_rank_weights(right)["cosine"] == 1.0


def test_fusion_cli_fits_on_the_first_stage_serving_uses(tiny_index: Path, tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from server.cli import main

    monkeypatch.setenv("READTRAIL_HOME", str(tmp_path / "home"))
    (tmp_path / "q.jsonl").write_text('{"_id": "q1", "text": "suspicious activity report"}\n'
                                      '{"_id": "q2", "text": "money laundering reporting officer"}\n', encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\taml:2.1\t1\nq2\taml:1.1\t1\n", encoding="utf-8")
    args = ["train-reranker", "--index", str(tiny_index), "--fusion", "--queries", str(tmp_path / "q.jsonl"),
            "--qrels", str(tmp_path / "qrels.tsv")]
    for mode in ("hybrid", "bm25"):
        monkeypatch.setenv("READTRAIL_SEARCH_MODE", mode)
        r = CliRunner().invoke(main, args + ["--out", str(tmp_path / mode)])
        assert r.exit_code == 0, r.output
        cards = "".join(f.read_text(encoding="utf-8") for f in (tmp_path / mode).rglob("*.json"))
        assert f'"candidates_from": "{mode}"' in cards


def test_encoding_in_batches_keeps_each_texts_row(zero_shot, tiny_corpus: Corpus) -> None:
    import numpy as np

    from server.rerank.embedding import EmbeddingReranker, minilm_path

    texts = [p.text for p in tiny_corpus.passages] + ["a short one", "a somewhat longer question about reports"]
    small = EmbeddingReranker(minilm_path(), batch_size=2)  # the model is taken two texts at a time
    batched = small.encode(texts)
    one_by_one = np.stack([small.encode([t])[0] for t in texts])
    assert batched.shape == one_by_one.shape and np.allclose(batched, one_by_one, atol=1e-5)


def test_scoring_stops_computing_vectors_at_the_deadline_and_ranks_the_rest_neutrally(tiny_corpus: Corpus, tmp_path: Path) -> None:
    import time

    from server.rerank.deadline import scoring_deadline
    from server.rerank.embedding import EmbeddingReranker, minilm_path

    rr = EmbeddingReranker(minilm_path(), batch_size=2, cache_dir=tmp_path)
    passages = tiny_corpus.passages[:6]
    full = rr.score("reports", passages[:2])  # vectors of the first two cached; the model's pace measured
    with scoring_deadline(time.perf_counter() - 1) as past:  # a deadline already passed: nothing new is encoded
        late = rr.score("reports", passages)
    assert past.unscored == 4 and np.allclose(late[:2], full, atol=1e-6)
    assert late[2:] == [pytest.approx(sum(full) / 2)] * 4  # the cached ones' mean: BM25 decides among the rest
    assert len(rr.cache) == 2
    with scoring_deadline(time.perf_counter() + 60) as ample:
        assert np.allclose(rr.score("reports", passages), rr.score("reports", passages)) and ample.unscored == 0
    assert len(rr.cache) == 6


def test_a_deep_search_whose_budget_ends_before_the_vectors_says_so(tiny_corpus: Corpus, tmp_path: Path) -> None:
    from server.rerank.embedding import EmbeddingReranker, minilm_path
    from server.traversal import deep_search

    rr = EmbeddingReranker(minilm_path(), cache_dir=tmp_path)
    rr._pace = 1e6  # as if each passage took days to encode: none fits the budget
    result = deep_search(tiny_corpus, rr, "quarterly reports", strategy="rerank", max_seconds=1)
    assert result.evidence and len(rr.cache) == 0
    assert result.note and "without the reranker's model" in result.note


def test_a_deep_search_encodes_its_question_once(tiny_corpus: Corpus, tmp_path: Path) -> None:
    from server.rerank.embedding import EmbeddingReranker, minilm_path
    from server.traversal import deep_search

    rr = EmbeddingReranker(minilm_path(), cache_dir=tmp_path)
    asked: list[list[str]] = []
    encode = rr.encode_queries
    rr.encode_queries = lambda texts: asked.append(list(texts)) or encode(texts)  # type: ignore[method-assign]
    result = deep_search(tiny_corpus, rr, "quarterly reports", strategy="mixed", max_steps=3, max_seconds=30)
    assert len(result.trace) >= 2  # the reranked list, the seeds and the steps each score the question
    assert asked == [["quarterly reports"]]  # while warming up, every encode waits for a batch of the warm-up

