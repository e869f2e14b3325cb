"""Arguments that fail a tool's schema get one line saying what to change, in the words the core
uses (not pydantic's multi-line report with a URL, nor an echo of a huge argument)."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from server.limits import RANGES, shown

__all__ = ["one_line"]



def _bounds(field: str, tool: str) -> tuple[float, float] | None:
    key = "deep_k" if (tool == "deep_search" and field == "k") else field
    return RANGES.get(key)


def _one(error: dict[str, Any], tool: str) -> str:
    field = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
    kind, value, ctx = error.get("type", ""), error.get("input"), error.get("ctx") or {}
    if kind == "missing":
        return f"{field} is required"
    if kind == "string_too_long":
        return f"{field} is {len(value) if isinstance(value, str) else '?'} characters; keep it under {ctx.get('max_length')}"
    if kind == "string_too_short":
        return f"{field} is empty: give a few words"
    if kind in ("too_long", "too_short"):
        n = len(value) if hasattr(value, "__len__") else "?"
        bounds = RANGES.get(field)
        return f"give between {bounds[0]} and {bounds[1]} {field.replace('_', ' ')}, got {n}" if bounds else f"{field}: {error.get('msg')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = _bounds(field, tool)
        if bounds:
            return f"{field} must be between {bounds[0]} and {bounds[1]}, got {shown(value)}"
    return f"{field}: {error.get('msg', 'invalid')}, got {shown(value)}"


def one_line(exc: ValidationError, tool: str) -> str:
    errors = exc.errors(include_url=False)
    parts = [_one(e, tool) for e in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more + f". See the {tool} tool's input schema."
