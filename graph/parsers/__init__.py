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
"""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from graph.model import ParsedDocument
from graph.parsers.text import ParseError, Warn

__all__ = ["PARSERS", "BINARY_FORMATS", "LINE_PARSERS", "Parser", "ParseError", "Warn", "parser_for"]

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
