"""One index folder holding the passages, their links and the BM25 index, swapped in atomically.

Layout: DIR/CURRENT names the live generation folder DIR/gen-*/ with
meta.json, passages.jsonl, references.jsonl, mentions.jsonl, containment.jsonl, bm25/.
A new generation is written beside the old one and CURRENT is replaced with os.replace,
so a reader (or a crash) only ever sees a complete generation. Plain JSON: nothing
loaded from disk can run code.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from graph.graph import build_graph
from graph.index import BM25Index, build_bm25
from graph.model import Mention, Passage, Reference

__all__ = ["FORMAT_VERSION", "IndexNotFound", "StoredIndex", "load_index", "write_index", "index_lock", "check_index_folder"]

FORMAT_VERSION = 1


class IndexNotFound(Exception):
    """The folder holds no readtrail index (or a damaged one); the message says what to do."""


@dataclass
class StoredIndex:
    folder: Path
    generation: Path
    meta: dict[str, Any]
    passages: list[Passage]
    references: list[Reference]
    mentions: list[Mention]
    graph: nx.MultiDiGraph
    bm25: BM25Index
    by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {p.id: i for i, p in enumerate(self.passages)}


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_index_folder(folder: Path) -> None:
    """Refuse (ValueError) to write an index over a file or into a folder that holds other things."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--index {folder} is a file: give a folder (new or empty) for the index")
    if folder.is_dir() and not any((folder / n).exists() for n in ("CURRENT", ".lock")) and any(folder.iterdir()):
        raise ValueError(f"--index {folder} is a folder with other files and no readtrail index: give a new or empty folder")


@contextmanager
def index_lock(folder: Path) -> Iterator[None]:
    """Only one writer per index folder at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RuntimeError(f"another `readtrail index` is writing {folder}; wait for it to finish") from exc
        yield


def write_index(
    folder: Path,
    passages: Sequence[Passage],
    references: Sequence[Reference],
    mentions: Sequence[Mention],
    containment: Sequence[tuple[str, str]],
    meta: dict[str, Any],
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write a new generation and make it current. Returns the generation folder."""
    folder = folder.resolve()
    check_index_folder(folder)
    with index_lock(folder):
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        tmp = folder / f".{name}.tmp"
        tmp.mkdir()
        try:
            _write_jsonl(tmp / "passages.jsonl", (asdict(p) for p in passages))
            _write_jsonl(tmp / "references.jsonl", (asdict(r) for r in references))
            _write_jsonl(tmp / "mentions.jsonl", (asdict(m) for m in mentions))
            _write_jsonl(tmp / "containment.jsonl", ({"parent": a, "child": b} for a, b in containment))
            build_bm25(passages, tmp / "bm25", progress=progress)
            full_meta = {"format_version": FORMAT_VERSION, "created": time.time(), **meta}
            (tmp / "meta.json").write_text(json.dumps(full_meta, indent=2), encoding="utf-8")
            _fsync_dir(tmp)
            gen = folder / name
            os.rename(tmp, gen)
            pointer = folder / ".CURRENT.tmp"
            with pointer.open("w", encoding="utf-8") as f:
                f.write(name)
                f.flush()
                os.fsync(f.fileno())
            os.replace(pointer, folder / "CURRENT")
            _fsync_dir(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for old in folder.iterdir():
            if old.is_dir() and old.name != name and (old.name.startswith("gen-") or old.name.endswith(".tmp")):
                shutil.rmtree(old, ignore_errors=True)
        return gen


def current_generation(folder: Path) -> Path:
    pointer = folder / "CURRENT"
    if not pointer.is_file():
        raise IndexNotFound(
            f"no readtrail index in {folder}: build one with `readtrail index SOURCE... --index {folder}`"
        )
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = "?"
    gen = folder / name
    if not name.startswith("gen-") or "/" in name or not (gen / "meta.json").is_file():
        raise IndexNotFound(f"the index in {folder} is damaged (CURRENT names {name!r}); rebuild it with `readtrail index`")
    return gen


def load_index(folder: Path) -> StoredIndex:
    folder = Path(folder).resolve()
    gen = current_generation(folder)
    try:
        meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexNotFound(f"the index in {folder} is damaged (meta.json: {exc}); rebuild it with `readtrail index`") from exc
    if meta.get("format_version") != FORMAT_VERSION:
        raise IndexNotFound(
            f"the index in {folder} has format {meta.get('format_version')}, this readtrail reads {FORMAT_VERSION}: rebuild it with `readtrail index`"
        )
    try:
        passages = [Passage(**row) for row in _read_jsonl(gen / "passages.jsonl")]
        references = [Reference(**row) for row in _read_jsonl(gen / "references.jsonl")]
        mentions = [Mention(**row) for row in _read_jsonl(gen / "mentions.jsonl")]
        containment = [(r["parent"], r["child"]) for r in _read_jsonl(gen / "containment.jsonl")]
        bm25 = BM25Index(gen / "bm25")
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged or hand-edited generation
        raise IndexNotFound(
            f"the index in {folder} is damaged ({type(exc).__name__}: {str(exc)[:200]}); rebuild it with `readtrail index`"
        ) from exc
    g = build_graph(passages, references, containment, mentions)
    return StoredIndex(
        folder=folder, generation=gen, meta=meta, passages=passages, references=references,
        mentions=mentions, graph=g, bm25=bm25,
    )
