"""Does token-level matching add what one vector per passage misses? (issue 9, the obliqa split's +0.06)

Adds two features to a `bench/rerank_ltr.py dump` (each query's BM25 top 50 with BM25 and zero-shot
cosine): `maxsim`, ColBERT-style late interaction with the packaged MiniLM's own token vectors (each
question token's best cosine to a passage token, averaged; no training), and `trained_cos`, the cosine of a
trained reranker (`--model`). Fits pairwise logistic regression on the dump's training queries only
(`rerank_ltr.fit_pairwise`) over subsets, and reports nDCG@10 per validation set with paired bootstrap
intervals against BM25 + cosine.

    python bench/rerank_maxsim.py --dump /work/rt-runs/ltr-adgm-zs.json --model MODELS/adgm-top3-quiet/rr-... \
        --json bench/results/maxsim-adgm.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rerank_full as rf  # noqa: E402
import rerank_ltr as ltr  # noqa: E402

from server.eval.bootstrap import paired_bootstrap  # noqa: E402


def token_vectors(model, texts: list[str], batch: int = 32) -> list[np.ndarray]:
    """Unit token vectors of each text (special tokens dropped), float16."""
    out: list[np.ndarray] = []
    t = time.monotonic()
    for i in range(0, len(texts), batch):
        embs = model.encode(texts[i:i + batch], output_value="token_embeddings", convert_to_numpy=False,
                            show_progress_bar=False, batch_size=batch)
        for e in embs:
            v = e.float().numpy()[1:-1]  # [CLS] ... [SEP]; padding is already cut per text
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
            out.append(v.astype(np.float16))
        if (i // batch) % 50 == 0:
            print(f"token vectors: {i + len(embs)}/{len(texts)} ({time.monotonic() - t:.0f}s)", file=sys.stderr, flush=True)
    return out


def maxsim(q: np.ndarray, p: np.ndarray) -> float:
    if not len(q) or not len(p):
        return 0.0
    return float((q.astype(np.float32) @ p.astype(np.float32).T).max(axis=1).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", type=Path, required=True)
    ap.add_argument("--dataset", default="adgm")
    ap.add_argument("--model", default=None, help="a trained reranker folder: its cosine becomes `trained_cos`")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    from server.rerank.embedding import passage_text

    data = json.loads(a.dump.read_text(encoding="utf-8"))
    names, groups = list(data["names"]), data["groups"]
    corpus, train, sets = rf.dataset(a.dataset)
    queries: dict[str, str] = {}
    tq, _ = rf.training_queries(train)
    queries.update(tq)
    for s in sets.values():
        queries.update(s.queries)
    zs = rf._load("zero-shot", corpus)
    pids = sorted({pid for g in groups.values() for _, _, _, ps in g["rows"] for pid in ps})
    print(f"{len(pids)} candidate passages", file=sys.stderr, flush=True)
    ptok = dict(zip(pids, token_vectors(zs.model, [passage_text(corpus.passage(p)) for p in pids])))
    trained = rf._load(a.model, corpus) if a.model else None
    extra = ["maxsim"] + (["trained_cos"] if trained else [])
    for g, grp in groups.items():
        qids = [q for q, _, _, _ in grp["rows"]]
        qtok = dict(zip(qids, token_vectors(zs.model, [queries[q] for q in qids])))
        tv = dict(zip(qids, trained.encode_queries([queries[q] for q in qids]))) if trained else {}
        rows = []
        for q, x, y, ps in grp["rows"]:
            x = np.asarray(x, dtype=np.float64).reshape(len(ps), len(names))
            cols = [[maxsim(qtok[q], ptok[p]) for p in ps]]
            if trained:
                cols.append((trained.vectors([corpus.passage(p) for p in ps]) @ tv[q]).tolist() if ps else [])
            x = np.column_stack([x] + [np.asarray(c) for c in cols]) if ps else np.zeros((0, len(names) + len(extra)))
            rows.append((q, x.tolist(), y, ps))
        grp["rows"] = rows
        print(f"{g}: features added", file=sys.stderr, flush=True)
    names += extra
    subsets = {"bm25+cos": ["bm25_norm", "cosine"], "bm25+maxsim": ["bm25_norm", "maxsim"],
               "bm25+cos+maxsim": ["bm25_norm", "cosine", "maxsim"]}
    if trained:
        subsets.update({"bm25+trained": ["bm25_norm", "trained_cos"],
                        "bm25+trained+maxsim": ["bm25_norm", "trained_cos", "maxsim"],
                        "bm25+trained+cos+maxsim": ["bm25_norm", "trained_cos", "cosine", "maxsim"]})
    results, per = {}, {}
    for label, cols_n in subsets.items():
        cols = [names.index(n) for n in cols_n]
        w = ltr.fit_pairwise(groups["train"], cols)
        row = {"weights": dict(zip(cols_n, np.round(w, 4).tolist()))}
        for g, grp in groups.items():
            per.setdefault(label, {})[g] = ltr._ndcgs(grp, w, cols)
            row[g] = round(float(np.mean(list(per[label][g].values()))), 4)
        results[label] = row
        print(label, {g: row[g] for g in groups}, file=sys.stderr, flush=True)
    bm = [names.index("bm25_norm")]
    for g, grp in groups.items():
        per.setdefault("bm25", {})[g] = ltr._ndcgs(grp, np.array([1.0]), bm)
    for label in results:
        for g in groups:
            if g == "train":
                continue
            qs = sorted(per[label][g])
            results[label][g + " vs bm25+cos"] = paired_bootstrap([per["bm25+cos"][g][q] for q in qs], [per[label][g][q] for q in qs])
            results[label][g + " vs bm25"] = paired_bootstrap([per["bm25"][g][q] for q in qs], [per[label][g][q] for q in qs])
    results["bm25"] = {g: round(float(np.mean(list(per["bm25"][g].values()))), 4) for g in groups}
    print(json.dumps(results, indent=1))
    if a.json:
        a.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
