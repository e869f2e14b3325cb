"""The agent's chat model: one method, `complete(messages, schema) -> Completion`. LlamaChat wraps
a llama.cpp GGUF model (chat template from the file, JSON-schema constrained output, one lock)."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from server.traversal.models import check_gguf

__all__ = ["ChatModel", "Completion", "LlamaChat", "load_chat_model"]


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ms: float = 0.0
    wait_ms: float = 0.0  # time spent waiting for another call to release the model


class ChatModel(Protocol):
    name: str

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96) -> Completion: ...


class LlamaChat:
    """A llama.cpp model shared by threads: calls are serialised (a llama context is not thread-safe).

    Prefix reuse: llama-cpp-python keeps the evaluated tokens of the last call and evaluates only what
    follows the longest common prefix, so a stable system prompt and question are read once per walk.
    `prefix_cache=False` resets the context before each call (for measuring what reuse saves);
    `ram_cache_mb` adds a LlamaRAMCache, which also restores states across interleaved walks."""

    def __init__(self, path: str | os.PathLike[str], n_ctx: int = 4096, n_threads: int = 2, seed: int = 0,
                 prefix_cache: bool = True, ram_cache_mb: int = 0) -> None:
        from llama_cpp import Llama, LlamaRAMCache

        self.path = check_gguf(Path(path))
        self.name = self.path.stem
        self.n_ctx = n_ctx
        self.prefix_cache = prefix_cache
        self._lock = threading.Lock()
        try:
            self._llm = Llama(model_path=str(self.path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                              seed=seed, verbose=False)
        except ValueError as exc:  # llama.cpp could not read it
            from server.traversal.models import ModelError
            raise ModelError(f"llama.cpp could not load {self.path}: {exc}") from exc
        if ram_cache_mb:
            self._llm.set_cache(LlamaRAMCache(capacity_bytes=ram_cache_mb << 20))

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96) -> Completion:
        asked = time.perf_counter()
        with self._lock:
            start = time.perf_counter()
            if not self.prefix_cache:
                self._llm.reset()
            out = self._llm.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                response_format={"type": "json_object", "schema": schema},
                temperature=0.0, max_tokens=max_tokens, seed=0,
            )
            done = time.perf_counter()
        usage = out.get("usage") or {}
        return Completion(
            text=out["choices"][0]["message"]["content"] or "",  # type: ignore[index]
            prompt_tokens=int(usage.get("prompt_tokens", 0)), completion_tokens=int(usage.get("completion_tokens", 0)),
            ms=(done - start) * 1000, wait_ms=(start - asked) * 1000,
        )


def load_chat_model(spec: str | os.PathLike[str] | None = None, **options: Any) -> LlamaChat:
    """A LlamaChat from a GGUF path, a packaged name, $READTRAIL_MODEL or the default packaged model."""
    from server.traversal.models import resolve_model_path

    return LlamaChat(resolve_model_path(spec), **options)
