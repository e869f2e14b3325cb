"""What the previous generation of an index lends to the next `readtrail index`: unchanged files, and
for the documents a change cannot reach, the link stage's results (`graph.linking`), without reading
them back.

A generation's state (gen-*/state/) holds one line per document (`DocState`, state/docs.jsonl): its
passages without their text (`Hollow`: what the resolver and the mention names need), its abbreviation
definitions, glossary entries and the mention names its passages contain; the manifest says where its
rows lie (byte range and sha256) in passages.jsonl, references.jsonl, containment.jsonl,
state/citations.jsonl and state/docs.jsonl, and how many documents write each lowercase word.  An
unchanged file's documents come back as hollow passages; a new generation copies their rows' bytes
(checked against the sha256) instead of decoding and encoding them, and reads a document's rows only
when its references must be resolved again without stored citations, its title changed, or the whole
corpus must be scanned again (another set of mention names, a BM25 rebuild).

A file is taken as unchanged without reading it when its size, mtime, ctime and inode are those
recorded and it was last changed over a second before the previous index looked at it (a file
written while it was being indexed is read again); otherwise by its content hash.

Nothing is lent when the index was built with other options (sources, --site-root, limits), by
another index format, or by another version of the write side (a hash of the `graph` package's
code, so that a new parser or chunking rule re-reads everything); then the build is a full one and
says why.  The state is plain JSON, written by every build; a state that does not read back as
written is a reason for a full build, never an error.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.ingest import MAX_CHARS, FileRecord
from graph.model import Passage
from graph.store import FORMAT_VERSION, Block, IndexNotFound, open_generation, read_state, rows_at

__all__ = ["DocState", "Hollow", "Previous", "build_options", "load_previous", "manifest", "RACY_NS"]

_CODE = Path(__file__).resolve().parent
RACY_NS = 1_000_000_000  # a file changed this close to the previous scan is read again whatever its stat says


def _code_version() -> str:
    h = hashlib.sha256()
    for path in sorted(_CODE.rglob("*.py")):
        h.update(path.relative_to(_CODE).as_posix().encode("utf-8") + b"\0" + path.read_bytes())
    return h.hexdigest()


def build_options(sources: list[Path], site_root: str | None, max_file_bytes: int, parse_seconds: float) -> str:
    """A digest of everything besides the files that shapes an index: when it differs, nothing is reused."""
    options = {
        "format": FORMAT_VERSION, "max_chars": MAX_CHARS, "code": _code_version(),
        "sources": [str(Path(s).resolve()) for s in sources], "site_root": site_root,
        "max_file_bytes": max_file_bytes, "parse_seconds": parse_seconds,
    }
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode("utf-8")).hexdigest()


class Hollow(Passage):
    """A passage of an unchanged document as the previous generation left it, without its text: what the
    resolver and the mention names read (`DocState.skeleton`).  Its rows are copied, never encoded."""


@dataclass
class DocState:
    """One document of a generation, for the next re-index: a line of state/docs.jsonl (copied as it is while
    the document and the mention names stay the same) and where its rows lie (the manifest's `ranges`)."""

    doc: str
    title: str  # as stored (after titles were told apart)
    source: str
    passages: list[Any]  # [offset, length, sha256] of its rows in passages.jsonl (sha256: also "is it the same")
    references: list[Any]  # [offset, length, sha256, count, resolved] in references.jsonl
    containment: list[Any]  # [offset, length, sha256] in containment.jsonl
    citations: list[Any]  # [offset, length, sha256] of its line in state/citations.jsonl (length 0: it cites nothing)
    line: list[Any]  # [offset, length, sha256] of its line in state/docs.jsonl
    skeleton: list[list[Any]]  # per passage: [id, ord, label, heading_path, anchors]
    defs: list[list[str]]  # ReferenceResolver.defs_by_doc
    glossary: list[list[str]]  # [term, passage id] (graph.mentions.glossary_terms)
    hits: dict[str, list[str]]  # passage id -> keys of the mention names it contains (graph.mentions.scan)

    def hollow(self, title: str, source: str) -> list[Passage]:
        """Its passages without their text, under `title` and `source` (as parsed)."""
        return [Hollow(i, self.doc, title, o, "", lb, h, a, source) for i, o, lb, h, a in self.skeleton]


def skeleton(passages: list[Passage]) -> list[list[Any]]:
    return [[p.id, p.ord, p.label, p.heading_path, p.anchors] for p in passages]


@dataclass
class Previous:
    """The previous generation, held (its lease) until the new one is written."""

    generation: Path
    lease: Any
    files: dict[str, FileRecord]
    scanned_ns: int  # when the previous build looked at the files
    resolver: str  # ReferenceResolver.fingerprint()
    consulted: dict[str, list[str]]  # doc id -> documents its references' resolution looked at
    terms: str  # mentions.terms_fingerprint()
    stale: int  # passages deleted from the BM25 index that its statistics still count
    docs: dict[str, DocState]
    word_docs: dict[str, int]  # lowercase word -> how many documents write it (graph.mentions.lower_words)
    _paths: dict[str, Path] = field(default_factory=dict)
    _read: dict[str, list[Passage]] = field(default_factory=dict)

    def reuse(self, path: str, sha256: str) -> tuple[list[Passage], list[str], dict[str, str], str | None] | None:
        """The passages (hollow: without text; titles and paths as parsed), notes, documents' digests and line table
        of an unchanged file; None when it is new, changed, or had ids renamed."""
        rec = self.files.get(path)
        if rec is None or rec.sha256 != sha256 or rec.renamed:
            return None
        out: list[Passage] = []
        for doc_id, title, source, *_ in rec.docs:
            if doc_id not in self.docs:
                return None
            out.extend(self.docs[doc_id].hollow(title, source))
        return out, list(rec.notes), {d[0]: d[3] for d in rec.docs if len(d) > 3}, rec.lines

    def reuse_docs(self, path: str) -> tuple[dict[str, list[Passage]], str | None]:
        """(digest -> the passages (hollow) of each document the previous index has of `path`, the file's line table
        then) (graph.ingest)."""
        rec = self.files.get(path)
        if rec is None or rec.renamed:
            return {}, None
        return ({d[3]: self.docs[d[0]].hollow(d[1], d[2]) for d in rec.docs if len(d) > 3 and d[3] and d[0] in self.docs},
                rec.lines)

    def known_sha(self, path: str, st: os.stat_result) -> str | None:
        """The content hash recorded for `path` when its stat says it has not been written since; else None."""
        rec = self.files.get(path)
        if rec is None or rec.size != st.st_size or rec.mtime_ns != st.st_mtime_ns or rec.ctime_ns != st.st_ctime_ns:
            return None
        if rec.inode != st.st_ino or max(st.st_mtime_ns, st.st_ctime_ns) >= self.scanned_ns - RACY_NS:
            return None
        return rec.sha256

    def block(self, name: str, ref: list[Any]) -> Block:
        """The stored rows at `ref` ([offset, length, sha256, ...]) of generation file `name`, to copy."""
        path = self._paths.get(name)
        if path is None:
            path = self._paths[name] = self.generation / name
        return Block(path, int(ref[0]), int(ref[1]), str(ref[2]))

    def passages_of(self, doc: str) -> list[Passage]:
        """A document's passages read back from passages.jsonl (checked as a reader checks them), once."""
        if doc not in self._read:
            ref = self.docs[doc].passages
            self._read[doc] = rows_at(Passage, self.generation / "passages.jsonl", int(ref[0]), int(ref[1]))
        return self._read[doc]

    def release(self) -> None:
        self.lease.release()


def load_previous(folder: Path, options: str) -> tuple[Previous | None, str]:
    """(what the current generation of `folder` lends, or None; why a full build is needed, or "")."""
    if not (Path(folder) / "CURRENT").exists():
        return None, "no index yet"
    try:
        generation, lease, _meta = open_generation(folder)
    except IndexNotFound:
        return None, "the index could not be read"
    manifest = read_state(generation, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("options") != options:
        lease.release()
        why = "no incremental state" if not isinstance(manifest, dict) else "other sources, options or readtrail version"
        return None, why
    try:
        docs = read_state(generation, "docs.jsonl")
        if docs is None:
            raise ValueError("state file missing")
        ranges = manifest["ranges"]
        states = [DocState(**d, **ranges[d["doc"]]) for d in docs]
        return Previous(
            generation=generation, lease=lease, files={r["path"]: FileRecord(**r) for r in manifest["files"]},
            scanned_ns=int(manifest["scanned_ns"]), resolver=str(manifest["resolver"]),
            consulted=dict(manifest["consulted"]), terms=str(manifest["terms"]), stale=int(manifest["stale"]),
            docs={d.doc: d for d in states}, word_docs={str(k): int(v) for k, v in manifest["word_docs"].items()},
        ), ""
    except (KeyError, TypeError, ValueError, AttributeError):
        lease.release()
        return None, "incremental state unreadable"


def manifest(options: str, files: list[FileRecord], scanned_ns: int, resolver: str, consulted: dict[str, list[str]],
             terms: str, stale: int, word_docs: dict[str, int], ranges: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """The state a build leaves for the next one (read back by `load_previous`)."""
    return {"options": options, "files": [dict(vars(f)) for f in files], "scanned_ns": scanned_ns, "resolver": resolver,
            "consulted": consulted, "terms": terms, "stale": stale, "word_docs": word_docs, "ranges": ranges}
