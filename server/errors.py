"""Errors a caller can fix; the MCP layer turns them into tool errors with the same text."""

__all__ = ["UsageError"]


class UsageError(ValueError):
    """A bad call (unknown id, out-of-range argument, empty query): the message says how to fix it."""
