"""What a running server shares between deep_search calls: the reranker and the chat model (each
loaded once through App.lazy), and a gate that bounds how many walks run and wait at once."""
from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from server.app import App
from server.rerank.base import Reranker
from server.traversal import OnStep, deep_search
from server.traversal.llm import ChatModel
from server.traversal.result import DeepSearchResult

__all__ = ["Busy", "Gate", "reranker_of", "model_of", "gate_of", "run_deep_search"]


class Busy(RuntimeError):
    """Every slot is running and the queue is full."""


class Gate:
    """At most `running` calls at once and `waiting` more queued; beyond that, Busy at once."""

    def __init__(self, running: int = 2, waiting: int = 4) -> None:
        self.running, self.waiting = running, waiting
        self._sem = anyio.Semaphore(running)
        self._queued = 0

    @property
    def queued(self) -> int:
        return self._queued

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._sem.value == 0 and self._queued >= self.waiting:
            raise Busy(f"deep_search is busy ({self.running} running, {self._queued} waiting): retry in a few seconds")
        self._queued += 1
        try:
            await self._sem.acquire()
        finally:
            self._queued -= 1
        try:
            yield
        finally:
            self._sem.release()


def reranker_of(app: App) -> Reranker:
    from server.rerank import load_reranker

    return app.lazy("reranker", lambda: load_reranker(app.options.get("reranker"), app.corpus))


def model_of(app: App) -> ChatModel:
    from server.traversal.llm import load_chat_model

    return app.lazy("llm", lambda: load_chat_model(app.options.get("model") or os.environ.get("READTRAIL_MODEL")))


def gate_of(app: App) -> Gate:
    return app.lazy("deep_search_gate", lambda: Gate(
        running=int(app.options.get("deep_search_running") or 2), waiting=int(app.options.get("deep_search_waiting") or 4)))


def run_deep_search(app: App, question: str, strategy: str, max_steps: int | None, max_seconds: float | None,
                    k: int, on_step: OnStep | None = None, **options: Any) -> DeepSearchResult:
    """Blocking: load what the strategy needs (once per App) and run it."""
    model = model_of(app) if strategy == "agent" else None
    return deep_search(app.corpus, reranker_of(app), question, strategy, max_steps, max_seconds, k,
                       model=model, on_step=on_step, **options)
