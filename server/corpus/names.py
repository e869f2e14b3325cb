"""Bounded "did you mean" suggestions: a sorted list of names, searched around where the unknown
name would sort, so that a typo costs the same on 50 documents as on 500,000."""
from __future__ import annotations

import difflib
import threading
from bisect import bisect_left
from collections.abc import Iterable

__all__ = ["NameIndex"]


class NameIndex:
    """Names (ids, titles) matched case-insensitively; `suggest` compares at most 2 * `window` names."""

    def __init__(self, names: Iterable[str], window: int = 200) -> None:
        self._names: Iterable[str] | None = names  # sorted when first asked (a million ids: a second at start)
        self._by_lower: dict[str, str] = {}
        self._sorted: list[str] = []
        self.window = window
        self._lock = threading.Lock()

    def _built(self) -> None:
        if self._names is None:
            return
        with self._lock:
            if self._names is not None:
                for n in self._names:
                    low = n.lower()
                    self._by_lower.setdefault(n if low == n else low, n)  # an id already in lower case is not copied
                self._sorted = sorted(self._by_lower)
                self._names = None

    def __len__(self) -> int:
        self._built()
        return len(self._sorted)

    def exact(self, name: str) -> str | None:
        self._built()
        return self._by_lower.get(name.strip().lower())

    def suggest(self, name: str, n: int = 3, cutoff: float = 0.6) -> list[str]:
        self._built()
        key = name.strip().lower()
        at = bisect_left(self._sorted, key)
        near = self._sorted[max(0, at - self.window): at + self.window]
        found = difflib.get_close_matches(key, near, n=n, cutoff=cutoff)
        return [self._by_lower[f] for f in found]
