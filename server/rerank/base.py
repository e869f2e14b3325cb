"""The one interface every reranker backend implements."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from graph.model import Passage

__all__ = ["Reranker"]


@runtime_checkable
class Reranker(Protocol):
    """Scores passages against a query; higher is more relevant. Must be safe to call from
    several threads (serialise internally if the backend is not)."""

    name: str  # e.g. "minilm-zero-shot", "embed:models/rr-2026-11-25"

    def score(self, query: str, passages: Sequence[Passage]) -> list[float]: ...
