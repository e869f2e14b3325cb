"""Evaluate rerankers (BM25 top-N reranked) on NFCorpus dev and ADGM obliqa_dev (fixed random subsets).

    python bench/rerank_eval.py --name zero-shot [--reranker DIR] --out bench/results/rerank-zero-shot.json

Writes nDCG@10, Recall@10, cold latency p50 (first touch: passage vectors encoded) and warm p50
(vectors cached: the steady state of a server), per data set."""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from server.corpus import Corpus
from server.eval import evaluate, load_qrels, load_queries
from server.rerank import load_reranker
from server.eval.strategies import rerank_ids

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = {
    "nfcorpus-dev": ("/tmp/idx-nfcorpus", DATA / "nfcorpus/queries.jsonl", DATA / "nfcorpus/qrels/dev.tsv"),
    "obliqa-dev": ("/tmp/idx-adgm", DATA / "adgm/tasks/obliqa_dev/queries.jsonl", DATA / "adgm/tasks/obliqa_dev/qrels.tsv"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--reranker", default=None, help="model folder; omit for BM25 alone, 'zero-shot' for MiniLM")
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--sample", default="nfcorpus-dev=0,obliqa-dev=500",
                    help="fixed random subset per set (seed 0); 0 = all judged queries")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    result: dict = {"name": a.name, "reranker": a.reranker, "candidates": a.candidates}
    for set_name in a.sets.split(","):
        index, qpath, rpath = SETS[set_name]
        sample = dict((k, int(v)) for k, v in (x.split("=") for x in a.sample.split(","))).get(set_name, 0)
        corpus = Corpus.open(Path(index))
        qs, qr = load_queries(qpath), load_qrels(rpath)
        judged = sorted(q for q in qs if q in qr)
        if sample and sample < len(judged):
            judged = sorted(random.Random(0).sample(judged, sample))
        qs = {q: qs[q] for q in judged}
        if a.reranker is None:
            strat = lambda c, q, d: [p.id for p, _ in c.bm25(q, d)]  # noqa: E731
        else:
            rr = load_reranker("minilm-zero-shot" if a.reranker == "zero-shot" else a.reranker, corpus)
            strat = lambda c, q, d: rerank_ids(c, rr, q, a.candidates, d)  # noqa: E731
        t = time.monotonic()
        rep = evaluate(corpus, qs, qr, strat, depth=a.candidates)
        m = {k: rep.metrics[k] for k in ("ndcg@10", "recall@10", "latency_p50_ms", "queries")}
        m["cold_latency_p50_ms"] = m.pop("latency_p50_ms")
        m["eval_seconds"] = round(time.monotonic() - t, 1)
        if a.reranker is not None:  # warm: the same 100 queries again, vectors now cached
            warm = []
            for q in list(qs.values())[:100]:
                t0 = time.perf_counter()
                rerank_ids(corpus, rr, q, a.candidates, a.candidates)
                warm.append((time.perf_counter() - t0) * 1000)
            m["warm_latency_p50_ms"] = round(statistics.median(warm), 2)
        if a.reranker is not None and hasattr(rr, "vectors"):  # the same model fused with BM25 (vectors cached now)
            from server.rerank.fusion import EQUAL_WEIGHTS, FusionReranker

            fused = FusionReranker(rr, corpus, EQUAL_WEIGHTS)
            fm = evaluate(corpus, qs, qr, lambda c, q, d: rerank_ids(c, fused, q, a.candidates, d), depth=a.candidates).metrics
            m["fused_bm25"] = {k: fm[k] for k in ("ndcg@10", "recall@10", "latency_p50_ms")}
        m["sample_seed0"] = sample or "all"
        result[set_name] = m
        print(set_name, m, file=sys.stderr, flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
