"""BM25 over passages with tantivy (English stemming): build into a folder, update a copy, open, search.

A heading-only passage is never a hit (`heading_only`): it stays in the index, marked, so the
other passages score exactly as before, and searches leave it out.  A passage is stored by its id
(`pid`), so that an incremental re-index can replace one document's passages in a copy of the
previous index (`update_bm25`) while the others move in the passage list; indexes written before
(format 2) store the passage's position (`pos`) instead and are read as they are."""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from graph.model import Passage

__all__ = ["BM25Index", "IndexHit", "build_bm25", "update_bm25", "LUCENE_STOP_WORDS", "QUESTION_STOP_WORDS", "STOP_WORDS", "query_words"]

_WORD = re.compile(r"[^\W_]+(?:[.'][^\W_]+)*", re.UNICODE)
# Lucene's English stop words (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET)
LUCENE_STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with".split())
# the words of a question that name no subject (not the modal verbs of a rule: must, shall, may, should)
QUESTION_STOP_WORDS = frozenset(
    "what which who whom whose when where why how do does did can could would i we you me us my our your "
    "has have had been were from its".split())
STOP_WORDS = LUCENE_STOP_WORDS | QUESTION_STOP_WORDS
_POSSESSIVE = re.compile(r"^([^\W_]+)'s$")
_JOINED = re.compile(r"[.']")


def query_words(query: str, stop: frozenset[str] = STOP_WORDS, possessive: bool = True, dotted: bool = True) -> list[str]:
    """The words a query is searched with: its terms less `stop` words (all of them when nothing else is
    left); with `possessive`, "firm's" as "firm"; with `dotted`, a word joined by dots or apostrophes
    ("9.2.1", "doesn't") as its parts. Questions are an OR of their words; the commonest words have the
    longest postings and cost most of a search for little ranking, and one word that tantivy reads as a
    phrase ("9.2.1" is the phrase "9 2 1") turns off its top-k pruning for the whole query
    (bench/stopwords.py: quality and time of each; BENCHMARKS.md, "Search at 1M")."""
    words = BM25Index.terms(query)
    if possessive:
        words = [_POSSESSIVE.sub(r"\1", w) for w in words]
    kept = [w for w in words if w not in stop] or words
    return [part for w in kept for part in _JOINED.split(w) if part] if dotted else kept


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("pid", stored=True, tokenizer_name="raw")
    sb.add_text_field("doc_id", stored=False, tokenizer_name="raw")
    sb.add_text_field("text", stored=False, tokenizer_name="en_stem")
    sb.add_text_field("kind", stored=False, tokenizer_name="raw")  # "heading" for a heading-only passage
    return sb.build()


def _content(p: Passage) -> str:
    """Headings and text in one field: a separate, boosted title field measured worse
    (ADGM obliqa_dev nDCG@10 0.536 against 0.670 on one field, see BENCHMARKS.md)."""
    return " ".join(dict.fromkeys(h for h in p.heading_path if h)) + "\n" + p.text


def heading_only(p: Passage) -> bool:
    """A passage that is just its section's heading (kept in the graph for links to land on): its words
    are found through the passages below it, whose heading path carries it, never alone."""
    return bool(p.heading_path) and p.text.split() == p.heading_path[-1].split()


def _add(writer: tantivy.IndexWriter, passages: Sequence[Passage], progress: Callable[[int], None] | None) -> None:
    for n, p in enumerate(passages):
        doc = tantivy.Document()
        doc.add_text("pid", p.id)
        doc.add_text("doc_id", p.doc_id)
        doc.add_text("text", _content(p))
        doc.add_text("kind", "heading" if heading_only(p) else "passage")
        writer.add_document(doc)
        if progress and n % 500 == 499:
            progress(500)
    writer.commit()
    writer.wait_merging_threads()
    if progress:
        progress(len(passages) % 500)


def build_bm25(
    passages: Sequence[Passage],
    folder: Path,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write a tantivy index of `passages` into `folder` (which must be new or empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_schema(), path=str(folder))
    _add(index.writer(heap_size=128_000_000, num_threads=1), passages, progress)


def update_bm25(
    previous: Path,
    folder: Path,
    drop_docs: Iterable[str],
    passages: Sequence[Passage],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Copy the index in `previous` (never changed) to `folder`, drop the documents `drop_docs`, add `passages`.

    The dropped passages still count in tantivy's term statistics until it merges their segment, so
    scores drift slightly from a fresh build; the caller bounds that drift (`graph.incremental`)."""
    shutil.copytree(previous, folder)
    index = tantivy.Index.open(str(folder))
    writer = index.writer(heap_size=128_000_000, num_threads=1)
    for doc_id in drop_docs:
        writer.delete_documents_by_term("doc_id", doc_id)
    _add(writer, passages, progress)


@dataclass(frozen=True)
class IndexHit:
    pos: int  # position of the passage in the stored passage list
    score: float


def _has_field(index: tantivy.Index, name: str) -> bool:
    try:
        tantivy.Query.term_query(index.schema, name, "x")
        return True
    except ValueError:
        return False


class BM25Index:
    """A read-only handle on a built index; thread-safe for concurrent searches.

    `positions`: passage id -> position in the stored passage list (indexes that store ids)."""

    stop_words: frozenset[str] = STOP_WORDS  # dropped from queries (query_words)
    possessive: bool = True
    dotted: bool = True

    def __init__(self, folder: Path, positions: Mapping[str, int] | None = None) -> None:
        self._index = tantivy.Index.open(str(folder))
        self._index.reload()
        self._kinds = _has_field(self._index, "kind")  # indexes written before heading-only passages were marked have none
        self._positions = positions if _has_field(self._index, "pid") else None
        if self._positions is None and _has_field(self._index, "pid"):
            raise ValueError(f"the BM25 index in {folder} stores passage ids: open it with their positions")

    @staticmethod
    def terms(query: str) -> list[str]:
        """The words of a free-text query, stripped of query-language syntax."""
        return _WORD.findall(query.lower())

    def search(self, query: str, limit: int, offset: int = 0, doc_id: str | None = None) -> list[IndexHit]:
        words = query_words(query, self.stop_words, self.possessive, self.dotted)
        if not words or limit <= 0:
            return []
        text = " ".join(words)
        parsed, _errors = self._index.parse_query_lenient(text, ["text"])
        clauses = [(tantivy.Occur.Must, parsed)]
        if doc_id is not None:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_query(self._index.schema, "doc_id", doc_id)))
        if self._kinds:
            clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_query(self._index.schema, "kind", "heading")))
        if len(clauses) > 1:
            parsed = tantivy.Query.boolean_query(clauses)
        searcher = self._index.searcher()
        result = searcher.search(parsed, limit=limit, offset=offset, count=False)
        hits = [IndexHit(pos=self._position(searcher.doc(addr)), score=float(score)) for score, addr in result.hits]
        return sorted(hits, key=lambda h: (-h.score, h.pos))  # equal scores in passage order, however stored

    def _position(self, doc: tantivy.Document) -> int:
        if self._positions is None:
            return int(doc["pos"][0])
        return self._positions[doc["pid"][0]]
