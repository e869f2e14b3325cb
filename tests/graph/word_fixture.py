"""A Word file written with python-docx, as Word writes one: a title, numbered headings (Word's list
numbering on the heading styles), numbered paragraphs, a table, bookmarks, a REF field and an
internal hyperlink to them, and a cross-reference in words."""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

__all__ = ["write_policy_docx"]

_HEADING_NUM_ID = "90"


def _heading_numbering(document) -> None:  # type: ignore[no-untyped-def]
    """A multilevel list ("1", "1.1") on Heading 1 and Heading 2, as Word's outline numbering does."""
    numbering = document.part.numbering_part.element
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), "90")
    for ilvl, text in ((0, "%1"), (1, "%1.%2")):
        lvl = OxmlElement("w:lvl")
        lvl.set(qn("w:ilvl"), str(ilvl))
        for tag, val in (("w:start", "1"), ("w:numFmt", "decimal"), ("w:lvlText", text)):
            el = OxmlElement(tag)
            el.set(qn("w:val"), val)
            lvl.append(el)
        abstract.append(lvl)
    numbering.insert(0, abstract)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), _HEADING_NUM_ID)
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), "90")
    num.append(ref)
    numbering.append(num)
    for ilvl, style in ((0, "Heading 1"), (1, "Heading 2")):
        ppr = document.styles[style].element.get_or_add_pPr()
        num_pr = OxmlElement("w:numPr")
        for tag, val in (("w:ilvl", str(ilvl)), ("w:numId", _HEADING_NUM_ID)):
            el = OxmlElement(tag)
            el.set(qn("w:val"), val)
            num_pr.append(el)
        ppr.insert(0, num_pr)


def _bookmark(paragraph, name: str, ident: int) -> None:  # type: ignore[no-untyped-def]
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(ident))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(ident))
    paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, start)
    paragraph._p.append(end)


def _run(paragraph, **child: str):  # type: ignore[no-untyped-def]
    r = OxmlElement("w:r")
    for tag, value in child.items():
        el = OxmlElement(f"w:{tag}")
        if tag == "fldChar":
            el.set(qn("w:fldCharType"), value)
        else:
            el.text = value
            el.set(qn("xml:space"), "preserve")
        r.append(el)
    paragraph._p.append(r)


def _ref_field(paragraph, bookmark: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    """A complex REF field, as Insert > Cross-reference writes it."""
    _run(paragraph, fldChar="begin")
    _run(paragraph, instrText=f" REF {bookmark} \\r \\h ")
    _run(paragraph, fldChar="separate")
    _run(paragraph, t=shown)
    _run(paragraph, fldChar="end")


def _internal_link(paragraph, bookmark: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), bookmark)
    r = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = shown
    r.append(t)
    link.append(r)
    paragraph._p.append(link)


def write_policy_docx(path: Path) -> Path:
    document = Document()
    document.core_properties.title = "Infusion Pump Policy"
    _heading_numbering(document)
    document.add_paragraph("Infusion Pump Policy", style="Title")
    scope = document.add_heading("Scope", level=1)  # shown as "1 Scope"
    _bookmark(scope, "_RefScope", 1)
    document.add_paragraph("This policy covers every infusion pump on the wards.")
    document.add_heading("Procedure", level=1)  # "2 Procedure"
    checks = document.add_heading("Daily checks", level=2)  # "2.1 Daily checks"
    _bookmark(checks, "_Ref21", 2)
    document.add_paragraph("Check the battery before use.", style="List Number")
    document.add_paragraph("Check the line for air.", style="List Number")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, (("Item", "Frequency"), ("Battery", "Daily"), ("Filter", "Weekly"))):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_heading("Escalation", level=2)  # "2.2 Escalation"
    p = document.add_paragraph("If a check fails, follow the checks in section ")
    _ref_field(p, "_Ref21", "2.1")
    p.add_run(" again and read the ")
    _internal_link(p, "_RefScope", "scope of this policy")
    p.add_run(". Alarms are handled as set out in section 2.1 of this policy.")
    document.save(str(path))
    return path
