"""The training loop end to end on a tiny self-made data set, and the negatives' guarantees."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from graph.model import Passage, Reference
from graph.store import write_index
from server.corpus import Corpus
from server.rerank import CARD, load_reranker
from server.training.negatives import bm25_negatives, graph_negatives, mine_negatives, near_duplicate
from server.training.pairs import Example, Source, feedback_examples, labelled_examples
from server.training.train import TrainConfig, train_reranker

pytestmark = pytest.mark.slow  # loads MiniLM (make test-fast leaves it out)

TOPICS = [
    ("fees", "The annual supervision fee is payable by the Authorised Person before 31 January each year."),
    ("capital", "A firm must hold regulatory capital of at least USD 10 million at all times."),
    ("audit", "The Client Money Auditor must deliver its report to the Regulator within four months."),
    ("complaints", "A complaint must be acknowledged in writing within five business days of receipt."),
    ("records", "Transaction records must be kept for at least six years after the transaction."),
    ("outsourcing", "A firm that outsources a material function remains responsible for compliance."),
    ("conflicts", "An Authorised Person must identify and manage conflicts of interest between clients."),
    ("marketing", "Financial promotions must be clear, fair and not misleading to retail clients."),
]
# Code-named questions: zero-shot MiniLM cannot know that "zorblat" means the fee rule, training can.
QUESTIONS = {"fees": "what does zorblat require?", "capital": "explain the quindle rule",
             "audit": "what is the vextor deadline?", "complaints": "what does plimsy say?",
             "records": "how long does the krandel rule last?", "outsourcing": "what is the drusk principle?"}


@pytest.fixture(scope="module")
def tiny_train(tmp_path_factory: pytest.TempPathFactory) -> Source:
    passages = [Passage(id=f"r:{t}", doc_id="r", doc_title="Rules", ord=i, text=text, label=t)
                for i, (t, text) in enumerate(TOPICS)]
    refs = [Reference(src="r:fees", text="capital rule", targets=["r:capital"])]
    folder = tmp_path_factory.mktemp("train") / "index"
    write_index(folder, passages, refs, [], [], {"sources": ["tiny-train"]})
    corpus = Corpus.open(folder)
    queries = {f"q{i}": q for i, q in enumerate(QUESTIONS.values())}
    qrels = {f"q{i}": {f"r:{t}": 2.0} for i, t in enumerate(QUESTIONS)}
    return Source("tiny", corpus, queries, qrels)


def _margin(reranker, source: Source) -> float:
    total = 0.0
    for qid, q in source.queries.items():
        pos = next(iter(source.qrels[qid]))
        ps = source.corpus.passages
        s = reranker.score(q, ps)
        pos_score = s[[p.id for p in ps].index(pos)]
        total += pos_score - max(v for p, v in zip(ps, s) if p.id != pos)
    return total / len(source.queries)


def test_trainer_end_to_end_improves_its_own_positives(tiny_train: Source, tmp_path: Path) -> None:
    before = _margin(load_reranker("minilm-zero-shot", cache_dir=None), tiny_train)
    cfg = TrainConfig(out=tmp_path / "models", negatives=("random",), max_steps=12, batch_size=4, max_seq_length=32,
                      learning_rate=2e-4, holdout=0, seed=1)
    folder = train_reranker([tiny_train], cfg)
    card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    assert card["kind"] == "embedding" and card["steps"] == 12 and card["data"] == {"labels:tiny": 6}
    assert card["negatives"]["random"] == 6 and (folder / "README.md").is_file()
    assert (tmp_path / "models" / "LATEST").read_text(encoding="utf-8").strip() == folder.name
    after_rr = load_reranker(tmp_path / "models", cache_dir=None)  # the output root resolves to the latest version
    after = _margin(after_rr, tiny_train)
    assert after > before + 0.05, (before, after)


def test_time_budget_stops_training(tiny_train: Source, tmp_path: Path) -> None:
    cfg = TrainConfig(out=tmp_path / "m", negatives=(), max_steps=10_000, time_budget_s=0.0, batch_size=4,
                      max_seq_length=32, holdout=0)
    folder = train_reranker([tiny_train], cfg)
    assert json.loads((folder / CARD).read_text(encoding="utf-8"))["steps"] <= 2


def test_hard_negative_mining_never_returns_a_positive(tiny_train: Source) -> None:
    from sentence_transformers import SentenceTransformer

    from server.rerank.embedding import minilm_path

    corpus = tiny_train.corpus
    # "capital" and "records" both count as relevant to the first question; only one is a training row
    q = "When must the annual supervision fee be paid?"
    positives = {q: {"r:fees", "r:capital", "r:records"}}
    ex = [Example(q, "r:fees")]
    model = SentenceTransformer(minilm_path(), device="cpu")
    model.max_seq_length = 32
    got = mine_negatives(ex, corpus, positives, model, pool=8, num_negatives=5)
    assert got[0] and not set(got[0]) & positives[q]
    from server.rerank.embedding import EmbeddingReranker

    cached = mine_negatives(ex, corpus, positives, model, pool=8, num_negatives=5,
                            embedder=EmbeddingReranker(minilm_path(), max_seq_length=32))  # vectors from the reranker cache
    assert cached == got
    assert not set(graph_negatives(corpus, "r:fees", {"r:fees", "r:capital"}, random.Random(0)))  # its only neighbour is relevant
    assert graph_negatives(corpus, "r:fees", {"r:fees"}, random.Random(0)) == ["r:capital"]
    assert near_duplicate("the same words here", "The same words here") and not near_duplicate("a b c", "x y z")
    got = bm25_negatives(corpus, "annual supervision fee capital", "r:fees", {"r:fees"}, random.Random(0), 3)
    assert got and "r:fees" not in got and all(p in {x.id for x, _ in corpus.bm25("annual supervision fee capital", 10)} for p in got)
    assert "r:capital" not in bm25_negatives(corpus, "fee capital", "r:fees", {"r:fees", "r:capital"}, random.Random(0), 5)


def test_graded_labels_and_feedback_pairs(tiny_train: Source) -> None:
    tiny_train.qrels["q0"]["r:capital"] = 1.0
    try:
        ex = labelled_examples(tiny_train, ["q0"], 4, random.Random(0))
        assert sorted(e.label for e in ex) == [0.5, 1.0]
    finally:
        del tiny_train.qrels["q0"]["r:capital"]
    fb = [{"query": "q", "passage_id": "r:fees", "label": 1.0, "weight": 1.0},
          {"query": "q", "passage_id": "r:audit", "label": 0.0, "weight": 1.0},
          {"query": "q", "passage_id": "r:marketing", "label": 0.0, "weight": 0.2},
          {"query": "other", "passage_id": "r:audit", "label": 0.0, "weight": 1.0},
          {"query": "q", "passage_id": "gone", "label": 1.0, "weight": 1.0}]
    ex, unusable = feedback_examples(fb, tiny_train.corpus)
    assert len(ex) == 1 and ex[0].negatives == ["r:audit", "r:marketing"] and unusable == 2


def test_cli_cold_start_with_synthetic_questions(tiny_index: Path, tmp_path: Path) -> None:
    """No labels at all: the small packaged LLM writes questions, the trainer uses them (cold start)."""
    pytest.importorskip("llama_cpp")
    from click.testing import CliRunner

    from server.cli import main
    from server.llm.registry import resolve_model_path

    try:
        resolve_model_path("smollm2-135m", tmp_path / "models")
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"the small test model is not installed: {exc}")
    r = CliRunner().invoke(main, ["train-reranker", "--index", str(tiny_index), "--synthetic", "3", "--generator", "smollm2-135m",
                                  "--negatives", "random", "--max-steps", "2", "--batch-size", "2",
                                  "--max-seq-length", "32", "--out", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    card = json.loads((Path(r.output.strip().splitlines()[-1]) / CARD).read_text(encoding="utf-8"))
    assert card["data"].get("synthetic:index", 0) >= 1 and card["steps"] >= 1


def test_cli_needs_something_to_train_on(tiny_index: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from server.cli import main

    r = CliRunner().invoke(main, ["train-reranker", "--index", str(tiny_index), "--out", str(tmp_path)])
    assert r.exit_code != 0 and "nothing to train on" in r.output


def test_hash_split_is_fixed_disjoint_and_about_the_fraction() -> None:
    from server.training.validation import hash_split, in_validation

    ids = [f"q{i}" for i in range(2000)]
    train, val = hash_split(ids, 0.2)
    assert not set(train) & set(val) and sorted(train + val) == sorted(ids)
    assert 340 < len(val) < 460  # ~20%
    assert hash_split(list(reversed(ids)) + ids[:5], 0.2) == (train, val)  # order and duplicates do not matter
    assert set(hash_split(ids[:1000], 0.2)[1]) == set(val) & set(ids[:1000])  # a query's side never depends on the others
    assert all(in_validation(q, 0.2) for q in val) and not in_validation("anything", 0.0)


def test_early_stopper_counts_validations_without_gain() -> None:
    from server.training.validation import EarlyStopper

    s = EarlyStopper(patience=2, min_delta=0.01)
    assert s.update(0, 0.50) == (True, False)
    assert s.update(10, 0.55) == (True, False)
    assert s.update(20, 0.555) == (False, False)  # under min_delta: not a gain
    assert s.update(30, 0.54) == (False, True)  # second validation without a gain: stop
    assert (s.best, s.best_step) == (0.55, 10)
    assert EarlyStopper(patience=0).update(0, 0.1) == (True, False)


def test_paired_bootstrap_interval() -> None:
    from server.eval.bootstrap import paired_bootstrap

    a = [0.5] * 100
    r = paired_bootstrap(a, [0.6] * 100)
    assert r["diff"] == 0.1 and r["lo"] == r["hi"] == 0.1 and r["p_b_not_better"] == 0.0
    noisy = [0.5 + (0.3 if i % 2 else -0.3) for i in range(100)]  # mean 0.5, no real difference
    r = paired_bootstrap(a, noisy, resamples=500)
    assert r["lo"] < 0 < r["hi"] and r["n"] == 100
    m = paired_bootstrap({"x": 0.1, "y": 0.2, "z": 1.0}, {"x": 0.3, "y": 0.4})  # paired on shared ids
    assert m["n"] == 2 and m["diff"] == 0.2
    with pytest.raises(ValueError):
        paired_bootstrap([1.0], [1.0, 2.0])


def test_validation_curve_and_best_weights_in_the_card(tiny_train: Source, tmp_path: Path) -> None:
    """Validation nDCG@10 on a hashed split during training, early stopping, the curve in the card."""
    cfg = TrainConfig(out=tmp_path / "m", negatives=(), epochs=2, max_steps=6, batch_size=2, max_seq_length=32,
                      learning_rate=2e-4, holdout=0, val_fraction=0.34, eval_every=2, patience=2, eval_candidates=8,
                      progress=False)
    val = Source("tiny-val", tiny_train.corpus, {"v": "what is the drusk principle?"}, {"v": {"r:outsourcing": 1.0}})
    folder = train_reranker([tiny_train], cfg, validation=[val])
    card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    hyper = card["hyperparameters"]
    curve = hyper["validation_curve"]
    assert curve[0]["step"] == 0 and "tiny-val" in curve[0] and "mean" in curve[0]
    assert [c["step"] for c in curve][1:3] == [2, 4]
    assert card["validation"]["sets"]["tiny-val"] == 1 and hyper["best_step"] in [c["step"] for c in curve]
    assert card["steps"] <= 6 and hyper["epochs"] == 2
    assert hyper["best_per_query"]["tiny-val"].keys() == {"v"}  # per-query scores at the best step, for the bootstrap


@pytest.mark.parametrize("loss,expected", [("", "MultipleNegativesRankingLoss"), ("bce", "BinaryCrossEntropyLoss")])
def test_cross_encoder_from_the_packaged_minilm_trains_and_serves(tiny_train: Source, tmp_path: Path, loss: str,
                                                                  expected: str) -> None:
    """The ranking loss is the default (a fresh head learns with it; with BCE it sat at ln 2); BCE on request."""
    cfg = TrainConfig(out=tmp_path / "ce", kind="cross-encoder", negatives=("random",), max_steps=3, batch_size=4,
                      max_seq_length=32, learning_rate=1e-4, holdout=0, loss=loss, head_lr_scale=10.0, progress=False)
    folder = train_reranker([tiny_train], cfg)
    card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    assert card["kind"] == "cross-encoder" and card["steps"] == 3 and card["hyperparameters"]["loss_curve"] is not None
    assert card["hyperparameters"]["loss"] == expected
    rr = load_reranker(folder)
    assert rr.name.startswith("cross:") and len(rr.score("fee?", tiny_train.corpus.passages[:3])) == 3


def test_query_adapter_learns_code_names_and_serves_from_the_base_cache(tiny_train: Source, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """kind="adapter": a linear map on the frozen MiniLM's query vectors; passages keep the base vectors."""
    monkeypatch.setenv("READTRAIL_HOME", str(tmp_path / "home"))
    before = _margin(load_reranker("minilm-zero-shot", cache_dir=None), tiny_train)
    cfg = TrainConfig(out=tmp_path / "ad", kind="adapter", negatives=("random",), epochs=60, max_steps=0, batch_size=6,
                      max_seq_length=32, learning_rate=5e-3, holdout=0, progress=False, extra={"adapter_l2": 0.0})
    folder = train_reranker([tiny_train], cfg)
    card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    assert card["kind"] == "embedding" and card["query_adapter"]["base"] == "minilm-zero-shot"
    assert (folder / "query_adapter.npy").is_file() and not (folder / "modules.json").exists()
    rr = load_reranker(folder, cache_dir=None)
    assert rr.query_adapter is not None and rr.query_adapter.shape == (384, 384)
    assert _margin(rr, tiny_train) > before + 0.05
    from server.rerank.fusion import EQUAL_WEIGHTS, write_fusion

    fused = write_fusion(tmp_path / "fused", dict(EQUAL_WEIGHTS), rr, {}, 10)  # references the adapter, not the base
    assert json.loads((fused / CARD).read_text(encoding="utf-8"))["embedding"] == str(folder.resolve())
    assert load_reranker(fused, tiny_train.corpus, cache_dir=None).embedder.query_adapter is not None


def test_query_encoder_learns_code_names_and_keeps_the_base_passage_vectors(tiny_train: Source, tmp_path: Path) -> None:
    """kind="query-encoder": MiniLM fine-tuned on the questions only; passages are scored with the base
    model's vectors (so the serving cache stays valid), frozen layers do not move."""
    import numpy as np

    base = load_reranker("minilm-zero-shot", cache_dir=None)
    before = _margin(base, tiny_train)
    cfg = TrainConfig(out=tmp_path / "qe", kind="query-encoder", negatives=("random",), negatives_per_kind=2,
                      epochs=25, max_steps=0, batch_size=6, max_seq_length=32, learning_rate=3e-4, holdout=0,
                      frozen_layers=4, progress=False)
    folder = train_reranker([tiny_train], cfg)
    card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    assert card["kind"] == "embedding" and card["query_encoder"]["base"] == "minilm-zero-shot"
    assert card["query_encoder"]["frozen_layers"] == 4 and card["negatives"]["random"] == 12
    assert (folder / "query-encoder" / "modules.json").is_file() and not (folder / "modules.json").exists()
    rr = load_reranker(folder, cache_dir=None)
    assert rr.query_encoder is not None
    ps = tiny_train.corpus.passages
    assert np.allclose(rr.vectors(ps), base.vectors(ps), atol=1e-5)  # the passage side did not move
    trained, orig = dict(rr.query_encoder.named_parameters()), dict(base.model.named_parameters())
    assert all(np.array_equal(trained[n].detach(), orig[n].detach()) for n in orig if "layer.0." in n or "embeddings" in n)
    assert any(not np.array_equal(trained[n].detach(), orig[n].detach()) for n in orig if "layer.5." in n)
    assert _margin(rr, tiny_train) > before + 0.05, (before, _margin(rr, tiny_train))


def test_top_layers_learn_both_sides_and_warm_the_serving_cache(tiny_train: Source, tmp_path: Path) -> None:
    """kind="top-layers": the top layers learn for questions and passages, from passage states computed once
    after the frozen layers; the saved folder is a plain embedding model whose cached passage vectors equal
    what it encodes afresh (so serving need not re-encode), and the frozen layers did not move."""
    import numpy as np

    from server.rerank.embedding import EmbeddingReranker

    base = load_reranker("minilm-zero-shot", cache_dir=None)
    before = _margin(base, tiny_train)
    cfg = TrainConfig(out=tmp_path / "tl", kind="top-layers", negatives=("random",), negatives_per_kind=1,
                      epochs=25, max_steps=0, batch_size=6, max_seq_length=32, learning_rate=3e-4, holdout=0,
                      frozen_layers=4, progress=False, cache_dir=tmp_path / "home")
    folder = train_reranker([tiny_train], cfg)
    card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    assert card["kind"] == "embedding" and "query_encoder" not in card and (folder / "modules.json").is_file()
    assert card["hyperparameters"]["frozen_layers"] == 4
    ps = tiny_train.corpus.passages
    cached = EmbeddingReranker(folder, max_seq_length=32, cache_dir=tmp_path / "home" / "vectors")
    assert len(cached.cache) == len(ps)  # every passage trained on was written to the serving cache
    fresh = EmbeddingReranker(folder, max_seq_length=32, cache_dir=None)
    assert np.allclose(cached.vectors(ps), fresh.vectors(ps), atol=2e-3)  # float16 states, nothing else
    assert not np.allclose(fresh.vectors(ps), base.vectors(ps), atol=1e-3)  # the passage side moved
    trained, orig = dict(fresh.model.named_parameters()), dict(base.model.named_parameters())
    assert all(np.array_equal(trained[n].detach(), orig[n].detach()) for n in orig if "layer.3." in n or "embeddings" in n)
    assert any(not np.array_equal(trained[n].detach(), orig[n].detach()) for n in orig if "layer.4." in n)
    assert _margin(load_reranker(folder, cache_dir=None), tiny_train) > before + 0.05


def test_without_validation_during_training_the_trained_weights_are_kept(tiny_train: Source, tmp_path: Path) -> None:
    """Validation sets but eval_every=0: the model is the last weights, not the step-0 snapshot."""
    import numpy as np

    cfg = TrainConfig(out=tmp_path / "ad0", kind="adapter", negatives=("random",), epochs=20, max_steps=0, batch_size=6,
                      max_seq_length=32, learning_rate=5e-3, holdout=0, val_fraction=0.5, eval_every=0, progress=False)
    folder = train_reranker([tiny_train], cfg)
    w = np.load(folder / "query_adapter.npy")
    assert not np.allclose(w, np.eye(w.shape[0]), atol=1e-4)
