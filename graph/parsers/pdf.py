"""PDF with pypdf: the text of each page, then parsed as plain text.

Running headers, footers and page numbers are dropped (`graph.parsers.pages`).
A file pypdf cannot open, an encrypted file without an empty password, or a PDF with
no text layer raises `ParseError` with one line saying which.  At most `MAX_PAGES`
pages and `MAX_CHARS` characters of text are read; past that the rest is left out
with a warning.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path

from graph.model import ParsedDocument
from graph.parsers.pages import strip_running_lines
from graph.parsers.text import ParseError, Warn, humanise, parse_text

__all__ = ["parse", "MAX_PAGES", "MAX_CHARS"]

MAX_PAGES = 5_000
MAX_CHARS = 50_000_000


def _one_line(e: BaseException) -> str:
    msg = " ".join(str(e).split()) or type(e).__name__
    return msg[:200]


def _useful_title(t: str) -> bool:
    """Metadata titles are often the authoring tool's file name: skip those."""
    t = t.strip().lower()
    return bool(t) and t != "untitled" and not t.startswith("microsoft ") and not t.endswith(
        (".doc", ".docx", ".pdf", ".tex", ".dvi", ".odt", ".rtf")
    )


def parse(path: Path, raw: bytes, doc_id: str, warn: Warn | None = None) -> list[ParsedDocument]:
    """A PDF file: one document; pages are separated by blank lines."""
    from pypdf import PdfReader  # imported here: only PDF ingestion pays for it

    if b"%PDF-" not in raw[:1024]:
        raise ParseError("not a PDF: no %PDF- header")
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # malformed-but-readable files log a warning per object
    try:
        try:
            reader = PdfReader(io.BytesIO(raw), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ParseError("PDF is encrypted (a password is needed)")
            n_pages = len(reader.pages)
        except ParseError:
            raise
        except Exception as e:  # pypdf raises many kinds on broken files
            raise ParseError(f"not a readable PDF: {_one_line(e)}") from e
        if n_pages > MAX_PAGES and warn:
            warn(f"{n_pages} pages: only the first {MAX_PAGES} read")
        pages: list[str] = []
        total = 0
        failed: list[int] = []
        for i in range(min(n_pages, MAX_PAGES)):
            try:
                t = reader.pages[i].extract_text() or ""
            except Exception:  # one bad page does not lose the others
                failed.append(i + 1)
                continue
            pages.append(t.strip())
            total += len(t)
            if total > MAX_CHARS:
                if warn:
                    warn(f"text over {MAX_CHARS:,} characters: pages after {i + 1} left out")
                break
    finally:
        pypdf_log.setLevel(level)
    if failed and warn:
        shown = ", ".join(map(str, failed[:10])) + (" ..." if len(failed) > 10 else "")
        warn(f"text of {len(failed)} page(s) could not be extracted: {shown}")
    if not any(pages):
        raise ParseError(f"PDF has no extractable text in {n_pages} page(s) (scanned images?)")
    title = humanise(Path(path).stem)
    try:
        meta_title = (reader.metadata or {}).get("/Title")
        if isinstance(meta_title, str) and _useful_title(meta_title):
            title = " ".join(meta_title.split())
    except Exception:
        pass
    text = "\n\n".join(p for p in strip_running_lines(pages) if p)
    return [parse_text(text, doc_id, title, str(path), headings_anywhere=True)]
