"""The tools' parameter types, generated from server.limits: the bounds the core checks appear in
each tool's JSON schema (minimum/maximum/maxLength), so a client sees them before calling."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from server.limits import CHOICES, RANGES, TEXT

__all__ = ["bounded", "text", "ids", "choice"]


def bounded(name: str, description: str, kind: type = int) -> Any:
    lo, hi = RANGES[name]
    return Annotated[kind, Field(ge=lo, le=hi, description=f"{description} ({lo}-{hi}).")]


def text(kind: str, description: str, required: bool = True) -> Any:
    return Annotated[str, Field(min_length=1 if required else 0, max_length=TEXT[kind], description=description)]


def ids(description: str) -> Any:
    lo, hi = RANGES["passage_ids"]
    return Annotated[list[Annotated[str, Field(max_length=TEXT["id"])]],
                     Field(min_length=lo, max_length=hi, description=f"{description} ({lo}-{hi}).")]


def choice(name: str, description: str) -> Any:
    allowed, _meaning = CHOICES[name]
    return Annotated[Literal[allowed], Field(description=description)]  # type: ignore[valid-type]
