"""reStructuredText: underlined (and overlined) titles make sections, levels in the order their
adornment styles first appear, as docutils does.

Anchors of a section: its title's docutils id (`make_id`) and the labels of the `.. _label:`
targets just above it; a label is also kept as `rst-label:NAME` so Sphinx's project-wide
`:ref:` finds it in any document.  Links are written inline as `[text](target)` for the
reference extractor: `:doc:` (a document path, relative or from the source root),
`:ref:` (`[text](rst-label:NAME)`), `` `text <url>`_ ``, `name_` / `` `a name`_ `` through
their `.. _name: url` targets, and the entries of a `toctree`.  Comments and target
definitions are dropped; directive content stays as text (code verbatim).
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from graph.links import LABEL_SCHEME
from graph.model import ParsedDocument
from graph.parsers.text import SectionBuilder, Warn, decode, heading_label, humanise, iter_lines

__all__ = ["parse", "parse_rst", "make_id", "LABEL_SCHEME"]

_ADORN = re.compile(r"""^([!-/:-@\[-`{-~])\1{2,}[ \t]*$""")
_TARGET = re.compile(r"^\.\.[ \t]+_(`?)([^`:]+(?:`[^`]*)?)\1:[ \t]*(\S.*)?$")
_DIRECTIVE = re.compile(r"^\.\.[ \t]+([\w:.+-]+)::[ \t]*(.*)$")
_COMMENT = re.compile(r"^\.\.(?:[ \t]|$)")
_ROLE = re.compile(r":(ref|doc):`([^`]+)`", re.S)
_EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)
_HYPERLINK = re.compile(r"`([^`<>]+?)\s*<([^<>`]+)>`__?", re.S)
_NAMED_REF = re.compile(r"`([^`<>]+)`__?(?!\w)|(?<![\w`])([A-Za-z0-9][\w.+-]*?)__?(?![\w`])")
_CODE_DIRECTIVES = frozenset({"code", "code-block", "sourcecode", "literalinclude", "highlight", "doctest", "testcode", "math"})
_NOT_ID = re.compile(r"[^a-z0-9]+")


def make_id(text: str) -> str:
    """docutils' id for a title or target: lowercase, runs of other characters -> `-`."""
    return _NOT_ID.sub("-", text.lower()).strip("-")


def _label(name: str) -> str:
    return " ".join(name.split()).lower()


def _link(text: str, href: str) -> str:
    return f"[{' '.join(text.split())}]({href})"


class _Inline:
    """Rewrites a paragraph's reST links as `[text](target)`."""

    def __init__(self, urls: dict[str, str], internal: set[str]) -> None:
        self.urls = urls  # named hyperlink targets: label -> URL
        self.internal = internal  # labels of internal targets (`.. _name:` before a section)

    def _target(self, name: str) -> str | None:
        key = _label(name)
        if key in self.urls:
            return self.urls[key]
        if key in self.internal:
            return f"{LABEL_SCHEME}{quote(key)}"
        return None

    def role(self, m: re.Match[str]) -> str:
        kind, body = m.group(1), m.group(2)
        e = _EXPLICIT.match(body)
        text, target = (e.group(1), e.group(2)) if e else (body, body)
        target = target.strip()
        if kind == "ref":
            return _link(text, f"{LABEL_SCHEME}{quote(_label(target))}")
        return _link(text, target if target.startswith("/") else quote(target, safe="/.#-_~"))

    def hyperlink(self, m: re.Match[str]) -> str:
        text, target = m.group(1), m.group(2).strip()
        if target.endswith("_") and not target.endswith("\\_"):  # `text <name_>`_: a named target
            found = self._target(target[:-1])
            return _link(text, found) if found else text
        return _link(text, "".join(target.split()))

    def named(self, m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        found = self._target(name)
        return _link(name, found) if found else m.group(0)

    def __call__(self, block: str) -> str:
        block = _ROLE.sub(self.role, block)
        block = _HYPERLINK.sub(self.hyperlink, block)
        if self.urls or self.internal:
            block = _NAMED_REF.sub(self.named, block)
        return block


def _indented_block(lines: list[str], i: int) -> int:
    """The index after the indented (or blank) lines that follow lines[i]."""
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or lines[j][:1] in " \t"):
        j += 1
    while j > i + 1 and not lines[j - 1].strip():
        j -= 1
    return j


def _is_title(lines: list[str], i: int) -> tuple[str, str, int] | None:
    """(title, style, lines used) when a section title starts at lines[i]."""
    line = lines[i].rstrip()
    nxt = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
    if i and lines[i - 1].strip():
        return None
    over = _ADORN.match(line)
    if over and i + 2 < len(lines):
        title, under = lines[i + 1].strip(), lines[i + 2].rstrip()
        if title and under == line and len(line) >= len(title):
            return title, "o" + line[0], 3
        return None
    u = _ADORN.match(nxt)
    if line.strip() and not over and line[:1] not in " \t" and u and len(nxt) >= min(len(line.strip()), 4):
        if len(nxt) >= len(line.strip()) or len(line.strip()) - len(nxt) <= 2:
            return line.strip(), nxt[0], 2
    return None


def parse_rst(text: str, doc_id: str, source: str, fallback_title: str) -> ParsedDocument:
    lines = list(iter_lines(text))
    urls: dict[str, str] = {}
    internal: set[str] = set()
    for line in lines:
        m = _TARGET.match(line)
        if m:
            name = _label(m.group(2))
            if m.group(3):
                urls.setdefault(name, "".join(m.group(3).split()))
            else:
                internal.add(name)
    inline = _Inline(urls, internal)
    b = SectionBuilder()
    styles: dict[str, int] = {}
    labels: list[str] = []  # `.. _label:` targets waiting for the next section
    title: str | None = None
    para: list[str] = []

    def flush() -> None:
        if para:
            for ln in inline("\n".join(para)).split("\n"):
                b.line(ln)
            para.clear()
        b.blank()

    i, n = 0, len(lines)
    while i < n:
        line = lines[i].rstrip()
        t = _is_title(lines, i)
        if t is not None:
            flush()
            text_, style, used = t
            level = styles.setdefault(style, len(styles) + 1)
            if title is None:
                title = text_
            anchors = [make_id(text_)] + [a for name in labels for a in (make_id(name), f"{LABEL_SCHEME}{name}")]
            labels = []
            b.heading(level, text_, label=heading_label(text_), anchors=[a for a in anchors if a])
            i += used
            continue
        m = _TARGET.match(line)
        if m:
            flush()
            if not m.group(3):
                labels.append(_label(m.group(2)))
            i += 1
            continue
        d = _DIRECTIVE.match(line)
        if d:
            flush()
            end = _indented_block(lines, i)
            name = d.group(1).lower()
            body = [ln for ln in lines[i + 1:end] if not re.match(r"^\s+:[\w-]+:", ln)]
            if name == "toctree":
                for entry in (ln.strip() for ln in body if ln.strip()):
                    e = _EXPLICIT.match(entry)
                    b.line(_link(e.group(1), e.group(2)) if e else _link(entry, entry))
            else:
                if name not in _CODE_DIRECTIVES and d.group(2).strip() and name in ("note", "warning", "tip", "important", "caution", "admonition", "seealso", "versionadded", "versionchanged", "deprecated"):
                    b.line(inline(d.group(2).strip()))
                code = name in _CODE_DIRECTIVES
                for ln in body:
                    b.line(ln.rstrip() if code else inline(ln.strip()), verbatim=code)
            b.blank()
            i = end
            continue
        if _COMMENT.match(line) and not re.match(r"^\.\.\s+\[", line):  # comments, substitution definitions
            flush()
            i = _indented_block(lines, i)
            continue
        if not line.strip():
            flush()
        elif line.endswith("::") and not line.strip() == "::":  # a literal block follows
            para.append(line[:-1])
            flush()
            end = _indented_block(lines, i)
            for ln in lines[i + 1:end]:
                b.line(ln.rstrip(), verbatim=True)
            b.blank()
            i = end
            continue
        elif line.strip() == "::":
            flush()
            end = _indented_block(lines, i)
            for ln in lines[i + 1:end]:
                b.line(ln.rstrip(), verbatim=True)
            i = end
            continue
        elif not _ADORN.match(line) or para:
            para.append(line)
        i += 1
    flush()
    if labels:
        for name in labels:
            b.anchor(make_id(name))
            b.anchor(f"{LABEL_SCHEME}{name}")
    return ParsedDocument(doc_id=doc_id, title=title or fallback_title, source=source, sections=b.finish())


def parse(path: Path, raw: bytes, doc_id: str, warn: Warn | None = None) -> list[ParsedDocument]:
    """A .rst file: one document."""
    return [parse_rst(decode(raw), doc_id, str(path), humanise(Path(path).stem))]
