"""Fusion of BM25 and the zero-shot MiniLM cosine (logistic regression), fitted on NFCorpus *train*
queries only, evaluated like the other variants; plus an unfitted equal-weight sum as a label-free check.

    python bench/rerank_fusion.py --out bench/results/rerank-fusion.json"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from server.corpus import Corpus
from server.eval import evaluate, load_qrels, load_queries
from server.rerank import load_reranker
from server.rerank.fusion import FusionReranker, fit_fusion
from server.eval.strategies import rerank_ids

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = {"nfcorpus-dev": ("/tmp/idx-nfcorpus", "nfcorpus/queries.jsonl", "nfcorpus/qrels/dev.tsv", 60),
        "obliqa-dev": ("/tmp/idx-adgm", "adgm/tasks/obliqa_dev/queries.jsonl", "adgm/tasks/obliqa_dev/qrels.tsv", 120)}

ap = argparse.ArgumentParser()
ap.add_argument("--fit-queries", type=int, default=100)
ap.add_argument("--out", type=Path, required=True)
a = ap.parse_args()
nf = Corpus.open(Path("/tmp/idx-nfcorpus"))
zs = load_reranker("minilm-zero-shot", nf)
folder = fit_fusion(nf, load_queries(DATA / "nfcorpus/queries.jsonl"), load_qrels(DATA / "nfcorpus/qrels/train.tsv"), zs,
                    Path(tempfile.mkdtemp()), max_queries=a.fit_queries)
weights = json.loads((folder / "fusion.json").read_text(encoding="utf-8"))["weights"]
result = {"fitted_weights": weights, "fit": f"{a.fit_queries} NFCorpus train queries"}
for name, (index, q, r, n) in SETS.items():
    corpus = Corpus.open(Path(index))
    qs, qr = load_queries(DATA / q), load_qrels(DATA / r)
    judged = sorted(random.Random(0).sample(sorted(x for x in qs if x in qr), n))
    qs = {x: qs[x] for x in judged}
    emb = load_reranker("minilm-zero-shot", corpus)
    for label, w in (("fusion-fitted", weights), ("fusion-equal", {"bias": 0.0, "bm25_norm": 1.0, "cosine": 1.0})):
        rr = FusionReranker(emb, corpus, w)
        m = evaluate(corpus, qs, qr, lambda c, x, d: rerank_ids(c, rr, x, 50, d), depth=50).metrics  # noqa: B023
        result.setdefault(label, {})[name] = {k: m[k] for k in ("ndcg@10", "recall@10", "latency_p50_ms", "queries")}
        print(label, name, result[label][name], file=sys.stderr, flush=True)
a.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
