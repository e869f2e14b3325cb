"""`readtrail refs-eval`: how many hand-labelled reference edges the graph recovered.

Two gold formats, told apart by the TSV's header line:

- `src`, `dst`: passage ids (ADGM cross-references); recall, with containment counted;
- `src_path`, `dst_path`, `dst_fragment`: hyperlinks between files, paths relative to the
  indexed folder (the fragment may be empty); recall and precision at file level and, for
  rows with a fragment, at section level (the link lands on the passage carrying that anchor).
  A wrong target counts against precision; an unresolved link only against recall.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from graph.ids import slug_doc_id
from graph.links import OWN_PASSAGE, split_href
from graph.model import Passage, Reference

if TYPE_CHECKING:  # the link evaluation runs on passages alone (bench/docs_links.py), without the index stack
    from server.corpus import Corpus

__all__ = ["GoldLinks", "load_gold_edges", "refs_eval", "link_eval"]

_HREF = re.compile(r"\]\((?P<md><[^<>\n]*>|(?:[^()\s]|\([^()\s]*\))+)|href\s*=\s*[\"'](?P<html>[^\"']+)", re.I)


@dataclass
class GoldLinks:
    """Gold hyperlinks: (src_path, dst_path, dst_fragment) rows, paths relative to the indexed folder."""

    rows: list[tuple[str, str, str]]


def load_gold_edges(path: Path) -> list[tuple[str, str]] | GoldLinks:
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        fields = set(reader.fieldnames or [])
        if {"src_path", "dst_path"} <= fields:
            return GoldLinks([(r["src_path"], r["dst_path"], r.get("dst_fragment") or "") for r in reader])
        if not {"src", "dst"} <= fields:
            raise ValueError(
                f"{path}: needs a header with src and dst columns (passage ids), or src_path, dst_path and "
                "dst_fragment (file links), tab-separated")
        return [(row["src"], row["dst"]) for row in reader]


def _chain(corpus: Corpus, pid: str, kind: str) -> set[str]:
    """All passages reachable from pid along `kind` edges (parent: ancestors, child: descendants)."""
    seen: set[str] = set()
    stack = [pid]
    while stack:
        node = stack.pop()
        for _, nxt, data in corpus.graph.out_edges(node, data=True):
            if data.get("kind") == kind and nxt not in seen and not nxt.startswith("doc::"):
                seen.add(nxt)
                stack.append(nxt)
    return seen


def refs_eval(corpus: Corpus, gold: list[tuple[str, str]] | GoldLinks) -> dict[str, object]:
    """Recall: src has a reference edge to dst, or to a section containing dst, or to one dst contains.
    File-link gold (`GoldLinks`): see `link_eval`."""
    if isinstance(gold, GoldLinks):
        return link_eval(corpus.passages, corpus.stored.references, gold)
    targets: dict[str, set[str]] = {}
    for r in corpus.stored.references:
        targets.setdefault(r.src, set()).update(r.targets)
    found = 0
    for src, dst in gold:
        hit = targets.get(src, set())
        if not hit:
            continue
        if dst in hit or hit & _chain(corpus, dst, "parent") or hit & _chain(corpus, dst, "child"):
            found += 1
    refs = corpus.stored.references
    resolved = sum(r.resolved for r in refs)
    edges = sum(len(set(r.targets)) for r in refs)
    return {
        "recall": round(found / len(gold), 4) if gold else 0.0,
        "gold_edges": len(gold),
        "resolved": resolved,
        "unresolved": len(refs) - resolved,
        "mean_out_degree": round(edges / max(1, len(corpus.passages)), 4),
    }


def _href(ref: Reference) -> str | None:
    """The link target written in a link reference's text, or None for a citation in words."""
    if ref.kind and ref.kind != "link":
        return None
    m = _HREF.search(ref.text)
    if m is None or not (ref.kind == "link" or ref.text.startswith(("[", "<"))):
        return None
    return m.group("md") or m.group("html")


def _ratio(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def link_eval(passages: Sequence[Passage], references: Sequence[Reference], gold: GoldLinks, show: int = 20) -> dict[str, object]:
    """File- and section-level recall and precision of the graph's hyperlink edges against gold links.

    Recall: a gold (src, dst) has a link reference from a passage of src into dst; a gold (src, dst, fragment)
    one onto the passage that carries the anchor (a link to an anchor in its own passage, kept without an
    edge to itself, counts).  Precision: of the resolved link references (every target counts), the share
    whose (src file, target file) is a gold pair; of those whose link has a fragment, the share landing on
    the anchor's passage of a gold (src, dst, fragment) -- a fragment the gold keeps only at file level
    (an anchor the target page lacks) is judged at file level only.
    """
    doc_of = {p.id: p.doc_id for p in passages}
    path_of: dict[str, str] = {}
    for p in passages:
        path_of.setdefault(p.doc_id, p.source or p.doc_id)
    doc_at = {path: doc for doc, path in path_of.items()}

    def doc_for(path: str) -> str | None:  # indexes without paths: the doc id the path maps to
        return doc_at.get(path) or (slug_doc_id(path) if slug_doc_id(path) in path_of else None)

    for path in {x for s, d, _ in gold.rows for x in (s, d)}:
        doc = doc_for(path)
        if doc is not None and path_of.get(doc) == doc:  # no path kept: name the document by the gold's path
            path_of[doc] = path

    anchor_at: dict[tuple[str, str], str] = {}
    for p in passages:
        for a in p.anchors:
            anchor_at.setdefault((p.doc_id, a.lstrip("#").lower()), p.id)
    pairs = {(s, d) for s, d, _ in gold.rows}
    triples = {(s, d, f.lower()) for s, d, f in gold.rows if f}
    docs_pairs = {(doc_for(s), doc_for(d)) for s, d in pairs}
    section_pid = {(s, d, f): anchor_at.get((doc_for(d) or "", f)) for s, d, f in triples}

    linked: set[tuple[str, str]] = set()  # (src doc, target doc)
    landed: set[tuple[str, str]] = set()  # (src doc, target passage)
    file_pred = file_ok = sec_pred = sec_ok = 0
    wrong: list[str] = []
    for ref in references:
        href = _href(ref)
        targets = ref.targets or ([ref.src] if ref.reason == OWN_PASSAGE else [])
        if href is None or not targets:
            continue
        src_doc = doc_of.get(ref.src, "")
        frag = split_href(href)[1].lower()
        for t in targets:
            dst_doc = doc_of.get(t, "")
            linked.add((src_doc, dst_doc))
            landed.add((src_doc, t))
            file_pred += 1
            ok = (src_doc, dst_doc) in docs_pairs
            file_ok += ok
            key = (path_of.get(src_doc, ""), path_of.get(dst_doc, ""), frag)
            if frag and (key in section_pid or not ok):
                sec_pred += 1
                good = section_pid.get(key) == t
                sec_ok += good
                ok = ok and good
            if not ok and len(wrong) < show:
                wrong.append(f"{path_of.get(src_doc)}: {ref.text[:80]} -> {t}")
    file_found = [(s, d) for s, d in pairs if (doc_for(s), doc_for(d)) in linked]
    sec_found = [k for k, pid in section_pid.items() if pid and (doc_for(k[0]), pid) in landed]
    missed = sorted({f"{s} -> {d}" for s, d in pairs} - {f"{s} -> {d}" for s, d in file_found})
    missed += sorted({f"{s} -> {d}#{f}" for s, d, f in triples} - {f"{s} -> {d}#{f}" for s, d, f in sec_found})
    return {
        "file_recall": _ratio(len(file_found), len(pairs)),
        "file_precision": _ratio(file_ok, file_pred),
        "section_recall": _ratio(len(sec_found), len(triples)),
        "section_precision": _ratio(sec_ok, sec_pred),
        "gold_rows": len(gold.rows),
        "gold_file_pairs": len(pairs),
        "gold_sections": len(triples),
        "resolved_links": file_pred,
        "links_judged_at_section_level": sec_pred,
        "unresolved_links": sum(1 for r in references if not r.targets and r.reason != OWN_PASSAGE and _href(r) is not None),
        "missed": missed[:show],
        "wrong": wrong,
    }
