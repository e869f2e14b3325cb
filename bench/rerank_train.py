"""Train one experiment variant on the training splits only, same base and budget.

    python bench/rerank_train.py --variant a --out /tmp/rr-exp/a
variants: a positives only (in-batch negatives), b + random, c + embedding-mined hard,
d = c + graph negatives, e synthetic questions over ADGM only (no labels)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from server.corpus import Corpus
from server.eval import load_qrels, load_queries
from server.training.pairs import Source
from server.training.synthetic import synthetic_examples
from server.training.train import TrainConfig, train_reranker

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NEGATIVES = {"a": (), "b": ("random",), "c": ("hard",), "d": ("hard", "graph"), "e": ("hard",)}


def adgm_train(corpus: Corpus) -> Source:
    s = Source("adgm", corpus)
    for task in ("xref_dpel_trainpool", "xref_schema_train"):
        s.queries.update(load_queries(DATA / f"adgm/tasks/{task}/queries.jsonl"))
        s.qrels.update(load_qrels(DATA / f"adgm/tasks/{task}/qrels.tsv"))
    return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=sorted(NEGATIVES), required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--max-steps", type=int, default=80)
    ap.add_argument("--time-budget", type=float, default=300)
    ap.add_argument("--synthetic", type=Path, default=Path("/tmp/synth-adgm.jsonl"))
    a = ap.parse_args()
    adgm = Corpus.open(Path("/tmp/idx-adgm"))
    extra = None
    if a.variant == "e":
        sources = [Source("adgm", adgm)]
        rows = [json.loads(line) for line in a.synthetic.open(encoding="utf-8")]
        extra = {"adgm": synthetic_examples([(r["query"], r["passage_id"]) for r in rows])}
    else:
        nf = Source("nfcorpus", Corpus.open(Path("/tmp/idx-nfcorpus")),
                    load_queries(DATA / "nfcorpus/queries.jsonl"), load_qrels(DATA / "nfcorpus/qrels/train.tsv"))
        sources = [nf, adgm_train(adgm)]
    cfg = TrainConfig(out=a.out, negatives=NEGATIVES[a.variant], max_steps=a.max_steps, time_budget_s=a.time_budget,
                      holdout=0, extra={"variant": a.variant})
    print(train_reranker(sources, cfg, extra))


if __name__ == "__main__":
    main()
