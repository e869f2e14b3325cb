"""The MCP layer: a thin skin over the core (server.corpus, server.services)."""
from server.mcp.server import create_server

__all__ = ["create_server"]
