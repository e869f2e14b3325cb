"""Choose the walk's ranking options on TRAINING questions, never on the dev sets it is reported on.

    python bench/walk_sweep.py --adgm-index /tmp/idx-adgm [--n 80] [--out bench/results/walk-sweep.json]

Tasks: ADGM xref_dpel_trainpool and xref_schema_train (a question needs a passage and the one it cites)
and obliqa_dev (1-6 passages per question, mostly not linked to each other: a ranking that lifts every
linked passage loses here). A fixed random subset of each (seed 0). Reranker scores are memoised per
(question, passage), so every variant after the first costs only the graph work.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.traversal import run, subset  # noqa: E402
from server.corpus import Corpus  # noqa: E402
from server.eval import load_qrels, load_queries  # noqa: E402
from server.eval.strategies import StrategyParts, make_strategy  # noqa: E402
from server.services import build_reranker  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.traversal import WalkOptions  # noqa: E402
from server.traversal.pool import Ranking as R  # noqa: E402

TASKS = ("xref_dpel_trainpool", "xref_schema_train", "obliqa_dev")
# Round 1 (bench/results/walk-sweep-round1.json) tried pair weights 0.25-1.0, 1-3 partners, 20-50 seeds
# and BM25 weights 0-2 with links only along the edges the walk expanded: 0.5 and 30 seeds won.
# Round 2 (walk-sweep-round2.json): pairs from every reference or mention edge between pool passages
# (Pool.graph_links), pair weights 0.35-1.0, 2 partners: graph links with 0.7 won.
# Round 3 (walk-sweep-round3.json): the lift only for passages within a reranker rank: no gain.
# The options those rounds needed (partners, BM25 weight, pair floor, graph links off) were removed
# from the product afterwards: replay a round from its commit (c391426 for round 3).
VARIANTS = {  # name -> WalkOptions
    "pair weight 0.7 (the default)": WalkOptions(seeds=30, ranking=R(pair_weight=0.7)),
    "pair weight 0.5": WalkOptions(seeds=30, ranking=R(pair_weight=0.5)),
    "pair weight 1.0": WalkOptions(seeds=30, ranking=R(pair_weight=1.0)),
}


class MemoReranker:
    """Scores each (question, passage) once across variants."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.memo = inner, inner.name, {}

    def score(self, query: str, passages: list[Any]) -> list[float]:
        todo = [p for p in passages if (query, p.id) not in self.memo]
        if todo:
            for p, s in zip(todo, self.inner.score(query, todo)):
                self.memo[(query, p.id)] = s
        return [self.memo[(query, p.id)] for p in passages]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--adgm-index", type=Path, required=True)
    ap.add_argument("--n", type=int, default=80, help="Questions per task.")
    ap.add_argument("--reranker", default=None, help="A reranker folder (default: what serve uses).")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "walk-sweep.json")
    args = ap.parse_args()

    corpus = Corpus.open(args.adgm_index)
    rr = MemoReranker(build_reranker(Settings.from_env(index=args.adgm_index), corpus, args.reranker or "default"))
    out: dict[str, Any] = {}
    for task in TASKS:
        folder = args.data / "adgm" / "tasks" / task
        qrels = load_qrels(folder / "qrels.tsv")
        qs = subset(load_queries(folder / "queries.jsonl"), qrels, args.n)
        out[task] = {"bm25+rerank": run(corpus, qs, qrels, make_strategy("bm25+rerank", StrategyParts(reranker=rr)))[0]}
        for name, options in VARIANTS.items():
            # a generous time budget: the sweep compares rankings, not this machine's load
            strategy = make_strategy("walk", StrategyParts(reranker=rr, max_seconds=30.0, walk_options=options))
            out[task][name] = run(corpus, qs, qrels, strategy)[0]
            print(task, name, out[task][name], flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1), encoding="utf-8")
    print("all-gold@10 / nDCG@10")
    print("| variant | " + " | ".join(TASKS) + " | mean |")
    print("|---|" + "---|" * (len(TASKS) + 1))
    for name in ["bm25+rerank", *VARIANTS]:
        vals = [out[t][name]["all_gold@10"] for t in TASKS]
        ndcg = [out[t][name]["ndcg@10"] for t in TASKS]
        print(f"| {name} | " + " | ".join(f"{v:.3f} / {n:.3f}" for v, n in zip(vals, ndcg))
              + f" | {sum(vals) / len(vals):.3f} / {sum(ndcg) / len(ndcg):.3f} |")


if __name__ == "__main__":
    main()
