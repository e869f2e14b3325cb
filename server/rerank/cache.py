"""Passage vectors cached per model: in memory, and on disk as append-only .npz chunks
(several processes may write at once; each chunk is written under a unique name, then renamed)."""
from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path

import numpy as np

__all__ = ["VectorCache", "text_key", "model_key"]

MAX_CHUNKS = 64  # compact the folder into one chunk beyond this


def text_key(pid: str, text: str) -> str:
    """Passage id plus a hash of its text: a re-indexed, edited passage gets a new vector."""
    return f"{pid}\x1f{hashlib.blake2b(text.encode('utf-8'), digest_size=8).hexdigest()}"


def model_key(model_path: str | Path, max_seq_length: int) -> str:
    """A stable name for (model weights, max_seq_length)."""
    p = Path(model_path)
    stamp = ""
    for name in ("model.safetensors", "pytorch_model.bin"):
        f = p / name
        if f.is_file():
            st = f.stat()
            stamp = f"{st.st_size}:{int(st.st_mtime)}"
            break
    raw = f"{p.resolve()}|{stamp}|{max_seq_length}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


class VectorCache:
    """key -> float32 vector for one model. `folder=None` keeps vectors in memory only."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._vecs: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._seen_chunks: set[str] = set()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self._load_new_chunks()

    def __len__(self) -> int:
        return len(self._vecs)

    def _load_new_chunks(self) -> None:
        assert self.folder is not None
        for f in sorted(self.folder.glob("chunk-*.npz")):
            if f.name in self._seen_chunks:
                continue
            try:
                with np.load(f, allow_pickle=False) as data:
                    keys, vecs = data["keys"], data["vecs"]
            except (OSError, ValueError, KeyError):
                continue  # half-written or foreign file: ignore it
            self._seen_chunks.add(f.name)
            for k, v in zip(keys.tolist(), vecs):
                self._vecs[str(k)] = v

    def get_many(self, keys: list[str]) -> list[np.ndarray | None]:
        with self._lock:
            return [self._vecs.get(k) for k in keys]

    def put_many(self, keys: list[str], vecs: np.ndarray) -> None:
        vecs = np.asarray(vecs, dtype=np.float32)
        with self._lock:
            for k, v in zip(keys, vecs):
                self._vecs[k] = v
            if self.folder is None or not keys:
                return
            self._write_chunk(np.array(keys), vecs)
            if len(self._seen_chunks) > MAX_CHUNKS:
                self._compact()

    def _write_chunk(self, keys: np.ndarray, vecs: np.ndarray) -> str:
        assert self.folder is not None
        name = f"chunk-{uuid.uuid4().hex}.npz"
        tmp = self.folder / f".tmp-{name}"
        with tmp.open("wb") as f:
            np.savez(f, keys=keys, vecs=vecs)
        os.replace(tmp, self.folder / name)
        self._seen_chunks.add(name)
        return name

    def _compact(self) -> None:
        assert self.folder is not None
        self._load_new_chunks()
        old = set(self._seen_chunks)
        keys = list(self._vecs)
        name = self._write_chunk(np.array(keys), np.stack([self._vecs[k] for k in keys]))
        for n in old:
            (self.folder / n).unlink(missing_ok=True)
        self._seen_chunks = {name}
