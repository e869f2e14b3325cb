"""Traversal benchmark: bm25, bm25+rerank, walk and agent (one row per GGUF) on ../shared/data.

    python bench/traversal.py --adgm-index /tmp/idx-adgm --hotpot-index /tmp/idx-hotpot \
        [--agent qwen2.5-0.5b:20 --agent smollm2-135m:10 --agent qwen2.5-1.5b:10] [--prefix-test 5]

Baselines and walk run on every question; each agent model on a fixed random subset per task
(seed 0; N after the colon), with walk and bm25 re-scored on the same subset for a fair comparison.
Writes bench/results/traversal.json and prints Markdown tables.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.corpus import Corpus  # noqa: E402
from server.eval import evaluate, load_qrels, load_queries  # noqa: E402
from server.eval.strategies import StrategyParts, make_strategy  # noqa: E402
from server.services import build_reranker  # noqa: E402
from server.settings import Settings  # noqa: E402

KEYS = ("all_gold@10", "recall@10", "ndcg@10", "latency_p50_ms", "latency_p95_ms", "queries")


def tasks(data: Path, adgm: Path, hotpot: Path) -> list[tuple[str, Path, Path, Path]]:
    t = [(name, adgm, data / "adgm" / "tasks" / name / "queries.jsonl", data / "adgm" / "tasks" / name / "qrels.tsv")
         for name in ("xref_dpel_dev", "xref_schema_dev", "obliqa_mp_val")]
    t.append(("hotpotqa100", hotpot, data / "hotpotqa100" / "queries.jsonl", data / "hotpotqa100" / "qrels.tsv"))
    return t


def subset(queries: dict[str, str], qrels: dict[str, Any], n: int | None) -> dict[str, str]:
    ids = sorted(q for q in queries if q in qrels)
    if n is None or n >= len(ids):
        return {q: queries[q] for q in ids}
    random.Random(0).shuffle(ids)
    return {q: queries[q] for q in sorted(ids[:n])}


def run(corpus: Corpus, qs: dict[str, str], qr: dict[str, Any], strategy: Any) -> tuple[dict[str, float], list[dict[str, Any]]]:
    report = evaluate(corpus, qs, qr, strategy)
    return {k: report.metrics[k] for k in KEYS}, report.per_query


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--adgm-index", type=Path, required=True)
    ap.add_argument("--hotpot-index", type=Path, required=True)
    ap.add_argument("--agent", action="append", default=[], help="MODEL:N (packaged name or GGUF path, subset size)")
    ap.add_argument("--reranker", default=None, help="Reranker folder (default: the zero-shot default).")
    ap.add_argument("--prefix-test", type=int, default=0, help="Questions for the prefix-reuse measurement.")
    ap.add_argument("--skip-full", action="store_true", help="Only the agent subsets.")
    ap.add_argument("--only", action="append", default=[], help="Only these tasks (repeatable).")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "traversal.json",
                    help="Merged into when it exists (so runs for several models add up).")
    args = ap.parse_args()

    from server.llm.chat import LlamaChat
    from server.llm.registry import resolve_model_path

    settings = Settings.from_env()
    out: dict[str, Any] = {"full": {}, "agent": {}, "prefix": {}}
    if args.out.is_file():
        out.update(json.loads(args.out.read_text(encoding="utf-8")))
    corpora = {p: Corpus.open(p) for p in {args.adgm_index, args.hotpot_index}}
    rerankers = {p: build_reranker(settings, c, args.reranker) for p, c in corpora.items()}

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1), encoding="utf-8")

    for name, index, qpath, rpath in tasks(args.data, args.adgm_index, args.hotpot_index):
        if args.only and name not in args.only:
            continue
        corpus, rr = corpora[index], rerankers[index]
        queries, qrels = load_queries(qpath), load_qrels(rpath)
        strategies = {
            "bm25": make_strategy("bm25"),
            "bm25+rerank": make_strategy("bm25+rerank", StrategyParts(reranker=rr)),
            "walk": make_strategy("walk", StrategyParts(reranker=rr)),
        }
        if not args.skip_full:
            qs = subset(queries, qrels, None)
            for sname, strat in strategies.items():
                m, _ = run(corpus, qs, qrels, strat)
                out["full"].setdefault(name, {})[sname] = m
                print(name, sname, m, flush=True)
                save()
        for spec in args.agent:
            model_name, _, n = spec.rpartition(":")
            qs = subset(queries, qrels, int(n))
            model = LlamaChat(resolve_model_path(model_name, settings.models_dir))
            rows = out["agent"].setdefault(name, {}).setdefault(model_name, {})
            for sname in ("bm25", "walk"):
                rows[sname], _ = run(corpus, qs, qrels, strategies[sname])
            traces: list[Any] = []
            agent = make_strategy("agent", StrategyParts(model=model, reranker=rr, on_result=traces.append))
            rows["agent"], _ = run(corpus, qs, qrels, agent)
            steps = [t for r in traces for t in r.trace[1:] if t.llm_ms is not None]  # model steps, not warm walk steps
            rows["agent_detail"] = {
                "steps_per_question": round(statistics.mean(r.steps for r in traces), 2),
                "invalid_steps": sum(not t.valid for t in steps),
                "actions": {a: sum(t.action == a for t in steps) for a in ("follow", "read", "search", "keep", "stop", "invalid")},
                "llm_ms_per_step_p50": round(statistics.median(t.llm_ms or 0 for t in steps), 1) if steps else 0,
                "prompt_tokens_per_step": round(statistics.mean(t.prompt_tokens or 0 for t in steps), 1) if steps else 0,
                "stopped": {s: sum(r.stopped == s for r in traces) for s in ("stop", "max_steps", "max_seconds", "exhausted")},
                "prompt_version": traces[0].prompt_version if traces else None,
            }
            print(name, model_name, json.dumps(rows), flush=True)
            del model
            save()

    if args.prefix_test:
        from server.traversal import AgentOptions, Budget
        from server.traversal.agent import agent as run_agent
        corpus, rr = corpora[args.adgm_index], rerankers[args.adgm_index]
        queries = load_queries(args.data / "adgm" / "tasks" / "xref_dpel_dev" / "queries.jsonl")
        qs = list(subset(queries, load_qrels(args.data / "adgm" / "tasks" / "xref_dpel_dev" / "qrels.tsv"),
                         args.prefix_test).values())
        path = resolve_model_path(args.agent[0].rpartition(":")[0] if args.agent else None, settings.models_dir)
        for reuse in (False, True):
            model = LlamaChat(path, prefix_cache=reuse)
            ms, toks = [], []
            for q in qs:
                r = run_agent(corpus, rr, q, Budget(max_steps=4, max_seconds=60), model, 10, AgentOptions())
                ms += [t.llm_ms or 0 for t in r.trace[1:]]
                toks += [t.prompt_tokens or 0 for t in r.trace[1:]]
            out["prefix"][f"reuse={reuse}"] = {"model": path.stem, "steps": len(ms), "llm_ms_p50": round(statistics.median(ms), 1),
                                               "llm_ms_mean": round(statistics.mean(ms), 1), "prompt_tokens_mean": round(statistics.mean(toks), 1)}
            print("prefix", reuse, out["prefix"][f"reuse={reuse}"], flush=True)
            save()
    print(markdown(out))


def markdown(out: dict[str, Any]) -> str:
    lines = ["| task | strategy | all-gold@10 | Recall@10 | nDCG@10 | p50 ms | p95 ms | questions |", "|---|---|---|---|---|---|---|---|"]
    for task, rows in out["full"].items():
        for s, m in rows.items():
            lines.append(f"| {task} | {s} | {m['all_gold@10']:.3f} | {m['recall@10']:.3f} | {m['ndcg@10']:.3f} | "
                         f"{m['latency_p50_ms']:.0f} | {m['latency_p95_ms']:.0f} | {m['queries']} |")
    lines += ["", "| task | model (subset) | strategy | all-gold@10 | Recall@10 | nDCG@10 | p50 ms | p95 ms | questions |",
              "|---|---|---|---|---|---|---|---|---|"]
    for task, models in out["agent"].items():
        for model, rows in models.items():
            for s in ("bm25", "walk", "agent"):
                if s in rows:
                    m = rows[s]
                    lines.append(f"| {task} | {model} | {s} | {m['all_gold@10']:.3f} | {m['recall@10']:.3f} | {m['ndcg@10']:.3f} | "
                                 f"{m['latency_p50_ms']:.0f} | {m['latency_p95_ms']:.0f} | {m['queries']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"total {time.time() - t0:.0f} s", file=sys.stderr)
