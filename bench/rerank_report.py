"""Markdown tables for bench/RERANKER.md from bench/results/full-<dataset>-<name>.json, with paired bootstrap
95% intervals (queries resampled) against BM25 and against a reference system.

    python bench/rerank_report.py --dataset adgm --runs zero-shot adapter-bm25 adapter-inbatch ... \
        --reference zero-shot:fused-lr --json bench/results/full-adgm-bootstrap.json"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from server.eval.bootstrap import paired_bootstrap

RESULTS = Path(__file__).resolve().parent / "results"


def _load(dataset: str, name: str) -> dict:
    return json.loads((RESULTS / f"full-{dataset}-{name}.json").read_text(encoding="utf-8"))


def _ci(r: dict) -> str:
    return f"{r['diff']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--runs", nargs="+", required=True)
    ap.add_argument("--systems", default="model,fused-equal,fused-lr")
    ap.add_argument("--reference", default="zero-shot:fused-lr", help="RUN:SYSTEM every row is also compared with")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    ref_run, ref_sys = a.reference.split(":")
    ref = _load(a.dataset, ref_run)
    sets = list(ref["sets"])
    rows_out = []
    header = "| run | system | " + " | ".join(f"{s} ({ref['sets'][s]['queries']} q): nDCG@10 · vs BM25 · vs {ref_run} {ref_sys}"
                                             for s in sets) + " |"
    print(header)
    print("|---|---|" + "---|" * len(sets))
    bm = {s: ref["sets"][s]["systems"]["bm25"] for s in sets}
    print("| BM25 | — | " + " | ".join(f"{bm[s]['ndcg@10']:.3f}" for s in sets) + " |")
    for run in a.runs:
        d = _load(a.dataset, run)
        for system in a.systems.split(","):
            cells = []
            for s in sets:
                got = d["sets"].get(s, {}).get("systems", {}).get(system)
                if not got:
                    cells.append("—")
                    continue
                vb = paired_bootstrap(bm[s]["per_query"], got["per_query"])
                vr = paired_bootstrap(ref["sets"][s]["systems"][ref_sys]["per_query"], got["per_query"])
                cells.append(f"{got['ndcg@10']:.3f} · {_ci(vb)} · {_ci(vr)}")
                rows_out.append({"run": run, "system": system, "set": s, "ndcg@10": got["ndcg@10"],
                                 "recall@10": got["recall@10"], "vs_bm25": vb, f"vs_{ref_run}_{ref_sys}": vr})
            print(f"| {run} | {system} | " + " | ".join(cells) + " |")
    if a.json:
        a.json.write_text(json.dumps(rows_out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
