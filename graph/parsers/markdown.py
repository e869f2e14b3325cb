"""Markdown: ATX and setext headings make sections; numbered headings give labels.

Code fences are body text, never headings.  Links stay as written (`[text](target)`)
so the reference extractor sees the target; reference-style links (`[text][label]`,
`[text][]`, `[label]` with a `[label]: url` definition anywhere in the file) are written
inline the same way and their definition lines dropped.  HTML comments are dropped.  Each heading's GitHub slug and any
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
# heading attributes: {#id}, {#id .class key=value} (Pandoc, mdBook), {: #id} (kramdown)
_EXPLICIT_ID = re.compile(
    r"""[ \t]*\{:?[ \t]*(?:(?:\.[\w-]+|[\w-]+=(?:"[^"]*"|\S+))[ \t]+)*#([\w:.\-]+)(?:[ \t]+(?:\.[\w-]+|[\w-]+=(?:"[^"]*"|[^\s}]+)))*[ \t]*\}[ \t]*$""")
_HTML_ANCHOR = re.compile(r"""<a\s+(?:[^>]*?\s)?(?:id|name)\s*=\s*["']?([^"'\s>]+)["']?[^>]*>\s*(?:</a>)?""", re.I)
_ONLY_ANCHORS = re.compile(rf"^\s*(?:{_HTML_ANCHOR.pattern}\s*)+$", re.I)
_FRONT_TITLE = re.compile(r"""^title\s*:\s*["']?(.*?)["']?\s*$""", re.I)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|~~)")
_SINGLE_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
# a link reference definition; "[^note]:" is a footnote
_DEFINITION = re.compile(r"""^ {0,3}\[(?!\^)([^\]]{1,999})\]:[ \t]*<?([^\s>]+)>?(?:[ \t]+(?:"[^"]*"|'[^']*'|\([^)]*\)))?[ \t]*$""")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_REF_LINK = re.compile(r"(?<![\]\\!])\[((?:[^\[\]\\]|\\.|\[[^\[\]]*\])*)\](?:\[([^\[\]]*)\])?(?![(:\[])")
_QUOTE = re.compile(r"^ {0,3}>[ \t]?")


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def _fenced(lines: list[str]) -> list[bool]:
    """For each line: is it part of a code fence (the fence lines included)?"""
    out: list[bool] = []
    fence: str | None = None
    for line in lines:
        if fence is not None:
            out.append(True)
            s = line.strip()
            if s.startswith(fence) and not s[len(fence):].strip(fence[0]).strip():
                fence = None
            continue
        m = _FENCE.match(line)
        if m:
            fence = m.group(1)
        out.append(m is not None)
    return out


def _inline_links(block: str, urls: dict[str, str]) -> str:
    """`[text][label]`, `[text][]`, `[label]` -> `[text](url)` where the label is defined; a link text
    broken over lines is joined onto one."""
    code = [m.span() for m in _CODE_SPAN.finditer(block)] if "`" in block else []

    def sub(m: re.Match[str]) -> str:
        if any(a <= m.start() < b for a, b in code):
            return m.group(0)
        text, label = m.group(1), m.group(2)
        url = urls.get(_label(label or text))
        return f"[{' '.join(text.split())}]({url})" if url and text.strip() else m.group(0)

    return _REF_LINK.sub(sub, block)


def _uncomment(line: str, inside: bool) -> tuple[str, bool]:
    """`line` without its HTML comments (one written in a code span is text) and whether a comment
    is still open at its end; `inside`: one was open at its start."""
    code = [m.span() for m in _CODE_SPAN.finditer(line)] if "`" in line else []
    out: list[str] = []
    pos = 0
    while True:
        if inside:
            end = line.find("-->", pos)
            if end < 0:
                return "".join(out), True
            pos, inside = end + 3, False
        start = line.find("<!--", pos)
        while start >= 0 and any(a <= start < b for a, b in code):
            start = line.find("<!--", start + 4)
        if start < 0:
            out.append(line[pos:])
            return "".join(out), False
        out.append(line[pos:start])
        pos, inside = start + 4, True


def _resolve_markup(lines: list[str]) -> list[str]:
    """The lines with HTML comments and link reference definitions dropped, reference links inlined
    (code fences untouched)."""
    fenced = _fenced(lines)
    urls: dict[str, str] = {}
    for line, f in zip(lines, fenced):
        m = None if f else _DEFINITION.match(line)
        if m:
            urls.setdefault(_label(m.group(1)), m.group(2))
    kept: list[tuple[str, bool]] = []
    inside = False  # an HTML comment is open
    for line, f in zip(lines, fenced):
        if f and not inside:
            kept.append((line, True))
            continue
        if inside or "<!--" in line:
            was_inside = inside
            text, inside = _uncomment(line, inside)
            if not text.strip() and (line.strip() or was_inside):
                continue  # the line was all comment
            line = text
        if urls and _DEFINITION.match(line):
            continue
        kept.append((line, False))
    if not urls:
        return [line for line, _ in kept]
    out: list[str] = []
    block: list[str] = []  # a paragraph: links may run over its lines
    for line, f in kept + [("", True)]:
        if f or not line.strip():
            if block:
                out.extend(_inline_links("\n".join(block), urls).split("\n"))
                block = []
            out.append(line)
        else:
            block.append(line)
    return out[:-1]


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
    raw = _LINK.sub(r"\1", raw)
    # emphasis marks go, code spans keep their text as written ("`__init__`" -> "__init__")
    pieces = re.split(r"(`+[^`]*`+)", raw)
    text = "".join(
        p.strip("`") if i % 2 else _SINGLE_EMPHASIS.sub(r"\2", _EMPHASIS.sub("", p)) for i, p in enumerate(pieces))
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
    lines = lines[:skip] + _resolve_markup(lines[skip:])
    b = SectionBuilder()
    slugs = SlugCounter()
    title: str | None = None
    fence: str | None = None
    para: list[str] = []  # the open paragraph's lines (for setext headings)

    opened: tuple[int, str, str | None] | None = None  # the open heading: level, text, label
    resume: tuple[int, str, str | None] | None = None  # the heading a block quote with headings interrupted

    def heading(level: int, raw: str) -> None:
        nonlocal title, opened
        text_, anchors = _heading_text(raw)
        if not text_ and not anchors:
            return
        opened = (level, text_, heading_label(text_))
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
        q = _QUOTE.match(line)
        if resume is not None and not q and line.strip():  # the block quote (an aside with its own heading) is over
            if not _ATX.match(line):
                b.heading(resume[0], resume[1], label=resume[2])
                opened = resume
            resume = None
        m = _FENCE.match(line)
        if m:
            fence = m.group(1)
            para = []
            b.line(line, verbatim=True)
            i += 1
            continue
        m = _ATX.match(line[q.end():] if q else line)
        if m:
            if q and resume is None:
                resume = opened
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
