"""What a running server holds: the corpus, its settings, and heavy parts loaded lazily, once."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from server.corpus import Corpus

__all__ = ["App"]

T = TypeVar("T")


@dataclass
class App:
    """The lifespan value of the MCP server; tools reach it through the request context.

    `options` carries CLI/setting choices (e.g. "reranker": path, "model": path) for the
    modules that build heavy parts; `lazy` builds each part once, safely under concurrency."""

    corpus: Corpus
    options: dict[str, Any] = field(default_factory=dict)
    _parts: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lazy(self, name: str, factory: Callable[[], T]) -> T:
        part = self._parts.get(name)
        if part is None:
            with self._lock:
                part = self._parts.get(name)
                if part is None:
                    part = self._parts[name] = factory()
        return part
