"""When should deep_search's default walk lift linked passages? (issue 11 item 4: the default must never
be below bm25+rerank on a dev task; the walk was, on ObliQA.)

    python bench/gate.py collect --adgm-index IDX --hotpot-index IDX2 --set train   # choosing questions
    python bench/gate.py collect --adgm-index IDX --hotpot-index IDX2 --set dev     # every dev task
    python bench/gate.py table                  # bench/results/gate-{train,dev}.json.gz

`collect` runs hybrid+rerank (R), walk+hybrid (W) and bm25+rerank (B) once per question and keeps the top-20 lists, the
gold ids, each list's latency and the reference/mention links among their passages, so that combining
rules are scored offline (RULES; dev intervals are paired differences to bm25+rerank). The chosen rule,
"R top 7, then W's first 3 additions", is deep_search's `mixed` (server.traversal.walk.mix). Choosing questions (`--set train`): 150 each of xref_dpel_trainpool
and xref_schema_train (seed 0, as bench/hybrid.py choose) and 150 obliqa_dev questions drawn with seed 1
from those the dev set's 200 (seed 0) leave out: the only ObliQA-style questions with labels outside the
dev figures. Rules are chosen on them and then scored on the dev tasks.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from hybrid import loadavg, sample, setup, task  # noqa: E402

from server.eval.metrics import percentile  # noqa: E402
from server.eval.strategies import StrategyParts, make_strategy  # noqa: E402
from server.retrieval import FirstStage, FusionOptions  # noqa: E402
from server.traversal import Budget, DeepSearchResult  # noqa: E402
from server.traversal.walk import rerank_only  # noqa: E402
from server.training.bootstrap import paired_bootstrap  # noqa: E402

OUT = REPO / "bench" / "results"
DEV = {"obliqa_mp_val": None, "obliqa_dev": 200, "hotpotqa100": None, "xref_dpel_dev": None, "xref_schema_dev": None}
TRAIN = ("xref_dpel_trainpool", "xref_schema_train", "obliqa_dev#choose", "obliqa_dev#more")


def choose_sample(queries: dict[str, str], qrels: dict[str, Any], part: str = "choose") -> dict[str, str]:
    """obliqa_dev questions outside the 200 (seed 0) the dev figures use, shuffled with seed 1: the first 150
    (`#choose`) or the next 450 (`#more`, added for score-aware rules: 150 ObliQA questions decide a
    0.02 difference poorly)."""
    dev = set(sample(queries, qrels, 200))
    rest = sorted(q for q in queries if q in qrels and q not in dev)
    random.Random(1).shuffle(rest)
    return {q: queries[q] for q in sorted(rest[:150] if part == "choose" else rest[150:600])}


def load(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def save(path: Path, out: dict[str, Any]) -> None:
    """R's top 20 (10 in files without scores), B's top 10, W's top 20 (anchored rules read past W's top
    10), the scores (SCORES) and the links among them, gzipped."""
    for task_rows in out.values():
        for row in task_rows["rows"]:
            row["R"] = row["R"][:20 if "S" in row else 10]
            row["B"] = row["B"][:10]
            ids = set(row["R"]) | set(row["W"])
            row["links"] = [link for link in row["links"] if set(link) <= ids]
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(out, f)


def links_among(corpus: Any, ids: set[str]) -> list[list[str]]:
    out = set()
    for pid in ids:
        if pid not in corpus.graph:
            continue
        for _, dst, d in corpus.graph.out_edges(pid, data=True):
            if dst in ids and dst != pid and d.get("kind") in ("reference", "mention"):
                out.add(tuple(sorted((pid, dst))))
    return [list(p) for p in sorted(out)]


POOL_DEPTH = 300  # W is asked for this many so that its scores of R's passages are known too


def scores(corpus: Any, rr: Any, question: str, reranked: DeepSearchResult, walked: DeepSearchResult) -> dict[str, Any]:
    """SCORES of one question (rounded to 5 places):
    R_s: the reranker's scores of R's top 20 (as R ranks them: one call over the first stage's top 50);
    W_s: the walk's ranking scores (Pool.scores: reciprocal first-stage and reranker ranks plus the best
    linked partner's) of W's top 20; W_rr: the reranker's score of each of them as the walk's pool holds it
    (scored in the batch that reached it: the fusion reranker normalises BM25 within a batch, so these are
    not on R's scale); W_via: how the walk reached each;
    WR_s: the walk's ranking score of each of R's top 20 (None: not in the walk's pool);
    S: the reranker's score of every passage of R's and W's top 20 on R's scale (one call over the first
    stage's top 50 and W's passages outside them)."""
    cands = reranked.trace[0].added
    pool = {e.id: e for e in walked.evidence}
    w = walked.evidence[:20]
    ids = cands + [e.id for e in w if e.id not in set(cands)]
    joint = rr.score(question, [corpus.passage(p) for p in ids]) if ids else []
    keep = {e.id for e in reranked.evidence} | {e.id for e in w}
    return {"R_s": [e.score for e in reranked.evidence], "W_s": [round(e.score, 5) for e in w],
            "W_rr": [round(e.rerank_score, 5) for e in w], "W_via": [e.via for e in w],
            "WR_s": [round(pool[e.id].score, 5) if e.id in pool else None for e in reranked.evidence],
            "S": {p: round(float(x), 5) for p, x in zip(ids, joint) if p in keep}}


def collect(args: argparse.Namespace) -> None:
    path = args.out or OUT / f"gate-{args.set}.json.gz"
    out: dict[str, Any] = load(path) if path.is_file() else {}
    setups: dict[Path, Any] = {}
    names = list(DEV) if args.set == "dev" else list(TRAIN)
    for name in args.only or names:
        if name in out:
            continue
        base = name.split("#")[0]
        index = args.hotpot_index if base == "hotpotqa100" else args.adgm_index
        if index not in setups:
            setups[index] = setup(index)
        corpus, rr, dense = setups[index]
        stage = FirstStage(corpus, dense, "hybrid", FusionOptions())
        walked: list[DeepSearchResult] = []
        parts = StrategyParts(reranker=rr, first_stage=stage, on_result=walked.append)
        w_strategy, b_strategy = make_strategy("walk+hybrid", parts), make_strategy("bm25+rerank", parts)
        queries, qrels = task(base)
        if "#" in name:
            qs = choose_sample(queries, qrels, name.split("#")[1])
        else:
            qs = sample(queries, qrels, DEV.get(name) if args.set == "dev" else 150)
        rows = []
        for n, (qid, text) in enumerate(qs.items()):
            if args.limit and n >= args.limit:
                break
            t = time.perf_counter()
            reranked = rerank_only(corpus, rr, text, Budget(max_steps=1, max_seconds=60.0), 20, stage)  # = hybrid+rerank
            r_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            w = w_strategy(corpus, text, POOL_DEPTH)[:20]
            w_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            b = b_strategy(corpus, text, 20)
            b_ms = (time.perf_counter() - t) * 1000
            r = [e.id for e in reranked.evidence]
            gold = [p for p, s in qrels[qid].items() if s > 0]
            rows.append({"id": qid, "q": text, "gold": gold, "R": r, "W": w, "B": b, "r_ms": round(r_ms, 1),
                         "w_ms": round(w_ms, 1), "b_ms": round(b_ms, 1),
                         "links": links_among(corpus, set(r) | set(w)),
                         **scores(corpus, rr, text, reranked, walked.pop())})
        out[name] = {"rows": rows, "load": loadavg()}
        print(name, len(rows), loadavg(), flush=True)
        save(path, out)


def merge(args: argparse.Namespace) -> None:
    """Parts collected at once (--out) into bench/results/gate-SET.json.gz, tasks in the set's order."""
    path = OUT / f"gate-{args.set}.json.gz"
    out: dict[str, Any] = load(path) if path.is_file() else {}
    for part in args.parts:
        out.update(load(part))
    order = list(DEV) if args.set == "dev" else list(TRAIN)
    save(path, {t: out[t] for t in sorted(out, key=lambda t: order.index(t) if t in order else len(order))})


def all_gold(ranked: list[str], gold: list[str]) -> float:
    return float(set(gold) <= set(ranked[:10]))


def ndcg(ranked: list[str], gold: list[str]) -> float:
    import math
    g = set(gold)
    dcg = sum(1 / math.log2(i + 2) for i, p in enumerate(ranked[:10]) if p in g)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(g), 10)))
    return dcg / ideal if ideal else 0.0


CITES = re.compile(r"\b(rule|section|article|chapter|paragraph|part|schedule|regulation|appendix)s?\s+\(?\d", re.I)


def _linked(row: dict[str, Any]) -> dict[str, set[str]]:
    adj: dict[str, set[str]] = {}
    for a, b in row["links"]:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    return adj


def gate_anchor(top: int) -> Callable[[dict[str, Any]], list[str]]:
    """W when a passage the walk puts in its top 10 (and R does not) is linked to one of R's top `top`:
    the walk's addition hangs on a passage the reranker trusts; else R."""
    def rule(row: dict[str, Any]) -> list[str]:
        adj, anchors = _linked(row), set(row["R"][:top])
        added = [p for p in row["W"][:10] if p not in row["R"][:10]]
        return row["W"] if any(adj.get(p, set()) & anchors for p in added) else row["R"]
    return rule


def keep_r(m: int) -> Callable[[dict[str, Any]], list[str]]:
    """R's top m first, then the walk's order."""
    def rule(row: dict[str, Any]) -> list[str]:
        head = row["R"][:m]
        return head + [p for p in row["W"] if p not in head]
    return rule


def slots(j: int, anchored: int = 0) -> Callable[[dict[str, Any]], list[str]]:
    """R's top 10 - j, then the walk's first j additions (passages not among them; `anchored` > 0: only
    additions linked to one of R's top `anchored`), then the rest of R and W."""
    def rule(row: dict[str, Any]) -> list[str]:
        head = row["R"][:10 - j]
        adj, anchors = _linked(row), set(row["R"][:anchored])
        adds = [p for p in row["W"] if p not in head and (not anchored or adj.get(p, set()) & anchors)][:j]
        out = head + adds
        return out + [p for p in row["R"] + row["W"] if p not in out]
    return rule


RULES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "B (bm25+rerank)": lambda row: row.get("B", []),
    "R (hybrid+rerank)": lambda row: row["R"],
    "W (walk+hybrid)": lambda row: row["W"],
    "cites in question: W, else R": lambda row: row["W"] if CITES.search(row["q"]) else row["R"],
    **{f"R top {m}, then W": keep_r(m) for m in (2, 3, 5)},
    **{f"W if its addition links to R top {t}": gate_anchor(t) for t in (1, 2, 3, 5)},
    **{f"R top {10 - j}, then W's first {j} additions": slots(j) for j in (1, 2, 3, 4)},
    **{f"R top {10 - j}, then W's first {j} additions linked to R top {t}": slots(j, t) for j in (1, 2, 3) for t in (3, 5, 10)},
}


def table(args: argparse.Namespace) -> None:
    lines = []
    for which in ("train", "dev"):
        path = OUT / f"gate-{which}.json.gz"
        if not path.is_file():
            continue
        data = load(path)
        tasks = list(data)
        lines += [f"### {which}", "", "| rule | " + " | ".join(tasks) + " | mean |", "|---|" + "---|" * (len(tasks) + 1)]
        for name, rule in RULES.items():
            cells, means = [], []
            for t in tasks:
                rows = data[t]["rows"]
                ag = [all_gold(rule(r), r["gold"]) for r in rows]
                base = [all_gold(r.get("B") or r["R"], r["gold"]) for r in rows]  # bm25+rerank where collected
                nd = sum(ndcg(rule(r), r["gold"]) for r in rows) / len(rows)
                means.append(sum(ag) / len(ag))
                cell = f"{sum(ag) / len(ag):.3f} / {nd:.3f}"
                if which == "dev" and not name.startswith("B "):
                    c = paired_bootstrap(base, ag)
                    cell += f" ({c['diff']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}])"
                cells.append(cell)
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {sum(means) / len(means):.3f} |")
        lat = []
        for t in tasks:
            rows = data[t]["rows"]
            both = [r["r_ms"] + r["w_ms"] for r in rows]
            lat.append(f"{t}: R p95 {percentile([r['r_ms'] for r in rows], 95):.0f} ms, W p95 "
                       f"{percentile([r['w_ms'] for r in rows], 95):.0f} ms, R+W p95 {percentile(both, 95):.0f} ms (load {data[t]['load'].split()[0]})")
        lines += ["", *lat, ""]
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("collect", "merge", "table"))
    ap.add_argument("parts", nargs="*", type=Path, help="merge: files written by collect --out")
    ap.add_argument("--adgm-index", type=Path)
    ap.add_argument("--hotpot-index", type=Path)
    ap.add_argument("--set", choices=("train", "dev"), default="train")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--out", type=Path, help="collect: write here (default bench/results/gate-SET.json.gz); "
                    "a second process collecting other tasks at once needs its own file (merge with `merge`)")
    ap.add_argument("--limit", type=int, default=0, help="collect: the first N questions of each task only (a trial)")
    args = ap.parse_args()
    {"collect": collect, "merge": merge, "table": table}[args.what](args)


if __name__ == "__main__":
    main()
