"""What the previous generation of an index lends to the next `readtrail index`: unchanged files'
passages, and the link stage's results for the documents a change cannot reach (`graph.linking`).

Nothing is lent when the index was built with other options (sources, --site-root, limits), by
another index format, or by another version of the write side (a hash of the `graph` package's
code, so that a new parser or chunking rule re-reads everything); then the build is a full one and
says why.  The state is plain JSON under gen-*/state/, written by every build; a state that does
not read back as written is a reason for a full build, never an error.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from graph.ingest import MAX_CHARS, FileRecord
from graph.model import Passage, Reference
from graph.store import FORMAT_VERSION, IndexNotFound, StoredRows, load_rows, read_state

__all__ = ["Previous", "build_options", "load_previous", "manifest"]

_CODE = Path(__file__).resolve().parent
# a line of citations.jsonl starts with its document's id (ids are [A-Za-z0-9._-]): decoded only when needed
_CITATION_LINE = re.compile(r'^\{"doc": "([A-Za-z0-9._-]+)", ')


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


@dataclass
class Previous:
    """The previous generation, held (its lease) until the new one is written."""

    rows: StoredRows
    files: dict[str, FileRecord]
    resolver: str  # ReferenceResolver.fingerprint()
    consulted: dict[str, list[str]]  # doc id -> documents its references' resolution looked at
    terms: str  # mentions.terms_fingerprint()
    hits: dict[str, list[str]]  # passage id -> keys of the terms it names (graph.mentions.scan)
    vocab: dict[str, list[str]]  # doc id -> its lowercase words (graph.mentions.lower_words)
    glossary: dict[str, list[list[str]]]  # doc id -> [term, passage id] (graph.mentions.glossary_terms)
    stale: int  # passages deleted from the BM25 index that its statistics still count
    citations: dict[str, str]  # doc id -> its passages' citations, a JSON line as stored (`citation_line`)
    by_doc: dict[str, list[Passage]] = field(default_factory=dict)
    references: dict[str, list[Reference]] = field(default_factory=dict)  # by the citing passage's document
    containment: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # by the child's document

    def __post_init__(self) -> None:
        doc_of: dict[str, str] = {}
        for p in self.rows.passages:
            self.by_doc.setdefault(p.doc_id, []).append(p)
            doc_of[p.id] = p.doc_id
        refs: dict[str, list[Reference]] = defaultdict(list)
        for r in self.rows.references:
            refs[doc_of.get(r.src, "")].append(r)
        self.references = dict(refs)
        edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for parent, child in self.rows.containment:
            edges[doc_of.get(child, "")].append((parent, child))
        self.containment = dict(edges)

    @property
    def generation(self) -> Path:
        return self.rows.generation

    def reuse(self, path: str, sha256: str) -> tuple[list[Passage], list[str]] | None:
        """The passages (as chunked, before titles were told apart and paths rebased) and notes of an
        unchanged file; None when it is new, changed, or had ids renamed."""
        rec = self.files.get(path)
        if rec is None or rec.sha256 != sha256 or rec.renamed:
            return None
        out: list[Passage] = []
        for doc_id, title, source in rec.docs:
            if doc_id not in self.by_doc:
                return None
            out.extend(replace(p, doc_title=title, source=source) for p in self.by_doc[doc_id])
        return out, list(rec.notes)

    def release(self) -> None:
        self.rows.lease.release()


def load_previous(folder: Path, options: str) -> tuple[Previous | None, str]:
    """(what the current generation of `folder` lends, or None; why a full build is needed, or "")."""
    if not (Path(folder) / "CURRENT").exists():
        return None, "no index yet"
    try:
        rows = load_rows(folder)
    except IndexNotFound:
        return None, "the index could not be read"
    manifest = read_state(rows.generation, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("options") != options:
        rows.lease.release()
        why = "no incremental state" if not isinstance(manifest, dict) else "other sources, options or readtrail version"
        return None, why
    try:
        hits = read_state(rows.generation, "mention_hits.jsonl") or []
        vocab = read_state(rows.generation, "vocab.jsonl") or []
        citations = read_state(rows.generation, "citations.jsonl", raw=True) or []
        return Previous(
            rows=rows, files={r["path"]: FileRecord(**r) for r in manifest["files"]},
            resolver=str(manifest["resolver"]), consulted=dict(manifest["consulted"]), terms=str(manifest["terms"]),
            hits={h["id"]: list(h["terms"]) for h in hits}, vocab={v["doc"]: list(v["words"]) for v in vocab},
            glossary={v["doc"]: [[str(t), str(pid)] for t, pid in v["glossary"]] for v in vocab},
            stale=int(manifest["stale"]), citations={m.group(1): line for line in citations if (m := _CITATION_LINE.match(line))},
        ), ""
    except (KeyError, TypeError, ValueError, AttributeError):
        rows.lease.release()
        return None, "incremental state unreadable"


def manifest(options: str, files: list[FileRecord], resolver: str, consulted: dict[str, list[str]], terms: str,
             stale: int) -> dict[str, Any]:
    """The state a build leaves for the next one (read back by `load_previous`)."""
    return {"options": options, "files": [asdict(f) for f in files], "resolver": resolver, "consulted": consulted,
            "terms": terms, "stale": stale}
