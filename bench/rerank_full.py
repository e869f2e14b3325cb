"""Full-scale reranker experiments (bench/RERANKER.md): train on a data set's training labels with a
hashed validation split, then score the validation queries under BM25, the model alone, and the model
fused with BM25 (equal weights, reciprocal-rank fusion, logistic regression fitted on TRAINING queries).

    python bench/rerank_full.py train --dataset adgm --name bi-hard --negatives hard --epochs 3 --time-budget 1500
    python bench/rerank_full.py eval --dataset adgm --name zero-shot --model zero-shot
    python bench/rerank_full.py eval --dataset adgm --name bm25 --model bm25

Data (never copied into the repo) is read from ../shared/data beside the checkout, or $READTRAIL_DATA.
ADGM: train on obliqa_dev minus a fixed 20% (hash of the query id) plus xref_schema_train and
xref_dpel_trainpool; validate on that 20%, obliqa_mp_val and the two xref dev sets.
NFCorpus: train on qrels/train.tsv, validate on qrels/dev.tsv.
Results: bench/results/full-<dataset>-<name>.json (metrics and per-query nDCG@10 for the bootstrap)."""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from server.corpus import Corpus
from server.eval import load_qrels, load_queries
from server.eval.metrics import ndcg_at, recall_at
from server.training.pairs import Source
from server.training.validation import hash_split

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("READTRAIL_DATA", ROOT.parent / "shared" / "data"))
RUNS = Path(os.environ.get("READTRAIL_RUNS", "/work/rt-runs"))
RESULTS = ROOT / "bench" / "results"
VAL_FRACTION = 0.2


def _task(name: str) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    d = DATA / "adgm" / "tasks" / name
    return load_queries(d / "queries.jsonl"), load_qrels(d / "qrels.tsv")


def _merge(*tasks: str) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    qs: dict[str, str] = {}
    qr: dict[str, dict[str, float]] = {}
    for t in tasks:
        a, b = _task(t)
        qs.update(a), qr.update(b)
    return qs, qr


def index_dir(dataset: str) -> Path:
    return RUNS / f"idx-{dataset}"


def dataset(name: str) -> tuple[Corpus, list[Source], dict[str, Source]]:
    """(corpus, training sources, validation sets by name): the split is fixed, whatever the run."""
    corpus = Corpus.open(index_dir(name))
    if name == "adgm":
        oq, oqr = _task("obliqa_dev")
        xq, xqr = _merge("xref_schema_train", "xref_dpel_trainpool")
        train = [Source("obliqa", corpus, oq, oqr), Source("xref-train", corpus, xq, xqr, validate=False)]
        _, val_ids = hash_split([q for q in oq if q in oqr], VAL_FRACTION)
        mq, mqr = _task("obliqa_mp_val")
        dq, dqr = _merge("xref_schema_dev", "xref_dpel_dev")
        val = {"obliqa-val": Source("obliqa-val", corpus, {q: oq[q] for q in val_ids}, {q: oqr[q] for q in val_ids}),
               "obliqa_mp_val": Source("obliqa_mp_val", corpus, mq, mqr),
               "xref-dev": Source("xref-dev", corpus, dq, dqr)}
        return corpus, train, val
    if name == "nfcorpus":
        qs = load_queries(DATA / "nfcorpus" / "queries.jsonl")
        tr, dv = load_qrels(DATA / "nfcorpus/qrels/train.tsv"), load_qrels(DATA / "nfcorpus/qrels/dev.tsv")
        # early stopping watches a hashed 20 % of the TRAINING queries (validate=True), never dev: dev only reports
        # (the issue-9 adapter rows of the previous session watched dev; bench/RERANKER.md says so)
        train = [Source("nfcorpus", corpus, {q: qs[q] for q in tr if q in qs}, tr, validate=True)]
        return corpus, train, {"nfcorpus-dev": Source("nfcorpus-dev", corpus, {q: qs[q] for q in dv if q in qs}, dv)}
    raise SystemExit(f"unknown data set {name}")


def training_queries(train: list[Source]) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """Every query the model was trained on (the validation split excluded): fusion weights are fitted here."""
    qs: dict[str, str] = {}
    qr: dict[str, dict[str, float]] = {}
    for s in train:
        ids = [q for q in s.queries if q in s.qrels]
        if s.validate:
            ids, _ = hash_split(ids, VAL_FRACTION)
        qs.update({q: s.queries[q] for q in ids}), qr.update({q: s.qrels[q] for q in ids})
    return qs, qr


# ---------------------------------------------------------------- evaluation


def _load(model: str, corpus: Corpus):
    from server.rerank import load_reranker

    if model == "bm25":
        return None
    from server.settings import Settings

    return load_reranker("minilm-zero-shot" if model == "zero-shot" else model, corpus,
                         cache_dir=Settings.from_env().vector_cache)


def _candidates(corpus: Corpus, query: str, n: int):
    hits = corpus.bm25(query, n)
    return [p for p, _ in hits], np.array([s for _, s in hits], dtype=np.float64)


def _rank(ids: list[str], scores) -> list[str]:
    order = sorted(range(len(ids)), key=lambda i: -scores[i])
    return [ids[i] for i in order]


def _rrf(n: int, scores, k: float = 60.0) -> np.ndarray:
    order = np.argsort(-np.asarray(scores), kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n)
    return 1.0 / (k + ranks)


def fit_lr(corpus: Corpus, rr, queries: dict[str, str], qrels: dict, n_queries: int, candidates: int,
           seed: int = 0, dense_pool: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """Fusion weights fitted on training queries: (logistic regression on pairs, the nDCG@10 grid), on
    the same candidates as the evaluation (BM25's, plus the dense pool when there is one)."""
    from server.rerank.fusion import features, fit_rank_weights, fit_weights
    from server.retrieval import DenseIndex

    ids = sorted(q for q in queries if any(v > 0 for v in qrels.get(q, {}).values()))
    random.Random(seed).shuffle(ids)
    dense = DenseIndex(corpus, rr) if dense_pool and hasattr(rr, "vectors") else None
    xs, ys, groups = [], [], []
    for q in ids[:n_queries]:
        ps, bm = _candidates(corpus, queries[q], candidates)
        if dense is not None:
            ps, _ = _with_dense(corpus, dense, rr.encode_queries([queries[q]])[0], queries[q], ps, bm, dense_pool)
        if not ps:
            continue
        xs.append(features(corpus, queries[q], ps, rr.score(queries[q], ps)))
        ys += [1 if qrels[q].get(p.id, 0) > 0 else 0 for p in ps]
        groups.append((xs[-1], np.array([max(0.0, qrels[q].get(p.id, 0)) for p in ps], dtype=np.float64)))
    return fit_weights(np.concatenate(xs), np.array(ys)), fit_rank_weights(groups)


def _with_dense(corpus: Corpus, dense, qvec, query: str, ps: list, bm: np.ndarray, n: int):
    """BM25's candidates plus the model's own dense top n not among them (the hybrid first stage with the
    trained model's vectors); a dense-only candidate keeps its BM25 score from the deeper list the served
    fusion reads (server/rerank/fusion.py: features), else 0."""
    seen = {p.id for p in ps}
    extra = [corpus.passages[pos] for pos, _ in dense.search_vector(np.asarray(qvec, dtype=np.float32), n)]
    extra = [p for p in extra if p.id not in seen]
    if not extra:
        return ps, bm
    deep = {p.id: s for p, s in corpus.bm25(query, max(100, len(ps) + len(extra)))}
    return ps + extra, np.concatenate([bm, [deep.get(p.id, 0.0) for p in extra]])


def evaluate_sets(corpus: Corpus, rr, sets: dict[str, Source], candidates: int, lr_weights: dict | None,
                  limit: int = 0, rank_weights: dict | None = None, dense_pool: int = 0) -> dict:
    """Per validation set and system: nDCG@10, Recall@10 and per-query nDCG@10 (for the paired bootstrap)."""
    out: dict = {}
    embedding = rr is not None and hasattr(rr, "vectors")
    dense = None
    if dense_pool and embedding:
        from server.retrieval import DenseIndex

        dense = DenseIndex(corpus, rr)
    for name, s in sets.items():
        ids = sorted(q for q in s.queries if any(v > 0 for v in s.qrels.get(q, {}).values()))
        if limit:
            ids = ids[:limit]
        per: dict[str, dict[str, float]] = {}
        rec: dict[str, list[float]] = {}
        t0 = time.monotonic()
        qvecs = {}
        if embedding:  # all query vectors in one call: per-query calls cost ~1 s each on a loaded CPU
            qv = rr.encode_queries([s.queries[q] for q in ids])
            qvecs = dict(zip(ids, qv))
        for i, q in enumerate(ids):
            ps, bm = _candidates(corpus, s.queries[q], candidates)
            n_bm25 = len(ps)
            if dense is not None:
                ps, bm = _with_dense(corpus, dense, qvecs[q], s.queries[q], ps, bm, dense_pool)
            pids = [p.id for p in ps]
            # BM25 itself ranks only its own candidates (the dense pool's additions come after, never in its top 10)
            systems = {"bm25": np.concatenate([-np.arange(n_bm25, dtype=np.float64), np.full(len(ps) - n_bm25, -1e9)])}
            if rr is not None and ps:
                sc = (rr.vectors(ps) @ qvecs[q]).astype(np.float64) if embedding else \
                    np.asarray(rr.score(s.queries[q], ps), dtype=np.float64)
                top = bm.max() if len(bm) and bm.max() > 0 else 1.0
                systems["model"] = sc
                systems["rrf"] = _rrf(len(ps), sc) + _rrf(len(ps), bm)
                if embedding:
                    systems["fused-equal"] = bm / top + sc
                if lr_weights:
                    systems["fused-lr"] = lr_weights["bias"] + lr_weights["bm25_norm"] * bm / top + lr_weights["cosine"] * sc
                if rank_weights:
                    systems["fused-ndcg"] = bm / top + rank_weights["cosine"] * sc
            for sys_name, sc in systems.items():
                ranked = _rank(pids, sc)
                if sys_name == "bm25":
                    ranked = ranked[:n_bm25]
                per.setdefault(sys_name, {})[q] = round(ndcg_at(ranked, s.qrels[q], 10), 4)
                rec.setdefault(sys_name, []).append(recall_at(ranked, s.qrels[q], 10))
            if (i + 1) % 100 == 0:
                print(f"  {name}: {i + 1}/{len(ids)} queries ({time.monotonic() - t0:.0f}s)", file=sys.stderr, flush=True)
        for k in per:  # a query BM25 finds nothing for scores 0 under every system (not left out of the mean)
            for q in ids:
                if q not in per[k]:
                    per[k][q] = 0.0
                    rec[k].append(0.0)
        out[name] = {"queries": len(ids), "seconds": round(time.monotonic() - t0, 1), "systems": {
            k: {"ndcg@10": round(sum(v.values()) / len(v), 4), "recall@10": round(sum(rec[k]) / len(rec[k]), 4),
                "per_query": v} for k, v in per.items()}}
        print(f"{name}: " + ", ".join(f"{k} {v['ndcg@10']}" for k, v in out[name]["systems"].items()), file=sys.stderr, flush=True)
    return out


def latency(corpus: Corpus, rr, queries: list[str], candidates: int) -> dict[str, float]:
    """Whole strategy (BM25 + query encoding + scoring of `candidates`), warm: each query once to warm, then timed."""
    from server.eval.strategies import rerank_ids

    for q in queries:
        rerank_ids(corpus, rr, q, candidates, candidates)
    ms = []
    for q in queries:
        t = time.perf_counter()
        rerank_ids(corpus, rr, q, candidates, candidates)
        ms.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(sorted(ms)[int(0.95 * (len(ms) - 1))], 1),
            "queries": len(ms), "candidates": candidates}


def precompute(corpus: Corpus, rr, query_lists: list[list[str]], candidates: int) -> None:
    """Encode every candidate passage of every query in one call (length-sorted batches: several times
    faster than 50 passages per query); they land in the reranker's vector cache."""
    embedder = getattr(rr, "embedder", rr)
    if not hasattr(embedder, "vectors"):
        return
    seen: dict[str, object] = {}
    for qs in query_lists:
        for q in qs:
            for p, _ in corpus.bm25(q, candidates):
                seen.setdefault(p.id, p)
    t = time.monotonic()
    embedder.vectors(list(seen.values()), show_progress=True)
    print(f"{len(seen)} candidate passages encoded or read from the cache in {time.monotonic() - t:.0f}s",
          file=sys.stderr, flush=True)


def _only(train: list[Source], names: str) -> list[Source]:
    """The training sources named (comma list; '' keeps all): the model and its fusion weights see only these."""
    keep = [s for s in train if not names or s.name in names.split(",")]
    if not keep:
        raise SystemExit(f"--train-sources {names!r}: none of {[s.name for s in train]}")
    return keep


def run_eval(a, model: str, card: dict | None = None) -> dict:
    corpus, train, sets = dataset(a.dataset)
    train = _only(train, a.train_sources)
    if a.sets:
        sets = {k: v for k, v in sets.items() if k in a.sets.split(",")}
    rr = _load(model, corpus)
    if rr is not None:
        tq, _ = training_queries(train)
        fit_ids = sorted(tq)
        random.Random(0).shuffle(fit_ids)
        precompute(corpus, rr, [[tq[q] for q in fit_ids[:a.fit_queries]]]
                   + [[s.queries[q] for q in sorted(s.queries)][:a.limit or None] for s in sets.values()], a.candidates)
    result: dict = {"dataset": a.dataset, "name": a.name, "model": model, "candidates": a.candidates, "limit": a.limit,
                    "dense_pool": a.dense_pool,
                    "load": os.getloadavg()[0], "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    lr = ranked = None
    if rr is not None and a.fit_queries > 0:
        t = time.monotonic()
        tq, tqr = training_queries(train)
        lr, ranked = fit_lr(corpus, rr, tq, tqr, a.fit_queries, a.candidates, dense_pool=a.dense_pool)
        result["fusion_lr"] = {"weights": lr, "fit_queries": a.fit_queries, "seconds": round(time.monotonic() - t, 1),
                               "fitted_on": "training queries only"}
        result["fusion_ndcg"] = {"weights": ranked, "fit_queries": a.fit_queries, "fitted_on": "training queries only"}
        print(f"fusion weights (training queries): LR {lr}, nDCG grid {ranked}", file=sys.stderr, flush=True)
        if model not in ("zero-shot",) and Path(model).is_dir():
            from server.rerank.fusion import write_fusion

            result["fusion_lr"]["folder"] = str(write_fusion(Path(model).parent / "fused-lr", lr, rr,
                                                             {"queries": a.fit_queries}, a.candidates))
    t = time.monotonic()
    result["sets"] = {}
    for name, src in sets.items():  # one set at a time, the JSON rewritten after each
        result["sets"].update(evaluate_sets(corpus, rr, {name: src}, a.candidates, lr, a.limit, ranked, a.dense_pool))
        _write(a, result)
    result["eval_seconds"] = round(time.monotonic() - t, 1)
    if rr is not None and a.latency:
        first = next(iter(sets.values()))
        qs = [first.queries[q] for q in sorted(first.queries)[:a.latency]]
        result["latency_warm"] = latency(corpus, rr, qs, 50)
        print(f"latency: {result['latency_warm']}", file=sys.stderr, flush=True)
    if card:
        result["card"] = card
    result["load_end"] = os.getloadavg()[0]
    print(_write(a, result))
    return result


def _write(a, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"full-{a.dataset}-{a.name}.json"
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return out


# ---------------------------------------------------------------- training


def run_train(a) -> None:
    from server.settings import Settings
    from server.training.train import TrainConfig, train_reranker

    corpus, train, sets = dataset(a.dataset)
    train = _only(train, a.train_sources)
    if a.synthetic:  # no labels at all: questions a local model wrote (bench/rerank_synth.py), watched on every set
        rows = [json.loads(line) for line in a.synthetic.read_text(encoding="utf-8").splitlines() if line.strip()]
        qs = {f"synth-{i}": r["query"] for i, r in enumerate(rows)}
        train = [Source("synthetic", corpus, qs, {f"synth-{i}": {r["passage_id"]: 1.0} for i, r in enumerate(rows)},
                        validate=False)]
        a.train_val = ",".join(sets)
    extra_val = [sets[n] for n in (a.train_val.split(",") if a.train_val else []) if n in sets and (n != "obliqa-val" or a.synthetic)]
    if not extra_val and not any(s.validate for s in train):  # no split of the training labels: watch the dev set
        extra_val = list(sets.values())
    cfg = TrainConfig(
        out=RUNS / "models" / f"{a.dataset}-{a.name}", base=a.base, kind=a.kind,
        negatives=tuple(n for n in a.negatives.split(",") if n), per_query=a.per_query, max_steps=a.max_steps,
        epochs=a.epochs, time_budget_s=a.time_budget, batch_size=a.batch_size, max_seq_length=a.max_seq_length,
        learning_rate=a.lr, warmup_ratio=a.warmup, lr_decay=a.lr_decay, loss=a.loss, holdout=0, val_fraction=VAL_FRACTION,
        eval_every=a.eval_every, patience=a.patience, val_max_queries=a.val_queries, eval_candidates=a.val_candidates,
        negatives_per_kind=a.negatives_per_kind, frozen_layers=a.frozen_layers,
        query_max_seq_length=a.query_max_seq_length, head_lr_scale=a.head_lr_scale, pos_weight=a.pos_weight, seed=a.seed, cache_dir=Settings.from_env().home,
        extra={"experiment": a.name, "dataset": a.dataset, "load_at_start": os.getloadavg()[0]},
    )
    t = time.monotonic()
    folder = train_reranker(train, cfg, validation=extra_val)
    card = json.loads((folder / "readtrail-reranker.json").read_text(encoding="utf-8"))
    card["wall_seconds_with_setup"] = round(time.monotonic() - t, 1)
    card["load_at_end"] = os.getloadavg()[0]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"full-{a.dataset}-{a.name}-card.json").write_text(json.dumps(card, indent=1, default=str), encoding="utf-8")
    print(f"model: {folder}", file=sys.stderr, flush=True)
    if not a.no_eval:
        run_eval(a, str(folder), card)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["train", "eval"])
    ap.add_argument("--dataset", choices=["adgm", "nfcorpus"], required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--model", default="bm25", help="eval: a model folder, zero-shot or bm25")
    ap.add_argument("--candidates", type=int, default=50, help="BM25 candidates reranked in the evaluation")
    ap.add_argument("--dense-pool", type=int, default=0,
                    help="eval: add the model's own dense top N (all passages' vectors) to BM25's candidates")
    ap.add_argument("--sets", default="", help="comma list of validation sets to evaluate (default: all)")
    ap.add_argument("--limit", type=int, default=0, help="evaluate the first N queries of each set (0: all)")
    ap.add_argument("--fit-queries", type=int, default=200, help="training queries the fusion weights are fitted on")
    ap.add_argument("--latency", type=int, default=50, help="queries timed warm (0: none)")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--base", default=None)
    ap.add_argument("--kind", default=None, choices=[None, "embedding", "cross-encoder", "adapter", "query-encoder", "top-layers"])
    ap.add_argument("--negatives-per-kind", type=int, default=1)
    ap.add_argument("--frozen-layers", type=int, default=2)
    ap.add_argument("--query-max-seq-length", type=int, default=64)
    ap.add_argument("--negatives", default="hard")
    ap.add_argument("--loss", default="", help="default: mnrl (both kinds); bce for a cross-encoder")
    ap.add_argument("--per-query", type=int, default=4)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--time-budget", type=float, default=1500)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-seq-length", type=int, default=256)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--warmup", type=float, default=0.1)
    ap.add_argument("--lr-decay", action="store_true", help="adapter/query-encoder/top-layers: decay to 0 at the budget's last step")
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--val-queries", type=int, default=100, help="validation queries per set during training")
    ap.add_argument("--val-candidates", type=int, default=20)
    ap.add_argument("--train-sources", default="", help="train (and fit fusions) on these sources only, e.g. obliqa")
    ap.add_argument("--train-val", default="", help="extra validation sets watched during training, e.g. obliqa_mp_val")
    ap.add_argument("--head-lr-scale", type=float, default=1.0)
    ap.add_argument("--pos-weight", type=float, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--synthetic", type=Path, default=None,
                    help="train on these synthetic questions only (JSONL of query, passage_id), no labels")
    a = ap.parse_args()
    if a.cmd == "train":
        run_train(a)
    else:
        run_eval(a, a.model)


if __name__ == "__main__":
    main()
