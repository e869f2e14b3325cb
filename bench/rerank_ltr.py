"""Learning to rank over cheap features (issue 9): which features beyond BM25 + cosine lift a fusion
fitted on training labels only. Dumps each query's candidates with a wide feature set once, then fits
linear rankers on subsets (pairwise logistic regression; coordinate ascent on nDCG@10) and reports nDCG@10
on the validation sets with paired bootstrap intervals.

    python bench/rerank_ltr.py dump --dataset adgm --model zero-shot --out /work/rt-runs/ltr-adgm-zs.npz
    python bench/rerank_ltr.py fit --dump /work/rt-runs/ltr-adgm-zs.npz
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rerank_full as rf  # noqa: E402

from server.eval.metrics import ndcg_at  # noqa: E402
from server.eval.bootstrap import paired_bootstrap  # noqa: E402

NAMES = ["bm25_norm", "cosine", "bm25_rrf", "cos_rrf", "doc_max_bm25", "doc_max_cos", "doc_share", "ctx_cos",
         "ctx_bm25", "head_overlap", "log_len", "short", "label_in_q", "doc_in_q"]
WORD = re.compile(r"[a-z0-9]+")


def _words(s: str) -> set[str]:
    from graph.index import query_words

    return {w.lower() for w in query_words(s)}


def feats(corpus, query: str, ps, bm: np.ndarray, cos: np.ndarray, rr, qvec) -> np.ndarray:
    n = len(ps)
    top = bm.max() if n and bm.max() > 0 else 1.0
    bmn = bm / top
    rank_b = np.empty(n); rank_b[np.argsort(-bm, kind="stable")] = np.arange(n)
    rank_c = np.empty(n); rank_c[np.argsort(-cos, kind="stable")] = np.arange(n)
    by_doc: dict[str, list[int]] = {}
    for i, p in enumerate(ps):
        by_doc.setdefault(p.doc_id, []).append(i)
    doc_max_b = np.array([max(bmn[j] for j in by_doc[p.doc_id]) for p in ps])
    doc_max_c = np.array([max(cos[j] for j in by_doc[p.doc_id]) for p in ps])
    share = np.array([len(by_doc[p.doc_id]) / n for p in ps])
    # reading-order neighbours (previous and next passage of the same document)
    nb_pos: list[list[int]] = []
    flat: list = []
    for p in ps:
        at = corpus.by_id[p.id]
        mine = []
        for d in (-1, 1):
            j = at + d
            if 0 <= j < len(corpus.passages):
                q = corpus.passages[j]
                if q.doc_id == p.doc_id:
                    mine.append(len(flat)); flat.append(q)
        nb_pos.append(mine)
    nvec = rr.vectors(flat) if flat else np.zeros((0, len(qvec)), dtype=np.float32)
    ncos = nvec @ qvec if len(flat) else np.zeros(0)
    deep = {p.id: s for p, s in corpus.bm25(query, 200)}
    ctx_c = np.array([max((ncos[k] for k in m), default=0.0) for m in nb_pos])
    ctx_b = np.array([max((deep.get(flat[k].id, 0.0) / top for k in m), default=0.0) for m in nb_pos])
    qw = _words(query)
    ql = query.lower()
    head = np.array([len(qw & _words(" ".join(p.heading_path) + " " + (p.label or ""))) / max(1, len(qw)) for p in ps])
    ln = np.array([np.log1p(len(p.text)) for p in ps])
    short = np.array([1.0 if len(p.text) < 80 else 0.0 for p in ps])
    label_in = np.array([1.0 if p.label and len(p.label) >= 3 and re.search(r"(?<![\w.])" + re.escape(p.label.lower().rstrip(".")) + r"(?![\w])", ql) else 0.0
                         for p in ps])
    doc_in = np.array([1.0 if p.doc_title and len(WORD.findall(p.doc_title.lower())) and
                       WORD.findall(p.doc_title.lower())[0] in ql.split() else 0.0 for p in ps])
    return np.stack([bmn, cos, 1 / (60 + rank_b), 1 / (60 + rank_c), doc_max_b, doc_max_c, share, ctx_c, ctx_b, head,
                     ln, short, label_in, doc_in], axis=1)


def dump(a) -> None:
    corpus, train, sets = rf.dataset(a.dataset)
    rr = rf._load("zero-shot" if a.model == "zero-shot" else a.model, corpus)
    tq, tqr = rf.training_queries(train)
    fit_ids = sorted(q for q in tq if any(v > 0 for v in tqr[q].values()))
    random.Random(0).shuffle(fit_ids)
    groups = {"train": ({q: tq[q] for q in fit_ids[:a.fit_queries]}, tqr)}
    for name, s in sets.items():
        groups[name] = (s.queries, s.qrels)
    out: dict = {}
    for g, (qs, qr) in groups.items():
        ids = sorted(q for q in qs if any(v > 0 for v in qr.get(q, {}).values()))
        t = time.monotonic()
        qv = dict(zip(ids, rr.encode_queries([qs[q] for q in ids])))
        rows = []
        for i, q in enumerate(ids):
            ps, bm = rf._candidates(corpus, qs[q], a.candidates)
            if not ps:
                rows.append((q, np.zeros((0, len(NAMES))), np.zeros(0), []))
                continue
            cos = (rr.vectors(ps) @ qv[q]).astype(np.float64)
            x = feats(corpus, qs[q], ps, bm, cos, rr, qv[q])
            rows.append((q, x, np.array([max(0.0, qr[q].get(p.id, 0.0)) for p in ps]), [p.id for p in ps]))
            if (i + 1) % 200 == 0:
                print(f"{g}: {i + 1}/{len(ids)} ({time.monotonic() - t:.0f}s)", file=sys.stderr, flush=True)
        out[g] = {"rows": [(q, x.tolist(), y.tolist(), pid) for q, x, y, pid in rows],
                  "qrels": {q: qr[q] for q in ids}}
        print(f"{g}: {len(ids)} queries in {time.monotonic() - t:.0f}s", file=sys.stderr, flush=True)
    a.out.write_text(json.dumps({"names": NAMES, "model": a.model, "groups": out}), encoding="utf-8")


def _ndcgs(group: dict, w: np.ndarray, cols: list[int]) -> dict[str, float]:
    res = {}
    for q, x, y, pids in group["rows"]:
        if not pids:
            res[q] = 0.0
            continue
        s = np.asarray(x)[:, cols] @ w
        ranked = [pids[i] for i in np.argsort(-s, kind="stable")]
        res[q] = ndcg_at(ranked, group["qrels"][q], 10)
    return res


def fit_pairwise(group: dict, cols: list[int], c: float = 1.0) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    d, rng = [], random.Random(0)
    for _, x, y, pids in group["rows"]:
        if not pids:
            continue
        x, y = np.asarray(x)[:, cols], np.asarray(y)
        pos, neg = np.where(y > 0)[0], np.where(y <= 0)[0]
        for i in pos:
            for j in rng.sample(list(neg), min(len(neg), 20)):
                d.append(x[i] - x[j])
    d = np.array(d)
    X = np.concatenate([d, -d]); Y = np.r_[np.ones(len(d)), np.zeros(len(d))]
    sd = X.std(0) + 1e-9
    clf = LogisticRegression(C=c, fit_intercept=False, max_iter=2000).fit(X / sd, Y)
    return clf.coef_[0] / sd


def coord_ascent(group: dict, cols: list[int], w0: np.ndarray, rounds: int = 3) -> np.ndarray:
    w = w0.copy()
    best = np.mean(list(_ndcgs(group, w, cols).values()))
    scale = np.abs(w).max() or 1.0
    for _ in range(rounds):
        for k in range(len(w)):
            for step in (-1, -0.5, -0.25, -0.1, 0.1, 0.25, 0.5, 1):
                t = w.copy(); t[k] += step * scale
                m = np.mean(list(_ndcgs(group, t, cols).values()))
                if m > best + 1e-5:
                    best, w = m, t
    return w


def fit(a) -> None:
    data = json.loads(a.dump.read_text(encoding="utf-8"))
    names, groups = data["names"], data["groups"]
    tr = groups["train"]
    base = [names.index("bm25_norm")]
    subsets = {"bm25": ["bm25_norm"], "bm25+cos (equal)": None, "bm25+cos": ["bm25_norm", "cosine"],
               "+rrf": ["bm25_norm", "cosine", "bm25_rrf", "cos_rrf"],
               "+doc": ["bm25_norm", "cosine", "doc_max_bm25", "doc_max_cos", "doc_share"],
               "+ctx": ["bm25_norm", "cosine", "ctx_cos", "ctx_bm25"],
               "+text": ["bm25_norm", "cosine", "head_overlap", "log_len", "short", "label_in_q", "doc_in_q"],
               "all": names}
    results, per = {}, {}
    for label, cols_n in subsets.items():
        if cols_n is None:
            cols, w = [names.index("bm25_norm"), names.index("cosine")], np.array([1.0, 1.0])
        else:
            cols = [names.index(n) for n in cols_n]
            w = fit_pairwise(tr, cols) if len(cols) > 1 else np.array([1.0])
            if a.ascent and len(cols) > 1:
                w = coord_ascent(tr, cols, w)
        row = {"weights": dict(zip([names[c] for c in cols], np.round(w, 4).tolist()))}
        for g, grp in groups.items():
            per.setdefault(label, {})[g] = _ndcgs(grp, w, cols)
            row[g] = round(float(np.mean(list(per[label][g].values()))), 4)
        results[label] = row
        print(label, {g: row[g] for g in groups}, file=sys.stderr, flush=True)
    ref = "bm25+cos"
    for label in results:
        for g in groups:
            if g == "train":
                continue
            qs = sorted(per[label][g])
            lo_hi = paired_bootstrap([per[ref][g][q] for q in qs], [per[label][g][q] for q in qs])
            results[label][g + " vs " + ref] = lo_hi
    print(json.dumps(results, indent=1))
    if a.json:
        a.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--dataset", default="adgm")
    d.add_argument("--model", default="zero-shot")
    d.add_argument("--candidates", type=int, default=50)
    d.add_argument("--fit-queries", type=int, default=1000)
    d.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit")
    f.add_argument("--dump", type=Path, required=True)
    f.add_argument("--ascent", action="store_true")
    f.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    dump(a) if a.cmd == "dump" else fit(a)


if __name__ == "__main__":
    main()
