"""Core benchmarks on ../shared/data: index time, BM25 quality per task, reference recall,
server-side latency of search / neighbors / follow_reference (through the MCP tool layer).

    python bench/core.py [--data ../shared/data] [--out bench/out]

Prints a Markdown table; writes JSON figures under --out.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio

REPO = Path(__file__).resolve().parent.parent
TASKS = [
    ("adgm", "tasks/obliqa_dev"), ("adgm", "tasks/obliqa_mp_val"), ("adgm", "tasks/xref_dpel_dev"),
    ("adgm", "tasks/xref_schema_dev"), ("nfcorpus", "dev"), ("hotpotqa100", "."),
]


def run(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t


def task_files(data: Path, corpus: str, task: str) -> tuple[Path, Path]:
    if corpus == "nfcorpus":
        return data / corpus / "queries.jsonl", data / corpus / "qrels" / f"{task}.tsv"
    return data / corpus / task / "queries.jsonl", data / corpus / task / "qrels.tsv"


def tool_latency(index: Path, n: int = 300) -> dict[str, dict[str, float]]:
    """Per tool: the server-side time of the verb (what the handler computes) and the round trip
    through the SDK's in-process client (adds JSON-RPC, validation, a worker-thread hop)."""
    from mcp import Client

    from server.corpus import Corpus
    from server.eval.metrics import percentile
    from server.mcp import create_server
    from server.services import open_services
    from server.settings import Settings

    corpus = Corpus.open(index)
    app = open_services(Settings.from_env(index=index, warm=False), corpus)
    rng = random.Random(7)
    queries = [p.text[:80] for p in rng.sample(corpus.passages, n) if p.text.strip()] or ["rule"]
    with_refs = sorted({r.src for r in corpus.stored.references if r.resolved})
    ids = rng.sample([p.id for p in corpus.passages], n)
    plan = {
        "search": [("search", {"query": q, "k": 10}) for q in queries],
        "neighbors": [("neighbors", {"id": i}) for i in ids],
        "follow_reference": [("follow_reference", {"id": i}) for i in rng.sample(with_refs, min(n, len(with_refs)))],
    }
    out: dict[str, dict[str, float]] = {}

    def stats(ms: list[float]) -> dict[str, float]:
        return {"p50_ms": round(percentile(ms, 50), 3), "p95_ms": round(percentile(ms, 95), 3)}

    for name, calls in plan.items():
        verb = getattr(corpus, name)
        for tool, args in calls[:20]:
            verb(**args)  # warm up
        ms = []
        for tool, args in calls:
            t = time.perf_counter()
            verb(**args)
            ms.append((time.perf_counter() - t) * 1000)
        out[name] = {"calls": len(calls), **{f"server_{k}": v for k, v in stats(ms).items()}}

    async def go() -> None:
        async with Client(create_server(app)) as c:
            for name, calls in plan.items():
                ms = []
                for tool, args in calls:
                    t = time.perf_counter()
                    r = await c.call_tool(tool, args)
                    ms.append((time.perf_counter() - t) * 1000)
                    assert not r.is_error, r.content
                out[name].update({f"roundtrip_{k}": v for k, v in stats(ms).items()})
    anyio.run(go)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = ap.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is absent: these benchmarks need the shared evaluation data")
    args.out.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).with_name("readtrail"))
    figures: dict[str, object] = {}
    indexes = {}
    for corpus in ("adgm", "nfcorpus", "hotpotqa100"):
        idx = args.out / f"idx-{corpus}"
        secs = run([exe, "index", str(args.data / corpus / "corpus.jsonl"), "--index", str(idx)])
        figures[f"index_seconds_{corpus}"] = round(secs, 1)
        indexes[corpus] = idx
    rows = []
    for corpus, task in TASKS:
        q, qr = task_files(args.data, corpus, task)
        out = args.out / f"bm25-{corpus}-{Path(task).name or corpus}.json"
        subprocess.run([exe, "eval", "--index", str(indexes[corpus]), "--queries", str(q), "--qrels", str(qr),
                        "--strategy", "bm25", "--json", str(out)], check=True, stdout=subprocess.DEVNULL)
        m = json.loads(out.read_text(encoding="utf-8"))
        rows.append((f"{corpus} {task}", m))
    refs_out = args.out / "refs-adgm.json"
    subprocess.run([exe, "refs-eval", "--index", str(indexes["adgm"]), "--gold", str(args.data / "adgm" / "edges_xref.dev.tsv"),
                    "--json", str(refs_out)], check=True, stdout=subprocess.DEVNULL)
    figures["refs"] = json.loads(refs_out.read_text(encoding="utf-8"))
    figures["tool_latency_adgm"] = tool_latency(indexes["adgm"])
    figures["bm25"] = {name: m for name, m in rows}
    (args.out / "core.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print("| task | queries | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | all-gold@10 | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, m in rows:
        print(f"| {name} | {m['queries']} | {m['ndcg@10']:.3f} | {m['recall@10']:.3f} | {m['recall@100']:.3f} | "
              f"{m['mrr@10']:.3f} | {m['all_gold@10']:.3f} | {m['latency_p50_ms']} | {m['latency_p95_ms']} |")
    print()
    print(json.dumps({k: v for k, v in figures.items() if k != "bm25"}, indent=2))


if __name__ == "__main__":
    main()
