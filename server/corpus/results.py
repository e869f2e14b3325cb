"""Typed results of the read-side verbs; the MCP tools return these as structured output."""
from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "ReferenceInfo", "PassageHit", "SearchResult", "PassageView", "NeighborsResult",
    "NeighborPassage", "FollowResult", "OutlineEntry", "OutlineResult", "DocumentInfo", "DocumentList",
    "FeedbackAck", "RerankedPassage", "RerankResult",
]


class ReferenceInfo(BaseModel):
    text: str = Field(description="The citing text as written, e.g. 'Section 113(1) of the FSMR'.")
    kind: str = Field(description="'reference' (a citation), 'link' (a hyperlink) or 'mention' (names another document or term).")
    targets: list[str] = Field(description="Resolved target passage ids; empty when unresolved.")
    resolved: bool
    reason: str | None = Field(default=None, description="Why it is unresolved (external link, no such file, ...).")


class PassageHit(BaseModel):
    id: str
    document: str = Field(description="Document id.")
    document_title: str
    label: str | None = Field(description="Structural number or name, e.g. '2.4.2'.")
    heading_path: list[str]
    score: float | None = None
    text: str
    truncated: bool = Field(description="True when text was cut to max_chars; get_passage gives it whole.")
    references: list[ReferenceInfo] = Field(default_factory=list)
    more_references: int = Field(default=0, description="References not listed here; follow_reference lists them all.")


class SearchResult(BaseModel):
    query: str
    hits: list[PassageHit]
    next_offset: int | None = Field(description="Pass as offset to get the next page; null when no more.")
    hint: str | None = None
    mode: str = Field(default="bm25", description="The first stage that ranked the hits: bm25, dense or hybrid.")


class PassageView(PassageHit):
    parent: str | None = Field(default=None, description="The containing section's passage id, if any.")
    children: list[str] = Field(default_factory=list)
    previous: str | None = None
    next: str | None = None
    cited_by: list[str] = Field(default_factory=list, description="Passages whose references point here.")


class NeighborPassage(PassageHit):
    is_target: bool


class NeighborsResult(BaseModel):
    target: str
    passages: list[NeighborPassage]
    note: str | None = None


class FollowResult(BaseModel):
    id: str
    references: list[ReferenceInfo] = Field(description="The passage's references (listing mode) or the one followed.")
    targets: list[PassageHit] = Field(default_factory=list, description="Target passages (when a reference was given).")
    note: str | None = None


class OutlineEntry(BaseModel):
    id: str
    label: str | None
    heading: str | None
    depth: int
    chars: int


class OutlineResult(BaseModel):
    document: str
    title: str
    entries: list[OutlineEntry]
    total: int
    truncated: bool


class DocumentInfo(BaseModel):
    id: str
    title: str
    passages: int
    first_passage: str
    path: str | None = Field(default=None, description="The file, relative to the indexed folder (when known).")


class DocumentList(BaseModel):
    documents: list[DocumentInfo]
    total: int
    next_offset: int | None


class FeedbackAck(BaseModel):
    id: int = Field(description="Row id of the stored verdict.")
    query: str
    passage_id: str
    verdict: str
    stored: bool = Field(description="True once the verdict is committed to disk.")


class RerankedPassage(BaseModel):
    id: str
    score: float
    rank: int


class RerankResult(BaseModel):
    query: str
    reranker: str
    passages: list[RerankedPassage]
