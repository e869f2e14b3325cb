"""Word (.docx) with python-docx: body paragraphs and tables in reading order.

- `Title` and `Heading N` styles (and a paragraph's outline level) make sections; a heading's
  number is Word's own list numbering when it has one (`lvlText` "%1.%2" with its counters,
  decimal/letters/roman), else a number typed at its start.
- Numbered paragraphs get their number written in front ("2.1.3 The nurse ..."), so a clause
  that continues its heading's number opens a section as in text files; bullets get "-".
- Tables become text, one row a line, cells separated by " | ".
- Bookmarks anchor the section they are in; a REF field or an internal hyperlink (`w:anchor`)
  to a bookmark becomes the link `[shown text](#bookmark)`, resolved like an HTML in-page link;
  a hyperlink to a URL is `[text](url)`.  "see section 2.1" in words is found by the reference
  extractor like in any text.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from graph.model import ParsedDocument
from graph.parsers.text import ParseError, SectionBuilder, Warn, heading_label, humanise

__all__ = ["parse"]

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)
_REF_FIELD = re.compile(r"^\s*(?:REF|HYPERLINK\s+\\l)\s+\"?([^\s\"\\]+)", re.I)
_HIDDEN_BOOKMARKS = ("_GoBack",)
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _val(el: Any, tag: str) -> str | None:
    child = el.find(_w(tag)) if el is not None else None
    return None if child is None else child.get(_w("val"))


def _roman(n: int) -> str:
    out = ""
    for value, numeral in _ROMAN:
        while n >= value:
            out += numeral
            n -= value
    return out


def _letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _format(n: int, fmt: str) -> str:
    return {"lowerLetter": _letters(n), "upperLetter": _letters(n).upper(), "lowerRoman": _roman(n),
            "upperRoman": _roman(n).upper()}.get(fmt, str(n))


class _Numbering:
    """Word's list numbering: the number a numbered paragraph shows, counted as Word counts it."""

    def __init__(self, document: Any) -> None:
        self._levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId -> ilvl -> (start, numFmt, lvlText)
        self._counts: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for a in root.findall(_w("abstractNum")):
            levels = {}
            for lvl in a.findall(_w("lvl")):
                start = _val(lvl, "start")
                levels[int(lvl.get(_w("ilvl"), "0"))] = (
                    int(start) if start and start.isdigit() else 1, _val(lvl, "numFmt") or "decimal", _val(lvl, "lvlText") or "")
            abstract[a.get(_w("abstractNumId"), "")] = levels
        for num in root.findall(_w("num")):
            self._levels[num.get(_w("numId"), "")] = abstract.get(_val(num, "abstractNumId") or "", {})

    def number(self, num_id: str, ilvl: int) -> str | None:
        """The shown number ("2.1.", "(a)"), "-" for a bullet, None for no numbering."""
        levels = self._levels.get(num_id)
        if not levels or ilvl not in levels:
            return None
        start, fmt, text = levels[ilvl]
        if fmt == "bullet":
            return "-"
        if fmt == "none":
            return None
        counts = self._counts.setdefault(num_id, [0] * 9)
        for deeper in range(ilvl + 1, 9):
            counts[deeper] = 0
        counts[ilvl] = counts[ilvl] + 1 if counts[ilvl] else start
        for upper in range(ilvl):  # a level never counted shows its start
            counts[upper] = counts[upper] or levels.get(upper, (1, "", ""))[0]

        def level(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            return _format(counts[k], levels.get(k, (1, "decimal", ""))[1]) if 0 <= k < 9 else ""
        return re.sub(r"%(\d)", level, text).strip() or None


def _num_pr(paragraph: Any) -> tuple[str, int] | None:
    """(numId, level) from the paragraph, else from its style (headings are often numbered by style)."""
    style = paragraph.style
    for ppr in (paragraph._p.pPr, style.element.pPr if style is not None else None):
        num = ppr.find(_w("numPr")) if ppr is not None else None
        if num is not None:
            num_id = _val(num, "numId")
            if num_id and num_id != "0":
                return num_id, int(_val(num, "ilvl") or 0)
    return None


class _Runs:
    """A paragraph's text with fields and hyperlinks written as links, and its bookmarks."""

    def __init__(self, rels: Any) -> None:
        self.rels = rels
        self.parts: list[str] = []
        self.bookmarks: list[str] = []
        self._fields: list[dict[str, Any]] = []  # open complex fields: instruction, shown text, state

    def _text(self, s: str) -> None:
        if self._fields:
            f = self._fields[-1]
            if f["shown"]:
                f["text"].append(s)
            return
        self.parts.append(s)

    def walk(self, el: Any) -> None:
        for child in el:
            tag = child.tag
            if tag == _w("t"):
                self._text(child.text or "")
            elif tag in (_w("tab"),):
                self._text("\t")
            elif tag in (_w("br"), _w("cr")):
                self._text("\n")
            elif tag == _w("instrText"):
                if self._fields:
                    self._fields[-1]["instr"] += child.text or ""
            elif tag == _w("fldChar"):
                self._field_char(child.get(_w("fldCharType")))
            elif tag == _w("bookmarkStart"):
                name = child.get(_w("name")) or ""
                if name and name not in _HIDDEN_BOOKMARKS:
                    self.bookmarks.append(name)
            elif tag == _w("hyperlink"):
                self._hyperlink(child)
            elif tag == _w("fldSimple"):
                inner = _Runs(self.rels)
                inner.walk(child)
                self.bookmarks.extend(inner.bookmarks)
                self._text(_field_text(child.get(_w("instr")) or "", "".join(inner.parts)))
            elif tag in (_w("delText"), _w("del"), _w("instrText")):
                continue
            else:  # runs, tracked insertions, smart tags, content controls
                self.walk(child)

    def _field_char(self, kind: str | None) -> None:
        if kind == "begin":
            self._fields.append({"instr": "", "text": [], "shown": False})
        elif kind == "separate" and self._fields:
            self._fields[-1]["shown"] = True
        elif kind == "end" and self._fields:
            f = self._fields.pop()
            self._text(_field_text(f["instr"], "".join(f["text"])))

    def _hyperlink(self, el: Any) -> None:
        inner = _Runs(self.rels)
        inner.walk(el)
        self.bookmarks.extend(inner.bookmarks)
        text = "".join(inner.parts)
        href = None
        if el.get(_w("anchor")):
            href = "#" + el.get(_w("anchor"))
        elif el.get(_R_ID) and el.get(_R_ID) in self.rels:
            rel = self.rels[el.get(_R_ID)]
            href = rel.target_ref if rel.is_external else None
        self._text(f"[{text}]({href})" if href and text.strip() else text)


def _field_text(instr: str, shown: str) -> str:
    m = _REF_FIELD.match(instr)
    if m and shown.strip():
        return f"[{shown.strip()}](#{m.group(1)})"
    return shown


def _heading_level(paragraph: Any) -> int | None:
    name = getattr(paragraph.style, "name", "") or ""
    m = _HEADING_STYLE.match(name)
    if m:
        return int(m.group(1))
    if name.lower() == "title":
        return 0
    ppr = paragraph._p.pPr
    level = _val(ppr, "outlineLvl")
    return int(level) + 1 if level and level.isdigit() and int(level) < 9 else None


def _table_lines(table: Any, rels: Any) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is listed once per grid column it spans
                continue
            seen.add(id(cell._tc))
            runs = _Runs(rels)
            for p in cell.paragraphs:
                runs.walk(p._p)
                runs.parts.append(" ")
            cells.append(" ".join("".join(runs.parts).split()))
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def parse(path: Path, raw: bytes, doc_id: str, warn: Warn | None = None) -> list[ParsedDocument]:
    """The document of a .docx file; `ParseError` (one line) for a file Word could not open either."""
    import docx  # imported here: only Word ingestion pays for it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise ParseError(f"not a readable Word (.docx) file: {type(e).__name__}: {' '.join(str(e).split())[:200]}") from None
    except Exception as e:  # lxml and python-docx raise many kinds on a damaged package
        raise ParseError(f"not a readable Word (.docx) file: {type(e).__name__}") from None
    rels = document.part.rels
    numbering = _Numbering(document)
    builder = SectionBuilder()
    title = (document.core_properties.title or "").strip()
    for block in document.iter_inner_content():
        if not hasattr(block, "style") or not hasattr(block, "_p"):  # a table
            builder.blank()
            for line in _table_lines(block, rels):
                builder.line(line, verbatim=True)
            builder.blank()
            continue
        runs = _Runs(rels)
        runs.walk(block._p)
        text = " ".join("".join(runs.parts).split())
        num = _num_pr(block)
        shown = numbering.number(*num) if num else None
        level = _heading_level(block)
        if level == 0 and text:
            title = title or text
            continue
        if level is not None and text:
            label = shown.rstrip(".") if shown and shown != "-" else heading_label(text)
            heading = f"{shown} {text}" if shown and shown != "-" else text
            builder.heading(level, heading, label=label, anchors=runs.bookmarks)
            continue
        if not text:
            for b in runs.bookmarks:
                builder.anchor(b)
            builder.blank()
            continue
        builder.blank()
        builder.line(f"{shown} {text}" if shown else text)
        for b in runs.bookmarks:
            builder.anchor(b, defer=False)
    sections = builder.finish()
    if not any(s.text.strip() or s.heading_path for s in sections):
        raise ParseError("Word file has no text")
    return [ParsedDocument(doc_id=doc_id, title=title or humanise(Path(path).stem), source=str(path), sections=sections)]
