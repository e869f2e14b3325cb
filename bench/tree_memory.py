"""Peak memory of a command and every process it starts, counted once: the sum of PSS (proportional set
size: a page shared by n processes counts 1/n in each) over the process tree, sampled every `--every`
seconds. Per-process peak RSS counts a forked worker's pages shared with its parent twice; this does not.

    python bench/tree_memory.py --json bench/results/scale3-1m-memory.json -- readtrail index DIR --index OUT
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of `pid` in kB, (0, 0) once it is gone: one read of its smaps_rollup."""
    got = {"Pss": 0, "Rss": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            field = line.split(":", 1)[0]
            if field in got:
                got[field] = int(line.split()[1])
    except OSError:
        pass
    return got["Pss"], got["Rss"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=float, default=0.5)
    ap.add_argument("--json", type=Path)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("give the command after --")
    start, load = time.monotonic(), os.getloadavg()[0]
    proc = subprocess.Popen(cmd)
    peak_pss = peak_rss_sum = peak_procs = 0
    per: dict[int, int] = {}  # pid -> its own peak PSS (kB)
    at_peak: dict[int, int] = {}  # pid -> its PSS when the sum peaked
    while proc.poll() is None:
        pids = tree(proc.pid)
        read = {p: _kb(p) for p in pids}
        now = {p: pss_rss[0] for p, pss_rss in read.items()}
        for p, kb in now.items():
            per[p] = max(per.get(p, 0), kb)
        pss = sum(now.values())
        if pss > peak_pss:
            at_peak = now
        rss = sum(pss_rss[1] for pss_rss in read.values())
        peak_pss, peak_rss_sum, peak_procs = max(peak_pss, pss), max(peak_rss_sum, rss), max(peak_procs, len(pids))
        time.sleep(a.every)
    result = {"cmd": cmd, "rc": proc.returncode, "wall_s": round(time.monotonic() - start, 1),
              "peak_pss_mb": round(peak_pss / 1024), "peak_rss_sum_mb": round(peak_rss_sum / 1024),
              "most_processes": peak_procs,
              "at_peak_mb": {str(p): round(kb / 1024) for p, kb in sorted(at_peak.items())},
              "per_process_peak_pss_mb": {str(p): round(kb / 1024) for p, kb in sorted(per.items()) if kb > 50 * 1024}, "load_start": round(load, 2), "load_end": round(os.getloadavg()[0], 2)}
    print(json.dumps(result), file=sys.stderr)
    if a.json:
        a.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
