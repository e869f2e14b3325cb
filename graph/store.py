"""One index folder holding the passages, their links and the BM25 index, swapped in atomically.

Layout: DIR/CURRENT names the live generation folder DIR/gen-*/ with
meta.json, passages.jsonl, references.jsonl, mentions.jsonl, containment.jsonl, bm25/.
A new generation is written beside the old one and CURRENT is replaced with os.replace,
so a reader (or a crash) only ever sees a complete generation. Plain JSON: nothing
loaded from disk can run code.  Loading trusts nothing in the folder: every file must be
a regular file inside it (no links, FIFOs or devices), every row must have the types of
its dataclass, and anything else is `IndexNotFound` with one line, never a traceback.
"""
from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import time
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from graph.backends import GraphStore, PassageStore, TextIndex
from graph.graph import build_graph
from graph.index import BM25Index, build_bm25
from graph.model import Mention, Passage, Reference
from graph.printable import printable
from graph.safe_open import FileRefused, file_kind, open_regular

__all__ = ["FORMAT_VERSION", "IndexNotFound", "PassageTable", "StoredIndex", "load_index", "write_index", "index_lock", "check_index_folder"]

FORMAT_VERSION = 2  # 2: passages keep their source path, references their kind and the reason they are unresolved
READABLE_VERSIONS = (1, 2)  # a version-1 index reads as before (no paths, no reasons); older readtrails refuse a 2


class IndexNotFound(Exception):
    """The folder holds no readtrail index (or a damaged one); the message says what to do."""


class _Damaged(ValueError):
    """What is wrong with one file of a generation, in a few words."""


def _damaged(folder: Path, what: str) -> IndexNotFound:
    return IndexNotFound(
        f"the index in {printable(str(folder))} is damaged ({printable(what)[:300]}); rebuild it with `readtrail index`"
    )


@dataclass
class StoredIndex:
    folder: Path
    generation: Path
    meta: dict[str, Any]
    passages: PassageStore  # a PassageTable when loaded: rows read on demand
    references: list[Reference]
    mentions: list[Mention]
    graph: GraphStore  # a frozen nx.MultiDiGraph when loaded
    bm25: TextIndex  # a BM25Index (tantivy) when loaded
    by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = self.passages.ids if isinstance(self.passages, PassageTable) else [p.id for p in self.passages]
        self.by_id = {pid: i for i, pid in enumerate(ids)}


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _open_text(path: Path, root: Path) -> io.TextIOWrapper:
    try:
        return io.TextIOWrapper(open_regular(path, root), encoding="utf-8")
    except FileRefused as e:
        raise _Damaged(f"{path.name} {e}") from None


def _read_jsonl(path: Path, root: Path) -> Iterator[Any]:
    with _open_text(path, root) as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except (ValueError, RecursionError) as e:  # RecursionError: nesting too deep
                    raise _Damaged(f"{path.name} line {n}: not JSON ({type(e).__name__})") from None


_TYPES = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: type(v) is int,
    "str | None": lambda v: v is None or isinstance(v, str),
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _check_row(cls: type, row: Any, where: str) -> Any:
    """`row` (parsed JSON) as a `cls` (a dataclass), each field of its declared type; else _Damaged."""
    if not isinstance(row, dict):
        raise _Damaged(f"{where} is {_json_type(row)}, not an object")
    try:
        obj = cls(**row)
    except TypeError:
        raise _Damaged(f"{where} has the fields {sorted(row)[:10]}, not those of a {cls.__name__}") from None
    for name, type_, ok in _checks(cls):
        if not ok(getattr(obj, name)):
            raise _Damaged(f"{where}: {name} is {_json_type(getattr(obj, name))}, not {type_}")
    return obj


@lru_cache(maxsize=None)
def _checks(cls: type) -> tuple[tuple[str, str, Callable[[Any], bool]], ...]:
    """(field, declared type, its check) of a dataclass, worked out once (a million rows are checked at open)."""
    return tuple((f.name, f.type, _TYPES[f.type]) for f in fields(cls))


def _rows(cls: type, path: Path, root: Path) -> Iterator[Any]:
    """The rows of a JSONL file as `cls` (a dataclass), each field of its declared type."""
    for n, row in enumerate(_read_jsonl(path, root), start=1):
        yield _check_row(cls, row, f"{path.name} row {n}")


class PassageTable(Sequence[Passage]):
    """The passages of a generation, read from passages.jsonl when asked for (`os.pread` of one row;
    the last `cache` passages read kept). In memory: each passage's id, its document's index and the
    byte offset of its row; documents' ids and titles. Every row is read and checked once, when the
    table is opened, as `_rows` does; a `Passage` is built again from its row on access (a new object
    after it left the cache: passages are values, never changed by the read side). The file stays
    open: a newer generation replacing this one does not change what this table reads."""

    def __init__(self, path: Path, root: Path, cache: int = 4096) -> None:
        self._file = open_regular(path, root)
        self.ids: list[str] = []
        self.doc_ids: list[str] = []  # documents in order of first passage
        self.doc_titles: dict[str, str] = {}
        docs: dict[str, int] = {}
        doc_of = array("i")
        offsets = array("q")
        start, n = 0, 0
        for line in self._file:
            if line.strip():
                n += 1
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError) as e:
                    raise _Damaged(f"{path.name} line {n}: not JSON ({type(e).__name__})") from None
                p = _check_row(Passage, row, f"{path.name} row {n}")
                d = docs.get(p.doc_id)
                if d is None:
                    d = docs[p.doc_id] = len(self.doc_ids)
                    self.doc_ids.append(p.doc_id)
                    self.doc_titles[p.doc_id] = p.doc_title
                self.ids.append(p.id)
                doc_of.append(d)
                offsets.append(start)
            start += len(line)
        offsets.append(start)  # row i is bytes offsets[i]:offsets[i + 1] (blank lines are whitespace to json)
        self._doc_of, self._offsets = doc_of, offsets
        self._fd = self._file.fileno()
        self._get = lru_cache(maxsize=cache)(self._read)

    def _read(self, i: int) -> Passage:
        start = self._offsets[i]
        return Passage(**json.loads(os.pread(self._fd, self._offsets[i + 1] - start, start)))

    def doc_id(self, i: int) -> str:
        """The document of passage `i`, without reading its row."""
        return self.doc_ids[self._doc_of[i]]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._get(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._get(i)

    def __iter__(self) -> Iterator[Passage]:
        for i in range(len(self)):
            yield self._read(i)  # a pass over every passage does not flush the cache


@dataclass
class _Node:
    """What build_graph reads of a passage."""
    id: str
    doc_id: str
    doc_title: str


@dataclass
class _Contained:
    parent: str
    child: str


def _check_tree(folder: Path) -> None:
    """Every entry under `folder` is a regular file or a folder: no link, FIFO, socket, device."""
    for entry in os.scandir(folder):
        st = entry.stat(follow_symlinks=False)
        kind = file_kind(st.st_mode)
        if kind == "folder":
            _check_tree(Path(entry.path))
        elif kind != "file":
            raise _Damaged(f"{entry.path} is a {kind}")


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
    """The live generation folder named by CURRENT, a real folder inside `folder`."""
    root = Path(folder).resolve()
    try:
        with open_regular(root / "CURRENT", root) as f:
            name = f.read(256).decode("utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        raise IndexNotFound(
            f"no readtrail index in {printable(str(folder))}: build one with `readtrail index SOURCE... --index {printable(str(folder))}`"
        ) from None
    except FileRefused as e:
        raise _damaged(folder, f"CURRENT {e}") from None
    except (OSError, UnicodeDecodeError):
        name = "?"
    if not name.startswith("gen-") or "/" in name or "\0" in name:
        raise _damaged(folder, f"CURRENT names {name!r}")
    try:
        kind = file_kind(os.lstat(root / name).st_mode)
    except OSError:
        kind = "missing"
    if kind != "folder":
        raise _damaged(folder, f"CURRENT names {name!r}, which is {kind if kind == 'missing' else 'a ' + kind}")
    return Path(folder) / name


def load_index(folder: Path) -> StoredIndex:
    """The live generation of the index in `folder`; IndexNotFound (one line) if none or damaged."""
    folder = Path(folder).resolve()
    gen = current_generation(folder)
    try:
        _check_tree(gen)
        with _open_text(gen / "meta.json", folder) as f:
            meta = json.loads(f.read())
        if not isinstance(meta, dict):
            raise _Damaged(f"meta.json is {_json_type(meta)}, not an object")
        if meta.get("format_version") not in READABLE_VERSIONS:
            raise IndexNotFound(
                f"the index in {folder} has format {printable(str(meta.get('format_version')))[:20]}, "
                f"this readtrail reads {', '.join(map(str, READABLE_VERSIONS))}: rebuild it with `readtrail index`"
            )
        passages = PassageTable(gen / "passages.jsonl", folder)
        references = list(_rows(Reference, gen / "references.jsonl", folder))
        mentions = list(_rows(Mention, gen / "mentions.jsonl", folder))
        containment = [(c.parent, c.child) for c in _rows(_Contained, gen / "containment.jsonl", folder)]
        bm25 = BM25Index(gen / "bm25")
    except _Damaged as exc:
        raise _damaged(folder, str(exc)) from exc
    except (OSError, ValueError, RecursionError) as exc:  # unreadable, not UTF-8, not JSON, tantivy's own errors
        raise _damaged(folder, f"{type(exc).__name__}: {exc}") from exc
    nodes = [_Node(pid, passages.doc_id(i), passages.doc_titles[passages.doc_id(i)]) for i, pid in enumerate(passages.ids)]
    g = build_graph(nodes, references, containment, mentions)
    return StoredIndex(
        folder=folder, generation=gen, meta=meta, passages=passages, references=references,
        mentions=mentions, graph=g, bm25=bm25,
    )
