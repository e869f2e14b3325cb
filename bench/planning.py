"""The model plans, the walk reads (issue 11 item 2): what hybrid seeds, planning and both buy, and walk
vs agent vs planned walk, with paired bootstrap intervals.

    python bench/planning.py run --adgm-index IDX --hotpot-index IDX2 --model qwen2.5-0.5b \
        --task obliqa_mp_val:100 --task hotpotqa100:100 --task xref_dpel_dev:50 --task xref_schema_dev:50 --agent-n 20
    python bench/planning.py table --out bench/results/planning.json

Each task runs on its first N judged questions in file order. Per task: bm25+rerank, hybrid+rerank, walk
(BM25 seeds), walk+hybrid, then planned+hybrid with the real model (its plans recorded), then planned
(BM25 seeds) and planned+hybrid with no expansion step ("planned+hybrid/rerank") replaying the recorded
plans: the model is deterministic (temperature 0), so replaying gives the same queries; their latency is
the replayed run's plus the recorded plan's wall time. "/ranked": PlanOptions(rank_plans=True); "/rerank": no
expansion step; "/oracle": plans written from the gold passages (oracle_plan), an upper bound.
The agent runs on the first --agent-n questions.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from hybrid import loadavg, setup, task  # noqa: E402

from server.eval import evaluate  # noqa: E402
from server.eval.metrics import percentile  # noqa: E402
from server.eval.strategies import StrategyParts, make_strategy  # noqa: E402
from server.llm.chat import Completion, LlamaChat  # noqa: E402
from server.llm.registry import resolve_model_path  # noqa: E402
from server.retrieval import FirstStage, FusionOptions  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.eval.bootstrap import paired_bootstrap  # noqa: E402
from server.traversal import DeepSearchResult, PlanOptions  # noqa: E402
from server.traversal.plan import plan_queries  # noqa: E402

NO_LLM = ("bm25+rerank", "hybrid+rerank", "walk", "walk+hybrid")
REPLAYS = ("planned", "planned/ranked", "planned+hybrid/ranked", "planned+hybrid/rerank", "planned+hybrid/ranked/rerank",
           "planned+hybrid/oracle")
# (b, a): the table shows b - a with its paired interval
PAIRS = [("walk+hybrid", "walk"), ("planned", "walk"), ("planned+hybrid", "walk+hybrid"), ("planned+hybrid", "walk"),
         ("planned/ranked", "walk"), ("planned+hybrid/ranked", "walk+hybrid"), ("planned+hybrid", "hybrid+rerank"),
         ("planned+hybrid/ranked", "planned+hybrid"),
         ("planned+hybrid", "bm25+rerank"), ("planned+hybrid/rerank", "hybrid+rerank"),
         ("planned+hybrid/rerank", "bm25+rerank"), ("walk+hybrid", "bm25+rerank"), ("hybrid+rerank", "bm25+rerank"),
         ("planned+hybrid/oracle", "walk+hybrid"), ("planned+hybrid/oracle", "hybrid+rerank")]


class Recording:
    """The real model; remembers each question's completion (keyed by the user message)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name
        self.done: dict[str, Completion] = {}

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96,
                 deadline: float | None = None) -> Completion:
        c = self.inner.complete(messages, schema, max_tokens, deadline)
        self.done[messages[-1]["content"]] = c
        return c


class Replay:
    """Gives back what Recording saw, instantly."""

    def __init__(self, done: dict[str, Completion], name: str) -> None:
        self.done, self.name = done, name

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96,
                 deadline: float | None = None) -> Completion:
        return self.done.get(messages[-1]["content"], Completion(text="", cut=True))


def oracle_plan(corpus: Any, rels: dict[str, float]) -> Completion:
    """What a perfect planner could write: each gold passage's document title (HotpotQA: the entity) or,
    where titles repeat (a rulebook), the passage's first eight words; three at most."""
    gold = [corpus.passage(p) for p, s in rels.items() if s > 0 and p in corpus.by_id]
    titles = list(dict.fromkeys(p.doc_title for p in gold))
    queries = titles if len(titles) == len(gold) else [" ".join(p.text.split()[:8]) for p in gold]
    return Completion(text=json.dumps({"queries": queries[:3]}))


def first_n(queries: dict[str, str], qrels: dict[str, Any], n: int) -> dict[str, str]:
    return {q: t for q, t in list((q, t) for q, t in queries.items() if q in qrels)[:n]}


def score(corpus: Any, qs: dict[str, str], qrels: dict[str, Any], strategy: Any,
          extra_ms: dict[str, float] | None = None) -> dict[str, Any]:
    report = evaluate(corpus, qs, qrels, strategy)
    per = {r["id"]: {"all_gold@10": r["all_gold@10"], "ndcg@10": r["ndcg@10"],
                     "ms": r["ms"] + (extra_ms or {}).get(qs[r["id"]], 0.0)} for r in report.per_query}
    ms = [p["ms"] for p in per.values()]
    m = {k: report.metrics[k] for k in ("all_gold@10", "ndcg@10", "recall@10", "queries")}
    m.update(p50_s=round(percentile(ms, 50) / 1000, 2), p95_s=round(percentile(ms, 95) / 1000, 2), load=loadavg())
    return {"metrics": m, "per": per}


def run(args: argparse.Namespace) -> None:
    out: dict[str, Any] = json.loads(Path(args.out).read_text(encoding="utf-8")) if Path(args.out).is_file() else {}
    out.setdefault("tasks", {})
    settings = Settings.from_env()
    model = LlamaChat(resolve_model_path(args.model, settings.models_dir), n_ctx=4096)
    out["model"] = args.model
    # A server reads the plan's system prompt once, on its first planned question (~10 s at this load); the
    # first question here should not pay it: one warm-up plan, untimed.
    t = time.time()
    plan_queries(model, "Which records must a firm keep?", None, PlanOptions())  # type: ignore[arg-type]
    out["warmup_s"] = round(time.time() - t, 1)
    setups: dict[Path, Any] = {}
    for spec in args.task:
        name, _, n = spec.partition(":")
        index = args.hotpot_index if name == "hotpotqa100" else args.adgm_index
        if index not in setups:
            setups[index] = setup(index)
        corpus, rr, dense = setups[index]
        stage = FirstStage(corpus, dense, "hybrid", FusionOptions())
        queries, qrels = task(name)
        qs = first_n(queries, qrels, int(n or 100))
        rows: dict[str, Any] = out["tasks"].setdefault(name, {"n": len(qs), "rows": {}, "agent": {}})["rows"]
        plans: dict[str, Any] = {}

        def record(result: DeepSearchResult) -> None:
            step = next((t for t in result.trace if t.action == "plan"), None)
            if step is not None:
                plans[result.question] = {"queries": step.args.get("queries", []), "llm_ms": step.llm_ms,
                                          "ms": result.ms, "error": step.error}

        for sname in args.strategy or [*NO_LLM, "planned+hybrid", *REPLAYS]:
            if sname in rows and not args.redo:
                continue
            parts = StrategyParts(reranker=rr, first_stage=stage)
            extra = None
            if sname == "planned+hybrid":
                rec = Recording(model)
                parts = replace(parts, model=rec, on_result=record)
            elif sname.startswith("planned"):
                done = out["tasks"][name].get("completions", {})
                parts = replace(parts, model=Replay({q: Completion(**c) for q, c in done.items()}, args.model))
                extra = {q.removeprefix("Question: "): c["ms"] for q, c in done.items()}
                flags = set(sname.split("/")[1:])
                if "oracle" in flags:  # an upper bound: the plan names what is missing, from the gold passages
                    parts = replace(parts, model=Replay({f"Question: {qs[q]}": oracle_plan(corpus, qrels[q]) for q in qs},
                                                        "oracle"))
                if "rerank" in flags:  # no expansion step
                    parts = replace(parts, max_steps=0)
                if "ranked" in flags:  # planned hits' ranks count as first-stage ranks (PlanOptions.rank_plans)
                    parts = replace(parts, plan_options=PlanOptions(rank_plans=True))
            t = time.time()
            rows[sname] = score(corpus, qs, qrels, make_strategy(sname.split("/")[0], parts), extra)
            rows[sname]["wall_s"] = round(time.time() - t)
            if sname == "planned+hybrid":
                out["tasks"][name]["completions"] = {q: c.__dict__ for q, c in rec.done.items()}
                out["tasks"][name]["plans"] = plans
            print(name, sname, rows[sname]["metrics"], flush=True)
            Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
        if args.agent_n:
            aq = dict(list(qs.items())[:args.agent_n])
            agent_rows = out["tasks"][name]["agent"]
            parts = StrategyParts(reranker=rr, first_stage=stage, model=model)
            if "agent" not in agent_rows or args.redo:
                agent_rows["agent"] = score(corpus, aq, qrels, make_strategy("agent", parts))
                print(name, "agent", agent_rows["agent"]["metrics"], flush=True)
            Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    out["load_after"] = loadavg()
    Path(args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(markdown(out))


def _sub(row: dict[str, Any], ids: list[str], metric: str) -> list[float]:
    return [row["per"][q][metric] for q in ids]


def markdown(out: dict[str, Any]) -> str:
    lines = [f"model {out.get('model')}", "",
             "| task | q | strategy | all-gold@10 | nDCG@10 | p50 s | p95 s | load (1/5/15 min) |", "|---|---|---|---|---|---|---|---|"]
    for t, d in out["tasks"].items():
        for s, r in d["rows"].items():
            m = r["metrics"]
            lines.append(f"| {t} | {m['queries']} | {s} | {m['all_gold@10']:.3f} | {m['ndcg@10']:.3f} | {m['p50_s']:.2f} | "
                         f"{m['p95_s']:.2f} | {' '.join(m['load'].split()[:3])} |")
    lines += ["", "| task | q | b − a | Δ all-gold@10 [95% CI] | Δ nDCG@10 [95% CI] |", "|---|---|---|---|---|"]
    for t, d in out["tasks"].items():
        rows = d["rows"]
        for b, a in PAIRS:
            if a in rows and b in rows:
                ids = sorted(rows[a]["per"])
                cis = [paired_bootstrap(_sub(rows[a], ids, k), _sub(rows[b], ids, k)) for k in ("all_gold@10", "ndcg@10")]
                lines.append(f"| {t} | {len(ids)} | {b} − {a} | " + " | ".join(
                    f"{c['diff']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}]" for c in cis) + " |")
    lines += ["", "| task | q | strategy | all-gold@10 | nDCG@10 | p50 s | p95 s | Δ all-gold@10 vs walk+hybrid [95% CI] | vs planned+hybrid |",
              "|---|---|---|---|---|---|---|---|---|"]
    for t, d in out["tasks"].items():
        if "agent" not in d.get("agent", {}):
            continue
        ag = d["agent"]["agent"]
        ids = sorted(ag["per"])
        for s in ("bm25+rerank", "walk+hybrid", "planned+hybrid"):
            if s in d["rows"]:
                sub = {"per": {q: d["rows"][s]["per"][q] for q in ids}}
                ms = [sub["per"][q]["ms"] for q in ids]
                mean = lambda k, r=sub: sum(_sub(r, ids, k)) / len(ids)  # noqa: E731
                lines.append(f"| {t} | {len(ids)} | {s} | {mean('all_gold@10'):.3f} | {mean('ndcg@10'):.3f} | "
                             f"{percentile(ms, 50) / 1000:.2f} | {percentile(ms, 95) / 1000:.2f} | | |")
        m = ag["metrics"]
        cis = [paired_bootstrap(_sub({"per": {q: d["rows"][s]["per"][q] for q in ids}}, ids, "all_gold@10"),
                                _sub(ag, ids, "all_gold@10")) for s in ("walk+hybrid", "planned+hybrid")]
        lines.append(f"| {t} | {len(ids)} | agent | {m['all_gold@10']:.3f} | {m['ndcg@10']:.3f} | {m['p50_s']:.2f} | {m['p95_s']:.2f} | "
                     + " | ".join(f"{c['diff']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}]" for c in cis) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("run", "table"))
    ap.add_argument("--adgm-index", type=Path)
    ap.add_argument("--hotpot-index", type=Path)
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--task", action="append", default=[], help="NAME:N (first N judged questions)")
    ap.add_argument("--strategy", action="append", default=[])
    ap.add_argument("--agent-n", type=int, default=0)
    ap.add_argument("--redo", action="store_true")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "planning.json"))
    args = ap.parse_args()
    if args.what == "run":
        run(args)
    else:
        print(markdown(json.loads(Path(args.out).read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
