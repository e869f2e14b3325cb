"""Plain text parser, and the pieces the other parsers share.

Shared: `ParseError`, `decode`, `heading_label` (the structural number of a heading),
`SectionBuilder` (turns headings and body lines into `Section`s, with numbered
clauses as sections of their own), `github_slug`, `humanise`.

Plain text: paragraphs are separated by blank lines; a line that looks like a
numbered heading (`3.2 Escalation`, `SECTION 4`, `Article 5 Scope`) or a short
ALL-CAPS line starts a section.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from graph.model import ParsedDocument, Section

__all__ = [
    "ParseError", "Warn", "decode", "heading_label", "SectionBuilder", "SlugCounter", "github_slug",
    "humanise", "iter_lines", "parse", "parse_text",
]

Warn = Callable[[str], None]


class ParseError(ValueError):
    """A file that cannot be read as its format; the message is one line saying why."""


def decode(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped), undecodable bytes replaced by U+FFFD."""
    text = raw.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def iter_lines(text: str) -> Iterator[str]:
    """The lines of `text` without their endings, lazily (no list of a huge file's lines)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    pos, n = 0, len(text)
    while pos < n:
        end = text.find("\n", pos)
        if end < 0:
            yield text[pos:]
            return
        yield text[pos:end]
        pos = end + 1


# --- structural numbers --------------------------------------------------------------

_KIND = (
    r"(?:rules?|articles?|art\.|sections?|sec\.|chapters?|ch\.|parts?|paragraphs?|para\.|"
    r"clauses?|schedules?|appendix|appendices|annex(?:es)?|regulations?|reg\.|title|§§?)"
)
# 3, 3.2, 3.6A.4, 113(1), 9.2.1(b)
_NUM = r"\d{1,4}[A-Za-z]?(?:\.\d{1,4}[A-Za-z]?)*\.?(?:\([0-9A-Za-z]{1,4}\))*"
_ROMAN = r"[IVXLC]{1,7}"
_KIND_HEADING = re.compile(
    rf"^\s*(?P<kind>{_KIND})\s*(?P<num>{_NUM}|(?-i:(?:{_ROMAN}|[A-Z])(?:\.(?:\d{{1,4}}|[A-Z]{{1,4}}))*)\.?)(?=$|[\s:.,)\-\u2013\u2014])",
    re.IGNORECASE,
)
_BARE_HEADING = re.compile(rf"^\s*(?P<num>{_NUM})(?=$|[\s:)\-\u2013\u2014])")
_KIND_WORD_ONLY = re.compile(rf"^\s*{_KIND}\s*$", re.IGNORECASE)


def _bare(num: str) -> str:
    return num.rstrip(".")


def heading_label(heading: str) -> str | None:
    """The structural number a heading starts with, bare ("Rule 2.4.2 Notification" -> "2.4.2").

    Forms: `3.2 Escalation`, `3.2. Escalation`, `Rule 2.4.2`, `Article 5 Scope`,
    `Section 113`, `Chapter 4`, `PART IV`, `§ 12`, `Appendix A`.  A bare integer over
    999 (a year) is not a label.
    """
    m = _KIND_HEADING.match(heading)
    if m:
        num = m.group("num")
        if m.group("kind").lower() == "title" and not num[0].isdigit():
            return None  # "Title A Study of ..." is a title, not "Title A"
        return _bare(num)
    m = _BARE_HEADING.match(heading)
    if m:
        num = _bare(m.group("num"))
        if num.isdigit() and int(num) > 999:
            return None
        if num.isdigit() and heading[m.end():m.end() + 2].strip() in ("%",):
            return None
        return num or None
    return None


def heading_kind_level(heading: str) -> int | None:
    """A nesting level for a numbered plain-text heading: 1 for part/chapter/title, 2 for the
    other kind words, 1 + depth for bare numbers (3 -> 2, 3.2 -> 3)."""
    m = _KIND_HEADING.match(heading)
    if m:
        kind = m.group("kind").lower()
        return 1 if kind.startswith(("part", "chapter", "ch.", "title")) else 2
    m = _BARE_HEADING.match(heading)
    if m:
        return 1 + _bare(m.group("num")).count(".") + 1
    return None


# A line that starts a numbered clause: "3.2.1 The nurse must ..." (at least two components).
_CLAUSE = re.compile(r"^(?P<num>\d{1,4}[A-Za-z]?(?:\.\d{1,4}[A-Za-z]?)+)\.?[ \t]+(?=[(\"'A-Za-z\u00c0-\uffff])")


def _parent(num: str) -> str:
    return num.rsplit(".", 1)[0]


# --- slugs and titles ----------------------------------------------------------------

_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)
_MD_INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`|~~)")


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces -> `-`."""
    text = _MD_INLINE_LINK.sub(r"\1", heading)
    text = _MD_EMPHASIS.sub("", text)
    text = _SLUG_DROP.sub("", text.strip().lower())
    return text.replace(" ", "-")


class SlugCounter:
    """GitHub slugs for a document's headings, `-1`, `-2`... for repeated ones."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, heading: str) -> str:
        slug = github_slug(heading)
        n = self.seen.get(slug)
        self.seen[slug] = 0 if n is None else n + 1
        return slug if n is None else f"{slug}-{n + 1}"


def humanise(stem: str) -> str:
    """A title from a file name: `sepsis_care-v2` -> `Sepsis care v2`."""
    words = re.sub(r"[_\-.]+", " ", stem).split()
    title = " ".join(words) or stem or "Untitled"
    return title[0].upper() + title[1:] if title.islower() else title


# --- building sections ---------------------------------------------------------------

_DOT_LEADER = re.compile(r"(?:\.[ \t]?){4,}[ \t]*(?:\d{1,4}|[ivxlcdm]{1,6})[ \t]*$|…{2,}[ \t]*\d{1,4}[ \t]*$", re.I)


class SectionBuilder:
    """Collects headings and body lines into sections, in reading order.

    `heading(level, text)` starts a section whose heading path is the open headings
    above `level` plus `text`.  Body lines go to the open section; at the start of a
    paragraph a numbered clause (`3.2.1 The nurse must ...`) starts a section of its
    own when its number continues the open heading's label (`3.2` -> `3.2.1`) or is a
    sibling of the previous clause: precision before recall.
    Anchors wait for what comes next (see `anchor`).
    """

    def __init__(self, detect_clauses: bool = True) -> None:
        self.sections: list[Section] = []
        self._stack: list[tuple[int, str]] = []  # open headings (level, text)
        self._lines: list[str] = []
        self._label: str | None = None  # the open section's label
        self._heading_label: str | None = None  # the label of the last heading
        self._last_clause: str | None = None
        self._level = 0
        self._anchors: list[str] = []
        self._pending_anchors: list[str] = []
        self._path: list[str] = []
        self._para_start = True
        self._detect = detect_clauses
        self._started = False  # a heading or clause has opened a section

    def _flush(self) -> None:
        text = "\n".join(self._lines).strip("\n")
        if text.strip() or self._started or self._anchors:
            self.sections.append(Section(
                text=text if text.strip() else "",
                heading_path=list(self._path), label=self._label, level=self._level,
                anchors=list(dict.fromkeys(self._anchors)),
            ))
        self._lines = []
        self._anchors = []
        self._para_start = True

    def heading(self, level: int, text: str, label: str | None = None, anchors: list[str] | None = None) -> None:
        text = " ".join(text.split())
        self._flush()
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))
        self._path = [t for _, t in self._stack]
        self._label = label
        self._heading_label = label
        self._last_clause = None
        self._level = level
        self._anchors = self._pending_anchors + list(anchors or [])
        self._pending_anchors = []
        self._started = True

    def anchor(self, name: str, defer: bool = True) -> None:
        """An anchor for what comes next: the next heading's section, or the open section
        if body text comes first; `defer=False`: the open section now."""
        name = name.strip()
        if not name:
            return
        (self._pending_anchors if defer else self._anchors).append(name)

    def blank(self) -> None:
        if self._lines and self._lines[-1] != "":
            self._lines.append("")
        self._para_start = True

    def line(self, line: str, verbatim: bool = False) -> None:
        """A body line; `verbatim` lines (code) never start clauses.  A table-of-contents line
        with dot leaders ("Escalation ........ 12") is not text and is dropped."""
        if not line.strip():
            self.blank()
            return
        if not verbatim and _DOT_LEADER.search(line):
            return
        if self._para_start and self._detect and not verbatim:
            self._clause(line)
        if self._pending_anchors:
            self._anchors.extend(self._pending_anchors)
            self._pending_anchors = []
        self._lines.append(line)
        self._para_start = False

    def _clause(self, line: str) -> None:
        m = _CLAUSE.match(line)
        if not m:
            return
        num = m.group("num")
        base = self._heading_label
        continues = base is not None and num.startswith(base + ".")
        sibling = self._last_clause is not None and _parent(num) == _parent(self._last_clause) and num != self._last_clause
        if not (continues or sibling):
            return
        self._flush()
        self._label = num
        self._last_clause = num
        self._level = (self._stack[-1][0] if self._stack else 0) + 1
        self._started = True

    def finish(self) -> list[Section]:
        if self._pending_anchors:
            self._anchors.extend(self._pending_anchors)
            self._pending_anchors = []
        self._flush()
        return self.sections


# --- plain text ----------------------------------------------------------------------

_CAPS_MAX = 60
_NUMBERED_MAX = 100


def _caps_heading(line: str) -> bool:
    s = line.strip()
    if len(s) < 3 or len(s) > _CAPS_MAX:
        return False
    letters = [c for c in s if c.isalpha()]
    if len(letters) < 3 or any(c.islower() for c in letters):
        return False
    if sum(c.isalpha() or c.isspace() for c in s) < 0.7 * len(s):
        return False
    return not s.endswith((",", ";"))


_RUN_ON = re.compile(r"[.!?;]\s+\S")
_SENTENCE_END = (".", ":", ";", "!", "?", ")")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]\s")


def _numbered_heading(line: str) -> str | None:
    """The label when `line` is a numbered heading line (short, no sentence after the number)."""
    s = line.strip()
    if len(s) > _NUMBERED_MAX:
        return None
    label = heading_label(s)
    if label is None:
        return None
    m = _KIND_HEADING.match(s) or _BARE_HEADING.match(s)
    rest = s[m.end():].strip(" \t.:-\u2013\u2014)")
    if not rest:
        return label
    if s.endswith((".", ",", ";")) or _RUN_ON.search(rest):
        return None  # a sentence that starts with a number, or a run-in heading: "4. Scope. You may ..."
    if len(rest.split()) > 10 or not (rest[0].isupper() or rest[0].isdigit() or rest[0] in "(\"'"):
        return None
    return label


def _heading_at(lines: list[str], i: int) -> tuple[str, int] | None:
    """(label or "", level) when lines[i] is a heading line of plain text; a line followed by
    another of its numbering shape is a list item, not a heading."""
    line = lines[i].strip()
    if _DOT_LEADER.search(line):
        return None  # a table-of-contents entry, not the heading it lists
    label = _numbered_heading(line)
    if label is not None:
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _LIST_ITEM.match(line) and _LIST_ITEM.match(nxt):
            return None
        return label, heading_kind_level(line) or 1
    if i == 0 and _caps_heading(line):
        return "", 1
    return None


def parse_text(text: str, doc_id: str, title: str, source: str, headings_anywhere: bool = False) -> ParsedDocument:
    """Plain text to sections.

    Paragraphs are separated by blank lines.  The first line of a paragraph starts a
    section when it is a numbered heading or a short ALL-CAPS line; with
    `headings_anywhere` (text extracted from PDF, which rarely has blank lines) a
    numbered heading line starts one wherever it stands.
    """
    b = SectionBuilder()

    def paragraph(lines: list[str]) -> None:
        after_heading = False
        for i, line in enumerate(lines):
            head = None
            if i == 0:
                head = _heading_at(lines, i)
            elif headings_anywhere and (after_heading or lines[i - 1].rstrip().endswith(_SENTENCE_END)):
                head = _heading_at(lines, i)
                if head is not None and not (_KIND_HEADING.match(line) or "." in head[0]):
                    head = None  # "30 Minutes of arrival" wrapped from the line before
            if head is not None:
                label, level = head
                b.heading(level, line.strip(), label=label or None)
            else:
                b.line(line)
            after_heading = head is not None
        b.blank()

    block: list[str] = []
    for raw_line in iter_lines(text):
        line = raw_line.rstrip()
        if line.strip():
            block.append(line)
        elif block:
            paragraph(block)
            block = []
    if block:
        paragraph(block)
    return ParsedDocument(doc_id=doc_id, title=title, source=source, sections=b.finish())


def parse(path: Path, raw: bytes, doc_id: str, warn: Warn | None = None) -> list[ParsedDocument]:
    """A .txt file: one document titled after its file name."""
    return [parse_text(decode(raw), doc_id, humanise(Path(path).stem), str(path))]
