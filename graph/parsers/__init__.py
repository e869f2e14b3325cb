"""Parsers by file extension: `parse(path, raw, doc_id, warn=None) -> list[ParsedDocument]`.

`warn(message)` receives one-line notes about a file that was still parsed (JSONL
lines skipped, PDF pages without text); a file that cannot be parsed raises
`ParseError` (or, for bugs, anything else: the caller reports it per file).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from graph.model import ParsedDocument
from graph.parsers import html, jsonl, markdown, pdf, rst, text, word
from graph.parsers.text import ParseError, Warn

__all__ = ["PARSERS", "BINARY_FORMATS", "Parser", "ParseError", "Warn", "parser_for"]

Parser = Callable[..., list[ParsedDocument]]

PARSERS: dict[str, Parser] = {
    ".md": markdown.parse,
    ".markdown": markdown.parse,
    ".txt": text.parse,
    ".text": text.parse,
    ".html": html.parse,
    ".htm": html.parse,
    ".pdf": pdf.parse,
    ".jsonl": jsonl.parse,
    ".rst": rst.parse,
    ".docx": word.parse,
}

# Extensions whose files are not text (no NUL-byte / UTF-8 checks apply).
BINARY_FORMATS = frozenset({".pdf", ".docx"})


def parser_for(path: Path) -> Parser | None:
    """The parser for `path`'s extension (case-insensitive), or None."""
    return PARSERS.get(Path(path).suffix.lower())
