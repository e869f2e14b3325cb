"""Hyperlink targets found the way a browser (or a static-site generator) finds them.

A relative link is resolved against the citing file's folder (`posixpath` rules, `..`
included); a link that leaves the indexed folder, an external URL (`https:`, `mailto:`,
`//host`) and a path no indexed file answers stay unresolved with a reason.  Only
indexed paths count: a link is never matched by a title or a file's stem elsewhere.

Where the exact file is not indexed, the file it was built from or that serves it is:
`x.html` -> `x.md` (mdBook, MkDocs, Sphinx render sources to `.html`), `index.html` ->
`README.md`, a folder `x/` -> `x/index.html`, `x/index.md`, `x/README.md` or `x.md`
(pretty URLs), `x` -> `x.md` / `x.html`; a compressed `x.html.gz` answers for `x.html`.  A site-absolute
path (`/docs/x/`) is resolved against `site_root`, the URL path at which the indexed folder is served (`"/"`, or
`"/docs/"`); when it is not given, the path is tried from the folder root and then
without its leading folders, and only an indexed file counts.
"""
from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from graph.model import Passage

__all__ = ["EXTERNAL", "LABEL_SCHEME", "OWN_PASSAGE", "LinkTarget", "LinkIndex", "by_path", "split_href", "is_external"]

LABEL_SCHEME = "rst-label:"  # `[text](rst-label:name)`: Sphinx's :ref:, a label defined in any document
EXTERNAL = "external link"  # the reason given for a link out of the indexed folder's site
OWN_PASSAGE = "refers to its own passage"  # resolved to the citing passage: no edge to itself

_PRECHUNKED = (".jsonl",)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
_SOURCE_EXTS = (".md", ".markdown", ".rst", ".txt", ".adoc")
_RENDERED_EXTS = (".html", ".htm", ".xhtml")
_FOLDER_PAGES = ("index.html", "index.htm", "index.md", "README.md", "readme.md", "_index.md", "index.rst")


@dataclass(frozen=True)
class LinkTarget:
    doc: str | None  # the document linked to, None when unresolved
    fragment: str  # the part after `#`, percent-decoded ("" when none)
    reason: str | None = None  # why `doc` is None


def by_path(p: Passage) -> bool:
    """Whether links of (and to) this passage go by file path: it has a file of its own, not a line of a
    pre-chunked JSONL file whose links name files that were never indexed."""
    return bool(p.source) and not p.source.lower().endswith(_PRECHUNKED)


def is_external(href: str) -> bool:
    """True for a URL with a scheme (`https:`, `mailto:`) or a host (`//example.org`)."""
    h = href.strip()
    return bool(_SCHEME.match(h)) or h.startswith("//")


def split_href(href: str) -> tuple[str, str]:
    """(path, fragment) of a link, both percent-decoded; the `?query` is dropped."""
    h = href.strip()
    if h.startswith("<") and h.endswith(">"):
        h = h[1:-1].strip()
    path, _, fragment = h.partition("#")
    path = path.split("?", 1)[0]
    return unquote(path), unquote(fragment)


def _norm(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/")).lstrip("/") if path else ""


class LinkIndex:
    """Indexed files by their path relative to the indexed folder -> document id."""

    def __init__(self, files: Iterable[tuple[str, str]], site_root: str | None = None) -> None:
        """`files`: (relative path, doc id); the first document of a path wins (JSONL files hold many)."""
        self._exact: dict[str, str] = {}
        folded: dict[str, set[str]] = defaultdict(set)
        gz: list[tuple[str, str]] = []
        for path, doc in files:
            rel = _norm(path)
            if rel and rel != ".":
                self._exact.setdefault(rel, doc)
                folded[rel.lower()].add(self._exact[rel])
                if rel.lower().endswith(".gz"):
                    gz.append((rel[:-3], doc))
        for rel, doc in gz:  # `x.html.gz` answers for `x.html` where no `x.html` is indexed
            if rel and rel not in self._exact:
                self._exact[rel] = doc
                folded[rel.lower()].add(doc)
        self._folded = {k: next(iter(v)) for k, v in folded.items() if len(v) == 1}
        self.site_root = None if site_root is None else "/" + site_root.strip("/") + "/" if site_root.strip("/") else "/"

    def __bool__(self) -> bool:
        return bool(self._exact)

    def _file(self, rel: str) -> str | None:
        return self._exact.get(rel) or self._folded.get(rel.lower())

    def find(self, rel: str, folder: bool = False) -> str | None:
        """The document at `rel` (normalised, relative to the indexed folder) or the one it was built from."""
        rel = rel.strip("/")
        candidates: list[str] = []
        if rel and not folder:
            candidates.append(rel)
            stem, ext = posixpath.splitext(rel)
            low = ext.lower()
            if low in _RENDERED_EXTS:
                candidates += [stem + e for e in _SOURCE_EXTS]
                if posixpath.basename(stem).lower() == "index":
                    head = posixpath.dirname(stem)
                    candidates += [posixpath.join(head, n) for n in _FOLDER_PAGES]
            elif low in _SOURCE_EXTS:
                candidates += [stem + e for e in _RENDERED_EXTS + _SOURCE_EXTS]
            elif not low or not low[1:].isalpha():  # "x" or "v1.2": a pretty URL
                candidates += [rel + e for e in _SOURCE_EXTS + _RENDERED_EXTS]
                folder = True
        if folder or not rel:
            candidates += [posixpath.join(rel, n) if rel else n for n in _FOLDER_PAGES]
            if rel:
                candidates += [rel + e for e in _SOURCE_EXTS + _RENDERED_EXTS]
        for c in candidates:
            doc = self._file(c)
            if doc is not None:
                return doc
        return None

    def locate(self, href: str, citing_source: str, citing_doc: str) -> LinkTarget:
        """Where `href`, written in the file at `citing_source`, leads."""
        if not href.strip():
            return LinkTarget(None, "", "empty link")
        if is_external(href):
            return LinkTarget(None, "", EXTERNAL)
        path, fragment = split_href(href)
        if not path:
            return LinkTarget(citing_doc, fragment) if fragment else LinkTarget(None, "", "link to its own page")
        folder = path.endswith("/")
        if path.startswith("/"):
            return self._site_absolute(path, fragment, folder)
        base = posixpath.dirname(_norm(citing_source))
        joined = posixpath.normpath(posixpath.join(base, path))
        if joined == ".." or joined.startswith("../"):
            return LinkTarget(None, fragment, f"{path} is outside the indexed folder")
        doc = self.find("" if joined == "." else joined, folder)
        if doc is None:
            return LinkTarget(None, fragment, f"no indexed file at {joined}")
        return LinkTarget(doc, fragment)

    def _site_absolute(self, path: str, fragment: str, folder: bool) -> LinkTarget:
        norm = posixpath.normpath(path)
        if self.site_root is not None:
            if not (norm + "/").startswith(self.site_root):
                return LinkTarget(None, fragment, f"{path} is outside the site root {self.site_root}")
            doc = self.find(_norm(norm[len(self.site_root) - 1:]), folder)
            return LinkTarget(doc, fragment, None if doc else f"no indexed file at {path} (site root {self.site_root})")
        parts = [p for p in norm.split("/") if p]
        if not parts:
            doc = self.find("", True)
            return LinkTarget(doc, fragment, None if doc else "no indexed page at the folder root")
        # the site root is not known: the folder root, then mount points one or two folders deep
        # ("/docs/x/" -> "x/"); a bare "index.html" left over names no page of this folder
        for i in range(min(len(parts), 3)):
            rest = parts[i:]
            if i and len(rest) == 1 and rest[0] in _FOLDER_PAGES:
                break
            doc = self.find("/".join(rest), folder)
            if doc is not None:
                return LinkTarget(doc, fragment)
        return LinkTarget(None, fragment, f"no indexed file at {path} (site-absolute; set the site root)")
