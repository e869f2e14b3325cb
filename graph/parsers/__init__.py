"""Parsers by file extension: `parse(path, raw, doc_id, warn=None) -> list[ParsedDocument]`.

`warn(message)` receives one-line notes about a file that was still parsed (JSONL
lines skipped, PDF pages without text); a file that cannot be parsed raises
`ParseError` (or, for bugs, anything else: the caller reports it per file).

A parser's module is imported when it is first called: the parse worker, a new process
for each build, imports only the parsers of the files it reads.

`LINE_PARSERS`: formats whose parser also takes what it read from each line of a previous version of
the file and gives each document's digest itself, `parse_lines(path, raw, doc_id, warn, known, table)
-> (documents, digests, table)` (`graph.parsers.jsonl.parse_lines`): a re-parse of a changed file
decodes only the new lines and builds only the documents whose digest is not in `known`.

`reading_for(path)`: how a file is read, beyond its own extension: `NAME.EXT.gz` as `NAME.EXT` once
decompressed (EXT one of PARSERS' but .jsonl), and a name with no extension, or one that is no registered
file type (`README`, `copyright`, `changelog.Debian`, and those with `.gz`), as plain text when its first
bytes are UTF-8 text (the caller sniffs them).  A name whose extension is a registered type that no parser
reads (`.json`, `.css`, `.png`, `.json.gz`) is not read.
"""
from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from graph.model import ParsedDocument
from graph.parsers.text import ParseError, Warn

__all__ = ["PARSERS", "BINARY_FORMATS", "LINE_PARSERS", "Parser", "ParseError", "Reading", "Warn", "parser_for", "reading_for",
           "type_label"]

Parser = Callable[..., list[ParsedDocument]]


def _lazy(module: str, name: str = "parse") -> Callable[..., Any]:
    """`graph.parsers.<module>.<name>`, imported on the first call."""
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(f"graph.parsers.{module}"), name)(*args, **kwargs)
    call.__name__ = call.__qualname__ = f"{module}.{name}"
    return call


PARSERS: dict[str, Parser] = {
    ".md": _lazy("markdown"),
    ".markdown": _lazy("markdown"),
    ".txt": _lazy("text"),
    ".text": _lazy("text"),
    ".html": _lazy("html"),
    ".htm": _lazy("html"),
    ".pdf": _lazy("pdf"),
    ".jsonl": _lazy("jsonl"),
    ".rst": _lazy("rst"),
    ".docx": _lazy("word"),
}

LINE_PARSERS: dict[str, Callable[..., Any]] = {".jsonl": _lazy("jsonl", "parse_lines")}

# Extensions whose files are not text (no NUL-byte / UTF-8 checks apply).
BINARY_FORMATS = frozenset({".pdf", ".docx"})


def parser_for(path: Path) -> Parser | None:
    """The parser for `path`'s extension (case-insensitive), or None."""
    return PARSERS.get(Path(path).suffix.lower())


GZIP = ".gz"
# Python's own table of file types (not the system's, which differs from one machine to the next)
_TYPES = mimetypes.MimeTypes()


@dataclass(frozen=True)
class Reading:
    """How a file is read: `kind` the extension whose parser reads it (".txt" for sniffed text), `name` the
    file name it is read as (its own, less ".gz"), `gzip` decompressed first, `sniff` read only if its first
    bytes are UTF-8 text without NUL bytes (a name without an extension readtrail reads)."""

    kind: str
    name: str
    gzip: bool = False
    sniff: bool = False


def _registered(suffix: str) -> bool:
    """A file type Python's table names (`.json`, `.css`, `.c`, `.tar`), so not a plain text without an extension."""
    return _TYPES.guess_type("x" + suffix, strict=False)[0] is not None


def reading_for(path: Path | str) -> Reading | None:
    """How the file at `path` is read (by its name alone), or None when its type is one readtrail does not read."""
    name = Path(path).name
    suffix = Path(name).suffix.lower()
    if suffix in PARSERS:
        return Reading(suffix, name)
    gz = suffix == GZIP and len(name) > len(GZIP)
    if gz:
        name = name[: -len(GZIP)]
        suffix = Path(name).suffix.lower()
        if suffix in PARSERS and suffix not in LINE_PARSERS:
            return Reading(suffix, name, gzip=True)
    if suffix in PARSERS or suffix == GZIP or _registered(suffix):
        return None
    return Reading(".txt", name, gzip=gz, sniff=True)


def type_label(path: Path | str) -> str:
    """The type a name says (".json.gz", ".css", "(none)"), for a file not read."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == GZIP and Path(p.stem).suffix:
        return Path(p.stem).suffix.lower() + GZIP
    return suffix or "(none)"
