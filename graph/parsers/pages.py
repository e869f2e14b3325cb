"""Running headers, footers and page numbers of paginated text (PDF), found across pages and dropped.

A line among the first or last `EDGE` lines of a page is a running line when, with its digits
masked, it stands at the edge of at least half the pages (three at least): "Sepsis Guideline v2 —
page 4 of 12", "CONFIDENTIAL", a bare page number "12" or "- 12 -".  A dotted number alone
("3.2", a clause that begins a page) never is.  Text in the middle of a page is never touched.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["strip_running_lines", "EDGE"]

EDGE = 2
_CLAUSE_NUMBER = re.compile(r"^[#.()a-z]*\.[#.()a-z]*$")
_DIGITS = re.compile(r"\d+")


def _key(line: str) -> str:
    return " ".join(_DIGITS.sub("#", line).lower().split())


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the non-blank lines at the top and bottom of a page."""
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    return sorted(set(filled[:EDGE] + filled[-EDGE:]))


def strip_running_lines(pages: Sequence[str]) -> list[str]:
    """`pages` without their running headers, footers and page numbers."""
    split = [p.split("\n") for p in pages]
    seen: Counter[str] = Counter()
    for lines in split:
        seen.update({_key(lines[i]) for i in _edges(lines)})
    need = max(3, (len([p for p in pages if p.strip()]) + 1) // 2)
    running = {k for k, n in seen.items() if n >= need and k and not _CLAUSE_NUMBER.match(k)}
    out: list[str] = []
    for lines in split:
        drop = {i for i in _edges(lines) if _key(lines[i]) in running}
        out.append("\n".join(ln for i, ln in enumerate(lines) if i not in drop).strip())
    return out
