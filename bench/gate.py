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
from server.training.bootstrap import paired_bootstrap  # noqa: E402

OUT = REPO / "bench" / "results"
DEV = {"obliqa_mp_val": None, "obliqa_dev": 200, "hotpotqa100": None, "xref_dpel_dev": None, "xref_schema_dev": None}
TRAIN = ("xref_dpel_trainpool", "xref_schema_train", "obliqa_dev#choose")


def choose_sample(queries: dict[str, str], qrels: dict[str, Any]) -> dict[str, str]:
    """150 obliqa_dev questions (seed 1) outside the 200 (seed 0) the dev figures use."""
    dev = set(sample(queries, qrels, 200))
    rest = sorted(q for q in queries if q in qrels and q not in dev)
    random.Random(1).shuffle(rest)
    return {q: queries[q] for q in sorted(rest[:150])}


def load(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def save(path: Path, out: dict[str, Any]) -> None:
    """R's and B's top 10, W's top 20 (anchored rules read past W's top 10) and the links among them, gzipped."""
    for task_rows in out.values():
        for row in task_rows["rows"]:
            for key in ("R", "B"):
                row[key] = row[key][:10]
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


def collect(args: argparse.Namespace) -> None:
    path = OUT / f"gate-{args.set}.json.gz"
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
        parts = StrategyParts(reranker=rr, first_stage=FirstStage(corpus, dense, "hybrid", FusionOptions()))
        r_strategy, w_strategy = make_strategy("hybrid+rerank", parts), make_strategy("walk+hybrid", parts)
        b_strategy = make_strategy("bm25+rerank", parts)
        queries, qrels = task(base)
        if name.endswith("#choose"):
            qs = choose_sample(queries, qrels)
        else:
            qs = sample(queries, qrels, DEV.get(name) if args.set == "dev" else 150)
        rows = []
        for qid, text in qs.items():
            t = time.perf_counter()
            r = r_strategy(corpus, text, 20)
            r_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            w = w_strategy(corpus, text, 20)
            w_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            b = b_strategy(corpus, text, 20)
            b_ms = (time.perf_counter() - t) * 1000
            gold = [p for p, s in qrels[qid].items() if s > 0]
            rows.append({"id": qid, "q": text, "gold": gold, "R": r, "W": w, "B": b, "r_ms": round(r_ms, 1),
                         "w_ms": round(w_ms, 1), "b_ms": round(b_ms, 1),
                         "links": links_among(corpus, set(r) | set(w))})
        out[name] = {"rows": rows, "load": loadavg()}
        print(name, len(rows), loadavg(), flush=True)
        save(path, out)


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
    ap.add_argument("what", choices=("collect", "table"))
    ap.add_argument("--adgm-index", type=Path)
    ap.add_argument("--hotpot-index", type=Path)
    ap.add_argument("--set", choices=("train", "dev"), default="train")
    ap.add_argument("--only", action="append", default=[])
    args = ap.parse_args()
    collect(args) if args.what == "collect" else table(args)


if __name__ == "__main__":
    main()
