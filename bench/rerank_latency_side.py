"""Side by side, interleaved: warm rerank latency (BM25 top 50 + query vector + scoring) of the zero-shot
MiniLM, the adapter and the query encoder, on ADGM xref-dev questions (run with OMP_NUM_THREADS=1).

    python bench/rerank_latency_side.py zero-shot=minilm-zero-shot adapter=MODEL_DIR qenc=MODEL_DIR"""
import json, os, statistics, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rerank_full import dataset
from server.rerank import load_reranker
from server.settings import Settings
from server.eval.strategies import rerank_ids
corpus, _, sets = dataset("adgm")
qs = list(sets["xref-dev"].queries.values())[:30]
cache = Settings.from_env().vector_cache
rrs = {n: load_reranker(p, corpus, cache_dir=cache) for n, p in (a.split("=", 1) for a in sys.argv[1:])}
for rr in rrs.values():
    for q in qs: rerank_ids(corpus, rr, q, 50, 50)
ms = {n: [] for n in rrs}
for q in qs:
    for n, rr in rrs.items():
        t = time.perf_counter(); rerank_ids(corpus, rr, q, 50, 50); ms[n].append(1000 * (time.perf_counter() - t))
out = {n: {"p50_ms": round(statistics.median(v), 1), "p95_ms": round(sorted(v)[int(0.95 * (len(v) - 1))], 1)} for n, v in ms.items()}
out["load"] = os.getloadavg()[0]
print(json.dumps(out))
