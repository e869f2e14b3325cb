"""The seams between the read side and where an index lives (issue 12): what `server.corpus.Corpus` and
the traversal use of a text index, a passage store and a graph store, as Protocols.

The one implementation today is embedded: `graph.index.BM25Index` (tantivy in the index folder),
`graph.store.PassageTable` (passages.jsonl, a row read on access) and a frozen networkx `MultiDiGraph`
(built from the stored links at open). A distributed backend (text on a sharded engine, passages and
their edges in a document store, see SCALE.md) is another class with these methods, handed to
`StoredIndex`, not a change to the read side.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

from graph.model import Passage

__all__ = ["TextIndex", "PassageStore", "GraphStore", "Hit"]


@runtime_checkable
class Hit(Protocol):
    pos: int  # the passage's position in the PassageStore
    score: float


@runtime_checkable
class TextIndex(Protocol):
    """Ranked passages for a free-text query; thread-safe."""

    def search(self, query: str, limit: int, offset: int = 0, doc_id: str | None = None) -> list[Any]:
        """Hits (`Hit`: pos, score), best first; `doc_id` restricts to one document."""
        ...

    @staticmethod
    def terms(query: str) -> list[str]:
        """The searchable words of a query (none: the query cannot match anything)."""
        ...


@runtime_checkable
class PassageStore(Protocol):
    """Passages by position (0 .. len-1) in reading order, documents one after another."""

    def __len__(self) -> int: ...

    def __getitem__(self, pos: int) -> Passage: ...

    def __iter__(self) -> Iterator[Passage]: ...


@runtime_checkable
class GraphStore(Protocol):
    """Typed edges around a node (a passage id or `doc::<doc_id>`); each edge's data has `kind`
    (`graph.graph.EDGE_KINDS`) and, for references and mentions, `text`. networkx's MultiDiGraph
    is one: the read side calls only these three."""

    def __contains__(self, node: object) -> bool: ...

    def out_edges(self, node: str, data: bool = ...) -> Iterable[tuple[str, str, dict[str, Any]]]: ...

    def in_edges(self, node: str, data: bool = ...) -> Iterable[tuple[str, str, dict[str, Any]]]: ...
