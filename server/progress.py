"""Progress bars on stderr (never stdout: under stdio, stdout is the MCP transport)."""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

__all__ = ["StageBars", "track"]

T = TypeVar("T")


def track(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    yield from tqdm(items, desc=desc, total=total, file=sys.stderr, unit="q", dynamic_ncols=True, mininterval=0.5)


class StageBars:
    """A pipeline progress callback `(stage, done, total, detail)` drawing one bar per stage."""

    def __init__(self) -> None:
        self._bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int, detail: str = "") -> None:
        bar = self._bars.get(stage)
        if bar is None:
            for other in self._bars.values():
                other.close()
            bar = self._bars[stage] = tqdm(desc=stage, total=total or None, file=sys.stderr, dynamic_ncols=True, mininterval=0.5)
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        bar.set_postfix_str(detail[-40:], refresh=False)
        bar.refresh()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
