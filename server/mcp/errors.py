"""One decorator maps the core's errors to ToolError, whose message the client sees (any other
exception reaches the client only as "Error executing tool NAME")."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from server.errors import UsageError
from server.services import Busy

__all__ = ["tool_errors", "CALLER_ERRORS"]

F = TypeVar("F", bound=Callable[..., Any])
CALLER_ERRORS = (UsageError, Busy)  # errors whose message says what to do


def tool_errors(fn: F) -> F:
    """Re-raise UsageError and Busy as ToolError with the same message; keeps fn's signature."""
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except CALLER_ERRORS as exc:
                raise ToolError(str(exc)) from exc
        return run_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CALLER_ERRORS as exc:
            raise ToolError(str(exc)) from exc
    return run  # type: ignore[return-value]
