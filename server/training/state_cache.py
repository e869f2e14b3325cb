"""Hidden states of passages after a model's frozen layers, kept on disk between training runs
(`--kind top-layers`): they depend only on the base weights, the number of frozen layers, the token limit
and the passage text, so a second run (another learning rate, feedback added) reads them instead of
running the frozen layers again. Append-only float16 chunks, each written under a unique name and renamed,
like the passage-vector cache (server/rerank/cache.py)."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

__all__ = ["StateCache"]


class StateCache:
    """key -> float16 array (tokens x dim). `folder=None`: nothing is kept on disk."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._rows: dict[str, np.ndarray] = {}
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        for f in sorted(folder.glob("states-*.npz")):
            try:
                with np.load(f, allow_pickle=False) as data:
                    keys, flat, ends = data["keys"].tolist(), data["flat"], data["ends"]
            except (OSError, ValueError, KeyError):
                continue  # half-written or foreign file: ignore it
            start = 0
            for k, end in zip(keys, ends.tolist()):
                self._rows[str(k)] = flat[start:end]
                start = end

    def get(self, key: str) -> np.ndarray | None:
        return self._rows.get(key)

    def put_many(self, keys: list[str], arrays: list[np.ndarray]) -> None:
        arrays = [np.asarray(a, dtype=np.float16) for a in arrays]
        self._rows.update(zip(keys, arrays))
        if self.folder is None or not keys:
            return
        name = f"states-{uuid.uuid4().hex}.npz"
        tmp = self.folder / f".tmp-{name}"
        with tmp.open("wb") as f:
            np.savez(f, keys=np.array(keys), flat=np.concatenate(arrays), ends=np.cumsum([len(a) for a in arrays]))
        os.replace(tmp, self.folder / name)
