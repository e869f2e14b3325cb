"""Query words dropped or rewritten for BM25 (issue 12, search latency at 1M passages): what they change in
quality (nDCG@10 per task, paired bootstrap over queries) and in search CPU time.

Questions run as an OR of every word; the most common words ("the", "of", "what") have the longest
postings and cost most of a search while adding little to the ranking. Each list below is tried against
the full query on the same index, query by query:

    python bench/stopwords.py --index /work/rt-runs/idx-adgm --data ../shared/data/adgm \
        --tasks tasks/obliqa_dev tasks/obliqa_mp_val tasks/xref_dpel_dev --json bench/results/stopwords-adgm.json

`--latency-index DIR`: also time the search (thread CPU, p50/p95) of each list on that index (a large one),
on the questions of the first task.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.index import LUCENE_STOP_WORDS, STOP_WORDS, BM25Index, query_words  # noqa: E402
from server.corpus import Corpus  # noqa: E402
from server.eval import evaluate, load_qrels, load_queries  # noqa: E402
from server.eval.metrics import percentile  # noqa: E402
from server.eval.bootstrap import paired_bootstrap  # noqa: E402

# Each variant as BM25Index settings (stop words, possessive, dotted): `query_words`' arguments for the BM25
# table, the index's own settings for strategies that search through it (rerank's fusion reads BM25 scores,
# the walk seeds from it). "split" also searches every dotted word ("9.2.1") as its parts, plain terms
# (tantivy's pruning stays on).
SETTINGS = {"none": (frozenset(), False, False), "lucene": (LUCENE_STOP_WORDS, False, False),
            "lucene+questions": (STOP_WORDS, False, False), "possessive": (frozenset(), True, False),
            "possessive+lucene+questions": (STOP_WORDS, True, False), "split": (STOP_WORDS, True, True)}
LISTS = {name: (lambda q, s=s: query_words(q, *s)) for name, s in SETTINGS.items()}  # query -> the words searched
SHIPPED = "split"  # what graph.index.query_words does by default


def _as_given(bm25: BM25Index) -> BM25Index:
    """The index searched with exactly the words given (the rewrite is the variant's)."""
    bm25.stop_words, bm25.possessive, bm25.dotted = frozenset(), False, False
    return bm25


def quality(index: Path, data: Path, tasks: list[str], qrels_name: str = "qrels.tsv",
            variants: list[str] = list(LISTS)) -> dict:
    corpus = Corpus.open(index)
    _as_given(corpus.stored.bm25)
    out = {}
    for task in tasks:
        folder = data / task
        queries, qrels = load_queries(folder / "queries.jsonl"), load_qrels(folder / qrels_name)
        per = {}
        for name, rewrite in ((n, LISTS[n]) for n in variants):
            def strategy(c: Corpus, q: str, depth: int, rewrite=rewrite) -> list[str]:
                return [p.id for p, _ in c.bm25(" ".join(rewrite(q)), depth)]
            rep = evaluate(corpus, queries, qrels, strategy)
            per[name] = {"metrics": rep.metrics, "ndcg": {r["id"]: r["ndcg@10"] for r in rep.per_query}}
        out[task] = {name: {**per[name]["metrics"],
                            **{f"vs_{base}": paired_bootstrap(per[base]["ndcg"], per[name]["ndcg"])
                               for base in ("none", SHIPPED) if base in per and base != name}}
                     for name in variants}
        print(task, json.dumps({k: (v["ndcg@10"], v.get("vs_none"), v.get(f"vs_{SHIPPED}")) for k, v in out[task].items()}),
              flush=True)
    return out


def downstream(index: Path, data: Path, tasks: list[str], strategy: str, qrels_name: str = "qrels.tsv",
               variants: list[str] = list(LISTS), limit: int = 0) -> dict:
    """The variants under a whole strategy (hybrid+rerank, mixed+hybrid ...: the server's default reranker
    and first stage), where BM25's scores feed a fusion and a walk's seeds: a gain of BM25 alone need
    not survive them."""
    from server.eval.strategies import StrategyParts, make_strategy
    from server.services import build_reranker, open_services
    from server.settings import Settings

    settings = Settings.from_env(index=str(index))
    services = open_services(settings, Corpus.open(index))
    corpus, bm25 = services.corpus, services.corpus.stored.bm25
    reranker = build_reranker(settings, corpus, "default")
    out = {}
    for task in tasks:
        folder = data / task
        queries, qrels = load_queries(folder / "queries.jsonl"), load_qrels(folder / qrels_name)
        if limit:
            keep = sorted(q for q in queries if q in qrels)[:limit]
            queries = {q: queries[q] for q in keep}
        per = {}
        for name in variants:
            bm25.stop_words, bm25.possessive, bm25.dotted = SETTINGS[name]
            run = make_strategy(strategy, StrategyParts(reranker=reranker, first_stage=services.first_stage))
            rep = evaluate(corpus, queries, qrels, run)
            per[name] = {"metrics": rep.metrics, **{k: {r["id"]: r[k] for r in rep.per_query} for k in ("ndcg@10", "all_gold@10")}}
        base = variants[0]
        out[task] = {name: {**per[name]["metrics"],
                            **{f"{k}_vs_{base}": paired_bootstrap(per[base][k], per[name][k]) for k in ("ndcg@10", "all_gold@10")
                               if name != base}} for name in variants}
        print(task, strategy, json.dumps({k: (v["ndcg@10"], v["all_gold@10"], v.get(f"ndcg@10_vs_{base}"),
                                              v.get(f"all_gold@10_vs_{base}")) for k, v in out[task].items()}), flush=True)
    return out


def latency(index: Path, questions: list[str], variants: list[str] = list(LISTS)) -> dict:
    corpus = Corpus.open(index)
    bm25 = _as_given(corpus.stored.bm25)
    for q in questions[:20]:
        bm25.search(q, 11)
    out = {}
    for name, rewrite in ((n, LISTS[n]) for n in variants):
        cpu = []
        for q in questions:
            text = " ".join(rewrite(q))
            c = time.thread_time()
            bm25.search(text, 11)
            cpu.append((time.thread_time() - c) * 1000)
        out[name] = {"cpu_p50_ms": round(percentile(cpu, 50), 2), "cpu_p95_ms": round(percentile(cpu, 95), 2),
                     "n": len(cpu)}
        # questions searched with a word tantivy reads as a phrase (9.2.1, firm's) and the others apart
        phrase = [any("." in w or "'" in w for w in rewrite(q)) for q in questions]
        for key, want in (("with_phrase", True), ("without_phrase", False)):
            xs = [t for t, p in zip(cpu, phrase) if p == want]
            if xs:
                out[name][key] = {"cpu_p50_ms": round(percentile(xs, 50), 2), "cpu_p95_ms": round(percentile(xs, 95), 2),
                                  "n": len(xs)}
        print(name, out[name], flush=True)
    return out


def gil_released(index: Path, questions: list[str]) -> dict:
    """Does a search let other Python threads run (tantivy-py releasing the GIL)? A thread counts while the
    main thread searches: near its solo rate, searches of shards in threads could run side by side."""
    bm25 = Corpus.open(index).stored.bm25
    stop, count = [False], [0]

    def spin() -> None:
        while not stop[0]:
            count[0] += 1
    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.5)
    c0, t0 = count[0], time.perf_counter()
    time.sleep(2.0)
    solo = (count[0] - c0) / (time.perf_counter() - t0)
    c0, t0 = count[0], time.perf_counter()
    for q in questions:
        bm25.search(q, 11)
    busy = (count[0] - c0) / (time.perf_counter() - t0)
    stop[0] = True
    th.join()
    return {"spinner_rate_while_searching": round(busy / solo, 2), "searches": len(questions)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, help="the index the tasks are judged on (none: latency only)")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--tasks", nargs="+", default=["."])
    ap.add_argument("--qrels", default="qrels.tsv", help="the judgements' file in each task folder")
    ap.add_argument("--latency-index", type=Path)
    ap.add_argument("--variants", nargs="+", default=list(LISTS), choices=list(LISTS), help="'none' first")
    ap.add_argument("--strategy", default="bm25", help="a readtrail eval strategy (hybrid+rerank, mixed+hybrid ...): "
                    "the variants under it, with the default reranker and first stage")
    ap.add_argument("--limit", type=int, default=0, help="--strategy: the first N judged questions of each task")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.index and args.strategy != "bm25":
        result = {"strategy": args.strategy, "load": os.getloadavg(),
                  "quality": downstream(args.index, args.data, args.tasks, args.strategy, args.qrels, args.variants, args.limit)}
    else:
        result = {"quality": quality(args.index, args.data, args.tasks, args.qrels, args.variants)} if args.index else {}
    if args.latency_index:
        qs = list(load_queries(args.data / args.tasks[0] / "queries.jsonl").values())[:300]
        result["latency"] = latency(args.latency_index, qs, args.variants)
        result["gil"] = gil_released(args.latency_index, qs[:100])
        print(result["gil"], flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
