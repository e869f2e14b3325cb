"""Files and folders -> passages, with one line for every file not (fully) read.

Folders are walked recursively in sorted order; files are dispatched by extension
(`graph.parsers.PARSERS`), a `.gz` file by the extension inside (decompressed under the size limit), and a name
without an extension readtrail reads as plain text if its first 8 KB is UTF-8 text (`graph.parsers.reading_for`).
Every entry left out is reported with its reason: hidden ones (a hidden folder once, not its contents), other
extensions, FIFOs, sockets and devices, symlinks out of the folder, dangling or looping, links to a file or folder
read already (links are followed after the real files and folders, which keep their names: `cpp-12 -> gcc-12-base`
is skipped).
A file is opened without following links and must be, once open, a regular file inside
its folder (`graph.safe_open`), so a link swapped in after the walk is refused.  Each file
is parsed in a child process with a time limit (`graph.parse_worker`).  Binary, empty,
oversized, slow and unparseable files get one `IngestError` each and everything else is
still indexed; files with invalid UTF-8 are indexed with replacement characters and one
warning line.  Ids repeated across files (two files mapping to one doc id, JSONL `_id`s
repeated in another file) are renamed (`-2` on the doc id, `~dup2` on a passage id) and
reported.  Paths and reasons in reports are printable (`graph.printable`).  Routine notices (a type not
read, a name taken by a file of another extension, hidden entries) carry a `kind` so that a report can
group them (`graph.notices`).

Every file read is recorded (`FileRecord`: its content hash, its documents, its notes), so that a
re-index can take a file whose bytes have not changed from the previous index (`Reuse`) instead
of parsing it again; a file reused keeps its notes, a file whose ids were renamed is always parsed.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.chunking import chunk
from graph.ids import slug_doc_id
from graph.model import ParsedDocument, Passage
from graph.parse_worker import ParseFailed, ParseWorker, parse_budget
from graph.parsers import BINARY_FORMATS, PARSERS, Reading, reading_for, type_label
from graph.printable import printable
from graph.safe_open import FileRefused, file_kind, gunzip, read_regular

__all__ = [
    "HIDDEN", "NOT_TEXT", "RENAMED", "SAME_FILE", "UNREAD_TYPE",
    "FileRecord", "IngestError", "IngestResult", "Known", "Reuse", "ReuseDocs", "ingest", "MAX_CHARS", "MAX_FILE_BYTES", "PARSE_SECONDS",
]

MAX_CHARS = 1500
MAX_FILE_BYTES = 200_000_000
PARSE_SECONDS = 20.0  # per file of up to 10 MB (`parse_worker.parse_budget`)
_SNIFF = 8192

# kinds of routine notice (`IngestError.kind`); any other notice is a problem of its own file
UNREAD_TYPE = "type"  # a file type no parser reads (`key`: the type, ".json.gz")
RENAMED = "renamed"  # a doc id another file had already (same path, another extension): renamed
HIDDEN = "hidden"
SAME_FILE = "same file"  # a link to a file read or a folder walked already
NOT_TEXT = "not text"  # a file without an extension readtrail reads, whose first bytes are not UTF-8 text


def _one_line(text: object, limit: int = 300) -> str:
    line = printable(" ".join(str(text).split()))
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclass
class IngestError:
    """One file not (fully) read; both fields are printable as they are (escaped, one line)."""

    path: str
    reason: str  # one line: what is wrong (or, for a file still indexed, what was done about it)
    kind: str = ""  # a routine notice's kind (UNREAD_TYPE ...), "" for a problem of this file
    key: str = ""  # what such notices are counted by (UNREAD_TYPE: the type)

    def __post_init__(self) -> None:
        self.path = printable(str(self.path))
        self.reason = _one_line(self.reason)


@dataclass
class FileRecord:
    """What a file read gave: enough to take it again from the index if its bytes are the same."""

    path: str  # absolute, as walked
    sha256: str
    docs: list[list[str]]  # [doc id, title, source, digest] of each document, as parsed (before titles are told apart)
    notes: list[str]  # the reasons reported for this file, reported again when it is reused
    renamed: bool = False  # an id was renamed for a clash with another file: never reused
    size: int = -1  # the file's stat when it was read: a re-index trusts the hash while these stay the same
    mtime_ns: int = -1
    ctime_ns: int = -1
    inode: int = -1
    lines: str | None = None  # the parser's line table of the file (a JSONL file's; JSON text), for the next parse


# Reuse(path, sha256) -> the passages (as chunked), notes, documents' digests (doc id -> digest) and line table
# (`FileRecord.lines`) of that file from the previous index, or None
Reuse = Callable[[str, str], tuple[list[Passage], list[str], dict[str, str], str | None] | None]
# ReuseDocs(path) -> (digest -> passages of each document the previous index has of that file, the file's line
# table then): a changed file with several documents, a JSONL file, takes its unchanged ones from there
ReuseDocs = Callable[[str], tuple[dict[str, list[Passage]], str | None]]
# Known(path, stat) -> the content hash recorded for that file when its stat shows no write since, or None
Known = Callable[[str, os.stat_result], str | None]


@dataclass
class IngestResult:
    passages: list[Passage]
    errors: list[IngestError]
    files_seen: int  # files with a known extension (or named explicitly) that were looked at
    files_ignored: int = 0  # files in walked folders whose extension no parser reads (each also in errors)
    documents: int = 0
    files: list[FileRecord] = field(default_factory=list)
    reused: int = 0  # files taken from the previous index unparsed


@dataclass
class _Candidate:
    path: Path  # as walked (under the source given): names the document
    root: Path  # the source folder (a file given on its own: its folder)
    source: Path  # what is opened: `path`, or the file a link inside the folder resolves to
    real_root: Path  # `source` must lie inside it once opened
    reading: Reading  # how it is read: its parser, decompressed first, sniffed for text
    prefix: str = ""  # with several source folders: `root`'s path inside the folder they share ("valgrind")

    def relative(self) -> str:
        """The file's path inside the indexed folder: what names its document and what links resolve against."""
        try:
            rel = self.path.relative_to(self.root).as_posix()
        except ValueError:
            rel = self.path.name
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def read_as(self) -> str:
        """`relative()` as the file is read: `x.md` for `x.md.gz`, which names its document and picks its parser."""
        rel = self.relative()
        return rel[: len(rel) - len(self.path.name)] + self.reading.name


@dataclass
class _Walk:
    files: list[_Candidate] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    ignored: int = 0
    taken: dict[Path, Path] = field(default_factory=dict)  # resolved file -> the path it is read as

    def skip(self, path: Path, reason: str, kind: str = "", key: str = "") -> None:
        self.errors.append(IngestError(str(path), reason, kind, key))

    def take(self, target: Path, c: _Candidate) -> None:
        """Read `target` (resolved) once, as the first candidate that reaches it."""
        if target in self.taken:
            self.skip(c.path, f"the same file as {self.taken[target]}, read once: skipped", SAME_FILE)
            return
        self.taken[target] = c.path
        self.files.append(c)


READ = ", ".join(sorted(PARSERS)) + "; .gz of these; text without such an extension"  # what readtrail reads, in words


def _unsupported(out: _Walk, path: Path) -> None:
    label = type_label(path)
    out.skip(path, f"unsupported file type {label!r}: skipped (read: {READ})", UNREAD_TYPE, label)


def _walk_folder(root: Path, out: _Walk) -> None:
    real_root = root.resolve()
    folders_seen: set[Path] = {real_root}
    linked: list[tuple[Path, Path, Reading]] = []
    linked_folders: list[tuple[Path, Path]] = []

    def walk(folder: Path, real_folder: Path) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            out.skip(folder, f"cannot list folder: {e.strerror or e}")
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                out.skip(path, "hidden: skipped", HIDDEN)
                continue
            link = entry.is_symlink()
            try:
                if link:
                    target = path.resolve(strict=True)
                    mode = os.stat(target).st_mode
                else:  # inside a real folder: its real path without resolving every component again
                    target = real_folder / entry.name
                    mode = entry.stat(follow_symlinks=False).st_mode
            except (OSError, RuntimeError):
                out.skip(path, "broken symlink: skipped" if link else "vanished while the folder was listed: skipped")
                continue
            if link and not target.is_relative_to(real_root):
                out.skip(path, f"symlink points outside {root} (to {target}): not followed")
                continue
            kind = file_kind(mode)
            if kind == "folder":
                if link:
                    linked_folders.append((path, target))  # after the real folders: they keep their names
                else:
                    folder_once(path, target)
            elif kind != "file":
                out.skip(path, f"not a regular file ({kind}): skipped")
            elif (reading := reading_for(path)) is None:
                out.ignored += 1
                _unsupported(out, path)
            elif link:
                linked.append((path, target, reading))  # after the real files: they keep their names
            else:
                out.take(target, _Candidate(path, root, path, real_root, reading))

    def folder_once(path: Path, target: Path) -> None:
        if target in folders_seen:  # a loop, or a folder walked already
            out.skip(path, f"symlink to {target}, a folder walked already: skipped", SAME_FILE)
        else:
            folders_seen.add(target)
            walk(path, target)

    walk(root, real_root)
    while linked_folders:  # a folder walked through a link finds its real folders walked, and may add links
        folder_once(*linked_folders.pop(0))
    for path, target, reading in linked:
        out.take(target, _Candidate(path, root, target, real_root, reading))


def _collect(sources: Sequence[Path]) -> _Walk:
    out = _Walk()
    for src in sources:
        src = Path(src)
        if src.is_dir():
            _walk_folder(src, out)
        elif src.is_file():  # named on its own: a link is followed, as the user asked
            if (reading := reading_for(src)) is None:
                _unsupported(out, src)
            else:
                target = src.resolve()
                out.take(target, _Candidate(src, src.parent, target, target.parent, reading))
        elif src.is_symlink():
            out.skip(src, "broken symlink: skipped")
        elif src.exists():
            out.skip(src, f"not a regular file or folder ({file_kind(src.stat().st_mode)}): skipped")
        else:
            out.skip(src, "no such file or folder")
    _prefix(sources, out.files)
    return out


def _prefix(sources: Sequence[Path], files: list[_Candidate]) -> None:
    """With several source folders, name each file by its path inside the folder they share (in place), so that
    two `html/index.html` are `valgrind/html/index.html` and `libffi/html/index.html`, not a clash."""
    roots = {Path(s).resolve() if Path(s).is_dir() else Path(s).resolve().parent for s in sources}
    if len(roots) < 2:
        return
    common = Path(os.path.commonpath(list(roots)))
    prefixes: dict[Path, str] = {}
    for c in files:
        if c.root not in prefixes:
            rel = c.root.resolve().relative_to(common).as_posix()
            prefixes[c.root] = "" if rel == "." else rel
        c.prefix = prefixes[c.root]


def _read(c: _Candidate, max_file_bytes: int, errors: list[IngestError]) -> bytes | None:
    """The file's bytes, or None with the reason in `errors`."""
    name = str(c.path)
    try:
        raw = read_regular(c.source, c.real_root, max_file_bytes)
    except FileRefused as e:
        errors.append(IngestError(name, f"{e}: skipped"))
        return None
    except OSError as e:
        errors.append(IngestError(name, f"cannot read: {e.strerror or e}"))
        return None
    if c.reading.gzip:
        try:
            raw = gunzip(raw, max_file_bytes)
        except FileRefused as e:
            errors.append(IngestError(name, f"{e}: skipped"))
            return None
    if not raw:
        errors.append(IngestError(name, "empty file: skipped"))
        return None
    suffix = c.reading.kind
    if suffix in BINARY_FORMATS:
        return raw
    if c.reading.sniff and (why := _not_text(raw[:_SNIFF])):
        errors.append(IngestError(name, f"{why}: not read as text (no extension readtrail reads), skipped", NOT_TEXT))
        return None
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


def _not_text(sample: bytes) -> str:
    """Why the first bytes of a file without a known extension are not plain text, or ""."""
    if b"\x00" in sample:
        return "binary file (NUL bytes in the first 8 KB)"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as e:
        if not (len(sample) == _SNIFF and e.start >= _SNIFF - 3 and e.reason == "unexpected end of data"):  # a character cut
            return f"not UTF-8 text (byte {e.start})"
    share = _not_text_share(sample)
    return f"binary file ({share:.0%} of the first 8 KB is control characters)" if share > 0.05 else ""


def _not_text_share(sample: bytes) -> float:
    """Share of `sample` that is undecodable or control characters (tab, newlines, form feed aside)."""
    text = sample.decode("utf-8", errors="replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f"))
    return bad / max(1, len(text))


def ingest(
    sources: Sequence[Path],
    progress: Callable[[int, int, str], None] | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
    parse_seconds: float = PARSE_SECONDS,
    reuse: Reuse | None = None,
    known: Known | None = None,
    reuse_docs: ReuseDocs | None = None,
    on_passages: Callable[[list[Passage]], None] | None = None,
) -> IngestResult:
    """Parse and chunk every supported file under `sources` (files or folders).

    `progress(done, total, path)` is called after each file.  A file over `max_file_bytes`
    is not read; one whose parsing takes over `parse_seconds` (scaled up past 10 MB) is
    dropped.  Never raises for a bad file: its problem is in `errors`, one line.
    `reuse`: the previous index's passages of an unchanged file, taken instead of parsing it
    (unless one of its ids is now taken by a file before it: then it is parsed, and renamed).
    `known`: the hash of a file whose stat says it is unchanged; such a file is not read at all.
    `reuse_docs`: the previous index's documents of a changed file, taken for those parsed the same
    (`parse_worker.digest`) instead of being sent back by the parser and chunked.
    `on_passages(passages)`: each file's passages, as they will be in the result, once the file is read.
    """
    walked = _collect(sources)
    errors = walked.errors
    out = IngestResult(passages=[], errors=errors, files_seen=len(walked.files), files_ignored=walked.ignored)
    doc_ids: dict[str, str] = {}  # doc id -> the file that has it
    passage_seen: set[str] = set()
    with ParseWorker() as worker:
        for done, c in enumerate(walked.files, start=1):
            name = str(c.path)
            st = _stat(c.source)
            path = os.path.abspath(c.path)
            sha = known(path, st) if known and st else None
            taken = reuse(path, sha) if reuse and sha else None
            first_error = len(errors)  # what reading says (invalid UTF-8) is a note of the file's too
            raw = None if taken else _read(c, max_file_bytes, errors)
            if taken or raw is not None:
                if raw is not None:
                    sha = hashlib.sha256(raw).hexdigest()
                    taken = reuse(path, sha) if reuse else None
                record = FileRecord(path, str(sha), [], [])
                if st:
                    record.size, record.mtime_ns, record.ctime_ns, record.inode = (
                        st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                if taken and not _free(taken[0], doc_ids, passage_seen):
                    taken = None  # parsed after all (and renamed): its bytes are needed
                    if raw is None:
                        raw = _read(c, max_file_bytes, errors)
                if taken:
                    del errors[first_error:]  # read to be hashed: its notes, recorded when it was parsed, say it again
                    new, notes, digests, record.lines = taken
                    errors.extend(IngestError(name, n) for n in notes)
                    out.reused += 1
                elif raw is None:  # could not be read after all: reported, not recorded
                    if progress:
                        progress(done, out.files_seen, name)
                    continue
                else:
                    lend, lines = reuse_docs(path) if reuse_docs else ({}, None)
                    new, digests = _parse_and_chunk(worker, c, raw, parse_seconds, errors, doc_ids, passage_seen, record, lend,
                                                    lines)
                del raw
                for p in new:
                    if not record.docs or record.docs[-1][0] != p.doc_id:
                        record.docs.append([p.doc_id, p.doc_title, p.source, digests.get(p.doc_id, "")])
                    doc_ids.setdefault(p.doc_id, name)
                    passage_seen.add(p.id)
                record.notes = [e.reason for e in errors[first_error:]]
                out.files.append(record)
                out.passages.extend(new)
                if on_passages and new:
                    on_passages(new)
                out.documents += len(record.docs)
            if progress:
                progress(done, out.files_seen, name)
    return out


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _free(passages: list[Passage], doc_ids: dict[str, str], passage_seen: set[str]) -> bool:
    """None of these passages' ids is taken yet (else the file is parsed again, and renamed as before)."""
    return not any(p.doc_id in doc_ids or p.id in passage_seen for p in passages)


def _parse_and_chunk(
    worker: ParseWorker, c: _Candidate, raw: bytes, seconds: float, errors: list[IngestError],
    doc_ids: dict[str, str], passage_seen: set[str], record: FileRecord, lend: dict[str, list[Passage]] | None = None,
    lines: str | None = None,
) -> tuple[list[Passage], dict[str, str]]:
    """(the file's passages, doc id -> digest of each of its documents as parsed); `lines`: the file's previous line
    table (`FileRecord.lines`)."""
    name = str(c.path)
    lend = lend or {}
    first_error = len(errors)
    parsed, digests, record.lines = _parse(worker, c, raw, seconds, errors, known=lend.keys(), lines=lines)
    got = _chunk_all(parsed, digests, lend, name, doc_ids, passage_seen, record, errors)
    if got is None:  # an id a document had is taken now: parsed in full, and renamed as a full build would
        del errors[first_error:]
        parsed, digests, record.lines = _parse(worker, c, raw, seconds, errors, lines=lines)
        got = _chunk_all(parsed, digests, {}, name, doc_ids, passage_seen, record, errors)
        assert got is not None
    return got


def _chunk_all(
    parsed: list[ParsedDocument | str], digests: list[str], lend: dict[str, list[Passage]], name: str,
    doc_ids: dict[str, str], passage_seen: set[str], record: FileRecord, errors: list[IngestError],
) -> tuple[list[Passage], dict[str, str]] | None:
    """The passages of a file's documents (`lend`'s for those given by digest) and their digests; None, with
    nothing registered, when a document given by digest has an id taken meanwhile."""
    passages: list[Passage] = []
    out: dict[str, str] = {}
    added_docs: list[str] = []
    renamed = record.renamed
    for doc, h in zip(parsed, digests):
        if isinstance(doc, str):  # parsed as before: the passages it had
            new = lend[doc]
            if not _free(new, doc_ids, passage_seen):
                for d in added_docs:
                    doc_ids.pop(d, None)
                passage_seen.difference_update(p.id for p in passages)
                record.renamed = renamed
                return None
            doc_ids.setdefault(new[0].doc_id, name)
            added_docs.append(new[0].doc_id)
        else:
            record.renamed |= _unique_doc_id(doc, name, doc_ids, errors)
            added_docs.append(doc.doc_id)
            try:
                new = chunk(doc, MAX_CHARS)
            except Exception as e:  # a bug, not the file's fault; keep going
                errors.append(IngestError(name, f"could not chunk {doc.doc_id}: {type(e).__name__}: {e}"))
                continue
            record.renamed |= _unique_passage_ids(new, name, passage_seen, errors)
        passage_seen.update(p.id for p in new)
        passages.extend(new)
        if new:
            out[new[0].doc_id] = h
    return passages, out


def _parse(
    worker: ParseWorker, c: _Candidate, raw: bytes, seconds: float, errors: list[IngestError], known: Collection[str] = (),
    lines: str | None = None,
) -> tuple[list[ParsedDocument | str], list[str], str | None]:
    """(documents, or the digest of those in `known`; each one's digest; the file's line table, if its parser keeps one)."""
    name = str(c.path)
    rel, read_as = c.relative(), c.read_as()
    doc_id = slug_doc_id(read_as, keep_suffix=c.reading.sniff)
    try:
        docs, notes, digests, table = worker.parse(read_as, raw, doc_id, parse_budget(seconds, len(raw)), known, lines,
                                                   kind=c.reading.kind)
    except ParseFailed as e:
        errors.append(IngestError(name, str(e)))
        return [], [], None
    for d in docs:
        if not isinstance(d, str) and d.source == read_as:
            d.source = rel  # the file on disk (links to `x.html` reach `x.html.gz`: `graph.links`)
            if c.reading.sniff:  # plain text named by its file alone: the name as it is, `README.emacs`, `copyright`
                d.title = c.reading.name
    errors.extend(IngestError(name, n) for n in notes)
    if not any(isinstance(d, str) or d.sections for d in docs):
        errors.append(IngestError(name, "no text found: nothing indexed"))
    return docs, digests, table


def _unique_doc_id(doc: ParsedDocument, name: str, doc_ids: dict[str, str], errors: list[IngestError]) -> bool:
    """Rename `doc` if its id is taken (reported); True when renamed."""
    if doc.doc_id not in doc_ids:
        doc_ids[doc.doc_id] = name
        return False
    n = 2
    while f"{doc.doc_id}-{n}" in doc_ids:
        n += 1
    new = f"{doc.doc_id}-{n}"
    errors.append(IngestError(name, f"doc id {doc.doc_id!r} already used by {doc_ids[doc.doc_id]}: renamed {new!r}", RENAMED))
    doc_ids[new] = name
    doc.doc_id = new
    return True


def _unique_passage_ids(new: list[Passage], name: str, seen: set[str], errors: list[IngestError]) -> bool:
    """Rename passages whose ids another file took (reported); True when any was."""
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
    return bool(renamed)
