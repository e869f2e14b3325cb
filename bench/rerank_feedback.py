"""Feedback closes the loop: simulated users over MCP mark deep_search results, the reranker retrains on them.

    python bench/rerank_feedback.py collect --dataset adgm --questions 150 --home /work/rt-runs/fb-home
    (then: readtrail feedback export; readtrail train-reranker --feedback; bench/rerank_full.py eval)

`collect` starts the real server (`readtrail serve --index ...`) over stdio with the MCP SDK client, calls
the real `deep_search` tool (walk) on TRAINING questions (the obliqa training split: never a validation
question) and, for each returned passage, the real `feedback` tool: relevant when the labels say so,
misleading when an unlabelled passage was ranked in the top 3 (it looked right and was not), irrelevant
otherwise. The store lands in HOME/feedback.sqlite3 (the server's default under READTRAIL_HOME)."""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rerank_full import dataset, index_dir  # noqa: E402

from server.training.validation import hash_split  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


async def _collect(a) -> dict:
    from mcp import Client, StdioServerParameters

    _, train, _ = dataset(a.dataset)
    src = train[0]
    ids, _ = hash_split([q for q in src.queries if q in src.qrels], 0.2)
    random.Random(a.seed).shuffle(ids)
    ids = ids[:a.questions]
    env = {**os.environ, "READTRAIL_HOME": str(a.home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    args = ["-c", "from server.cli import main; main()", "serve", "--index", str(index_dir(a.dataset))]
    if a.reranker:
        args += ["--reranker", a.reranker]
    params = StdioServerParameters(command=sys.executable, args=args, env=env)
    counts = {"relevant": 0, "irrelevant": 0, "misleading": 0}
    found = 0
    t0 = time.monotonic()
    async with Client(params) as client:
        for i, qid in enumerate(ids):
            q = src.queries[qid]
            r = await client.call_tool("deep_search", {"question": q, "max_steps": a.steps, "max_seconds": 20, "k": a.k})
            if r.is_error:
                print(f"deep_search failed: {r.content}", file=sys.stderr)
                continue
            evidence = [e["id"] for e in r.structured_content["evidence"]]
            gold = {p for p, s in src.qrels[qid].items() if s > 0}
            found += bool(gold & set(evidence))
            for rank, pid in enumerate(evidence):
                verdict = "relevant" if pid in gold else ("misleading" if rank < 3 else "irrelevant")
                ack = await client.call_tool("feedback", {"query": q, "passage_id": pid, "verdict": verdict,
                                                          "note": "simulated user (labels)"})
                if not ack.is_error:
                    counts[verdict] += 1
            if (i + 1) % 10 == 0:
                print(f"{i + 1}/{len(ids)} questions, {counts}, {time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)
    return {"questions": len(ids), "verdicts": counts, "questions_with_gold_found": found,
            "seconds": round(time.monotonic() - t0, 1), "steps": a.steps, "k": a.k}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["collect"])
    ap.add_argument("--dataset", default="adgm")
    ap.add_argument("--questions", type=int, default=150)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--reranker", default=None)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    a.home.mkdir(parents=True, exist_ok=True)
    stats = anyio.run(_collect, a)
    print(json.dumps(stats))
    out = ROOT / "bench" / "results" / f"feedback-{a.dataset}-collect.json"
    out.write_text(json.dumps(stats, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
