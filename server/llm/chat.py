"""The agent's chat model: one method, `complete(messages, schema) -> Completion`. LlamaChat wraps
a llama.cpp GGUF model (chat template from the file, JSON-schema constrained output, one lock)."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from server.llm.registry import ModelError, check_gguf

__all__ = ["ChatModel", "Completion", "LlamaChat"]


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ms: float = 0.0
    wait_ms: float = 0.0  # time spent waiting for another call to release the model
    cut: bool = False  # generation was stopped at the deadline; `text` is then empty


class ChatModel(Protocol):
    name: str

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96,
                 deadline: float | None = None) -> Completion:
        """One schema-constrained answer. `deadline` (a time.perf_counter() value): stop generating
        once it passes and return a Completion with cut=True."""
        ...


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
            raise ModelError(f"llama.cpp could not load {self.path}: {exc}") from exc
        if ram_cache_mb:
            self._llm.set_cache(LlamaRAMCache(capacity_bytes=ram_cache_mb << 20))

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96,
                 deadline: float | None = None) -> Completion:
        asked = time.perf_counter()
        with self._lock:
            start = time.perf_counter()
            if not self.prefix_cache:
                self._llm.reset()
            # Streamed, so that the generation can end at the deadline (llama.cpp's chat API has no
            # stopping criteria; an exception in a logits processor is swallowed by its C callback).
            chunks = self._llm.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                response_format={"type": "json_object", "schema": schema},
                temperature=0.0, max_tokens=max_tokens, seed=0, stream=True,
            )
            parts: list[str] = []
            cut = False
            for chunk in chunks:  # type: ignore[union-attr]
                if deadline is not None and time.perf_counter() >= deadline:
                    cut = True
                    break
                piece = chunk["choices"][0]["delta"].get("content")  # type: ignore[index]
                if piece:
                    parts.append(piece)
            chunks.close()  # type: ignore[union-attr]  # ends llama.cpp's generator; its cache stays consistent
            evaluated = self._llm.n_tokens  # prompt + generated; a streamed chunk is about one token
            done = time.perf_counter()
        return Completion(
            text="" if cut else "".join(parts), prompt_tokens=max(0, evaluated - len(parts)),
            completion_tokens=len(parts), ms=(done - start) * 1000, wait_ms=(start - asked) * 1000, cut=cut,
        )
