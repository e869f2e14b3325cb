"""Gold file links for a folder of HTML pages, derived from the raw HTML the way a browser follows them.

    python bench/html_gold.py FOLDER > gold_links.tsv
    readtrail refs-eval --index DIR --gold gold_links.tsv

Every `<a href>` outside script/style/nav (the parts readtrail does not index) whose target is a
page of the folder: the path is resolved against the citing page's folder; the fragment is kept
when the target page has that `id` or `name` (else the row is file-level); links to the citing page
itself without a fragment, external links and links leaving the folder are left out.  Independent
of readtrail's own parser and resolver (the standard library's `html.parser` only).
"""
from __future__ import annotations

import posixpath
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

_SKIP = {"script", "style", "nav", "noscript", "template", "svg", "math", "iframe", "object"}
_PAGES = (".html", ".htm")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.ids.update(v.strip() for k, v in a.items() if k in ("id", "name") and v.strip())
        if tag in _SKIP:
            self._skip += 1
        elif tag == "a" and a.get("href", "").strip() and not self._skip:
            self.hrefs.append(a["href"].strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skip:
            self._skip -= 1


def _read(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    return page


def gold_rows(folder: Path) -> list[tuple[str, str, str]]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in _PAGES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    pages = {f.relative_to(folder).as_posix(): _read(f) for f in files}
    rows: list[tuple[str, str, str]] = []
    for src, page in pages.items():
        for href in page.hrefs:
            if ":" in href.split("/")[0].split("#")[0] or href.startswith("//"):
                continue  # a scheme: external
            path, _, frag = href.partition("#")
            path, frag = unquote(path.split("?")[0]), unquote(frag)
            dst = posixpath.normpath(posixpath.join(posixpath.dirname(src), path)) if path else src
            if dst not in pages or (dst == src and not frag):
                continue
            rows.append((src, dst, frag if frag in pages[dst].ids else ""))
    return rows


def main() -> None:
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit(__doc__)
    print("src_path\tdst_path\tdst_fragment")
    for row in gold_rows(Path(sys.argv[1])):
        print("\t".join(row))


if __name__ == "__main__":
    main()
