"""How many threads a CPU-bound call should use now. On an oversubscribed CPU, threads that wait for
each other (llama.cpp's per-layer barrier, torch's OpenMP pool) lose far more than they gain: measured
on this project's 2-core machine under load, one thread against two was 10x faster for llama.cpp
(SmolLM2, 356 prompt tokens: 6 s vs 61 s) and 3-15x faster for a MiniLM query encoding (45-66 ms vs
225-988 ms)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["others_running", "threads_for_load", "fit_torch_threads"]


def others_running() -> float:
    """How many other runnable tasks hold the CPU: the larger of the 1-minute load (less this process's
    own work) and the instant count of runnable tasks (less the thread asking), from /proc/loadavg."""
    try:
        fields = Path("/proc/loadavg").read_text(encoding="ascii").split()
        return max(float(fields[0]) - 1.0, float(fields[3].split("/")[0]) - 1.0)
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0] - 1.0
        except OSError:
            return 0.0


def threads_for_load(limit: int) -> int:
    """All `limit` threads on an idle machine, fewer (at least one) when other work holds the cores."""
    cores = os.cpu_count() or 1
    others = others_running()
    return max(1, min(limit, cores if others < 0.5 else int(cores - others)))


def fit_torch_threads() -> None:
    """Set torch's intra-op threads for the load now, if torch is already loaded (never imports it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    want = threads_for_load(os.cpu_count() or 1)
    if torch.get_num_threads() != want:
        torch.set_num_threads(want)
