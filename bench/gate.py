"""When should deep_search's default walk lift linked passages? (issue 11 item 4: the default must never
be below bm25+rerank on a dev task; the walk was, on ObliQA.)

    python bench/gate.py collect --adgm-index IDX --hotpot-index IDX2 --set train   # choosing questions
    python bench/gate.py collect --adgm-index IDX --hotpot-index IDX2 --set dev     # every dev task
    python bench/gate.py choose                 # each score-aware family's parameter, on train only
    python bench/gate.py table [--all]          # bench/results/gate-{train,dev}.json.gz

`collect` runs hybrid+rerank (R), walk+hybrid (W) and bm25+rerank (B) once per question and keeps the
top-20 lists, the gold ids, each list's latency, the reference/mention links among their passages and
their scores (`scores`), so that combining rules are scored offline (RULES, FAMILIES; intervals are paired
differences to bm25+rerank). The chosen rule, "R top 7, then W's first 3 additions", is deep_search's
`mixed` (server.traversal.walk.mix). Choosing questions (`--set train`): 150 each of xref_dpel_trainpool
and xref_schema_train (seed 0, as bench/hybrid.py choose) and 600 obliqa_dev questions drawn with seed 1
from those the dev set's 200 (seed 0) leave out (`#choose`: the first 150, `#more`: the next 450): the
only ObliQA-style questions with labels outside the dev figures. Rules are chosen on them and then scored
on the dev tasks. Score-aware rules (FAMILIES, bench/TRAVERSAL.md "Score-aware rules"): each family's
parameter is the one `choose_rules` takes on the training questions; `table` scores those on dev.
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
from server.eval.bootstrap import paired_bootstrap  # noqa: E402

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


def swap_slots(accept: Callable[[dict[str, Any], str, str], bool], head: int = 7) -> Callable[[dict[str, Any]], list[str]]:
    """mixed, except that each of W's first 10 - head additions (in W's order) takes the slot of R's
    lowest-ranked passage still in R's slots head+1..10 only when accept(row, addition, that passage);
    refused, the R passage stays. accept always true: mixed; never: R."""
    def rule(row: dict[str, Any]) -> list[str]:
        top, tail = row["R"][:head], row["R"][head:10]
        adds = [p for p in row["W"] if p not in top][:10 - head]
        keep, taken = list(tail), []
        for a in adds:
            out = [d for d in keep if d not in adds]
            if a in tail or not out:
                continue
            if accept(row, a, out[-1]):
                keep.remove(out[-1])
                taken.append(a)
        chosen = set(keep) | set(taken)
        ranked = top + [p for p in adds if p in chosen] + [p for p in tail if p in chosen and p not in adds]
        return ranked + [p for p in row["R"] + row["W"] if p not in ranked]
    return rule


def _w(row: dict[str, Any], pid: str) -> float | None:
    """The walk's ranking score of a passage of R's or W's top 20 (None: not in the walk's pool)."""
    if "_w" not in row:
        row["_w"] = {**dict(zip(row["R"], row["WR_s"])), **dict(zip(row["W"], row["W_s"]))}
    return row["_w"].get(pid)


def gate_question(use_w: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], list[str]]:
    """Per question: mixed when use_w(row), else R."""
    mixed = swap_slots(lambda row, a, d: True)
    return lambda row: mixed(row) if use_w(row) else row["R"]


def _adds(row: dict[str, Any], head: int = 7) -> list[str]:
    return [p for p in row["W"] if p not in row["R"][:head]][:10 - head]


# Score-aware families: name -> (parameter grid, rule of a parameter). Chosen on the training questions
# (`choose`), then scored on dev (`table`).
def _steep(row: dict[str, Any]) -> float:
    """How far R's reranker scores fall from its 1st to its 10th passage."""
    return row["R_s"][0] - row["R_s"][min(9, len(row["R_s"]) - 1)]


def _best_add_ratio(row: dict[str, Any], m: float) -> bool:
    """The walk scores one of its additions (not in R's top 10) at least (1 + m) times R's 10th."""
    tenth = _w(row, row["R"][9])
    return any(tenth is None or (_w(row, a) or 0.0) >= (1 + m) * tenth for a in _adds(row) if a not in row["R"][:10])


Family = tuple[tuple[float, ...], Callable[[float], Callable[[dict[str, Any]], list[str]]]]
FAMILIES: dict[str, Family] = {
    # the reranker (on R's scale) must rate the addition at least m above the R passage it displaces
    "rerank margin: addition >= displaced + m, m": (
        tuple(round(-0.30 + 0.02 * i, 2) for i in range(17)),
        lambda m: swap_slots(lambda row, a, d: row["S"][a] >= row["S"][d] + m)),
    # the addition must rate as high as R's n-th passage (the reranker would put it in R's top n)
    "reranker puts the addition in R's top n, n": (
        tuple(range(10, 21)),
        lambda n: swap_slots(lambda row, a, d: row["S"][a] >= row["R_s"][min(int(n), len(row["R_s"])) - 1])),
    # the walk must rank the addition m above the displaced passage (absolute, Pool.scores units)
    "walk margin: addition >= displaced + m, m": (
        tuple(round(0.005 * i, 3) for i in range(21)),
        lambda m: swap_slots(lambda row, a, d: _w(row, d) is None or _w(row, a) >= _w(row, d) + m)),
    # ... or by the factor 1 + m
    "walk ratio: addition >= (1 + m) displaced, m": (
        tuple(round(0.1 * i, 1) for i in range(16)),
        lambda m: swap_slots(lambda row, a, d: _w(row, d) is None or _w(row, a) >= (1 + m) * _w(row, d))),
    # per question: mixed when R's reranker scores fall by at least g from its 1st to its 10th passage
    "mixed if R's 1st - 10th >= g, g": (
        tuple(round(0.01 * i, 2) for i in range(16)),
        lambda g: gate_question(lambda row: _steep(row) >= g)),
    # per question: mixed when R's top passage scores at least t
    "mixed if R's 1st >= t, t": (
        tuple(round(0.70 + 0.01 * i, 2) for i in range(21)),
        lambda t: gate_question(lambda row: row["R_s"][0] >= t)),
    # per question: mixed when the walk's best addition outranks R's 10th by the factor 1 + m
    "mixed if W's best addition >= (1 + m) R's 10th (walk), m": (
        tuple(round(0.1 * i, 1) for i in range(16)),
        lambda m: gate_question(lambda row: _best_add_ratio(row, m))),
}


def _groups(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Tasks of a gate file, obliqa_dev#choose and #more as one (600 training questions)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for t, v in data.items():
        out.setdefault(t.split("#")[0] if t.startswith("obliqa_dev#") else t, []).extend(v["rows"])
    return out


def _score(rule: Callable[[dict[str, Any]], list[str]], rows: list[dict[str, Any]]) -> float:
    return sum(all_gold(rule(r), r["gold"]) for r in rows) / len(rows)


def choose_rules(train: dict[str, Any], verbose: bool = False) -> dict[str, tuple[float, Callable[[dict[str, Any]], list[str]]]]:
    """Each family's parameter on the training questions: the best mean all-gold@10 over the training
    tasks among the parameters at least bm25+rerank's on every training task (none: the best minimum
    difference to it); ties go to the first in the grid."""
    groups = _groups(train)
    base = {t: _score(RULES["B (bm25+rerank)"], rows) for t, rows in groups.items()}
    out = {}
    for fam, (grid, make) in FAMILIES.items():
        scored = []
        for x in grid:
            rule = make(x)
            ag = {t: _score(rule, rows) for t, rows in groups.items()}
            worst = min(ag[t] - base[t] for t in groups)
            scored.append(((worst >= 0, sum(ag.values()) / len(ag) if worst >= 0 else worst), x, ag))
            if verbose:
                print(f"{fam} {x}: " + " ".join(f"{t} {v:.3f} ({v - base[t]:+.3f})" for t, v in ag.items())
                      + f" mean {sum(ag.values()) / len(ag):.3f}")
        best = max(scored, key=lambda s: s[0])  # max keeps the first of equals
        out[fam] = (best[1], make(best[1]))
        if verbose:
            print(f"-> {fam}: {best[1]}", flush=True)
    return out


def choose(args: argparse.Namespace) -> None:
    choose_rules(load(OUT / "gate-train.json.gz"), verbose=True)


CORE = ("B (bm25+rerank)", "R (hybrid+rerank)", "W (walk+hybrid)", "R top 7, then W's first 3 additions")


def table(args: argparse.Namespace) -> None:
    """Each rule's all-gold@10 / nDCG@10 and, but for B, the paired difference of all-gold@10 to B with its
    95% interval. Files with scores: the CORE rules and each family at the parameter `choose_rules` takes
    on the training questions (--all: every rule of RULES too); obliqa_dev#choose and #more as one."""
    lines = []
    train = load(OUT / "gate-train.json.gz") if (OUT / "gate-train.json.gz").is_file() else {}
    chosen = choose_rules(train) if train and "S" in next(iter(train.values()))["rows"][0] else {}
    for which in ("train", "dev"):
        path = OUT / f"gate-{which}.json.gz"
        if not path.is_file():
            continue
        data = load(path)
        scored = "S" in next(iter(data.values()))["rows"][0]
        groups = _groups(data) if scored else {t: v["rows"] for t, v in data.items()}
        rules = dict(RULES) if args.all or not scored else {n: RULES[n] for n in CORE}
        if scored:
            rules.update({f"{fam} = {x:g}": rule for fam, (x, rule) in chosen.items()})
        tasks = list(groups)
        lines += [f"### {which}", "", "| rule | " + " | ".join(tasks) + " | mean |", "|---|" + "---|" * (len(tasks) + 1)]
        for name, rule in rules.items():
            cells, means = [], []
            for t in tasks:
                rows = groups[t]
                ag = [all_gold(rule(r), r["gold"]) for r in rows]
                base = [all_gold(r.get("B") or r["R"], r["gold"]) for r in rows]  # bm25+rerank where collected
                nd = sum(ndcg(rule(r), r["gold"]) for r in rows) / len(rows)
                means.append(sum(ag) / len(ag))
                cell = f"{sum(ag) / len(ag):.3f} / {nd:.3f}"
                if (which == "dev" or scored) and not name.startswith("B "):
                    c = paired_bootstrap(base, ag)
                    cell += f" ({c['diff']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}])"
                cells.append(cell)
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {sum(means) / len(means):.3f} |")
        lat = []
        for t in data:
            rows = data[t]["rows"]
            both = [r["r_ms"] + r["w_ms"] for r in rows]
            lat.append(f"{t}: R p95 {percentile([r['r_ms'] for r in rows], 95):.0f} ms, W p95 "
                       f"{percentile([r['w_ms'] for r in rows], 95):.0f} ms, R+W p95 {percentile(both, 95):.0f} ms (load {data[t]['load'].split()[0]})")
        lines += ["", *lat, ""]
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("collect", "merge", "choose", "table"))
    ap.add_argument("parts", nargs="*", type=Path, help="merge: files written by collect --out")
    ap.add_argument("--adgm-index", type=Path)
    ap.add_argument("--hotpot-index", type=Path)
    ap.add_argument("--set", choices=("train", "dev"), default="train")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--all", action="store_true", help="table: every rule of RULES, not only CORE and the families")
    ap.add_argument("--out", type=Path, help="collect: write here (default bench/results/gate-SET.json.gz); "
                    "a second process collecting other tasks at once needs its own file (merge with `merge`)")
    ap.add_argument("--limit", type=int, default=0, help="collect: the first N questions of each task only (a trial)")
    args = ap.parse_intermixed_args()
    {"collect": collect, "merge": merge, "choose": choose, "table": table}[args.what](args)


if __name__ == "__main__":
    main()
