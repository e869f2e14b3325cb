"""Typed results of deep_search: ranked evidence and a trace of every step."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Evidence", "TraceStep", "DeepSearchResult"]


class Evidence(BaseModel):
    id: str
    document: str
    label: str | None = None
    score: float = Field(description="Ranking score: reciprocal BM25 and reranker ranks, plus its best linked partner's.")
    rerank_score: float = Field(description="The reranker's score against the question.")
    kept: bool = Field(default=False, description="The agent chose to keep it as evidence.")
    via: str = Field(description="How it was reached: bm25, plan (a query the model planned), search, reference, mention, next, prev, parent, child.")
    from_id: str | None = Field(default=None, description="The passage it was reached from, if any.")
    text: str = Field(description="The passage text, trimmed to 300 characters.")


class TraceStep(BaseModel):
    step: int
    action: str = Field(description="seed, rerank, plan, expand, search, read, follow, keep, stop, invalid.")
    args: dict[str, Any] = Field(default_factory=dict)
    valid: bool = True
    error: str | None = None
    added: list[str] = Field(default_factory=list, description="Passage ids this step added to the candidates.")
    ms: float = Field(description="Wall time of the step in milliseconds.")
    llm_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    raw: str | None = Field(default=None, description="The model's raw output (agent and planned), trimmed.")


class DeepSearchResult(BaseModel):
    question: str
    strategy: str
    model: str | None = None
    reranker: str
    prompt_version: str | None = Field(default=None, description="Version of the prompt files used (agent, planned).")
    evidence: list[Evidence]
    trace: list[TraceStep]
    steps: int = Field(description="Steps taken after seeding (each counts against max_steps).")
    stopped: str = Field(description="Why it ended: stop, max_steps, max_seconds, exhausted.")
    candidates: int = Field(description="How many passages were scored.")
    ms: float
    note: str | None = Field(default=None, description="Set when the time budget cut the search short, or "
                             "when the seeds came from BM25 because the passage vectors were not ready yet.")

    def with_note(self, said: str) -> DeepSearchResult:
        """A copy whose note adds `said` to what it already says."""
        return self.model_copy(update={"note": f"{self.note}; {said}" if self.note else said})

    def ranked_ids(self) -> list[str]:
        return [e.id for e in self.evidence]
