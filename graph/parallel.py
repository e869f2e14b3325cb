"""Work over shards of documents in forked worker processes, for the link stage of a large full build.

The link stage is pure Python and held the GIL: on a machine with several cores all but one idled through
it.  A pool of `fork`ed processes inherits what the parent built before it (the passages, the resolver's
tables, the mention trie) without pickling any of it; only the shards' results come back.  The heap is
frozen for the children's lifetime (`gc.freeze`) so that their collections do not walk, and so copy, the
parent's objects.

Only where forking is safe and cheap (Linux), only above `MIN_PASSAGES`, on `MIN_CORES` or more, and only as
many processes as the memory available holds (`fits_in_memory`: a pooled build holds about twice a serial one's memory);
READTRAIL_LINK_WORKERS sets the number of processes (0 or 1: none, the serial path).
"""
from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.pool import AsyncResult, Pool
from typing import Any, TypeVar

__all__ = ["MIN_PASSAGES", "Background", "fits_in_memory", "link_workers", "shards", "forked_pool", "pooled", "shared", "start"]

# below it a pool saves no time: at load 4-5, serial / pooled wall 1.50 / 1.47 s at 5k passages, 3.11 / 2.56 at 10k,
# 5.51 / 4.97 at 20k, for 0.3-0.5 more CPU-s (BENCHMARKS.md, "Scale (issue 12)")
MIN_PASSAGES = 10_000
# On 2 cores a pool (main process, BM25's process and 2 workers sharing them) built 1M passages in 218 s against
# 272 s serial, for 7.0 GB of memory against 3.3 (bench/tree_memory.py): not worth it by default.
MIN_CORES = 3
SHARDS_PER_WORKER = 4  # smaller shards even out documents of very different sizes

T = TypeVar("T")
R = TypeVar("R")

_shared: Any = None  # what the parent set before forking: the children read it, never pickled


def link_workers(passages: int) -> int:
    """How many worker processes the link stage of `passages` passages uses; 0: none (run in this process)."""
    env = os.environ.get("READTRAIL_LINK_WORKERS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"READTRAIL_LINK_WORKERS={env!r}: give a whole number of processes (0: none)") from None
    else:
        if passages < MIN_PASSAGES:
            return 0
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:
            n = os.cpu_count() or 1
        if n < MIN_CORES:
            return 0
        while n >= 2 and not fits_in_memory(passages, n):  # fewer processes, or none, rather than swapping
            n -= 1
    if n < 2 or not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return n


# What a pooled full build's processes hold together (PSS, bench/tree_memory.py), per passage: at 1M passages
# with 2 workers, at the peak, the main process 2.2 GB, BM25's process 1.8 GB and each worker 1.5 GB (a forked
# child's reads copy the pages of the objects it touches); BENCHMARKS.md, "Scale (issue 12)".
BASE_KB_PER_PASSAGE = 4.0
WORKER_KB_PER_PASSAGE = 1.5
MEMORY_SHARE = 0.8  # of the memory the machine has available when the build starts


def fits_in_memory(passages: int, workers: int, available_kb: int | None = None) -> bool:
    """Whether a pooled build of `passages` with `workers` fits in the memory available (unknown: it does)."""
    available_kb = available_kb if available_kb is not None else _available_kb()
    if available_kb is None:
        return True
    return passages * (BASE_KB_PER_PASSAGE + WORKER_KB_PER_PASSAGE * workers) <= MEMORY_SHARE * available_kb


@functools.cache  # read once a process: every decision of one build sees the same figure
def _available_kb() -> int | None:
    try:
        lines = open("/proc/meminfo", encoding="ascii").read().splitlines()
        return next(int(x.split()[1]) for x in lines if x.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return None


def shards(items: Sequence[T], weight: Callable[[T], int], n: int) -> list[list[T]]:
    """`items` cut into at most `n` runs of consecutive items of about equal total weight (order kept)."""
    total = sum(weight(x) for x in items) or 1
    out: list[list[T]] = [[]]
    acc = 0
    for x in items:
        if out[-1] and acc >= total * len(out) / n:
            out.append([])
        out[-1].append(x)
        acc += weight(x)
    return [s for s in out if s]


def shared() -> Any:
    """In a worker: what `forked_pool` was given."""
    return _shared


@contextmanager
def forked_pool(workers: int, state: Any) -> Iterator[Pool]:
    """A pool of `workers` forked processes that see `state` as `shared()`; ended on leaving."""
    global _shared
    _shared = state
    gc.freeze()  # the children's collector leaves the inherited objects alone (no copy-on-write of them)
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        _shared = None
        gc.unfreeze()


def pooled(workers: int) -> Pool:
    """A pool of `workers` forked processes for tasks that carry their data (`terminate` and `join` it).  Each
    closes the files it inherited: forked while files are parsed, a worker would otherwise hold the parse worker's
    pipe open, and that child would never see the end of its requests (`ParseWorker.close` waited 5 s for it,
    then killed it).  The pool's own pipes are opened after the list is taken, and kept."""
    listed = [int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) > 2]
    inherited = [fd for fd in listed if _is_open(fd)]  # not the listing's own, closed by now (its number is reused)
    return multiprocessing.get_context("fork").Pool(workers, initializer=_close, initargs=(inherited,))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _close(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def start(pool: Pool, fn: Callable[[T], R], items: Sequence[T]) -> AsyncResult[list[R]]:
    """`fn` over `items` in the pool, one item a task, results in order (`.get()` them)."""
    return pool.map_async(fn, items, chunksize=1)


class Background:
    """`fn(*args, progress=...)` in one forked process, while this one goes on; `wait` for it.  Its `progress(n)`
    calls are counted, and handed on by `wait`."""

    def __init__(self, fn: Callable[..., None], *args: Any) -> None:
        ctx = multiprocessing.get_context("fork")
        self._done = ctx.Value("q", 0)
        gc.freeze()  # the child's collector leaves the inherited objects alone
        try:
            self._proc = ctx.Process(target=_background, args=(fn, args, self._done), daemon=True)
            self._proc.start()
        finally:
            gc.unfreeze()  # this process collects as before

    def wait(self, progress: Callable[[int], None] | None = None) -> None:
        """Until the process ends, its progress handed on; RuntimeError if it failed."""
        told = 0
        while True:
            self._proc.join(0.2)
            done = self._done.value
            if progress and done > told:
                progress(done - told)
                told = done
            if self._proc.exitcode is not None:
                break
        if self._proc.exitcode != 0:
            raise RuntimeError(f"the background process ({getattr(self._proc, 'name', '')}) failed "
                               f"(exit code {self._proc.exitcode})")

    def cancel(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()


def _background(fn: Callable[..., None], args: tuple[Any, ...], done: Any) -> None:
    def progress(n: int) -> None:
        with done.get_lock():
            done.value += n
    fn(*args, progress=progress)
