"""Does an agent deep_search end within its time budget on a loaded CPU? Starts N busy-loop processes,
runs agent deep_searches with a GGUF model (the default packaged one unless --model), and reports the
wall time per question (p50, p95, max) against max_seconds, the load, and how each search ended.

    python bench/budget_load.py --index /work/rt-runs/idx-adgm-hybrid \
        --queries ../shared/data/adgm/tasks/obliqa_mp_val/queries.jsonl --n 20 --busy 2 --max-seconds 10

The busy processes are this script's children, ended by their handles when it finishes (or fails).
"""
from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.eval import load_queries  # noqa: E402
from server.eval.metrics import percentile  # noqa: E402
from server.services import open_services  # noqa: E402
from server.settings import Settings  # noqa: E402


def load() -> str:
    return Path("/proc/loadavg").read_text(encoding="ascii").strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--queries", type=Path, required=True)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--busy", type=int, default=2, help="Busy-loop processes to start.")
    ap.add_argument("--max-seconds", type=float, default=10.0)
    ap.add_argument("--strategy", default="agent")
    ap.add_argument("--model", default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    settings = Settings.from_env(index=str(args.index), model=args.model)
    services = open_services(settings)
    services.warm()  # passage vectors; then the model, so that neither is timed
    if args.strategy == "agent":
        services.chat_model()
    questions = list(load_queries(args.queries).values())[: args.n]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that `finally` ends the busy processes
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    rows = []
    try:
        time.sleep(2.0)
        loads = [load()]
        for q in questions:
            t = time.perf_counter()
            r = services.deep_search(q, args.strategy, max_seconds=args.max_seconds)
            s = time.perf_counter() - t
            rows.append({"s": round(s, 3), "stopped": r.stopped, "steps": r.steps,
                         "model_steps": sum(1 for x in r.trace if x.llm_ms is not None),
                         "cut": sum(1 for x in r.trace if x.error == "cut at the time budget")})
            print(json.dumps(rows[-1]), flush=True)
        loads.append(load())
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
    secs = [r["s"] for r in rows]
    out = {
        "strategy": args.strategy, "model": services.chat_model().name if args.strategy == "agent" else None,
        "max_seconds": args.max_seconds, "busy": args.busy, "questions": len(rows),
        "p50_s": round(statistics.median(secs), 3), "p95_s": round(percentile(secs, 95), 3), "max_s": max(secs),
        "over_budget_plus_0.5": sum(s > args.max_seconds + 0.5 for s in secs),
        "stopped": {k: sum(r["stopped"] == k for r in rows) for k in ("stop", "max_steps", "max_seconds", "exhausted")},
        "model_steps_mean": round(statistics.mean(r["model_steps"] for r in rows), 2),
        "cut_steps": sum(r["cut"] for r in rows), "loadavg_before_after": loads, "rows": rows,
    }
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
