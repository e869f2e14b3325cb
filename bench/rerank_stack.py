"""Stack rerankers: does a cross-encoder add to BM25 and the bi-encoders? (issue 9, the obliqa split's +0.06)

Adds one feature per `--model NAME=FOLDER` (any folder `load_reranker` reads: a cross-encoder's scores, an
embedding model's cosines) to a `bench/rerank_ltr.py dump` (each query's BM25 top 50 with BM25 and the
zero-shot cosine). Each model's scores are cached beside the dump (`<dump>.<NAME>.json`), so adding a model
costs only its own scoring. Then, over the first `--depth` candidates of each query:

- fusions with no fitted weight: reciprocal-rank fusion (k = 60) of BM25 with each model, and of all;
- pairwise logistic regression fitted on the first `--fit-queries` of the dump's **training** queries
  (`rerank_ltr.fit_pairwise`; a model trained on those queries scores them better than it will score new ones,
  so its weight is an upper estimate: the RRF rows are the fit-free check);

nDCG@10 per validation set, with paired bootstrap 95 % intervals against BM25 and against `--reference`.

    python bench/rerank_ltr.py dump --dataset adgm --model zero-shot --out /work/rt-runs/ltr-adgm-zs.json
    python bench/rerank_stack.py --dump /work/rt-runs/ltr-adgm-zs.json --sets obliqa-val \\
        --model ce=MODELS/adgm-ce-mnrl/rr-... --model top3=MODELS/adgm-top3-quiet/rr-... \\
        --reference bm25+top3 --json bench/results/stack-adgm.json
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


def model_scores(name: str, folder: str, corpus, queries: dict[str, str], groups: dict, depth: int,
                 cache: Path) -> dict[str, dict[str, list[float]]]:
    """{group: {query id: scores of its first `depth` candidates}}, read from `cache` where already scored."""
    done = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else {}
    todo = {g: [r for r in grp["rows"] if r[0] not in done.get(g, {}) or len(done[g][r[0]]) < min(depth, len(r[3]))]
            for g, grp in groups.items()}
    if not any(todo.values()):
        return done
    rr = rf._load(folder, corpus)
    embedding = hasattr(rr, "vectors")
    t, n = time.monotonic(), 0
    for g, rows in todo.items():
        qv = dict(zip([r[0] for r in rows], rr.encode_queries([queries[r[0]] for r in rows]))) if embedding and rows else {}
        for i, (q, _, _, pids) in enumerate(rows):
            ps = [corpus.passage(p) for p in pids[:depth]]
            sc = (rr.vectors(ps) @ qv[q]).tolist() if embedding else rr.score(queries[q], ps)
            done.setdefault(g, {})[q] = [round(float(s), 5) for s in sc]
            n += len(ps)
            if (i + 1) % 25 == 0:
                print(f"{name} {g}: {i + 1}/{len(rows)} queries, {n / (time.monotonic() - t):.0f} pairs/s",
                      file=sys.stderr, flush=True)
                cache.write_text(json.dumps(done), encoding="utf-8")
    cache.write_text(json.dumps(done), encoding="utf-8")
    return done


def _rrf(scores: np.ndarray) -> np.ndarray:
    return rf._rrf(len(scores), scores)  # the bench's reciprocal-rank fusion term (k = 60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", type=Path, required=True)
    ap.add_argument("--dataset", default="adgm")
    ap.add_argument("--model", action="append", default=[], help="NAME=FOLDER (repeatable)")
    ap.add_argument("--sets", default="", help="comma list of the dump's validation groups (default: all)")
    ap.add_argument("--depth", type=int, default=50, help="candidates per query (BM25 order) that are reranked")
    ap.add_argument("--fit-queries", type=int, default=200, help="training queries the LR weights are fitted on")
    ap.add_argument("--reference", default="bm25+cos", help="the fusion every row is compared with")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    data = json.loads(a.dump.read_text(encoding="utf-8"))
    names = list(data["names"])
    corpus, train, sets = rf.dataset(a.dataset)
    queries: dict[str, str] = dict(rf.training_queries(train)[0])
    for s in sets.values():
        queries.update(s.queries)
    keep = ["train"] + [g for g in data["groups"] if g != "train" and (not a.sets or g in a.sets.split(","))]
    groups = {g: data["groups"][g] for g in keep}
    groups["train"] = {**groups["train"], "rows": groups["train"]["rows"][:a.fit_queries]}
    base = [names.index("bm25_norm"), names.index("cosine")]
    for g, grp in groups.items():  # the first `depth` candidates, BM25 and the zero-shot cosine kept
        grp["rows"] = [(q, np.asarray(x, dtype=np.float64).reshape(len(ps), len(names))[:a.depth, base] if ps else
                        np.zeros((0, 2)), y[:a.depth], ps[:a.depth]) for q, x, y, ps in grp["rows"]]
    cols = ["bm25_norm", "cos"]
    for spec in a.model:
        name, folder = spec.split("=", 1)
        sc = model_scores(name, folder, corpus, queries, groups, a.depth, a.dump.with_suffix(f".{name}.json"))
        for g, grp in groups.items():
            grp["rows"] = [(q, np.column_stack([x, np.asarray(sc[g][q][:len(ps)])]) if ps else np.zeros((0, len(cols) + 1)),
                            y, ps) for q, x, y, ps in grp["rows"]]
        cols.append(name)
    models = cols[1:]
    per: dict[str, dict[str, dict[str, float]]] = {}
    weights: dict[str, dict[str, float]] = {}

    def add(label: str, score_fn) -> None:
        for g, grp in groups.items():
            rows = [(q, score_fn(np.asarray(x)).reshape(-1, 1) if ps else x[:, :1], y, ps) for q, x, y, ps in grp["rows"]]
            per.setdefault(label, {})[g] = ltr._ndcgs({"rows": rows, "qrels": grp["qrels"]}, np.array([1.0]), [0])

    add("bm25", lambda x: x[:, 0])
    for m in models:
        j = cols.index(m)
        add(m, lambda x, j=j: x[:, j])
        add(f"rrf(bm25,{m})", lambda x, j=j: _rrf(x[:, 0]) + _rrf(x[:, j]))
    if len(models) > 1:
        add("rrf(all)", lambda x: sum(_rrf(x[:, j]) for j in range(len(cols))))
    subsets = [["bm25_norm", m] for m in models]
    if len(models) > 2:
        subsets += [["bm25_norm", *[m for m in models if m != "cos"]], ["bm25_norm", *models]]
    elif len(models) == 2:
        subsets += [["bm25_norm", *models]]
    for sub in subsets:
        idx = [cols.index(c) for c in sub]
        w = ltr.fit_pairwise(groups["train"], idx)
        label = "+".join(["bm25", *sub[1:]])
        weights[label] = dict(zip(sub, np.round(w, 4).tolist()))
        add(label, lambda x, idx=idx, w=w: x[:, idx] @ w)
    results: dict = {"depth": a.depth, "fit_queries": len(groups["train"]["rows"]), "weights": weights, "systems": {}}
    for label, by_group in per.items():
        row = {g: round(float(np.mean(list(v.values()))), 4) for g, v in by_group.items()}
        for g in by_group:
            if g == "train":
                continue
            qs = sorted(by_group[g])
            row[f"{g} vs bm25"] = paired_bootstrap([per["bm25"][g][q] for q in qs], [by_group[g][q] for q in qs])
            if a.reference in per:
                row[f"{g} vs {a.reference}"] = paired_bootstrap([per[a.reference][g][q] for q in qs],
                                                                [by_group[g][q] for q in qs])
        results["systems"][label] = row
        print(label, {g: row[g] for g in by_group}, file=sys.stderr, flush=True)
    print(json.dumps(results, indent=1))
    if a.json:
        a.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
