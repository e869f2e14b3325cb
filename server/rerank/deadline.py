"""A deadline for the passage vectors a question's scoring computes on first touch.

A warm server scores candidates from cached vectors in milliseconds; one still warming up (a large
folder, the first minutes) encodes every uncached candidate with the model, a second or more for 50 of
them on a loaded CPU, and that work was not interruptible: the first deep_search on a folder being warmed
overran its 3 s budget by 1.2 s. Within `scoring_deadline(t)`, `EmbeddingReranker.score` encodes
uncached passages a batch at a time only while the next batch is expected to end before `t`; the rest are
scored without their cosine (see there) and counted in `Deadline.unscored`, so that the caller can say so."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Deadline", "current_deadline", "scoring_deadline"]


@dataclass
class Deadline:
    at: float  # a time.perf_counter() value
    unscored: int = 0  # passages scored without their vector because the deadline came first


_current: ContextVar[Deadline | None] = ContextVar("readtrail_scoring_deadline", default=None)


def current_deadline() -> Deadline | None:
    return _current.get()


@contextmanager
def scoring_deadline(at: float) -> Iterator[Deadline]:
    """Scoring in this context (this thread) stops computing passage vectors once `at` would be passed."""
    deadline = Deadline(at)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)
