"""Hybrid first stage (issue 11): choose the fusion on TRAINING questions, then measure strategies on
the dev/validation tasks with paired bootstrap intervals against bm25+rerank.

    python bench/hybrid.py choose --adgm-index IDX --n 200
    python bench/hybrid.py dev --adgm-index IDX --hotpot-index IDX2 [--fusion rrf|normalised:0.5] [--obliqa-dev-n 500]

`choose` scores each first stage (bm25, dense, rrf k=60, normalised fusion at several dense weights)
alone and reranked (top 50) on fixed samples (seed 0) of xref_dpel_trainpool and xref_schema_train,
which no dev figure uses. `dev` runs bm25, bm25+rerank, dense, hybrid, hybrid+rerank, walk and
walk+hybrid on every dev task and writes bench/results/hybrid-dev.json. Torch and llama.cpp run on one
thread (the machine is shared; two threads under load measured 5-15x slower).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.corpus import Corpus  # noqa: E402
from server.eval import evaluate, load_qrels, load_queries  # noqa: E402
from server.eval.strategies import StrategyParts, make_strategy  # noqa: E402
from server.retrieval import DenseIndex, FirstStage, FusionOptions  # noqa: E402
from server.services import build_reranker  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.eval.bootstrap import paired_bootstrap  # noqa: E402

KEYS = ("all_gold@10", "ndcg@10", "recall@10", "recall@100", "latency_p50_ms", "latency_p95_ms", "queries")
DATA = REPO.parent / "shared" / "data"


def loadavg() -> str:
    return Path("/proc/loadavg").read_text(encoding="ascii").strip()


def sample(queries: dict[str, str], qrels: dict[str, Any], n: int | None) -> dict[str, str]:
    ids = sorted(q for q in queries if q in qrels)
    if n is not None and n < len(ids):
        random.Random(0).shuffle(ids)
        ids = sorted(ids[:n])
    return {q: queries[q] for q in ids}


def task(name: str) -> tuple[dict[str, str], dict[str, Any]]:
    folder = DATA / ("hotpotqa100" if name == "hotpotqa100" else f"adgm/tasks/{name}")
    return load_queries(folder / "queries.jsonl"), load_qrels(folder / "qrels.tsv")


def fusion_of(spec: str) -> FusionOptions:
    if spec == "rrf":
        return FusionOptions("rrf")
    method, _, w = spec.partition(":")
    return FusionOptions(method, dense_weight=float(w or 0.5))


def run(corpus: Corpus, qs: dict[str, str], qrels: dict[str, Any], strategy: Any) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    report = evaluate(corpus, qs, qrels, strategy)
    per = {r["id"]: {"all_gold@10": r["all_gold@10"], "ndcg@10": r["ndcg@10"]} for r in report.per_query}
    return {k: report.metrics[k] for k in KEYS}, per


def setup(index: Path) -> tuple[Corpus, Any, DenseIndex]:
    import torch

    torch.set_num_threads(1)
    corpus = Corpus.open(index)
    rr = build_reranker(Settings.from_env(), corpus, None)
    dense = DenseIndex(corpus, getattr(rr, "embedder", rr))
    t = time.perf_counter()
    _ = dense.matrix
    print(f"matrix {dense.matrix.shape} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return corpus, rr, dense


def pick(rows: dict[str, Any]) -> tuple[str, dict[str, list[float]]]:
    """The fusion with the best mean (all-gold@10 + nDCG@10) / 2 after reranking; ties (reranking the
    same top 50 in another order gives the same result) go to the better first stage alone."""
    def mean(spec: str, which: str) -> float:
        return sum(rows[t][spec][which]["all_gold@10"] + rows[t][spec][which]["ndcg@10"] for t in rows) / (2 * len(rows))
    specs = [s for s in next(iter(rows.values())) if s not in ("bm25", "dense")]
    score = {s: [round(mean(s, "reranked"), 4), round(mean(s, "alone"), 4)] for s in specs}
    return max(specs, key=lambda s: tuple(score[s])), score


def choose(args: argparse.Namespace) -> None:
    corpus, rr, dense = setup(args.adgm_index)
    out: dict[str, Any] = {"load_before": loadavg(), "n": args.n, "rows": {}}
    specs = ["bm25", "dense", "rrf", "normalised:0.3", "normalised:0.5", "normalised:0.7"]
    for name in ("xref_dpel_trainpool", "xref_schema_train"):
        queries, qrels = task(name)
        qs = sample(queries, qrels, args.n)
        for spec in specs:
            mode = spec if spec in ("bm25", "dense") else "hybrid"
            stage = FirstStage(corpus, dense, mode, fusion_of("rrf" if mode != "hybrid" else spec))
            parts = StrategyParts(reranker=rr, first_stage=stage)
            alone = make_strategy("hybrid", parts) if mode != "bm25" else make_strategy("bm25")
            reranked = make_strategy("hybrid+rerank", parts) if mode != "bm25" else make_strategy("bm25+rerank", parts)
            if mode == "dense":  # hybrid strategies ask for mode "hybrid"; ask the stage for dense here
                alone = lambda c, q, d, s=stage: [p.id for p, _ in s.ranked(q, d, "dense")]  # noqa: E731
                from server.eval.strategies import rerank_ids
                reranked = lambda c, q, d, s=stage: rerank_ids(c, rr, q, 50, d, s, "dense")  # noqa: E731
            m1, _ = run(corpus, qs, qrels, alone)
            m2, _ = run(corpus, qs, qrels, reranked)
            out["rows"].setdefault(name, {})[spec] = {"alone": m1, "reranked": m2}
            print(name, spec, "alone", m1, "reranked", m2, flush=True)
    out["load_after"] = loadavg()
    out["choice"], out["choice_score"] = pick(out["rows"])
    print("choice", out["choice"], out["choice_score"])
    Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")


def dev(args: argparse.Namespace) -> None:
    out: dict[str, Any] = {"fusion": args.fusion, "load_before": loadavg(), "full": {}, "bootstrap": {}}
    if Path(args.out).is_file():
        out.update(json.loads(Path(args.out).read_text(encoding="utf-8")))
    names = args.only or ["xref_dpel_dev", "xref_schema_dev", "obliqa_mp_val", "obliqa_dev", "hotpotqa100"]
    setups: dict[Path, Any] = {}
    for name in names:
        index = args.hotpot_index if name == "hotpotqa100" else args.adgm_index
        if index not in setups:
            setups[index] = setup(index)
        corpus, rr, dense = setups[index]
        stage = FirstStage(corpus, dense, "hybrid", fusion_of(args.fusion))
        parts = StrategyParts(reranker=rr, first_stage=stage)
        queries, qrels = task(name)
        qs = sample(queries, qrels, args.obliqa_dev_n if name == "obliqa_dev" else None)
        per: dict[str, Any] = {}
        for sname in args.strategy or ["bm25", "bm25+rerank", "dense", "hybrid", "hybrid+rerank", "walk", "walk+hybrid"]:
            m, per[sname] = run(corpus, qs, qrels, make_strategy(sname, parts))
            m["load"] = loadavg()
            out["full"].setdefault(name, {})[sname] = m
            print(name, sname, m, flush=True)
            Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
        if "bm25+rerank" in per:
            for sname in per:
                if sname == "bm25+rerank":
                    continue
                for metric in ("all_gold@10", "ndcg@10"):
                    ids = sorted(per[sname])
                    a = [per[sname][q][metric] for q in ids]
                    b = [per["bm25+rerank"][q][metric] for q in ids]
                    out["bootstrap"].setdefault(name, {}).setdefault(sname, {})[metric] = paired_bootstrap(b, a)  # a - b
        Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    out["load_after"] = loadavg()
    Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(markdown(out))


def markdown(out: dict[str, Any]) -> str:
    lines = ["| task | strategy | all-gold@10 | Δ vs bm25+rerank [95% CI] | nDCG@10 | Δ nDCG [95% CI] | p50 ms | p95 ms | q |",
             "|---|---|---|---|---|---|---|---|---|"]
    for t, rows in out["full"].items():
        for s, m in rows.items():
            b = out.get("bootstrap", {}).get(t, {}).get(s, {})

            def ci(metric: str) -> str:
                x = b.get(metric)
                return f"{x['diff']:+.3f} [{x['lo']:+.3f}, {x['hi']:+.3f}]" if x else "—"
            lines.append(f"| {t} | {s} | {m['all_gold@10']:.3f} | {ci('all_gold@10')} | {m['ndcg@10']:.3f} | {ci('ndcg@10')} | "
                         f"{m['latency_p50_ms']:.0f} | {m['latency_p95_ms']:.0f} | {m['queries']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("choose", "dev", "table"))
    ap.add_argument("--adgm-index", type=Path, required=True)
    ap.add_argument("--hotpot-index", type=Path)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--fusion", default="rrf")
    ap.add_argument("--obliqa-dev-n", type=int, default=500)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--strategy", action="append", default=[])
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    args.out = args.out or str(REPO / "bench" / "results" / f"hybrid-{args.what}.json")
    if args.what == "choose":
        choose(args)
    elif args.what == "dev":
        dev(args)
    else:  # every bench/results/hybrid-dev*.json (runs split by task), merged
        merged: dict[str, Any] = {"full": {}, "bootstrap": {}}
        for f in sorted((REPO / "bench" / "results").glob("hybrid-dev*.json")):
            part = json.loads(f.read_text(encoding="utf-8"))
            for key in ("full", "bootstrap"):
                for t, rows in part.get(key, {}).items():
                    merged[key].setdefault(t, {}).update(rows)
        print(markdown(merged))


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"total {time.time() - t0:.0f} s", file=sys.stderr)
