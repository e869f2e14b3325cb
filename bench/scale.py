"""Cost curves at 10k / 100k / 1M passages (issue 12): index time per phase, peak RSS, index size, server
start, tool latencies, walk deep_search; a table, JSON, a log-log plot and the growth exponent per figure.

    nice -n 10 python bench/scale.py --sizes 10000 100000 --work /work/scale-data \
        --json bench/results/scale.json --plot bench/results/scale.png

Each size runs in child processes of this script, so that every peak RSS is one process's own
(`os.wait4`):
- *index*: `graph.pipeline.build_index` on the generated JSONL (`bench/scale_corpus.py`, seed 12), with
  its steps timed by wrapping them (parse, references, containment, mentions, JSONL files, BM25);
- *open*: `Corpus.open` + `open_services` (what `readtrail serve` does before it answers), its time and RSS;
  then in process, on the Corpus API (no MCP transport): search (ADGM obliqa_dev questions), get_passage,
  neighbors, follow_reference (random passages, seeded), each timed one call at a time;
- *walk*: deep_search strategy walk with the default reranker (BM25 + MiniLM cosine, passage vectors
  encoded on demand), each question run twice: the second run is the warm one reported;
- *stdio*: the real `readtrail serve --index DIR` over stdio, time from spawn until `initialize` answers.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path and not os.environ.get("SCALE_CODE"):  # SCALE_CODE: measure that checkout's code
    sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"
PER_FILE = 100_000
QUERIES = DATA / "adgm" / "tasks" / "obliqa_dev" / "queries.jsonl"


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def _lat(xs: list[float]) -> dict[str, float]:
    return {"p50_ms": round(_pct(xs, 0.5) * 1000, 3), "p95_ms": round(_pct(xs, 0.95) * 1000, 3), "n": len(xs)}


# -- child: index ------------------------------------------------------------------------------------
def child_index(corpus: Path, index: Path) -> dict:
    import graph.pipeline as pipeline
    import graph.store as store

    seconds: dict[str, float] = {}
    timed_keys: set[str] = set()
    cpu: dict[str, float] = {}  # this process's CPU seconds: what a busy machine changes least

    def timed(module, name: str, key: str) -> None:
        fn = getattr(module, name)

        def wrapper(*a, **kw):
            t, c = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **kw)
            finally:
                seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - t
                cpu[key] = cpu.get(key, 0.0) + time.process_time() - c
        setattr(module, name, wrapper)

    # each step where the checkout calls it from: graph.linking since the incremental re-index, the
    # pipeline before (the first module that has the name)
    try:
        import graph.linking as linking
    except ImportError:
        linking = None
    steps = [("ingest", "parse"), ("ReferenceResolver", "resolver"), ("resolve_references", "references"),
             ("containment", "containment"), ("_mentions", "mentions"), ("find_mentions", "mentions"),
             ("build_bm25", "bm25"),
             # a full build's link stage in worker processes (graph.parallel): the names to look for (this
             # process); the scan overlaps "references" (its wait: "mentions")
             ("_mention_names", "mention names")]
    for name, key in steps:
        module = next((m for m in (linking, pipeline) if m is not None and hasattr(m, name)), None)
        if module is not None and not (key == "mentions" and key in timed_keys):
            timed(module, name, key)
            timed_keys.add(key)
    try:  # a full build with link workers: the wait for each passage's own work, begun while parsing, and
        # for the BM25 index, built in a process of its own
        import graph.parallel as parallel
        timed(parallel.Background, "wait", "bm25 wait")
        timed(linking.TextsAhead, "results", "link pool")
    except (ImportError, AttributeError):
        pass
    timed(store, "_write_jsonl", "write_jsonl")
    if hasattr(store, "write_sidecar"):  # the arrays a server opens from (issue 12, server start)
        timed(store, "write_sidecar", "sidecar")
    t, c = time.perf_counter(), time.process_time()
    report = pipeline.build_index([corpus], index)
    total = time.perf_counter() - t
    # parsing runs in a child process (graph.parse_worker): its CPU is the children's
    child_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"phases": {k: round(v, 2) for k, v in seconds.items()}, "total_s": round(total, 2),
            "cpu": {k: round(v, 2) for k, v in cpu.items()}, "cpu_total_s": round(time.process_time() - c, 2),
            "parse_worker_cpu_s": round(child_cpu.ru_utime + child_cpu.ru_stime, 2),  # + the link workers'
            "children_peak_rss_mb": round(child_cpu.ru_maxrss / 1024),  # the largest child's (shared pages too)
            "passages": report.passages, "documents": report.documents, "references": report.references,
            "resolved": report.resolved, "mentions": report.mentions}


# -- child: open + latencies + walk ------------------------------------------------------------------
def child_open(index: Path, n_calls: int, n_walk: int, seed: int = 12) -> dict:
    rss0 = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    from server.corpus import Corpus
    from server.services import open_services
    from server.settings import Settings
    t_import = time.perf_counter() - t0
    t = time.perf_counter()
    corpus = Corpus.open(index)
    t_corpus = time.perf_counter() - t
    settings = Settings.from_env(index=str(index), warm=False)
    services = open_services(settings, corpus)
    t_open = time.perf_counter() - t0
    out: dict = {"import_s": round(t_import, 2), "corpus_open_s": round(t_corpus, 2), "start_s": round(t_open, 2),
                 "start_cpu_s": round(time.process_time() - c0, 2),
                 "rss_before_mb": round(rss0), "rss_open_mb": round(_rss_mb())}
    rng = random.Random(seed)
    with QUERIES.open(encoding="utf-8") as f:
        questions = [json.loads(line)["text"] for line in f]
    rng.shuffle(questions)
    ids = [corpus.passages[rng.randrange(len(corpus.passages))].id for _ in range(n_calls)]
    for q in questions[:20]:  # warm the searcher's caches
        corpus.search(q)
    calls = {
        "search": [lambda q=q: corpus.search(q) for q in questions[:n_calls]],
        "get_passage": [lambda i=i: corpus.get_passage(i) for i in ids],
        "neighbors": [lambda i=i: corpus.neighbors(i) for i in ids],
        "follow_reference": [lambda i=i: corpus.follow_reference(i) for i in ids],
    }
    cited = [i for i in ids if corpus.references_of(i)]
    calls["follow_reference_to"] = [lambda i=i: corpus.follow_reference(i, corpus.references_of(i)[0].text) for i in cited]
    for name, fns in calls.items():
        times, cpu = [], []
        for fn in fns:
            t, c = time.perf_counter(), time.thread_time()
            fn()
            times.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
        # wall time counts the time another process had the core (load 6-8 here); CPU time does not
        lat = _lat(cpu)
        out[name] = {**_lat(times), "cpu_p50_ms": lat["p50_ms"], "cpu_p95_ms": lat["p95_ms"]}
    out["rss_after_calls_mb"] = round(_rss_mb())
    if n_walk:
        t = time.perf_counter()
        services.reranker()
        out["reranker_load_s"] = round(time.perf_counter() - t, 2)
        cold, warm = [], []
        for q in questions[n_calls:n_calls + n_walk]:
            for times in (cold, warm):
                t = time.perf_counter()
                services.deep_search(q, strategy="walk")
                times.append(time.perf_counter() - t)
        out["walk_cold"], out["walk_warm"] = _lat(cold), _lat(warm)
        out["rss_after_walk_mb"] = round(_rss_mb())
    return out


def child_stdio(index: Path) -> dict:
    """Spawn `readtrail serve --index DIR` (stdio) and time until `initialize` is answered."""
    exe = Path(sys.executable).parent / "readtrail"
    env = {**os.environ, "READTRAIL_WARM": "0", "PYTHONPATH": os.environ.get("SCALE_CODE") or str(ROOT)}
    msg = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "scale-bench", "version": "0"}}}
    t = time.perf_counter()
    p = subprocess.Popen([str(exe), "serve", "--index", str(index)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    try:
        p.stdin.write((json.dumps(msg) + "\n").encode())
        p.stdin.flush()
        line = p.stdout.readline()
        took = time.perf_counter() - t
        ok = b'"result"' in line
    finally:
        p.stdin.close()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return {"stdio_initialize_s": round(took, 2), "ok": ok}


# -- parent ------------------------------------------------------------------------------------------
def _run_child(args: list[str]) -> tuple[dict, float, float]:
    """(the child's JSON, its peak RSS in MB, wall seconds)."""
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise RuntimeError(f"child {args} failed ({p.returncode}): {out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024, time.perf_counter() - t


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(size: int, work: Path, n_calls: int, n_walk: int, seed: int, stdio: bool, serve_only: bool = False) -> dict:
    # up to 100k passages one JSONL file; above, a folder of 100k-passage files (each under --max-file-mb)
    folder = size > PER_FILE
    corpus = work / (f"c{size}-s{seed}" if folder else f"c{size}-s{seed}.jsonl")
    row: dict = {"passages_asked": size, "load_before": _load()}
    if not corpus.exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "bench" / "scale_corpus.py"), "--passages", str(size),
                        "--seed", str(seed), "--out", str(corpus)] + (["--per-file", str(PER_FILE)] if folder else []),
                       check=True)
        row["generate_s"] = round(time.perf_counter() - t, 1)
    row["corpus_mb"] = round(_du(corpus) / 1e6 if folder else corpus.stat().st_size / 1e6, 1)
    index = work / f"i{size}-s{seed}"
    home = work / f"home{size}-s{seed}"  # the walk's passage vectors: cold at every run
    for old in (home,) if serve_only else (index, home):
        if old.exists():
            shutil.rmtree(old)
    os.environ["READTRAIL_HOME"] = str(home)
    if serve_only:  # the index built by an earlier run (e.g. to time another checkout's read side on it)
        row["index"] = {"passages": size, "phases": {}}
    else:
        res, rss, wall = _run_child(["_index", str(corpus), str(index)])
        row["index"] = {**res, "peak_rss_mb": round(rss), "wall_s": round(wall, 1), "load_after": _load()}
    row["index_mb"] = round(_du(index) / 1e6, 1)
    res, rss, wall = _run_child(["_open", str(index), str(n_calls), str(n_walk)])
    row["serve"] = {**res, "peak_rss_mb": round(rss), "load_after": _load()}
    if stdio:
        row["stdio"] = _run_child(["_stdio", str(index)])[0]
    return row


# figure name -> how to read it from a row
FIGURES = {
    "index total s": lambda r: r["index"]["total_s"],
    "index CPU s": lambda r: r["index"].get("cpu_total_s"),
    "references CPU s": lambda r: r["index"].get("cpu", {}).get("references"),
    "mentions CPU s": lambda r: r["index"].get("cpu", {}).get("mentions"),
    "parse s": lambda r: r["index"]["phases"].get("parse"),
    "resolver s": lambda r: r["index"]["phases"].get("resolver"),
    "references s": lambda r: r["index"]["phases"].get("references"),
    "containment s": lambda r: r["index"]["phases"].get("containment"),
    "mentions s": lambda r: r["index"]["phases"].get("mentions"),
    "write jsonl s": lambda r: r["index"]["phases"].get("write_jsonl"),
    "bm25 s": lambda r: r["index"]["phases"].get("bm25"),
    "sidecar s": lambda r: r["index"]["phases"].get("sidecar"),
    "link pool s": lambda r: r["index"]["phases"].get("link pool"),
    "mention names s": lambda r: r["index"]["phases"].get("mention names"),
    "bm25 wait s (its own process)": lambda r: r["index"]["phases"].get("bm25 wait"),
    "children CPU s (parse + link workers)": lambda r: r["index"].get("parse_worker_cpu_s"),
    "index peak RSS MB": lambda r: r["index"]["peak_rss_mb"],
    "largest child peak RSS MB": lambda r: r["index"].get("children_peak_rss_mb"),
    "index MB on disk": lambda r: r["index_mb"],
    "start s (Corpus+Services)": lambda r: r["serve"]["start_s"],
    "start CPU s": lambda r: r["serve"].get("start_cpu_s"),
    "serve RSS MB (open)": lambda r: r["serve"]["rss_open_mb"],
    "stdio initialize s": lambda r: r.get("stdio", {}).get("stdio_initialize_s"),
    "search p95 ms": lambda r: r["serve"]["search"]["p95_ms"],
    "search CPU p95 ms": lambda r: r["serve"]["search"].get("cpu_p95_ms"),
    "neighbors CPU p95 ms": lambda r: r["serve"]["neighbors"].get("cpu_p95_ms"),
    "get_passage p95 ms": lambda r: r["serve"]["get_passage"]["p95_ms"],
    "neighbors p95 ms": lambda r: r["serve"]["neighbors"]["p95_ms"],
    "follow_reference p95 ms": lambda r: r["serve"]["follow_reference"]["p95_ms"],
    "follow_reference(ref) p95 ms": lambda r: r["serve"]["follow_reference_to"]["p95_ms"],
    "walk warm p95 s": lambda r: (r["serve"].get("walk_warm") or {}).get("p95_ms", float("nan")) / 1000,
}


def exponent(xs: list[float], ys: list[float]) -> float | None:
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x and y and y > 0 and not math.isnan(y)]
    if len(pts) < 2:
        return None
    mx, my = statistics.fmean(p[0] for p in pts), statistics.fmean(p[1] for p in pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return round(sum((p[0] - mx) * (p[1] - my) for p in pts) / den, 2) if den else None


def table(rows: list[dict]) -> tuple[str, dict]:
    xs = [r["index"]["passages"] for r in rows]
    lines = ["| figure | " + " | ".join(f"{x:,}" for x in xs) + " | exponent |",
             "|---|" + "---|" * (len(xs) + 1)]
    exps = {}
    for name, get in FIGURES.items():
        try:
            ys = [get(r) for r in rows]
        except (KeyError, TypeError):
            continue
        if all(y is None for y in ys):
            continue
        exps[name] = exponent(xs, [y or 0 for y in ys])
        cells = ["" if y is None or (isinstance(y, float) and math.isnan(y)) else f"{y:g}" for y in ys]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {exps[name] if exps[name] is not None else ''} |")
    return "\n".join(lines), exps


def plot(rows: list[dict], out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["index"]["passages"] for r in rows]
    groups = {"seconds (index phases, start)": [k for k in FIGURES if k.endswith(" s") and "walk" not in k],
              "MB": [k for k in FIGURES if k.endswith("MB") or "MB " in k],
              "ms (p95 per call)": [k for k in FIGURES if k.endswith("ms")]}
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    for ax, (title, keys) in zip(axes, groups.items()):
        for k in keys:
            try:
                ys = [FIGURES[k](r) for r in rows]
            except (KeyError, TypeError):
                continue
            if any(y is None or y <= 0 for y in ys):
                continue
            ax.loglog(xs, ys, marker="o", label=f"{k} ({exponent(xs, ys)})")
        ax.loglog(xs, [xs[0] and v / xs[0] * 1 for v in xs], ":", color="grey", label="slope 1")
        ax.set_title(title)
        ax.set_xlabel("passages")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_index":
        print(json.dumps(child_index(Path(argv[1]), Path(argv[2]))))
        return
    if argv and argv[0] == "_open":
        print(json.dumps(child_open(Path(argv[1]), int(argv[2]), int(argv[3]))))
        return
    if argv and argv[0] == "_stdio":
        print(json.dumps(child_stdio(Path(argv[1]))))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="none: only --merge")
    ap.add_argument("--work", type=Path, default=Path("/work/scale-data"))
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--calls", type=int, default=300, help="calls per tool for p50/p95")
    ap.add_argument("--walk", type=int, default=10, help="walk questions (each run cold then warm); 0: skip")
    ap.add_argument("--no-stdio", action="store_true")
    ap.add_argument("--serve-only", action="store_true", help="time the read side on the indexes already in --work")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--merge", type=Path, nargs="*", default=[], help="earlier --json results to include")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = [r for m in args.merge for r in json.loads(m.read_text())["rows"]]
    for size in args.sizes:
        row = measure(size, args.work, args.calls, args.walk, args.seed, not args.no_stdio, args.serve_only)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
        if args.json:  # after each size, so that a long run keeps what it measured
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"rows": rows}, indent=1))
    rows.sort(key=lambda r: r["index"]["passages"])
    text, exps = table(rows)
    print(text)
    print(f"\nmachine: {os.cpu_count()} CPUs, load {_load()}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "exponents": exps, "cpus": os.cpu_count()}, indent=1))
    if args.plot and len(rows) > 1:
        plot(rows, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
