"""Links between files resolve like a browser: relative paths, .html -> .md, folder pages, fragments,
reference-style links, site-absolute paths; external and missing targets stay unresolved with a reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from graph.ids import distinct_titles
from graph.ingest import ingest
from graph.links import LinkIndex, split_href
from graph.model import Passage, Reference
from graph.resolver import resolve_references

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "linked_docs"


@pytest.fixture(scope="module")
def indexed() -> tuple[list[Passage], list[Reference]]:
    passages = ingest([FIXTURE]).passages
    distinct_titles(passages)
    return passages, resolve_references(passages)


def _link(refs: list[Reference], text: str) -> Reference:
    hits = [r for r in refs if r.kind == "link" and r.text.startswith(f"[{text}]")]
    assert len(hits) == 1, (text, [r.text for r in refs])
    return hits[0]


def _doc(passages: list[Passage], pid: str) -> str:
    return next(p.doc_id for p in passages if p.id == pid)


def _anchored(passages: list[Passage], doc: str, anchor: str) -> str:
    return next(p.id for p in passages if p.doc_id == doc and anchor in p.anchors)


@pytest.mark.parametrize(("text", "doc", "anchor"), [
    ("introduction", "guide.intro", None),  # relative path into a subfolder
    ("install it", "guide.install", "requirements"),  # .html finds the .md it is built from, with its fragment
    ("the FAQ", "html.faq", "faq.aliases"),  # HTML name= attribute
    ("API notes", "guide.install", "custom-id"),  # reference-style link, explicit {#id}
    ("Guide README", "guide.readme", None),  # collapsed reference link to a folder: its README
    ("top", "readme", None),  # ../ from a subfolder
    ("Next", "guide.install", None),
    ("requirements", "guide.install", "requirements"),
    ("custom section", "guide.install", "custom-id"),  # reference link whose text runs over two lines
    ("old name", "guide.install", "old-anchor"),  # <a id> kept above a renamed heading
    ("site", "guide.install", None),  # site-absolute /docs/guide/install/ with no site root set
])
def test_links_land_on_the_right_file_and_section(indexed, text: str, doc: str, anchor: str | None) -> None:
    passages, refs = indexed
    r = _link(refs, text)
    assert len(r.targets) == 1 and r.reason is None
    assert _doc(passages, r.targets[0]) == doc
    if anchor:
        assert r.targets[0] == _anchored(passages, doc, anchor)
    else:
        assert r.targets[0] == min((p for p in passages if p.doc_id == doc), key=lambda p: p.ord).id


def test_index_html_is_the_one_in_the_citing_folder(indexed) -> None:
    passages, refs = indexed
    ups = [r for r in refs if r.text.startswith("[Up](index.html)")]
    assert [_doc(passages, t) for r in ups for t in r.targets] == ["html.index"]  # not other/index.html


@pytest.mark.parametrize(("text", "reason"), [
    ("example", "external link"),
    ("missing", "no indexed file at guide/nowhere.md"),
    ("outside", "outside the indexed folder"),
    ("nowhere", "no anchor #no-such-anchor"),
])
def test_unresolved_links_say_why(indexed, text: str, reason: str) -> None:
    r = _link(indexed[1], text)
    assert r.targets == [] and r.reason and reason in r.reason


def test_comments_versions_and_addresses_are_not_references(indexed) -> None:
    texts = " ".join(r.text for r in indexed[1])
    assert "hidden" not in texts
    for number in ("2.37.3", "127.0.0.1", "10.0.0.2"):
        assert number not in texts
    assert not any("editors" in p.text for p in indexed[0])


def test_two_readmes_are_two_documents_with_their_paths(indexed) -> None:
    titles = {p.doc_id: p.doc_title for p in indexed[0]}
    assert titles["readme"] == "README (README.md)"
    assert titles["guide.readme"] == "README (guide/README.md)"
    assert titles["guide.intro"] == "Introduction"
    assert {p.source for p in indexed[0] if p.doc_id == "guide.readme"} == {"guide/README.md"}


def test_site_root_and_folder_pages() -> None:
    files = [("guide/install.md", "install"), ("index.md", "home"), ("docs/x/index.html", "x")]
    auto = LinkIndex(files)
    assert auto.locate("/docs/guide/install/", "a.md", "a").doc == "install"  # mount point guessed
    assert auto.locate("/", "a.md", "a").doc == "home"
    assert auto.locate("/elsewhere/index.html", "a.md", "a").doc is None  # a bare index.html names no page here
    rooted = LinkIndex(files, site_root="/docs/")
    assert rooted.locate("/docs/guide/install", "a.md", "a").doc == "install"
    assert rooted.locate("/docs/", "a.md", "a").doc == "home"
    t = rooted.locate("/blog/post.html", "a.md", "a")
    assert t.doc is None and "outside the site root" in (t.reason or "")
    assert LinkIndex(files, site_root="/").locate("/docs/x/", "a.md", "a").doc == "x"
    assert auto.locate("x/", "docs/page.md", "p").doc == "x"
    assert auto.locate("mailto:a@b.c", "a.md", "a").reason == "external link"
    assert split_href("<a%20b.md?x=1#S%C3%A9ance>") == ("a b.md", "Séance")


def test_several_source_folders_keep_their_own_index_pages(tmp_path: Path) -> None:
    for pkg in ("alpha", "beta"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "index.html").write_text(f"<h1>{pkg} manual</h1><p>About {pkg}.</p>", encoding="utf-8")
        (tmp_path / pkg / "page.html").write_text(f'<p>Back <a href="index.html">up</a> in {pkg}.</p>', encoding="utf-8")
    sources = [tmp_path / "alpha", tmp_path / "beta"]
    result = ingest(sources)
    passages = result.passages
    assert sorted({p.source for p in passages}) == ["alpha/index.html", "alpha/page.html", "beta/index.html", "beta/page.html"]
    # ids from the path inside the folder the sources share: no clash, nothing renamed
    assert sorted({p.doc_id for p in passages}) == ["alpha.index", "alpha.page", "beta.index", "beta.page"]
    assert not any("renamed" in e.reason for e in result.errors)
    doc = {p.id: p for p in passages}
    for r in resolve_references(passages):
        assert doc[r.targets[0]].source.split("/")[0] == doc[r.src].source.split("/")[0]


@pytest.mark.parametrize(("src", "text", "doc", "anchor"), [
    ("sphinx.index", "usage", "sphinx.usage", None),  # toctree entry and :doc:
    ("sphinx.index", "Reference", "sphinx.api.reference", None),  # toctree "Title <path>"
    ("sphinx.index", "the options", "sphinx.usage", "widget-options"),  # :ref: to a label in another document
    ("sphinx.usage", "reference-calls", "sphinx.api.reference", "reference-calls"),
    ("sphinx.api.reference", "../index", "sphinx.index", None),  # :doc: relative
])
def test_rst_roles_and_toctree(indexed, src: str, text: str, doc: str, anchor: str | None) -> None:
    passages, refs = indexed
    by_id = {p.id: p for p in passages}
    r = next(r for r in refs if by_id[r.src].doc_id == src and r.text.startswith(f"[{text}]("))
    assert len(r.targets) == 1 and by_id[r.targets[0]].doc_id == doc
    if anchor:
        assert anchor in by_id[r.targets[0]].anchors


def test_rst_comments_code_and_external_targets(indexed) -> None:
    passages, refs = indexed
    text = " ".join(p.text for p in passages if p.source.startswith("sphinx/"))
    assert "comment" not in text and "_Example:" not in text
    assert "widget.start()" in text  # code kept as text, its :doc: not a link
    assert not any("not-a-link" in r.text for r in refs)
    ext = [r for r in refs if r.text.startswith(("[project site]", "[Example]"))]
    assert len(ext) == 2 and all(r.reason == "external link" for r in ext)


def test_prechunked_jsonl_passages_keep_name_matching() -> None:
    a = Passage(id="a:1", doc_id="c.rules", doc_title="Rules", ord=0, text="See [guide](../guide.md).", source="c.jsonl")
    b = Passage(id="b:1", doc_id="c.guide", doc_title="Guide", ord=0, text="Guide text.", source="c.jsonl")
    refs = resolve_references([a, b])
    assert [r.targets for r in refs] == [["b:1"]]  # by the file's stem, as before paths were kept


def test_product_versions_are_not_references() -> None:
    p = Passage(id="n:1", doc_id="notes", doc_title="Notes", ord=0, source="notes.md",
                text="Built with ICU 58.2 and NSS 3.104 over TLS 1.3, glibc 2.37.3, on 127.0.0.1.")
    assert resolve_references([p]) == []
