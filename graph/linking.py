"""The link stage (references, containment, mentions, BM25) over all passages, redoing only what a change
can reach when the previous generation is given (`graph.previous`); the result is the same as without it,
byte for byte.

A document is *changed* when its passages' rows differ from the previous generation's (added and
deleted ones too); an unchanged file's documents come as hollow passages (no text, `previous.Hollow`)
whose rows are copied from the previous generation (`store.Block`).  Then:
- references: a passage's citations are taken from the previous generation when its text is as it was there
  (in a changed document too: its previous passages are read back anyway, for the mention counts);
  when every document name, file path and `:ref:` label still leads to the same documents
  (`ReferenceResolver.fingerprint`), a document's references are resolved again only if it changed or
  its resolution looked at a changed document (`ReferenceResolver.consulted`); otherwise all are.  The
  resolver's tables are built from every passage's label, headings and anchors, and from the
  abbreviation definitions stored per document (its text is read only for changed documents);
- containment lies inside a document: redone for changed documents, copied for the others;
- mentions: the names a passage can mention are rebuilt from all passages (cheap: per-document
  lowercase words are counted in the state); when they are the same as before, only changed documents'
  passages whose text changed are scanned again, otherwise every passage is (its text read back), and the counts that drop
  too common names are taken over all passages, as in a full build;
- BM25: a copy of the previous index with changed documents replaced; their old passages still count in
  the term statistics until tantivy merges them, so once those stale passages pass `STALE_SHARE` of the
  index it is built afresh from every passage's text (scores match a full build again).

A full build of `parallel.MIN_PASSAGES` passages or more spreads the work over processes (`graph.parallel`),
with the same result byte for byte: each document's text work (citations, lowercase words, glossary) begins
in a pool while the files are parsed (`TextsAhead`), BM25 is built in a process of its own (`bm25_ahead`),
and a second pool scans the passages for names and encodes their rows while this process resolves references.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from graph import parallel
from graph.index import build_bm25, update_bm25
from graph.mentions import glossary_terms, lower_words, mention_terms, scan, select_mentions, term_trie, terms_fingerprint
from graph.model import Citation, Mention, Passage, Reference
from graph.previous import DocState, Hollow, Previous, skeleton
from graph.references import extract_citations
from graph.resolver import ReferenceResolver, resolve_references
from graph.store import Block, encode_line, encode_rows
from graph.structure import containment

__all__ = ["Bm25Job", "Linked", "TextsAhead", "bm25_ahead", "link", "STALE_SHARE"]

STALE_SHARE = 0.05

Step = Callable[[str], None]
T = TypeVar("T")
Rows = list[bytes | Block]  # one item per document, in passage order


@dataclass
class Linked:
    passages: Rows
    references: Rows
    containment: Rows
    mentions: list[Mention]
    bm25: Callable[[Path], None]  # writes the BM25 index into a folder
    state: dict[str, Any]  # for graph.previous.manifest and the state files
    counts: dict[str, int]  # passages, references, resolved
    changed: int  # documents changed, added or deleted
    resolved_again: int  # documents whose references were resolved
    read_back: int  # unchanged documents whose passages were read back (their text was needed)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Docs:
    """The passages by document; a hollow document's passages are read back when their text is needed."""

    def __init__(self, passages: list[Passage], prev: Previous | None) -> None:
        self.by_doc: dict[str, list[Passage]] = {}
        for p in passages:
            self.by_doc.setdefault(p.doc_id, []).append(p)
        self.prev = prev
        self.read_back = 0

    def hollow(self, d: str) -> bool:
        return isinstance(self.by_doc[d][0], Hollow)

    def fill(self, docs: set[str] | None = None) -> None:
        """Read back the text of these hollow documents (all when None), keeping titles and paths as now."""
        for d in list(self.by_doc if docs is None else docs):
            ps = self.by_doc[d]
            if isinstance(ps[0], Hollow):
                assert self.prev is not None
                real = self.prev.passages_of(d)
                self.by_doc[d] = [replace(p, doc_title=ps[0].doc_title, source=ps[0].source) for p in real]
                self.read_back += 1

    def passages(self) -> list[Passage]:
        return [p for ps in self.by_doc.values() for p in ps]


def link(passages: list[Passage], site_root: str | None, prev: Previous | None, step: Step | None = None,
         bm25_progress: Callable[[int], None] | None = None, bm25_job: Bm25Job | None = None,
         texts: TextsAhead | None = None) -> Linked:
    """`bm25_job`: the BM25 index of these passages being built meanwhile (`bm25_ahead`); `texts`: their
    passages given to it as they were parsed (a full build)."""
    def report(what: str) -> None:
        if step:
            step(what)

    docs = _Docs(passages, prev)
    old: dict[str, DocState] = prev.docs if prev else {}
    # a full build of many passages does the work of each passage in worker processes (`graph.parallel`)
    workers = parallel.link_workers(len(passages)) if prev is None else 0
    if texts and not workers:
        texts.close()
    found = _texts(docs, workers, texts) if workers else None
    # a hollow document keeps its rows unless its title or path was told apart otherwise this time
    copied = {d for d, ps in docs.by_doc.items() if docs.hollow(d) and (ps[0].doc_title, ps[0].source) == (old[d].title, old[d].source)}
    docs.fill(set(d for d in docs.by_doc if docs.hollow(d)) - copied)
    if found is not None:  # every document is new (a full build): its rows are encoded by the workers that scan it (below)
        encoded, digest = {}, {}
    else:
        encoded = {d: encode_rows(Passage, ps) for d, ps in docs.by_doc.items() if d not in copied}
        digest = {d: old[d].passages[2] if d in copied else _sha(encoded[d]) for d in docs.by_doc}
    changed = {d for d in docs.by_doc if d not in old or old[d].passages[2] != digest[d]}
    dropped = set(old) - set(docs.by_doc)
    replaced = sum(len(old[d].skeleton) for d in changed | dropped if d in old)
    rebuild_bm25 = prev is None or prev.stale + replaced > STALE_SHARE * len(passages)
    if rebuild_bm25:
        docs.fill()

    report("references")
    passages = docs.passages()
    resolver = ReferenceResolver(passages, site_root=site_root,
                                 defs={d: [tuple(x) for x in old[d].defs] for d in docs.by_doc if docs.hollow(d)})
    names = _mention_names(docs, changed, dropped, resolver, prev, found)
    rows_to = bm25_job.folder if bm25_job else None
    with _scans_pooled(docs, names, workers, rows_to) as scanned:  # the passages are scanned (and encoded) meanwhile
        refs, redo, ref_state = _references(docs, changed | dropped, resolver, prev, found.citations if found else None)

        report("containment")
        edges = _by_doc_of(containment([p for d in changed for p in docs.by_doc[d]]), lambda e: e[1], docs)

        report("mentions")
        mentions, mention_state, glossary, hits = _mentions(docs, changed, prev, names, scanned.keys if scanned is not None else None)
        if scanned is not None:
            encoded, digest = scanned.rows()

    passages = docs.passages()
    if bm25_job:
        write_bm25, stale = bm25_job.write(bm25_progress), 0
    else:
        write_bm25, stale = _bm25(passages, docs, changed, dropped, prev, rebuild_bm25, bm25_progress)

    # the rows of each file, document by document, and where each document's lie (the next re-index copies them)
    out: dict[str, Rows] = {"p": [], "r": [], "c": [], "k": [], "s": []}
    same_terms = prev is not None and prev.terms == mention_state["terms"]
    at = dict.fromkeys(out, 0)
    ranges: dict[str, dict[str, list[Any]]] = {}
    counts = {"passages": len(passages), "references": 0, "resolved": 0}

    def put(file: str, item: bytes | Block, sha: str | None = None) -> list[Any]:
        n = item.length if isinstance(item, Block) else len(item)
        ref = [at[file], n, item.sha256 if isinstance(item, Block) else sha or _sha(item)]
        out[file].append(item)
        at[file] += n
        return ref

    for d, ps in docs.by_doc.items():
        s = old.get(d)
        p_ref = put("p", prev.block("passages.jsonl", s.passages) if d in copied and prev and s else encoded[d], digest[d])
        if d in refs:
            data = encode_rows(Reference, refs[d])
            n, ok = len(refs[d]), sum(r.resolved for r in refs[d])
            r_ref = put("r", data) + [n, ok]
        else:
            assert prev and s
            n, ok = int(s.references[3]), int(s.references[4])
            r_ref = put("r", prev.block("references.jsonl", s.references)) + [n, ok]
        counts["references"] += n
        counts["resolved"] += ok
        if d in changed:
            c_ref = put("c", encode_rows(tuple, edges.get(d, [])))
        else:
            assert prev and s
            c_ref = put("c", prev.block("containment.jsonl", s.containment))
        k_ref = put("k", ref_state["citations"][d])
        if d in copied and same_terms and prev and s:  # its title, passages, definitions and names found are as before
            line: bytes | Block = prev.block("state/docs.jsonl", s.line)
        else:
            line = encode_line({
                "doc": d, "title": ps[0].doc_title, "source": ps[0].source, "skeleton": skeleton(ps),
                "defs": [list(x) for x in resolver.defs_by_doc.get(d, [])], "glossary": glossary[d], "hits": hits.get(d, {}),
            })
        ranges[d] = {"passages": p_ref, "references": r_ref, "containment": c_ref, "citations": k_ref, "line": put("s", line)}
    state = {**ref_state, **mention_state, "stale": stale, "docs": out["s"], "ranges": ranges, "citations": out["k"]}
    return Linked(out["p"], out["r"], out["c"], mentions, write_bm25, state, counts, len(changed | dropped), len(redo),
                  docs.read_back)


def _references(docs: _Docs, gone: set[str], resolver: ReferenceResolver, prev: Previous | None,
                extracted: dict[str, list[Citation]] | None = None,
                ) -> tuple[dict[str, list[Reference]], set[str], dict[str, Any]]:
    """(the references of the documents resolved again, those documents, their state); `extracted`: every
    passage's citations, found already (a full build's workers)."""
    fingerprint = resolver.fingerprint()
    if prev and fingerprint == prev.resolver:
        redo = {d for d in docs.by_doc if d in gone or gone.intersection(prev.consulted.get(d, ()))}
    else:
        redo = set(docs.by_doc)
    consulted: dict[str, set[str]] = {}
    # citations depend on the text alone: an unchanged document's are taken from the state
    citations: dict[str, list[Citation]] = extracted if extracted is not None else {}
    for d in redo - gone:
        assert prev is not None
        got = _stored_citations(docs.by_doc[d], prev.block("state/citations.jsonl", prev.docs[d].citations).read())
        if got is None:  # unreadable: extracted again, from the text
            docs.fill({d})
            got = {p.id: extract_citations(p.text) for p in docs.by_doc[d]}
        citations.update(got)
    for d in redo & gone & docs.by_doc.keys() & (prev.docs.keys() if prev else set()):  # changed: its passages' as they were
        assert prev is not None
        same = _same_text(prev, d, docs.by_doc[d])
        got = _stored_citations([p for p in docs.by_doc[d] if p.id in same],
                                prev.block("state/citations.jsonl", prev.docs[d].citations).read())
        citations.update(got or {})
    refs = resolve_references(docs.passages(), resolver, only=redo, consulted=consulted, citations=citations)
    fresh = _by_doc_of(refs, lambda r: r.src, docs)
    consulted_out = {d: sorted(v) for d, v in consulted.items()}
    if prev:
        consulted_out.update({d: v for d, v in prev.consulted.items() if d in docs.by_doc and d not in redo})
    lines: dict[str, bytes | Block] = {
        d: _citation_row(d, ps, citations) if d in redo or prev is None else prev.block("state/citations.jsonl", prev.docs[d].citations)
        for d, ps in docs.by_doc.items()
    }
    state = {"resolver": fingerprint, "consulted": consulted_out, "citations": lines}
    return {d: fresh.get(d, []) for d in redo}, redo, state


def _citation_row(doc: str, passages: list[Passage], citations: dict[str, list[Citation]]) -> bytes:
    """A document's citations for the state (one line, led by its id; nothing when it has none)."""
    rows = {p.id: [vars(c) for c in citations[p.id]] for p in passages if citations[p.id]}
    return encode_line({"doc": doc, "passages": rows}) if rows else b""


def _same_text(prev: Previous, doc: str, passages: list[Passage]) -> set[str]:
    """The ids of a changed document's passages whose text is as in the previous generation."""
    before = {p.id: p.text for p in prev.passages_of(doc)}
    return {p.id for p in passages if before.get(p.id) == p.text}


def _stored_citations(passages: list[Passage], line: bytes) -> dict[str, list[Citation]] | None:
    """The citations of an unchanged document's passages from its state line; None if unreadable."""
    try:
        rows = json.loads(line)["passages"] if line else {}
        return {p.id: [Citation(**c) for c in rows.get(p.id, [])] for p in passages}
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _bm25(passages: list[Passage], docs: _Docs, changed: set[str], dropped: set[str], prev: Previous | None,
          rebuild: bool, progress: Callable[[int], None] | None) -> tuple[Callable[[Path], None], int]:
    """(what writes the BM25 index, how many stale passages it will count)."""
    if prev is None or rebuild:
        return (lambda folder: build_bm25(passages, folder, progress=progress)), 0
    replaced = sum(len(prev.docs[d].skeleton) for d in (changed | dropped) if d in prev.docs)
    previous, drop = prev.generation / "bm25", sorted((changed | dropped) & set(prev.docs))
    added = [p for d in docs.by_doc if d in changed for p in docs.by_doc[d]]
    return (lambda folder: update_bm25(previous, folder, drop, added, progress=progress)), prev.stale + replaced


class Bm25Job:
    """A BM25 index of every passage built in a forked process into a scratch folder, moved into place by `write`;
    the link workers write the passages' rows there too (`_scan_of`), for the index to copy.  The folder is held
    as a reader holds a generation (a shared lock), so that another build's clean-up leaves it; once nothing
    holds it (this build died), the next build's clean-up deletes it (a `.tmp` folder)."""

    def __init__(self, passages: list[Passage], scratch: Path) -> None:
        scratch.mkdir(parents=True, exist_ok=True)
        scratch = scratch.resolve()  # rows are read back from it (`store.Block`)
        (scratch / ".lock").touch()  # an index folder, as `store.index_lock` leaves it (`check_index_folder`)
        self.folder = scratch / f".build-{uuid.uuid4().hex[:12]}.tmp"
        self.folder.mkdir()
        self.held = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.held, fcntl.LOCK_SH)
        self.job = parallel.Background(build_bm25, passages, self.folder / "bm25")

    def write(self, progress: Callable[[int], None] | None) -> Callable[[Path], None]:
        def move(folder: Path) -> None:
            self.job.wait(progress)
            os.rename(self.folder / "bm25", folder)
            self.cancel()

        return move

    def cancel(self) -> None:
        """End the process if it still runs, and delete the scratch folder (once)."""
        if self.held < 0:
            return
        self.job.cancel()
        shutil.rmtree(self.folder, ignore_errors=True)
        os.close(self.held)
        self.held = -1


def bm25_ahead(passages: list[Passage], prev: Previous | None, scratch: Path) -> Bm25Job | None:
    """A full build with link workers builds its BM25 index in one more process, from the start of the link stage
    (`cancel` it when done, whatever happened); None otherwise.  `scratch`: a folder on the index's file system."""
    if prev is not None or not parallel.link_workers(len(passages)):
        return None
    return Bm25Job(_Docs(passages, None).passages(), scratch)  # in the order `link` gives `build_bm25`


def _by_doc_of(items: list[T], pid_of: Callable[[T], str], docs: _Docs) -> dict[str, list[T]]:
    """`items` grouped by the document of the passage `pid_of(item)` names, in their order."""
    doc_of = {p.id: d for d, ps in docs.by_doc.items() for p in ps}
    out: dict[str, list[T]] = {}
    for item in items:
        out.setdefault(doc_of[pid_of(item)], []).append(item)
    return out


@dataclass
class _Names:
    """The names passages can mention (`mention_terms`), and what they were built from."""
    word_docs: Counter[str]
    glossary: dict[str, list[list[str]]]
    terms: dict[str, Any]
    fingerprint: str
    same: bool  # as in the previous generation


def _mention_names(docs: _Docs, changed: set[str], dropped: set[str], resolver: ReferenceResolver, prev: Previous | None,
                   texts: _Texts | None = None) -> _Names:
    """The names to look for; `texts`: every document's lowercase words and glossary, found already (a full build)."""
    old = prev.docs if prev else {}
    # how many documents write each lowercase word: the previous counts, less changed and deleted documents' words
    # as they were (their previous rows read back), plus changed documents' words now
    word_docs: Counter[str] = Counter(prev.word_docs if prev else {})
    if prev:
        for d in (changed | dropped) & set(old):
            word_docs.subtract(lower_words(prev.passages_of(d)))
    if texts:
        word_docs.update(texts.word_docs)
    else:
        for d in changed:
            word_docs.update(lower_words(docs.by_doc[d]))
    word_docs = Counter({w: n for w, n in word_docs.items() if n > 0})
    if texts:
        glossary = texts.glossary
    else:
        glossary = {d: [[t, p.id] for t, p in glossary_terms(ps)] if d in changed else [list(x) for x in old[d].glossary]
                    for d, ps in docs.by_doc.items()}
    by_id = {p.id: p for ps in docs.by_doc.values() for p in ps}
    terms = mention_terms(docs.passages(), resolver, set(word_docs),
                          [(t, by_id[pid]) for entries in glossary.values() for t, pid in entries])
    fingerprint = terms_fingerprint(terms)
    same = prev is not None and prev.terms == fingerprint
    if not same:  # other names: every passage is scanned again, so its text is needed
        docs.fill()
    return _Names(word_docs, glossary, terms, fingerprint, same)


def _mentions(docs: _Docs, changed: set[str], prev: Previous | None, names: _Names,
              scanned: Callable[[], list[list[str]]] | None = None,
              ) -> tuple[list[Mention], dict[str, Any], dict[str, list[list[str]]], dict[str, dict[str, list[str]]]]:
    """(mentions, their state, glossary entries, the names each passage contains by document); `scanned`: the
    keys of the names each passage contains, in passage order, found by workers (`_scans_pooled`)."""
    old = prev.docs if prev else {}
    terms, same = names.terms, names.same
    passages = docs.passages()
    if scanned is not None:
        hits = [[terms[k] for k in keys] for keys in scanned()]
    else:
        trie = term_trie(terms)
        # the names a passage contains are the previous generation's when the names and its text are the same
        stored = {d: _same_text(prev, d, docs.by_doc[d]) for d in changed & old.keys()} if same and prev else {}
        hits = [
            [terms[k] for k in old[p.doc_id].hits.get(p.id, [])]
            if same and (p.doc_id not in changed or p.id in stored.get(p.doc_id, ())) else scan(p, trie)
            for p in passages
        ]
    by_doc: dict[str, dict[str, list[str]]] = {}
    for p, found in zip(passages, hits):
        if found:
            by_doc.setdefault(p.doc_id, {})[p.id] = [t.key for t in found]
    state = {"terms": names.fingerprint, "word_docs": dict(sorted(names.word_docs.items()))}
    return select_mentions(passages, hits), state, names.glossary, by_doc


# --- a full build's work per passage, in worker processes (`graph.parallel`) -------------------------------

@dataclass
class _Texts:
    """What each document's text alone gives, found by workers."""
    citations: dict[str, list[Citation]]  # by passage
    word_docs: Counter[str]  # lowercase word -> documents that write it
    glossary: dict[str, list[list[str]]]  # [term, passage id] by document


Found = tuple[list[tuple[str, dict[str, list[Citation]], list[list[str]]]], Counter[str]]


# what the text work reads of a passage: a tuple pickles in a fraction of a dataclass's time
_TextFields = tuple[str, str, str | None, list[str], str]  # id, doc_id, label, heading_path, text


def _text_fields(p: Passage) -> _TextFields:
    return p.id, p.doc_id, p.label, p.heading_path, p.text


def _texts_of(passages: list[_TextFields]) -> Found:
    """In a worker: each document's passages' citations and its glossary; the documents' lowercase word counts."""
    by_doc: dict[str, list[Passage]] = {}
    for pid, doc, label, heading_path, text in passages:
        by_doc.setdefault(doc, []).append(Passage(pid, doc, "", 0, text, label, heading_path))
    words: Counter[str] = Counter()
    out = []
    for d, ps in by_doc.items():
        words.update(lower_words(ps))
        out.append((d, {p.id: extract_citations(p.text) for p in ps}, [[t, p.id] for t, p in glossary_terms(ps)]))
    return out, words


class TextsAhead:
    """Each document's own text work (`_texts_of`) in worker processes, as the files are parsed: `add` is given
    every file's passages (final: their ids told apart), and once there are enough of them for workers
    (`parallel.link_workers`) a pool takes them, while the parsing goes on.  A document's passages come in one
    `add`.  `link` gathers the results (`_texts`)."""

    def __init__(self) -> None:
        self.passages = 0
        self.waiting: list[list[Passage]] = []
        self.pool: Any = None
        self.pending: list[Any] = []
        self.workers = 0
        self.found: list[Found] | None = None

    def add(self, passages: list[Passage]) -> None:
        self.passages += len(passages)
        self.waiting.append(passages)
        if self.found is not None:
            raise RuntimeError("passages given after the results were taken")
        if self.pool is None:
            self.workers = parallel.link_workers(self.passages)
            if not self.workers:
                return
            self.pool = parallel.pooled(self.workers)
        batch = [p for ps in self.waiting for p in ps]
        self.waiting = []
        docs: dict[str, list[Passage]] = {}
        for p in batch:
            docs.setdefault(p.doc_id, []).append(p)
        # a few tasks a worker for each batch: documents are not cut
        cuts = parallel.shards(list(docs.values()), _text_size, self.workers * 2)
        self.pending.append(parallel.start(self.pool, _texts_of, [[_text_fields(p) for ps in cut for p in ps] for cut in cuts]))

    def results(self) -> list[Found] | None:
        """Every batch's results, in order, once all are in (the pool ended: no thread of it is left when this
        process forks again); None when no pool was started."""
        if self.pool is not None and self.found is None:
            try:
                self.found = [r for job in self.pending for r in job.get()]
            finally:
                self.close()
        return self.found

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool, self.pending = None, []


def _texts(docs: _Docs, workers: int, ahead: TextsAhead | None) -> _Texts:
    """The text work of every document: what `ahead` found, else found now."""
    got = ahead.results() if ahead else None
    if got is None:
        ahead = TextsAhead()
        ahead.workers, ahead.pool = workers, parallel.pooled(workers)
        ahead.add(docs.passages())
        got = ahead.results()
        assert got is not None
    texts = _Texts({}, Counter(), {})
    glossary: dict[str, list[list[str]]] = {}
    for rows, words in got:
        for d, cites, entries in rows:
            texts.citations.update(cites)
            glossary[d] = entries
        texts.word_docs.update(words)
    texts.glossary = {d: glossary[d] for d in docs.by_doc}  # in the documents' order (names' ties go to the first)
    return texts


def _text_size(passages: list[Passage]) -> int:
    """A document's weight in a shard: its text's length (at least 1)."""
    return sum(len(p.text) for p in passages) + 1


def _doc_shards(docs: _Docs, workers: int) -> list[list[str]]:
    return parallel.shards(list(docs.by_doc), lambda d: _text_size(docs.by_doc[d]), workers * parallel.SHARDS_PER_WORKER)


def _scan_of(shard: tuple[int, list[str]]) -> tuple[list[list[str]], list[tuple[str, bytes | Block]]]:
    """In a worker: the keys of the names each passage of these documents contains, in order; each one's rows,
    written to a file of the scratch folder when there is one (only where they lie comes back)."""
    by_doc, trie, scratch = parallel.shared()
    n, doc_ids = shard
    keys = [[t.key for t in scan(p, trie)] for d in doc_ids for p in by_doc[d]]
    rows: list[tuple[str, bytes | Block]] = [(d, encode_rows(Passage, by_doc[d])) for d in doc_ids]
    if scratch is None:
        return keys, rows
    path, at, out = scratch / f"rows-{n}.jsonl", 0, []
    with path.open("wb") as f:
        for d, data in rows:
            assert isinstance(data, bytes)
            f.write(data)
            out.append((d, Block(path, at, len(data), _sha(data))))
            at += len(data)
    return keys, out


class _Scanned:
    def __init__(self, pending: Any) -> None:
        self.pending = pending

    def keys(self) -> list[list[str]]:
        """The keys of the names each passage contains, in passage order."""
        return [k for keys, _ in self.pending.get() for k in keys]

    def rows(self) -> tuple[dict[str, bytes | Block], dict[str, str]]:
        """Each document's rows (or where they lie) and their digest."""
        encoded: dict[str, bytes | Block] = {}
        digest: dict[str, str] = {}
        for _, rows in self.pending.get():
            for d, data in rows:
                encoded[d], digest[d] = data, data.sha256 if isinstance(data, Block) else _sha(data)
        return encoded, digest


@contextmanager
def _scans_pooled(docs: _Docs, names: _Names, workers: int, scratch: Path | None) -> Iterator[_Scanned | None]:
    """Every passage scanned for `names`, and its rows encoded (into `scratch` when given), in workers while
    the body runs (None without workers: `_mentions` scans)."""
    if not workers:
        yield None
        return
    with parallel.forked_pool(workers, (docs.by_doc, term_trie(names.terms), scratch)) as pool:
        yield _Scanned(parallel.start(pool, _scan_of, list(enumerate(_doc_shards(docs, workers)))))
