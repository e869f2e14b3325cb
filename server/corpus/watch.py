"""A served index follows `readtrail index`: when CURRENT names a new generation, it is loaded in the
background and swapped in; calls already running finish on the corpus they started with.

`CorpusWatch.poll()` is cheap enough to call on every request: it reads CURRENT (a few bytes) at most
once per `interval` seconds.  The old generation stays on disk while its `Corpus` is alive (its
`StoredIndex.lease`), so a call in flight never reads a deleted folder.  A generation that fails to
load is reported once on stderr and the served corpus stays as it was.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from graph.store import IndexNotFound
from server.corpus import Corpus

__all__ = ["CorpusWatch"]


def _current_name(folder: Path) -> str | None:
    try:
        return (folder / "CURRENT").read_text(encoding="utf-8").strip()[:256]
    except (OSError, UnicodeDecodeError):
        return None


class CorpusWatch:
    """Loads the generation CURRENT names when it changes; `on_swap(new)` is called once it is loaded."""

    def __init__(self, corpus: Corpus, on_swap: Callable[[Corpus], None], interval: float = 1.0) -> None:
        self.folder = corpus.stored.folder
        self.interval = interval
        self._on_swap = on_swap
        self._seen = corpus.stored.generation.name  # the generation served, or the last one tried
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None

    def poll(self) -> None:
        """Start loading a new generation if CURRENT names one (at most one check per interval)."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return
        with self._lock:
            if now - self._checked < self.interval or (self._loading and self._loading.is_alive()):
                return
            self._checked = now
            name = _current_name(self.folder)
            if not name or name == self._seen:
                return
            self._seen = name
            self._loading = threading.Thread(target=self._load, args=(name,), name="readtrail-reload", daemon=True)
            self._loading.start()

    def wait(self, timeout: float | None = None) -> None:
        """Until a load in progress ends (tests)."""
        loading = self._loading
        if loading:
            loading.join(timeout)

    def _load(self, name: str) -> None:
        t = time.perf_counter()
        try:
            corpus = Corpus.open(self.folder)
        except IndexNotFound as exc:
            print(f"readtrail: the new index generation {name} could not be loaded, still serving the old one: {exc}",
                  file=sys.stderr)
            return
        self._seen = corpus.stored.generation.name  # CURRENT may have moved on while it loaded
        self._on_swap(corpus)
        print(f"readtrail: now serving {corpus.stored.generation.name} ({len(corpus.passages)} passages, "
              f"loaded in {time.perf_counter() - t:.1f} s)", file=sys.stderr)
