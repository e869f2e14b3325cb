"""A step and time budget shared by both strategies, and the progress callback they report to."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Budget", "OnStep"]

# on_step(step, max_steps, message): called after every step (the MCP tool turns it into progress).
OnStep = Callable[[int, int, str], None]


@dataclass
class Budget:
    max_steps: int
    max_seconds: float
    started: float = field(default_factory=time.perf_counter)
    steps: int = 0

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def exhausted(self) -> str | None:
        """Why no further step may start, or None."""
        if self.steps >= self.max_steps:
            return "max_steps"
        if time.perf_counter() - self.started >= self.max_seconds:
            return "max_seconds"
        return None

    def fits(self, ms: float) -> bool:
        """Whether work expected to take `ms` would end within the time budget."""
        return self.elapsed_ms() + ms <= self.max_seconds * 1000

    def note(self, stopped: str) -> str | None:
        """What a caller should know about a result the time budget cut short."""
        if stopped != "max_seconds":
            return None
        return (f"the time budget ({self.max_seconds:g} s) ended the search after {self.steps} of {self.max_steps} "
                "steps: the evidence is what was found so far; a larger max_seconds may find more")
