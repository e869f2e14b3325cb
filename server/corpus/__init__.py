"""The read-side verbs over a stored index: search, get_passage, neighbors, follow_reference,
outline, list_documents. Plain Python: the MCP tools, the CLI and the evaluator call these."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from graph.backends import GraphStore, PassageStore
from graph.graph import doc_node
from graph.model import Mention, Passage, Reference
from graph.store import PassageTable, StoredIndex, links_by_source, load_index
from server.corpus.names import NameIndex
from server.corpus.results import (
    DocumentInfo, DocumentList, FollowResult, NeighborPassage, NeighborsResult, OutlineEntry,
    OutlineResult, PassageHit, PassageView, ReferenceInfo, SearchResult,
)
from server.errors import UsageError
from server.limits import LIMITS, check_range, check_text, shown

__all__ = ["Corpus", "Ranker"]

# (query, k, offset, document id or None) -> ranked (passage, score) pairs: another first stage for search
Ranker = Callable[[str, int, int, "str | None"], "list[tuple[Passage, float]]"]


def _info(r: Reference | Mention) -> ReferenceInfo:
    if isinstance(r, Mention):
        return ReferenceInfo(text=r.term, kind="mention", targets=[r.dst], resolved=True)
    return ReferenceInfo(text=r.text, kind="link" if r.kind == "link" else "reference",
                         targets=r.targets, resolved=r.resolved, reason=r.reason)


class Corpus:
    """Everything a read-side call needs, loaded once from an index folder."""

    def __init__(self, stored: StoredIndex) -> None:
        self.stored = stored
        self.passages: PassageStore = stored.passages
        self.by_id = stored.by_id
        self.graph: GraphStore = stored.graph
        # a passage's references and mentions, as stored; shown as ReferenceInfo when asked for
        self._links_of = getattr(stored, "links_of", None) or links_by_source(stored.references, stored.mentions)
        self._docs: dict[str, list[int]] = defaultdict(list)
        table = self.passages if isinstance(self.passages, PassageTable) else None
        if table:
            docs = [self._docs[d] for d in table.doc_ids]  # in order of first passage, as below
            for i, d in enumerate(table.doc_positions()):
                docs[d].append(i)
        else:
            for i in range(len(self.passages)):
                self._docs[self.passages[i].doc_id].append(i)
        self._doc_titles = dict(table.doc_titles) if table else {p.doc_id: p.doc_title for p in self.passages}
        self._titles: dict[str, list[str]] = defaultdict(list)
        for doc_id, title in self._doc_titles.items():
            self._titles[title.strip().lower()].append(doc_id)
        self._passage_names = NameIndex(self.by_id)
        self._doc_ids = NameIndex(list(self._docs))
        self._title_names = NameIndex(self._doc_titles.values())

    @classmethod
    def open(cls, folder: Path) -> Corpus:
        return cls(load_index(folder))

    # -- helpers -----------------------------------------------------------------------------
    def passage(self, pid: str) -> Passage:
        check_text("id", pid, "id")
        if pid not in self.by_id:
            close = self._passage_names.suggest(pid, cutoff=0.7)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"unknown passage id {shown(pid)}: use an id returned by search, neighbors or outline.{hint}")
        return self.passages[self.by_id[pid]]

    def references_of(self, pid: str) -> list[ReferenceInfo]:
        return [_info(r) for r in self._links_of(pid)]

    def document_id(self, document: str) -> str:
        """Accept a document id or its title (case-insensitive); a title two documents share is refused."""
        check_text("document", document, "name")
        if document in self._docs:
            return document
        by_id = self._doc_ids.exact(document)
        if by_id:
            return by_id
        titled = self._titles.get(document.strip().lower(), [])
        if len(titled) == 1:
            return titled[0]
        if titled:
            listed = ", ".join(repr(d) for d in titled[:10])
            raise UsageError(f"{len(titled)} documents are titled {shown(document)}: pass one of their ids ({listed})")
        close = self._title_names.suggest(document, cutoff=0.5) + self._doc_ids.suggest(document, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in dict.fromkeys(close))}?" if close else ""
        raise UsageError(f"unknown document {shown(document)}: call list_documents to see the ids.{hint}")

    def hit(self, p: Passage, score: float | None = None, max_chars: int = 600) -> PassageHit:
        text = p.text
        truncated = len(text) > max_chars
        if truncated:
            text = text[:max_chars].rstrip() + " …"
        raw = self._links_of(p.id)
        cap = LIMITS["refs_per_hit"]
        refs = [_info(r) for r in raw[:cap + 1]]  # a passage can cite hundreds: build only what is shown
        return PassageHit(
            id=p.id, document=p.doc_id, document_title=p.doc_title, label=p.label,
            heading_path=p.heading_path, score=None if score is None else round(score, 4),
            text=text, truncated=truncated, references=refs[:cap], more_references=max(0, len(raw) - cap),
        )

    def _edge_targets(self, pid: str, kind: str) -> list[str]:
        seen: dict[str, None] = {}
        for _, dst, data in self.graph.out_edges(pid, data=True):
            if data.get("kind") == kind:
                seen[dst] = None
        return list(seen)

    # -- verbs -------------------------------------------------------------------------------
    def bm25(self, query: str, k: int, offset: int = 0, doc_id: str | None = None) -> list[tuple[Passage, float]]:
        """Ranked (passage, score) pairs, no validation: the fast path for evaluation and traversal."""
        return [(self.passages[h.pos], h.score) for h in self.stored.bm25.search(query, k, offset, doc_id)]

    def search(self, query: str, k: int = 10, offset: int = 0, document: str | None = None, max_chars: int = 600,
               ranker: Ranker | None = None) -> SearchResult:
        """BM25 search, or `ranker`'s ranking (dense, hybrid: server.retrieval) with the same checks and hits."""
        check_text("query", query)
        check_range("k", k)
        check_range("offset", offset)
        check_range("max_chars", max_chars)
        doc_id = self.document_id(document) if document else None
        if ranker is None and not self.stored.bm25.terms(query):
            raise UsageError("query has no searchable words: use letters or numbers")
        ranked = (ranker or self.bm25)(query, k + 1, offset, doc_id)
        more = len(ranked) > k
        hits = [self.hit(p, s, max_chars) for p, s in ranked[:k]]
        hint = None
        if not hits:
            hint = "No matches found. Try fewer or different words" + (", or drop the document filter." if doc_id else ".")
        return SearchResult(query=query, hits=hits, next_offset=offset + k if more else None, hint=hint)

    def get_passage(self, id: str, max_chars: int = 20_000) -> PassageView:
        check_range("max_chars", max_chars)
        p = self.passage(id)
        parents = [t for t in self._edge_targets(p.id, "parent") if not t.startswith("doc::")]
        children = self._edge_targets(p.id, "child")
        prev = self._edge_targets(p.id, "prev")
        nxt = self._edge_targets(p.id, "next")
        cited_by = sorted({src for src, _, d in self.graph.in_edges(p.id, data=True) if d.get("kind") == "reference"})
        return PassageView(
            **self.hit(p, None, max_chars).model_dump(),
            parent=parents[0] if parents else None, children=children[:50],
            previous=prev[0] if prev else None, next=nxt[0] if nxt else None, cited_by=cited_by[:50],
        )

    def neighbors(self, id: str, before: int = 2, after: int = 2, max_chars: int = 600) -> NeighborsResult:
        check_range("before", before)
        check_range("after", after)
        check_range("max_chars", max_chars)
        p = self.passage(id)
        positions = self._docs[p.doc_id]
        at = positions.index(self.by_id[p.id])
        lo, hi = max(0, at - before), min(len(positions), at + after + 1)
        out = [
            NeighborPassage(**self.hit(self.passages[i], None, max_chars).model_dump(), is_target=(i == positions[at]))
            for i in positions[lo:hi]
        ]
        missing = (before - (at - lo)) + (after - (hi - at - 1))
        note = f"{missing} requested passage(s) fall outside the document." if missing else None
        return NeighborsResult(target=p.id, passages=out, note=note)

    def follow_reference(self, id: str, reference: str | None = None, max_chars: int = 1_500) -> FollowResult:
        check_range("max_chars", max_chars)
        p = self.passage(id)
        refs = self.references_of(p.id)
        if reference is None:
            note = None if refs else "This passage cites nothing that readtrail recognised; try neighbors or search."
            unresolved = sum(not r.resolved for r in refs)
            if unresolved:
                note = f"{unresolved} reference(s) could not be resolved to a passage; search for their text."
            cap = LIMITS["refs_listed"]
            if len(refs) > cap:
                note = f"{len(refs) - cap} more references not listed. " + (note or "")
            return FollowResult(id=p.id, references=refs[:cap], note=note)
        check_text("reference", reference, "name")
        wanted = reference.strip().lower()
        chosen = [r for r in refs if r.text.lower() == wanted or wanted in (t.lower() for t in r.targets)]
        if not chosen:
            chosen = [r for r in refs if wanted and wanted in r.text.lower()]
        if not chosen:
            listed = "; ".join(repr(r.text) for r in refs[:10]) or "none"
            raise UsageError(
                f"passage {p.id} has no reference {shown(reference)}. Its references: {listed}. "
                "Pass one of these texts or a target id, or omit reference to list them."
            )
        targets = list(dict.fromkeys(t for r in chosen for t in r.targets if t in self.by_id))
        note = None if targets else "That reference is unresolved: search for its text instead."
        return FollowResult(
            id=p.id, references=chosen,
            targets=[self.hit(self.passage(t), None, max_chars) for t in targets[:20]], note=note,
        )

    def outline(self, document: str, offset: int = 0) -> OutlineResult:
        doc_id = self.document_id(document)
        positions = self._docs[doc_id]
        if not 0 <= offset < max(1, len(positions)):
            raise UsageError(f"offset must be between 0 and {max(0, len(positions) - 1)} for {doc_id}, got {offset}")
        page = positions[offset: offset + LIMITS["outline"]]
        entries = []
        for i in page:
            p = self.passages[i]
            entries.append(OutlineEntry(
                id=p.id, label=p.label, heading=p.heading_path[-1] if p.heading_path else None,
                depth=max(0, len(p.heading_path) - 1), chars=len(p.text),
            ))
        return OutlineResult(
            document=doc_id, title=self._doc_titles[doc_id], entries=entries, total=len(positions),
            truncated=offset + len(page) < len(positions),
        )

    def list_documents(self, offset: int = 0, limit: int = 50) -> DocumentList:
        check_range("limit", limit)
        check_range("offset", offset)
        ids = list(self._docs)
        docs = [
            DocumentInfo(id=d, title=self._doc_titles[d], passages=len(self._docs[d]),
                         first_passage=self.passages[self._docs[d][0]].id, path=self.passages[self._docs[d][0]].source or None)
            for d in ids[offset: offset + limit]
        ]
        nxt = offset + limit if offset + limit < len(ids) else None
        return DocumentList(documents=docs, total=len(ids), next_offset=nxt)

    def document_node(self, doc_id: str) -> str:
        return doc_node(doc_id)
