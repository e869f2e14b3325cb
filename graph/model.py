"""The data every part of readtrail shares: parsed sections, passages, references."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Section", "ParsedDocument", "Passage", "Citation", "Reference", "Mention"]


@dataclass
class Section:
    """A piece of a document as a parser sees it, before chunking.

    `label` is the structural number or name ("2.4.2", "Article 5", "Rule 3.6A.4"),
    `heading_path` the headings above it, outermost first, its own heading last.
    `id` is set only by pre-chunked sources (JSONL) whose passages carry ids already.
    """

    text: str
    heading_path: list[str] = field(default_factory=list)
    label: str | None = None
    level: int = 0
    id: str | None = None
    anchors: list[str] = field(default_factory=list)  # HTML ids / Markdown slugs that point here


@dataclass
class ParsedDocument:
    doc_id: str  # stable, URL- and path-safe: [A-Za-z0-9._-]
    title: str
    source: str  # where it came from (relative path or file name)
    sections: list[Section]
    prechunked: bool = False  # True: one section is one passage, never split or merged


@dataclass
class Passage:
    id: str
    doc_id: str
    doc_title: str
    ord: int  # position in its document's reading order, 0-based
    text: str
    label: str | None = None
    heading_path: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    source: str = ""  # the file's path relative to the folder indexed ("" for indexes built before it was kept)


@dataclass
class Citation:
    """A reference as written in a passage, before resolution."""

    text: str  # the citing text, e.g. "Section 113(1) of the FSMR"
    start: int
    end: int
    numbers: list[str]  # the cited numbers, e.g. ["113(1)"] or ["9.2.1(b)", "9.4.2(1)(b)"]
    kind: str | None = None  # "rule", "section", "article", "chapter", "part", "paragraph", "link", ...
    document: str | None = None  # the other document named, as written ("FSMR", "FUNDS Rules")
    anchor: str | None = None  # a Markdown link / HTML href target
    loose: bool = False  # a bare number ("2.4.1") or acronym and number ("ICU 58.2"): a reference only where it resolves


@dataclass
class Reference:
    """A citation of passage `src`, resolved (targets non-empty) or not."""

    src: str
    text: str
    targets: list[str]
    kind: str = ""  # "link" for a hyperlink, "" for a citation in words
    reason: str | None = None  # why it is unresolved (external link, no such file, no such label ...)

    @property
    def resolved(self) -> bool:
        return bool(self.targets)


@dataclass
class Mention:
    src: str
    dst: str
    term: str
