"""CPU trade-offs of the bi-encoder reranker: passage encoding rate by max_seq_length and batch size,
and the per-query cost of reranking 50 BM25 candidates cold (first touch) and warm (cached vectors).

    python bench/rerank_latency.py --index /tmp/idx-nfcorpus --out bench/results/rerank-latency.json"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from server.corpus import Corpus
from server.rerank.embedding import EmbeddingReranker, minilm_path
from server.eval.strategies import rerank_ids

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ap = argparse.ArgumentParser()
ap.add_argument("--index", required=True)
ap.add_argument("--queries", type=int, default=20)
ap.add_argument("--out", type=Path, required=True)
a = ap.parse_args()
corpus = Corpus.open(Path(a.index))
sample = corpus.passages[:64]
out: dict = {"load_1min": os.getloadavg()[0], "encode_per_s": {}, "rerank50_ms": {}}
for seq in (64, 128, 256):
    for batch in (16, 32, 64):
        rr = EmbeddingReranker(minilm_path(), max_seq_length=seq, batch_size=batch)
        t = time.perf_counter()
        rr.vectors(sample)
        out["encode_per_s"][f"seq{seq}-batch{batch}"] = round(len(sample) / (time.perf_counter() - t), 1)
    rr = EmbeddingReranker(minilm_path(), max_seq_length=seq)
    qs = [p.text.split(".")[0][:120] for p in corpus.passages[100:100 + a.queries]]
    cold, warm = [], []
    for q in qs:
        t = time.perf_counter(); rerank_ids(corpus, rr, q, 50, 50); cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter(); rerank_ids(corpus, rr, q, 50, 50); warm.append((time.perf_counter() - t) * 1000)
    out["rerank50_ms"][f"seq{seq}"] = {"cold_p50": round(statistics.median(cold), 1), "warm_p50": round(statistics.median(warm), 1)}
    print(seq, out, flush=True)
out["load_1min_end"] = os.getloadavg()[0]
a.out.parent.mkdir(parents=True, exist_ok=True)
a.out.write_text(json.dumps(out, indent=2), encoding="utf-8")
