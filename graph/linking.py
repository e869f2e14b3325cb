"""The link stage (references, containment, mentions, BM25) over all passages, redoing only what a change
can reach when the previous generation is given (`graph.previous`); the result is the same as without it.

A document is *changed* when its passages differ from the previous generation's (added and deleted ones
too).  Then:
- references: a passage's citations are taken from the previous generation when its document is unchanged;
  when every document name, file path and `:ref:` label still leads to the same documents
  (`ReferenceResolver.fingerprint`), a document's references are resolved again only if it changed or
  its resolution looked at a changed document (`ReferenceResolver.consulted`); otherwise all are;
- containment lies inside a document: redone for changed documents;
- mentions: the names a passage can mention are rebuilt from all passages (cheap); when they are the
  same as before, only changed documents' passages are scanned again, and the counts that drop too
  common names are taken over all passages, as in a full build;
- BM25: a copy of the previous index with changed documents replaced; their old passages still count in
  the term statistics until tantivy merges them, so once those stale passages pass `STALE_SHARE` of the
  index it is built afresh (scores match a full build again).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from graph.index import build_bm25, update_bm25
from graph.mentions import glossary_terms, lower_words, mention_terms, scan, select_mentions, term_trie, terms_fingerprint
from graph.model import Citation, Mention, Passage, Reference
from graph.references import extract_citations
from graph.previous import Previous
from graph.resolver import ReferenceResolver, resolve_references
from graph.structure import containment

__all__ = ["Linked", "link", "STALE_SHARE"]

STALE_SHARE = 0.05

Step = Callable[[str], None]
T = TypeVar("T")


@dataclass
class Linked:
    references: list[Reference]
    containment: list[tuple[str, str]]
    mentions: list[Mention]
    bm25: Callable[[Path], None]  # writes the BM25 index into a folder
    state: dict[str, Any]  # for graph.previous.manifest and the state files
    changed: int  # documents changed, added or deleted
    resolved_again: int  # documents whose references were resolved


def _by_doc(passages: list[Passage]) -> dict[str, list[Passage]]:
    docs: dict[str, list[Passage]] = {}
    for p in passages:
        docs.setdefault(p.doc_id, []).append(p)
    return docs


def link(passages: list[Passage], site_root: str | None, prev: Previous | None, step: Step | None = None,
         bm25_progress: Callable[[int], None] | None = None) -> Linked:
    def report(what: str) -> None:
        if step:
            step(what)

    docs = _by_doc(passages)
    old = prev.by_doc if prev else {}
    changed = {d for d, ps in docs.items() if old.get(d) != ps}
    dropped = set(old) - set(docs)
    report("references")
    resolver = ReferenceResolver(passages, site_root=site_root)
    references, redo, ref_state = _references(passages, docs, changed | dropped, resolver, prev)

    report("containment")
    edges = _by_doc_of(containment([p for d in changed for p in docs[d]]), lambda e: e[1], passages)
    contained = [e for d in docs for e in (edges.get(d, []) if d in changed else prev.containment.get(d, []) if prev else [])]

    report("mentions")
    mentions, mention_state = _mentions(passages, docs, changed, resolver, prev)

    write_bm25, stale = _bm25(passages, docs, changed, dropped, prev, bm25_progress)
    state = {**ref_state, **mention_state, "stale": stale}
    return Linked(references, contained, mentions, write_bm25, state, len(changed | dropped), len(redo))


def _references(passages: list[Passage], docs: dict[str, list[Passage]], gone: set[str], resolver: ReferenceResolver,
                prev: Previous | None) -> tuple[list[Reference], set[str], dict[str, Any]]:
    """(references in passage order, the documents resolved again, their state)."""
    fingerprint = resolver.fingerprint()
    if prev and fingerprint == prev.resolver:
        redo = {d for d in docs if d in gone or gone.intersection(prev.consulted.get(d, ()))}
    else:
        redo = set(docs)
    consulted: dict[str, set[str]] = {}
    stored = prev.citations if prev else {}
    # citations depend on the text alone: an unchanged document's are taken from the state
    citations: dict[str, list[Citation]] = {}
    for d in redo - gone:
        citations.update(_stored_citations(docs[d], stored.get(d)))
    refs = resolve_references(passages, resolver, only=redo, consulted=consulted, citations=citations)
    fresh = _by_doc_of(refs, lambda r: r.src, passages)
    references = [r for d in docs for r in (fresh.get(d, []) if d in redo or prev is None else prev.references.get(d, []))]
    consulted_out = {d: sorted(v) for d, v in consulted.items()}
    if prev:
        consulted_out.update({d: v for d, v in prev.consulted.items() if d in docs and d not in redo})
    lines = [_citation_row(d, ps, citations) if d in redo else stored.get(d) for d, ps in docs.items()]
    state = {"resolver": fingerprint, "consulted": consulted_out, "citations": [r for r in lines if r]}
    return references, redo, state


def _citation_row(doc: str, passages: list[Passage], citations: dict[str, list[Citation]]) -> dict[str, Any] | None:
    """A document's citations for the state (one line, led by its id; None when it has none)."""
    rows = {p.id: [vars(c) for c in citations[p.id]] for p in passages if citations[p.id]}
    return {"doc": doc, "passages": rows} if rows else None


def _stored_citations(passages: list[Passage], line: str | None) -> dict[str, list[Citation]]:
    """The citations of an unchanged document's passages from its state line; extracted again if unreadable."""
    try:
        rows = json.loads(line)["passages"] if line else {}
        return {p.id: [Citation(**c) for c in rows.get(p.id, [])] for p in passages}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {p.id: extract_citations(p.text) for p in passages}


def _bm25(passages: list[Passage], docs: dict[str, list[Passage]], changed: set[str], dropped: set[str],
          prev: Previous | None, progress: Callable[[int], None] | None) -> tuple[Callable[[Path], None], int]:
    """(what writes the BM25 index, how many stale passages it will count)."""
    old = prev.by_doc if prev else {}
    replaced = sum(len(old[d]) for d in (changed | dropped) if d in old)
    if prev is None or prev.stale + replaced > STALE_SHARE * len(passages):
        return (lambda folder: build_bm25(passages, folder, progress=progress)), 0
    previous, drop = prev.generation / "bm25", sorted((changed | dropped) & set(old))
    added = [p for d in docs if d in changed for p in docs[d]]
    return (lambda folder: update_bm25(previous, folder, drop, added, progress=progress)), prev.stale + replaced


def _by_doc_of(items: list[T], pid_of: Callable[[T], str], passages: list[Passage]) -> dict[str, list[T]]:
    """`items` grouped by the document of the passage `pid_of(item)` names, in their order."""
    doc_of = {p.id: p.doc_id for p in passages}
    out: dict[str, list[T]] = {}
    for item in items:
        out.setdefault(doc_of[pid_of(item)], []).append(item)
    return out


def _mentions(passages: list[Passage], docs: dict[str, list[Passage]], changed: set[str],
              resolver: ReferenceResolver, prev: Previous | None) -> tuple[list[Mention], dict[str, Any]]:
    def known(d: str) -> bool:
        return prev is not None and d not in changed and d in prev.vocab

    # per document: its lowercase words and its glossary entries, taken over where it is unchanged
    vocab = {d: prev.vocab[d] if known(d) else sorted(lower_words(ps)) for d, ps in docs.items()}  # type: ignore[union-attr]
    by_id = {p.id: p for p in passages}
    glossary = {d: prev.glossary.get(d, []) if known(d) else [[t, p.id] for t, p in glossary_terms(ps)]  # type: ignore[union-attr]
                for d, ps in docs.items()}
    terms = mention_terms(passages, resolver, {w for words in vocab.values() for w in words},
                          [(t, by_id[pid]) for entries in glossary.values() for t, pid in entries])
    fingerprint = terms_fingerprint(terms)
    trie = term_trie(terms)
    same = prev is not None and prev.terms == fingerprint
    hits = [
        [terms[k] for k in prev.hits.get(p.id, [])] if same and p.doc_id not in changed else scan(p, trie)
        for p in passages
    ]
    state = {
        "terms": fingerprint,
        "hits": [{"id": p.id, "terms": [t.key for t in found]} for p, found in zip(passages, hits) if found],
        "vocab": [{"doc": d, "words": words, "glossary": glossary[d]} for d, words in vocab.items()],
    }
    return select_mentions(passages, hits), state
