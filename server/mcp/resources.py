"""MCP resources (a passage, a document's outline) and the research prompt. Unknown ids get the same
helpful message as the tools; prompt arguments get the same bounds as search."""
from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from server.errors import UsageError
from server.limits import check_text
from server.llm.prompts import load_prompt
from server.mcp.tools import services_of

__all__ = ["register_resources", "register_prompts"]


def _read(ctx: Context, verb: str, id: str) -> str:
    """A corpus verb as JSON; an unknown id gets the tools' message (not "Error creating resource")."""
    try:
        return getattr(services_of(ctx).corpus, verb)(id).model_dump_json()
    except UsageError as exc:
        raise ResourceNotFoundError(str(exc)) from exc


def register_resources(mcp: MCPServer) -> None:
    @mcp.resource("readtrail://passage/{id}", mime_type="application/json", description="One passage, in full, with its links.")
    def passage_resource(id: str, ctx: Context) -> str:
        return _read(ctx, "get_passage", id)

    @mcp.resource("readtrail://document/{id}", mime_type="application/json", description="A document's outline.")
    def document_resource(id: str, ctx: Context) -> str:
        return _read(ctx, "outline", id)


def register_prompts(mcp: MCPServer) -> None:
    @mcp.prompt(title="Research a question", description="How to research a question with the readtrail tools.")
    def research_question(question: str, ctx: Context) -> str:
        try:
            check_text("question", question)
        except UsageError as exc:  # MCPError keeps its message; anything else reads "Error rendering prompt"
            raise MCPError(INVALID_PARAMS, str(exc)) from exc
        return load_prompt("research_question", services_of(ctx).settings.prompts).text.replace("{question}", question)
