"""HTML with the standard library's `html.parser`: h1-h6 make sections like Markdown.

script/style/noscript/template contents (and nav menus, svg, iframes) are dropped;
`id` / `name` attributes become anchors of the section they stand in (or of the
heading that follows them);
`<a href>` is kept in the text as `[text](href)` so references can be resolved (links in a
heading follow it as a line of their own);
entities are decoded.  Title: `<title>`, else the first h1, else the file name.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from graph.model import ParsedDocument
from graph.parsers.text import SectionBuilder, SlugCounter, Warn, decode, heading_label, humanise

__all__ = ["parse", "parse_html"]

_DROP = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "nav"}  # nav: menus, not content
_BLOCK = {
    "p", "div", "section", "article", "aside", "header", "footer", "nav", "main", "ul", "ol", "li",
    "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "blockquote", "figure", "figcaption",
    "form", "fieldset", "address", "details", "summary", "hr", "caption", "body", "html", "center",
}
_CELL = {"td", "th"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_OPENS_MARKUP = re.compile(r"<[A-Za-z/!?]")  # what html.parser reads as the start of a tag
_PERMALINK = {"#", "¶", "§", "🔗"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.b = SectionBuilder()
        self.title_tag: str | None = None
        self.first_h1: str | None = None
        self._drop = 0  # depth inside dropped elements
        self._pre = 0
        self._in_title = False
        self._title_parts: list[str] = []
        self._heading: tuple[int, list[str], list[str]] | None = None  # level, text parts, anchors
        self._heading_links: list[str] = []  # links in the open heading: they follow it as a line of text
        self._links: list[tuple[str, list[str]]] = []  # open <a href>: href, text parts
        self._line: list[str] = []  # the current block's inline text
        self._slugs = SlugCounter()

    # --- text flow ---
    def _emit(self, text: str) -> None:
        if self._links:
            self._links[-1][1].append(text)
        elif self._heading is not None:
            self._heading[1].append(text)
        else:
            self._line.append(text)

    def _break(self) -> None:
        """End the current block: its text becomes a paragraph."""
        text = "".join(self._line)
        self._line = []
        if self._pre:
            for ln in text.split("\n"):
                self.b.line(ln.rstrip(), verbatim=True)
            return
        text = _SPACES.sub(" ", text).strip()
        if text:
            self.b.line(text)
            self.b.blank()

    # --- parser callbacks ---
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            if tag not in _VOID:
                self._drop += 1
            return
        if self._drop:
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        ids = [a[k].strip() for k in ("id", "name") if a.get(k, "").strip()]
        if tag == "title":
            self._in_title = True
            return
        if tag in _HEADINGS and self._heading is None:
            self._close_links()
            self._break()
            self._heading = (_HEADINGS[tag], [], ids)
            return
        if self._heading is not None:
            self._heading[2].extend(ids)
        elif ids:
            if tag in _BLOCK or tag == "pre":
                self._break()
            for i in ids:
                self.b.anchor(i)  # to the heading that follows, or to the text if it comes first
        if tag == "a" and a.get("href", "").strip() and not a["href"].strip().lower().startswith("javascript:"):
            self._links.append((a["href"].strip(), []))
            return
        if tag == "br":
            self._emit("\n" if self._pre else " ")
            if not self._pre and self._heading is None:
                self._break()
        elif tag == "pre":
            self._break()
            self._pre += 1
        elif tag in _BLOCK:
            if self._heading is None:
                self._break()
        elif tag in _CELL:
            self._emit(" | " if self._line else "")
        elif tag == "img" and a.get("alt", "").strip():
            self._emit(a["alt"].strip())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            if tag not in _VOID and self._drop:
                self._drop -= 1
            return
        if self._drop:
            return
        if tag == "title":
            self._in_title = False
            return
        if tag == "a" and self._links:
            href, parts = self._links.pop()
            text = _SPACES.sub(" ", "".join(parts)).strip()
            if self._heading is not None:
                if text not in _PERMALINK:  # a heading's own "#" / "¶" link is not part of its text
                    self._emit(text)
                    if text:
                        self._heading_links.append(f"[{text}]({href})")
            elif text:
                self._emit(f"[{text}]({href})")
            return
        if tag in _HEADINGS and self._heading is not None:
            self._close_links()
            level, parts, anchors = self._heading
            self._heading = None
            text = _SPACES.sub(" ", "".join(parts)).strip()
            if level == 1 and self.first_h1 is None and text:
                self.first_h1 = text
            slug = self._slugs(text) if text else ""
            if text or anchors:
                self.b.heading(level, text, label=heading_label(text), anchors=[x for x in [slug, *anchors] if x])
            if self._heading_links:
                self.b.line(" ".join(self._heading_links))
                self.b.blank()
                self._heading_links = []
            return
        if tag == "pre" and self._pre:
            self._break()
            self._pre -= 1
        elif tag in _BLOCK and self._heading is None:
            self._break()

    def handle_data(self, data: str) -> None:
        if self._drop:
            return
        if self._in_title:
            self._title_parts.append(data)
            return
        self._emit(data)

    def _close_links(self) -> None:
        while self._links:
            self.handle_endtag("a")

    def finish(self) -> None:
        self.close()
        self._drop = 0  # an element left open at the end (<template>, <script>) no longer hides the end tags below
        self._close_links()
        if self._heading is not None:
            self.handle_endtag(f"h{self._heading[0]}")
        self._break()
        title = _SPACES.sub(" ", "".join(self._title_parts)).strip()
        self.title_tag = title or None


def _cut_unclosed(text: str, warn: Warn | None) -> str:
    """`text` without markup opened after the last `>`: it can never close.

    HTML5 drops a tag cut off by the end of the file; html.parser instead rescans to the
    end of the input for each such `<` (`<a ` * 30,000, 90 KB, took minutes).
    """
    tail = _OPENS_MARKUP.search(text, text.rfind(">") + 1)
    if tail is None:
        return text
    if warn:
        warn(f"markup not closed at the end of the file (from character {tail.start()}): left out")
    return text[: tail.start()]


def parse_html(text: str, doc_id: str, source: str, fallback_title: str, warn: Warn | None = None) -> ParsedDocument:
    r = _Reader()
    r.feed(_cut_unclosed(text, warn))
    r.finish()
    sections = r.b.finish()
    return ParsedDocument(
        doc_id=doc_id, title=r.title_tag or r.first_h1 or fallback_title, source=source, sections=sections,
    )


def parse(path: Path, raw: bytes, doc_id: str, warn: Warn | None = None) -> list[ParsedDocument]:
    """An HTML file: one document."""
    return [parse_html(decode(raw), doc_id, str(path), humanise(Path(path).stem), warn)]
