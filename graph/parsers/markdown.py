"""Markdown: ATX and setext headings make sections; numbered headings give labels.

Code fences are body text, never headings.  Links stay as written (`[text](target)`)
so the reference extractor sees the target.  Each heading's GitHub slug and any
explicit `{#id}` / `<a id=..>` / `<a name=..>` become the section's anchors.  The
document title is the first H1, else the front matter's `title:`, else the file name.
"""
from __future__ import annotations

import re
from pathlib import Path

from graph.model import ParsedDocument
from graph.parsers.text import SectionBuilder, SlugCounter, Warn, decode, heading_label, humanise, iter_lines

__all__ = ["parse", "parse_markdown"]

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_EXPLICIT_ID = re.compile(r"[ \t]*\{#([A-Za-z0-9_:.\-]+)\}[ \t]*$")
_HTML_ANCHOR = re.compile(r"""<a\s+(?:[^>]*?\s)?(?:id|name)\s*=\s*["']?([^"'\s>]+)["']?[^>]*>\s*(?:</a>)?""", re.I)
_ONLY_ANCHORS = re.compile(rf"^\s*(?:{_HTML_ANCHOR.pattern}\s*)+$", re.I)
_FRONT_TITLE = re.compile(r"""^title\s*:\s*["']?(.*?)["']?\s*$""", re.I)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|`|~~)")


def _heading_text(raw: str) -> tuple[str, list[str]]:
    """A heading's display text (links -> their text, emphasis marks dropped) and explicit ids."""
    anchors: list[str] = []
    m = _EXPLICIT_ID.search(raw)
    if m:
        anchors.append(m.group(1))
        raw = raw[: m.start()]
    for a in _HTML_ANCHOR.finditer(raw):
        anchors.append(a.group(1))
    raw = _HTML_ANCHOR.sub("", raw)
    raw = raw.replace("</a>", "")
    text = _EMPHASIS.sub("", _LINK.sub(r"\1", raw))
    return " ".join(text.split()), anchors


def _front_matter(lines: list[str]) -> tuple[str | None, int]:
    """(title, number of lines) of a leading `---` ... `---` block."""
    if not lines or lines[0].strip() != "---":
        return None, 0
    for i in range(1, min(len(lines), 200)):
        if lines[i].strip() in ("---", "..."):
            title = None
            for ln in lines[1:i]:
                m = _FRONT_TITLE.match(ln.strip())
                if m and m.group(1):
                    title = m.group(1)
                    break
            return title, i + 1
    return None, 0


def parse_markdown(text: str, doc_id: str, source: str, fallback_title: str) -> ParsedDocument:
    lines = list(iter_lines(text))
    front_title, skip = _front_matter(lines)
    b = SectionBuilder()
    slugs = SlugCounter()
    title: str | None = None
    fence: str | None = None
    para: list[str] = []  # the open paragraph's lines (for setext headings)

    def heading(level: int, raw: str) -> None:
        nonlocal title
        text_, anchors = _heading_text(raw)
        if not text_ and not anchors:
            return
        if level == 1 and title is None and text_:
            title = text_
        anchors = [slugs(text_)] + anchors if text_ else anchors
        b.heading(level, text_, label=heading_label(text_), anchors=[a for a in anchors if a])

    i = skip
    n = len(lines)
    while i < n:
        line = lines[i].rstrip()
        if fence is not None:  # inside a code fence
            b.line(line, verbatim=True)
            if line.strip().startswith(fence) and not line.strip()[len(fence):].strip(fence[0]).strip():
                fence = None
            i += 1
            continue
        m = _FENCE.match(line)
        if m:
            fence = m.group(1)
            para = []
            b.line(line, verbatim=True)
            i += 1
            continue
        m = _ATX.match(line)
        if m:
            heading(len(m.group(1)), m.group(2) or "")
            para = []
            i += 1
            continue
        if not line.strip():
            b.blank()
            para = []
            i += 1
            continue
        # setext: a one-line paragraph underlined by === or ---
        nxt = lines[i + 1] if i + 1 < n else ""
        s = _SETEXT.match(nxt)
        if s and not para and not line.startswith((" " * 4, "\t")) and not line.lstrip().startswith((">", "- ", "* ", "+ ", "|")):
            heading(1 if s.group(1)[0] == "=" else 2, line)
            i += 2
            continue
        if _ONLY_ANCHORS.match(line):
            for a in _HTML_ANCHOR.finditer(line):
                b.anchor(a.group(1))
            i += 1
            continue
        for a in _HTML_ANCHOR.finditer(line):
            b.anchor(a.group(1), defer=False)
        b.line(line)
        para.append(line)
        i += 1
    sections = b.finish()
    return ParsedDocument(
        doc_id=doc_id, title=title or front_title or fallback_title, source=source, sections=sections,
    )


def parse(path: Path, raw: bytes, doc_id: str, warn: Warn | None = None) -> list[ParsedDocument]:
    """A Markdown file: one document."""
    return [parse_markdown(decode(raw), doc_id, str(path), humanise(Path(path).stem))]
