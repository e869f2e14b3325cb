"""MCP tools `feedback` and `rerank`: thin wrappers over the feedback store and the reranker."""
from __future__ import annotations

from typing import Annotated, Literal

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from server.errors import UsageError

__all__ = ["register", "FeedbackAck", "RerankResult", "RerankedPassage", "MAX_RERANK"]

MAX_RERANK = 100


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


def _reranker(ctx: Context):
    from server.mcp_server import app_of
    from server.rerank import load_reranker

    app = app_of(ctx)
    return app.lazy("reranker", lambda: load_reranker(app.options.get("reranker"), app.corpus))


def _store(ctx: Context):
    from server.feedback import FeedbackStore
    from server.mcp_server import app_of

    app = app_of(ctx)
    return app.lazy("feedback_store", lambda: FeedbackStore(app.options.get("feedback_db")))


def register(mcp: MCPServer) -> None:
    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=False, idempotentHint=False, openWorldHint=False))
    async def feedback(
        query: Annotated[str, Field(description="The question the passage was judged for.")],
        passage_id: Annotated[str, Field(description="A passage id from search, neighbors or outline.")],
        verdict: Annotated[Literal["relevant", "irrelevant", "misleading", "skipped"], Field(
            description="relevant; irrelevant; misleading (strong negative: it looked right but was wrong); skipped (weak).")],
        ctx: Context,
        note: Annotated[str | None, Field(description="Why, in a sentence (optional).")] = None,
    ) -> FeedbackAck:
        """Record a verdict on a passage for a question. The reranker is retrained on these:
        say `misleading` for a passage that looks relevant but is wrong."""
        from server.mcp_server import app_of

        corpus = app_of(ctx).corpus
        client = str(getattr(ctx, "client_id", None) or "mcp")
        try:
            corpus.passage(passage_id)
            store = _store(ctx)
            row = await anyio.to_thread.run_sync(lambda: store.add(query, passage_id, verdict, note, client))
        except UsageError as exc:
            raise ToolError(str(exc)) from exc
        return FeedbackAck(id=row, query=query, passage_id=passage_id, verdict=verdict, stored=True)

    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False))
    async def rerank(
        query: Annotated[str, Field(description="The question to score passages against.")],
        passage_ids: Annotated[list[str], Field(description=f"Passage ids to order (1-{MAX_RERANK}).")],
        ctx: Context,
    ) -> RerankResult:
        """Order passages by relevance to the question with the configured reranker; best first."""
        from server.mcp_server import app_of

        corpus = app_of(ctx).corpus
        if not query.strip():
            raise ToolError("query is empty: give the question")
        if not 1 <= len(passage_ids) <= MAX_RERANK:
            raise ToolError(f"give between 1 and {MAX_RERANK} passage ids, got {len(passage_ids)}")
        unknown = [p for p in passage_ids if p not in corpus.by_id]
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise ToolError(f"unknown passage id(s): {shown}. Use ids returned by search, neighbors or outline.")
        ids = list(dict.fromkeys(passage_ids))
        passages = [corpus.passage(p) for p in ids]
        try:
            rr = await anyio.to_thread.run_sync(lambda: _reranker(ctx))
            scores = await anyio.to_thread.run_sync(lambda: rr.score(query, passages))
        except UsageError as exc:
            raise ToolError(str(exc)) from exc
        order = sorted(range(len(ids)), key=lambda i: -scores[i])
        return RerankResult(query=query, reranker=rr.name, passages=[
            RerankedPassage(id=ids[i], score=round(float(scores[i]), 4), rank=r) for r, i in enumerate(order, 1)])
