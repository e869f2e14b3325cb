"""Files and folders -> passages, with one line per file that could not be (fully) read.

Folders are walked recursively in sorted order; hidden files and folders are skipped;
files are dispatched by extension (`graph.parsers.PARSERS`).  A file with another
extension is reported when it was named explicitly and counted in `files_ignored`
otherwise.  A symlink that resolves outside the folder being walked is never followed
(and is reported).  Binary, empty, oversized and unparseable files get one
`IngestError` each and everything else is still indexed; files with invalid UTF-8 are
indexed with replacement characters and one warning line.  Ids repeated across files
(two files mapping to one doc id, JSONL `_id`s repeated in another file) are
renamed (`-2` on the doc id, `~dup2` on a passage id) and reported.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graph.chunking import chunk
from graph.ids import doc_id_for
from graph.model import ParsedDocument, Passage
from graph.parsers import BINARY_FORMATS, PARSERS, parser_for

__all__ = ["IngestError", "IngestResult", "ingest", "MAX_CHARS"]

MAX_CHARS = 1500
_SNIFF = 8192


@dataclass
class IngestError:
    path: str
    reason: str  # one line: what is wrong (or, for a file still indexed, what was done about it)


@dataclass
class IngestResult:
    passages: list[Passage]
    errors: list[IngestError]
    files_seen: int  # files with a known extension (or named explicitly) that were looked at
    files_ignored: int = 0  # files in walked folders whose extension no parser reads
    documents: int = 0


@dataclass
class _Candidate:
    path: Path  # as walked (under the source given)
    root: Path  # the source folder (a file given on its own: its folder)
    explicit: bool


@dataclass
class _Walk:
    files: list[_Candidate] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    ignored: int = 0


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def _walk_folder(root: Path, out: _Walk, files_seen: set[Path]) -> None:
    real_root = root.resolve()
    folders_seen: set[Path] = {real_root}

    def walk(folder: Path) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            out.errors.append(IngestError(str(folder), f"cannot list folder: {_one_line(e.strerror or e)}"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    out.errors.append(IngestError(str(path), "broken symlink: skipped"))
                    continue
                if not target.is_relative_to(real_root):
                    out.errors.append(IngestError(str(path), f"symlink points outside {root} (to {target}): not followed"))
                    continue
            else:
                target = path.resolve()
            if target.is_dir():
                if target not in folders_seen:  # not a loop nor a folder walked already
                    folders_seen.add(target)
                    walk(path)
                continue
            if not target.is_file():
                continue  # sockets, fifos, devices
            if parser_for(path) is None:
                out.ignored += 1
            elif entry.is_symlink():
                linked.append((path, target))  # after the real files: they keep their names
            elif target not in files_seen:
                files_seen.add(target)
                out.files.append(_Candidate(path, root, explicit=False))

    linked: list[tuple[Path, Path]] = []
    walk(root)
    for path, target in linked:
        if target not in files_seen:  # a link to a file already taken is not read twice
            files_seen.add(target)
            out.files.append(_Candidate(path, root, explicit=False))


def _collect(sources: Sequence[Path]) -> _Walk:
    out = _Walk()
    files_seen: set[Path] = set()
    for src in sources:
        src = Path(src)
        if src.is_dir():
            _walk_folder(src, out, files_seen)
        elif src.is_file():
            if parser_for(src) is None:
                known = ", ".join(sorted(PARSERS))
                out.errors.append(IngestError(str(src), f"unsupported file type {src.suffix or '(none)'!r}: skipped (read: {known})"))
            elif src.resolve() not in files_seen:
                files_seen.add(src.resolve())
                out.files.append(_Candidate(src, src.parent, explicit=True))
        elif src.is_symlink():
            out.errors.append(IngestError(str(src), "broken symlink: skipped"))
        elif src.exists():
            out.errors.append(IngestError(str(src), "not a regular file or folder: skipped"))
        else:
            out.errors.append(IngestError(str(src), "no such file or folder"))
    return out


def _read(c: _Candidate, max_file_bytes: int, errors: list[IngestError]) -> bytes | None:
    """The file's bytes, or None with the reason in `errors`."""
    name = str(c.path)
    try:
        size = c.path.stat().st_size
        if size > max_file_bytes:
            errors.append(IngestError(name, f"file is {_mb(size)}, over the {_mb(max_file_bytes)} limit: skipped"))
            return None
        if size == 0:
            errors.append(IngestError(name, "empty file: skipped"))
            return None
        raw = c.path.read_bytes()
    except OSError as e:
        errors.append(IngestError(name, f"cannot read: {_one_line(e.strerror or e)}"))
        return None
    suffix = c.path.suffix.lower()
    if suffix in BINARY_FORMATS:
        return raw
    if b"\x00" in raw[:_SNIFF]:
        errors.append(IngestError(name, f"binary file (NUL bytes in the first 8 KB), not {suffix} text: skipped"))
        return None
    if not raw.strip():
        errors.append(IngestError(name, "empty file (only whitespace): skipped"))
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        share = _not_text_share(raw[:_SNIFF])
        if share > 0.25:  # random or compressed bytes without NULs, not a text in another encoding
            errors.append(IngestError(name, f"binary file ({share:.0%} of the first 8 KB is not text), not {suffix} text: skipped"))
            return None
        errors.append(IngestError(name, f"invalid UTF-8 at byte {e.start}: indexed with replacement characters"))
    return raw


def _not_text_share(sample: bytes) -> float:
    """Share of `sample` that is undecodable or control characters (tab, newlines, form feed aside)."""
    text = sample.decode("utf-8", errors="replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f"))
    return bad / max(1, len(text))


def ingest(
    sources: Sequence[Path],
    progress: Callable[[int, int, str], None] | None = None,
    max_file_bytes: int = 200_000_000,
) -> IngestResult:
    """Parse and chunk every supported file under `sources` (files or folders).

    `progress(done, total, path)` is called after each file.  Never raises for a bad
    file: its problem is in `errors`, one line.
    """
    walked = _collect(sources)
    errors = walked.errors
    passages: list[Passage] = []
    doc_ids: dict[str, str] = {}  # doc id -> the file that has it
    passage_seen: set[str] = set()
    documents = 0
    total = len(walked.files)
    for done, c in enumerate(walked.files, start=1):
        name = str(c.path)
        raw = _read(c, max_file_bytes, errors)
        if raw is not None:
            docs = _parse(c, raw, errors)
            del raw
            for doc in docs:
                _unique_doc_id(doc, name, doc_ids, errors)
                try:
                    new = chunk(doc, MAX_CHARS)
                except Exception as e:  # a bug, not the file's fault; keep going
                    errors.append(IngestError(name, f"could not chunk {doc.doc_id}: {type(e).__name__}: {_one_line(e)}"))
                    continue
                _unique_passage_ids(new, name, passage_seen, errors)
                passages.extend(new)
                documents += 1
        if progress:
            progress(done, total, name)
    return IngestResult(
        passages=passages, errors=errors, files_seen=total, files_ignored=walked.ignored, documents=documents,
    )


def _parse(c: _Candidate, raw: bytes, errors: list[IngestError]) -> list[ParsedDocument]:
    name = str(c.path)
    parse = parser_for(c.path)
    assert parse is not None
    try:
        rel = c.path.relative_to(c.root).as_posix()
    except ValueError:
        rel = c.path.name
    notes: list[str] = []
    try:
        docs = parse(Path(rel), raw, doc_id_for(c.path, c.root), warn=notes.append)
    except Exception as e:  # ParseError says why; anything else is reported the same way
        reason = _one_line(e) if type(e).__name__ == "ParseError" else f"{type(e).__name__}: {_one_line(e)}"
        errors.append(IngestError(name, f"could not parse: {reason}"))
        return []
    errors.extend(IngestError(name, _one_line(n)) for n in notes)
    if not any(d.sections for d in docs):
        errors.append(IngestError(name, "no text found: nothing indexed"))
    return docs


def _unique_doc_id(doc: ParsedDocument, name: str, doc_ids: dict[str, str], errors: list[IngestError]) -> None:
    if doc.doc_id not in doc_ids:
        doc_ids[doc.doc_id] = name
        return
    n = 2
    while f"{doc.doc_id}-{n}" in doc_ids:
        n += 1
    new = f"{doc.doc_id}-{n}"
    errors.append(IngestError(name, f"doc id {doc.doc_id!r} already used by {doc_ids[doc.doc_id]}: renamed {new!r}"))
    doc_ids[new] = name
    doc.doc_id = new


def _unique_passage_ids(new: list[Passage], name: str, seen: set[str], errors: list[IngestError]) -> None:
    renamed: list[str] = []
    for p in new:
        if p.id in seen:
            n = 2
            while f"{p.id}~dup{n}" in seen:
                n += 1
            renamed.append(p.id)
            p.id = f"{p.id}~dup{n}"
        seen.add(p.id)
    if renamed:
        shown = ", ".join(renamed[:5]) + (" ..." if len(renamed) > 5 else "")
        errors.append(IngestError(name, f"{len(renamed)} passage id(s) already used by another file, renamed with ~dupN: {shown}"))
