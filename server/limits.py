"""Every bound on a caller's input, once. The core checks them (`check_range`, `check_text`) and the
MCP tools' JSON schemas are generated from the same table (`ge`/`le`/`max_length`)."""
from __future__ import annotations

from server.errors import UsageError

__all__ = ["LIMITS", "RANGES", "TEXT", "CHOICES", "check_range", "check_text", "check_ids", "check_choice", "shown"]

# numeric arguments: name -> (lowest, highest)
RANGES: dict[str, tuple[float, float]] = {
    "k": (1, 100),
    "offset": (0, 10_000),
    "max_chars": (50, 20_000),
    "before": (0, 20),
    "after": (0, 20),
    "limit": (1, 500),
    "max_steps": (1, 50),
    "max_seconds": (0.5, 120.0),
    "deep_k": (1, 50),
    "passage_ids": (1, 100),  # how many ids one rerank call may order
}
# text arguments: name -> most characters
TEXT: dict[str, int] = {
    "query": 2_000,  # a search query, a question, a prompt argument
    "id": 1_000,  # a passage id
    "name": 2_000,  # a document id or title, a citing text
    "note": 2_000,  # a feedback note
}
# arguments that take one of a few words: name -> (allowed values, what each means, for errors)
CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "mode": (("bm25", "dense", "hybrid"), "'bm25' (exact words), 'dense' (meaning) or 'hybrid' (both, fused)"),
}
# output caps
LIMITS = {"outline": 500, "refs_per_hit": 10, "refs_listed": 200, "echo": 80}


def shown(value: object, limit: int = LIMITS["echo"]) -> str:
    """A caller's value as it may appear in an error: repr, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…'"


def check_range(name: str, value: float, bounds: str | None = None) -> None:
    lo, hi = RANGES[bounds or name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise UsageError(f"{name} must be between {lo} and {hi}, got {shown(value)}")


def check_text(name: str, value: object, kind: str = "query", required: bool = True) -> str:
    """Refuse a missing, empty or oversized text before it is looked up or echoed back."""
    if not isinstance(value, str):
        raise UsageError(f"{name} must be text, got {type(value).__name__}")
    if required and not value.strip():
        raise UsageError(f"{name} is empty: give a few words")
    if len(value) > TEXT[kind]:
        raise UsageError(f"{name} is {len(value)} characters; keep it under {TEXT[kind]}")
    return value


def check_choice(name: str, value: object) -> str:
    allowed, meaning = CHOICES[name]
    if value not in allowed:
        raise UsageError(f"unknown {name} {shown(value)}: use {meaning}")
    return value  # type: ignore[return-value]


def check_ids(name: str, ids: object) -> list[str]:
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise UsageError(f"{name} must be a list of passage ids")
    lo, hi = RANGES[name]
    if not lo <= len(ids) <= hi:
        raise UsageError(f"give between {lo} and {hi} passage ids, got {len(ids)}")
    for i in ids:
        check_text("a passage id", i, "id")
    return ids
