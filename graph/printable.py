"""Text that is safe to print on a terminal: file names and reasons in reports.

A file may be named `a\\n\\x1b[2J.md`; printed as is it forges report lines or drives the
terminal.  `printable` escapes every character that `str.isprintable` rejects the way
`repr` does (`\\n`, `\\x1b`, `\\u2028`, `\\udcff` for undecodable bytes), and leaves the
rest alone, so applying it twice changes nothing.
"""
from __future__ import annotations

__all__ = ["printable"]

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def printable(text: str) -> str:
    """`text` with control, format, separator and undecodable characters escaped (space kept)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
