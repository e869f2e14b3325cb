"""One index folder holding the passages, their links and the BM25 index, swapped in atomically.

Layout: DIR/CURRENT names the live generation folder DIR/gen-*/ with
meta.json, passages.jsonl, references.jsonl, mentions.jsonl, containment.jsonl, bm25/, and sidecar/
(`graph.sidecar`: what a server opens the generation from without reading every row).
A new generation is written beside the old one and CURRENT is replaced with os.replace,
so a reader (or a crash) only ever sees a complete generation.  A reader holds a shared lock
on the generation folder it loaded (`StoredIndex.lease`) until it lets the index go; a writer
deletes only old generations nobody holds, so a server still answering from an old generation
keeps it (the next `readtrail index` removes it once let go).  DIR/gen-*/state/ holds what an
incremental re-index reuses (`graph.incremental`); readers ignore it. Plain JSON: nothing
loaded from disk can run code.  Loading trusts nothing in the folder: every file must be
a regular file inside it (no links, FIFOs or devices), every row must have the types of
its dataclass (checked when it is read, with a sidecar; at open, without one), and anything
else is `IndexNotFound` with one line, never a traceback.
"""
from __future__ import annotations

import fcntl
import gc
import hashlib
import io
import json
import os
import shutil
import time
import uuid
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from graph.backends import GraphStore, PassageStore, TextIndex
from graph.graph import build_graph, graph_from
from graph.index import BM25Index, build_bm25
from graph.model import Mention, Passage, Reference
from graph.printable import printable
from graph.safe_open import FileRefused, file_kind, open_regular
from graph.sidecar import Sidecar, SidecarDamaged, read_sidecar, write_sidecar

__all__ = [
    "FORMAT_VERSION", "IndexNotFound", "PassageTable", "StoredIndex", "StoredRows", "load_index", "load_rows",
    "write_index", "index_lock", "check_index_folder", "current_generation", "read_state", "Block", "encode_rows",
    "open_generation", "rows_at", "StaleRows", "encode_line", "links_by_source",
]

# 2: passages keep their source path, references their kind and the reason they are unresolved
# 3: BM25 stores passage ids, not positions (an incremental re-index updates a copy of it)
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # a version-1 index reads as before (no paths, no reasons); older readtrails refuse a 3


class IndexNotFound(Exception):
    """The folder holds no readtrail index (or a damaged one); the message says what to do."""


class StaleRows(Exception):
    """A previous generation's rows are not what its state says (changed or damaged since): the caller
    builds everything again instead of copying them."""


class _Damaged(ValueError):
    """What is wrong with one file of a generation, in a few words."""


def _damaged(folder: Path, what: object) -> IndexNotFound:
    return IndexNotFound(
        f"the index in {printable(str(folder))} is damaged ({printable(str(what))[:300]}); rebuild it with `readtrail index`"
    )


@dataclass
class StoredIndex:
    folder: Path
    generation: Path
    meta: dict[str, Any]
    passages: PassageStore  # a PassageTable when loaded: rows read on demand
    references: Sequence[Reference]  # when loaded with a sidecar: read from disk on first use
    mentions: Sequence[Mention]
    graph: GraphStore  # a frozen nx.MultiDiGraph when loaded
    bm25: TextIndex  # a BM25Index (tantivy) when loaded
    by_id: dict[str, int] = field(default_factory=dict)
    lease: _Lease | None = None
    # a passage's references, then its mentions, as stored (by passage id); default: from the two lists
    links_of: Callable[[str], Sequence[Reference | Mention]] | None = None

    def __post_init__(self) -> None:
        if not self.by_id:
            ids = self.passages.ids if isinstance(self.passages, PassageTable) else [p.id for p in self.passages]
            self.by_id = {pid: i for i, pid in enumerate(ids)}
        if self.links_of is None:
            self.links_of = links_by_source(self.references, self.mentions)


def links_by_source(references: Iterable[Reference], mentions: Iterable[Mention]
                    ) -> Callable[[str], Sequence[Reference | Mention]]:
    """A passage's references, then its mentions, from lists of them all."""
    by_src: dict[str, list[Reference | Mention]] = {}
    for r in [*references, *mentions]:
        by_src.setdefault(r.src, []).append(r)
    return lambda pid: by_src.get(pid, ())


class _Later(Sequence[Any]):
    """A list read when first used (the references of an index opened with a sidecar: only evaluation
    reads them all)."""

    def __init__(self, load: Callable[[], list[Any]]) -> None:
        self._load, self._rows = load, None

    def _all(self) -> list[Any]:
        if self._rows is None:
            self._rows = self._load()
        return self._rows

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, i):  # type: ignore[override]
        return self._all()[i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._all())


class _LinkTable:
    """A passage's references and mentions read from references.jsonl and mentions.jsonl when asked for
    (rows found through the sidecar, checked when read; the last `cache` passages' kept)."""

    def __init__(self, gen: Path, root: Path, sidecar: Sidecar, by_id: dict[str, int], cache: int = 4096) -> None:
        self._root, self._by_id = root, by_id
        self._files = {kind: open_regular(gen / name, root) for kind, name in
                       (("ref", "references.jsonl"), ("men", "mentions.jsonl"))}
        self._csr = {kind: tuple(sidecar.arrays[f"{kind}_{k}"] for k in ("ptr", "rows", "off")) for kind in self._files}
        self.of = lru_cache(maxsize=cache)(self._read)

    def _read(self, pid: str) -> tuple[Reference | Mention, ...]:
        pos = self._by_id.get(pid)
        if pos is None:
            return ()
        out: list[Reference | Mention] = []
        for kind, cls in (("ref", Reference), ("men", Mention)):
            ptr, rows, off = self._csr[kind]
            fd = self._files[kind].fileno()
            for r in rows[ptr[pos]:ptr[pos + 1]].tolist():
                start, end = int(off[r]), int(off[r + 1])
                where = f"{self._files[kind].name} row {r + 1}"
                try:
                    obj = _check_row(cls, json.loads(os.pread(fd, end - start, start)), where)
                except (ValueError, RecursionError) as e:
                    raise _damaged(self._root, e if isinstance(e, _Damaged) else f"{where}: not JSON") from None
                if obj.src != pid:
                    raise _damaged(self._root, f"{where} is not a link of {pid} as the sidecar says")
                out.append(obj)
        return tuple(out)


@dataclass
class StoredRows:
    """A generation's rows without the graph and BM25 (what an incremental re-index starts from)."""

    generation: Path
    meta: dict[str, Any]
    passages: Sequence[Passage]  # a list, or a PassageTable (load_rows(table=True))
    references: list[Reference]
    containment: list[tuple[str, str]]
    lease: _Lease


class _Lease:
    """A shared lock on a generation folder, held until `release` or until the holder is collected:
    a writer does not delete a generation someone holds."""

    def __init__(self, generation: Path) -> None:
        self._fd: int | None = os.open(generation, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        self._finalizer = weakref.finalize(self, os.close, self._fd)

    def release(self) -> None:
        self._finalizer()


def _held(generation: Path) -> bool:
    """True when a reader holds `generation`; otherwise it is locked for good (it is about to be deleted)."""
    try:
        fd = os.open(generation, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


_JSON = json.JSONEncoder(ensure_ascii=False)  # json.dumps with options would build one per row


@dataclass(frozen=True)
class Block:
    """Rows of a previous generation's file copied as they are: `length` bytes at `offset` of `path`,
    whose sha256 must be `sha256` (a file changed since it was written is refused, not copied)."""

    path: Path
    offset: int
    length: int
    sha256: str

    def read(self) -> bytes:
        return _read_run([self])


def encode_line(row: Any) -> bytes:
    """One JSONL line, as `_write_jsonl` writes a row."""
    return (_JSON.encode(row) + "\n").encode("utf-8")


def encode_rows(cls: type, objects: Iterable[Any]) -> bytes:
    """Dataclass objects (or (parent, child) pairs for cls=tuple) as JSONL bytes, exactly as written."""
    rows = ({"parent": a, "child": b} for a, b in objects) if cls is tuple else _as_rows(cls, objects)
    return "".join(_JSON.encode(r) + "\n" for r in rows).encode("utf-8")


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str | bytes | Block]) -> None:
    """One JSON object a line; a str row is a line encoded already, bytes or a `Block` are whole lines
    (blocks that follow each other in one file are read at once)."""
    run: list[Block] = []

    def copy(f: io.BufferedWriter) -> None:
        if run:
            f.write(_read_run(run))
            run.clear()

    with path.open("wb") as f:
        for row in rows:
            if isinstance(row, Block):
                if run and (run[-1].path != row.path or run[-1].offset + run[-1].length != row.offset
                            or row.offset - run[0].offset > _RUN_BYTES):
                    copy(f)
                run.append(row)
                continue
            copy(f)
            if isinstance(row, bytes):
                f.write(row)
            else:
                f.write((row if isinstance(row, str) else _JSON.encode(row)).encode("utf-8"))
                f.write(b"\n")
        copy(f)
        f.flush()
        os.fsync(f.fileno())


_RUN_BYTES = 16 << 20  # blocks read at once up to this many bytes


def _read_run(run: list[Block]) -> bytes:
    """Consecutive blocks of one file read in one go, each checked against its sha256 (StaleRows if not)."""
    first = run[0]
    total = run[-1].offset + run[-1].length - first.offset
    try:
        with open_regular(first.path, first.path.parent.parent) as f:
            data = os.pread(f.fileno(), total, first.offset)
    except (OSError, FileRefused) as e:
        raise StaleRows(f"{first.path.name}: {e}") from None
    view = memoryview(data)
    for b in run:
        part = view[b.offset - first.offset:b.offset - first.offset + b.length]
        if len(part) != b.length or hashlib.sha256(part).hexdigest() != b.sha256:
            raise StaleRows(f"{b.path.name} at byte {b.offset} is not as written")
    return data


def _as_rows(cls: type, objects: Iterable[Any]) -> Iterator[Any]:
    """`asdict` for flat dataclasses of strings, numbers and lists of strings, without its deep copies;
    rows encoded already (str, bytes, `Block`) pass as they are."""
    names = [f.name for f in fields(cls)]
    for obj in objects:
        yield obj if isinstance(obj, (str, bytes, Block)) else {n: getattr(obj, n) for n in names}


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

    def __init__(self, path: Path, root: Path, cache: int = 4096, sidecar: Sidecar | None = None) -> None:
        self._file = open_regular(path, root)
        self._name, self._root = path.name, root
        self._checked = sidecar is None  # rows checked at open; with a sidecar, each row when it is read
        if sidecar is not None:
            self.ids = sidecar.ids
            self.doc_ids = sidecar.doc_ids
            self.doc_titles = dict(zip(sidecar.doc_ids, sidecar.doc_titles))
            self._doc_of, self._offsets = array("i"), array("q")
            self._doc_of.frombytes(sidecar.arrays["doc_of"].astype("i", copy=False).tobytes())
            self._offsets.frombytes(sidecar.arrays["offsets"].astype("q", copy=False).tobytes())
            self._fd = self._file.fileno()
            self._get = lru_cache(maxsize=cache)(self._read)
            return
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
        raw = os.pread(self._fd, self._offsets[i + 1] - start, start)
        if self._checked:
            return Passage(**json.loads(raw))
        where = f"{self._name} row {i + 1}"
        try:
            p = _check_row(Passage, json.loads(raw), where)
        except (ValueError, RecursionError) as e:  # _Damaged, not JSON, not UTF-8
            raise _damaged(self._root, e if isinstance(e, _Damaged) else f"{where}: not JSON") from None
        if p.id != self.ids[i] or p.doc_id != self.doc_id(i):
            raise _damaged(self._root, f"{where} is not the passage the sidecar says")
        return p

    def doc_id(self, i: int) -> str:
        """The document of passage `i`, without reading its row."""
        return self.doc_ids[self._doc_of[i]]

    def doc_positions(self) -> Sequence[int]:
        """Each passage's document as its position in `doc_ids`."""
        return self._doc_of

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
    *,
    bm25: Callable[[Path], None] | None = None,
    state: dict[str, Any] | None = None,
    done_reading: Callable[[], None] | None = None,
) -> Path:
    """Write a new generation and make it current. Returns the generation folder.

    `bm25(folder)` writes the BM25 index (default: built from `passages`); `state`: file name ->
    a JSON value, or an iterator of rows for a .jsonl name, written under state/ for the next re-index.
    `done_reading()` is called once the new generation is current, before old ones are deleted (the
    caller lets go of the generation it read from, so that it can go too)."""
    folder = folder.resolve()
    check_index_folder(folder)
    with index_lock(folder):
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        tmp = folder / f".{name}.tmp"
        tmp.mkdir()
        try:
            _write_jsonl(tmp / "passages.jsonl", _as_rows(Passage, passages))
            _write_jsonl(tmp / "references.jsonl", _as_rows(Reference, references))
            _write_jsonl(tmp / "mentions.jsonl", _as_rows(Mention, mentions))
            _write_jsonl(tmp / "containment.jsonl", (
                c if isinstance(c, (bytes, Block)) else {"parent": c[0], "child": c[1]} for c in containment))
            write_sidecar(tmp)
            if bm25 is None:
                build_bm25(passages, tmp / "bm25", progress=progress)
            else:
                bm25(tmp / "bm25")
            if state:
                _write_state(tmp / "state", state)
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
        if done_reading:
            done_reading()
        for old in folder.iterdir():
            if old.is_dir() and old.name != name and (old.name.startswith("gen-") or old.name.endswith(".tmp")):
                if not _held(old):  # a server still reading it keeps it until a later re-index
                    shutil.rmtree(old, ignore_errors=True)
        return gen


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    folder.mkdir()
    for name, value in state.items():
        if name.endswith(".jsonl"):
            _write_jsonl(folder / name, value)
        else:
            (folder / name).write_text(json.dumps(value), encoding="utf-8")


def read_state(generation: Path, name: str, raw: bool = False) -> Any:
    """A state file of `generation` (JSON value, or a list of rows for .jsonl, as text lines with `raw`);
    None if absent or unreadable."""
    path = generation / "state" / name
    try:
        if raw:
            with _open_text(path, generation) as f:
                return [line.rstrip("\n") for line in f if line.strip()]
        if name.endswith(".jsonl"):
            return list(_read_jsonl(path, generation))
        with _open_text(path, generation) as f:
            return json.loads(f.read())
    except (OSError, ValueError, _Damaged):
        return None


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


@contextmanager
def _reading(folder: Path) -> Iterator[None]:
    """Damage of any kind while reading a generation -> IndexNotFound with one line."""
    try:
        yield
    except _Damaged as exc:
        raise _damaged(folder, str(exc)) from exc
    except (OSError, ValueError, RecursionError) as exc:  # unreadable, not UTF-8, not JSON, tantivy's own errors
        raise _damaged(folder, f"{type(exc).__name__}: {exc}") from exc


def _open_generation(folder: Path) -> tuple[Path, _Lease, dict[str, Any]]:
    """The current generation, held (`_Lease`), checked, and its meta."""
    gen = current_generation(folder)
    with _reading(folder):
        lease = _Lease(gen)
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
    return gen, lease, meta


def open_generation(folder: Path) -> tuple[Path, _Lease, dict[str, Any]]:
    """The current generation of `folder`, held (its lease), checked, and its meta; IndexNotFound if none."""
    return _open_generation(Path(folder).resolve())


def rows_at(cls: type, path: Path, offset: int, length: int) -> list[Any]:
    """The rows of `path` (a file of a generation) in bytes offset..offset+length, as `cls`, each checked as
    `load_rows` checks them; StaleRows if they are not rows of that kind."""
    try:
        with open_regular(path, path.parent.parent) as f:
            data = os.pread(f.fileno(), length, offset)
        if len(data) != length:
            raise _Damaged(f"{path.name} is shorter than its state says")
        return [_check_row(cls, json.loads(line), f"{path.name} row at byte {offset}+{n}")
                for n, line in enumerate(data.decode("utf-8").splitlines(), start=1) if line.strip()]
    except (OSError, FileRefused, ValueError, RecursionError) as e:  # _Damaged, JSON and UTF-8 errors are ValueErrors
        raise StaleRows(f"{path.name} at byte {offset}: {type(e).__name__}") from None


def load_rows(folder: Path, table: bool = False) -> StoredRows:
    """The current generation's passages, references and containment; IndexNotFound if none or damaged.
    `table`: passages as a PassageTable (rows read from disk on access: what a server holds) instead of
    a list (what an incremental re-index compares)."""
    folder = Path(folder).resolve()
    gen, lease, meta = _open_generation(folder)
    with _reading(folder):
        passages = PassageTable(gen / "passages.jsonl", folder) if table else list(_rows(Passage, gen / "passages.jsonl", folder))
        references = list(_rows(Reference, gen / "references.jsonl", folder))
        containment = [(c.parent, c.child) for c in _rows(_Contained, gen / "containment.jsonl", folder)]
    return StoredRows(gen, meta, passages, references, containment, lease)


def load_index(folder: Path) -> StoredIndex:
    """The live generation of the index in `folder`; IndexNotFound (one line) if none or damaged."""
    folder = Path(folder).resolve()
    with _no_gc():
        gen, lease, meta = _open_generation(folder)
        with _reading(folder):
            try:
                sidecar = read_sidecar(gen, folder)
            except SidecarDamaged:  # not the files beside it: read them as an index without one (checks every row)
                sidecar = None
            if sidecar is not None:
                return _load_with_sidecar(folder, gen, lease, meta, sidecar)
        lease.release()
        return _load_rows_index(folder)


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic collector off while millions of dicts are made (each collection would walk all of them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_with_sidecar(folder: Path, gen: Path, lease: _Lease, meta: dict[str, Any], sidecar: Sidecar) -> StoredIndex:
    """Open a generation from its sidecar: no row read until it is asked for."""
    table = PassageTable(gen / "passages.jsonl", folder, sidecar=sidecar)
    by_id = {pid: i for i, pid in enumerate(table.ids)}
    bm25 = BM25Index(gen / "bm25", by_id)
    a, node = sidecar.arrays, sidecar.node
    ids = sidecar.ids
    doc_of = [sidecar.doc_ids[d] for d in a["doc_of"].tolist()]
    texts, terms = sidecar.ref_texts, sidecar.mention_terms
    g = graph_from(
        ids, doc_of, dict(zip(sidecar.doc_ids, sidecar.doc_titles)),
        ((ids[p], ids[c]) for p, c in a["cont"].tolist()),
        ((node(s), node(t), texts[k]) for s, t, k in a["ref_edges"].tolist()),
        ((node(s), node(t), terms[k]) for s, t, k in a["men_edges"].tolist()),
    )
    links = _LinkTable(gen, folder, sidecar, by_id)
    return StoredIndex(
        folder=folder, generation=gen, meta=meta, passages=table,
        references=_Later(lambda: list(_rows(Reference, gen / "references.jsonl", folder))),
        mentions=_Later(lambda: list(_rows(Mention, gen / "mentions.jsonl", folder))),
        graph=g, bm25=bm25, by_id=by_id, lease=lease, links_of=links.of,
    )


def _load_rows_index(folder: Path) -> StoredIndex:
    """Open a generation written before sidecars: every row read and checked."""
    rows = load_rows(folder, table=True)
    table = rows.passages
    assert isinstance(table, PassageTable)
    with _reading(folder):
        mentions = list(_rows(Mention, rows.generation / "mentions.jsonl", folder))
        by_id = {pid: i for i, pid in enumerate(table.ids)}
        bm25 = BM25Index(rows.generation / "bm25", by_id)
    nodes = [_Node(pid, table.doc_id(i), table.doc_titles[table.doc_id(i)]) for i, pid in enumerate(table.ids)]
    g = build_graph(nodes, rows.references, rows.containment, mentions)
    return StoredIndex(
        folder=folder, generation=rows.generation, meta=rows.meta, passages=rows.passages,
        references=rows.references, mentions=mentions, graph=g, bm25=bm25, by_id=by_id, lease=rows.lease,
    )
