"""The agent's chat model: one method, `complete(messages, schema) -> Completion`. LlamaChat wraps
a llama.cpp GGUF model (chat template from the file, JSON-schema constrained output, one lock)."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from server.cpu import threads_for_load
from server.llm.registry import ModelError, check_gguf

__all__ = ["ChatModel", "Completion", "LlamaChat", "DeadlinePassed"]


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ms: float = 0.0
    wait_ms: float = 0.0  # time spent waiting for another call to release the model
    cut: bool = False  # the prompt read or the generation was stopped at the deadline; `text` is then empty
    read_tokens: int = 0  # prompt tokens actually evaluated (what prefix reuse did not cover)
    read_ms: float = 0.0  # time spent evaluating them
    gen_ms: float = 0.0  # time spent evaluating generated tokens
    partial: str = ""  # when cut: what was generated before the deadline (a caller may salvage whole items)

    def ms_per_read_token(self) -> float | None:
        return self.read_ms / self.read_tokens if self.read_tokens else None

    def ms_per_generated_token(self) -> float | None:
        return self.gen_ms / self.completion_tokens if self.completion_tokens and self.gen_ms else None


class ChatModel(Protocol):
    name: str

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96,
                 deadline: float | None = None) -> Completion:
        """One schema-constrained answer. `deadline` (a time.perf_counter() value): stop generating
        once it passes and return a Completion with cut=True."""
        ...


class DeadlinePassed(Exception):
    """Raised inside llama.cpp's eval when the next token chunk would end past the deadline."""


# Tokens per llama_decode call while reading a prompt: small enough that, on a loaded CPU, one chunk
# takes well under the 0.5 s a deadline may be overrun by; the size follows the measured speed, and
# the first chunk a model ever reads (speed unknown) is the smallest.
CHUNK_TARGET_MS = 120.0
CHUNK_MIN, CHUNK_MAX = 4, 128


def _deadline_llama(llama_cls: type) -> type:
    """A Llama whose eval reads tokens in timed chunks and, before each, checks that the chunk can end
    before the deadline at the latest measured speed (else DeadlinePassed). Tokens read before a cut
    stay in the context: the next call reuses them as a prefix."""

    class DeadlineLlama(llama_cls):  # type: ignore[misc, valid-type]
        deadline: float | None = None
        ms_per_token: float | None = None  # latest prompt-read speed (ms per token in a chunk)
        ms_per_gen: float | None = None  # latest generation speed (ms per single-token decode)
        calls = 0  # eval calls in the current completion: the first reads the prompt
        read_tokens = 0
        read_ms = 0.0
        gen_ms = 0.0

        def begin(self, deadline: float | None) -> None:
            self.deadline, self.calls, self.read_tokens, self.read_ms, self.gen_ms = deadline, 0, 0, 0.0, 0.0

        def _check(self, expected_ms: float) -> None:
            if self.deadline is not None and time.perf_counter() + expected_ms / 1000 >= self.deadline:
                raise DeadlinePassed

        def eval(self, tokens):  # type: ignore[no-untyped-def]
            tokens = list(tokens)
            prompt = self.calls == 0
            self.calls += 1
            if not prompt:  # one sampled token (or a short draft)
                self._check((self.ms_per_gen or 0.0) * len(tokens))
                t = time.perf_counter()
                super().eval(tokens)
                ms = (time.perf_counter() - t) * 1000
                self.gen_ms += ms
                self.ms_per_gen = ms / max(1, len(tokens))
                return
            i = 0
            while i < len(tokens):
                rate = self.ms_per_token
                size = CHUNK_MIN if rate is None else int(min(CHUNK_MAX, max(CHUNK_MIN, CHUNK_TARGET_MS / rate)))
                chunk = tokens[i:i + size]
                self._check((rate or 0.0) * len(chunk))
                t = time.perf_counter()
                super().eval(chunk)
                ms = (time.perf_counter() - t) * 1000
                self.read_tokens += len(chunk)
                self.read_ms += ms
                if len(chunk) >= CHUNK_MIN:
                    self.ms_per_token = ms / len(chunk)
                i += len(chunk)
    return DeadlineLlama


class LlamaChat:
    """A llama.cpp model shared by threads: calls are serialised (a llama context is not thread-safe).

    Prefix reuse: llama-cpp-python keeps the evaluated tokens of the last call and evaluates only what
    follows the longest common prefix, so a stable system prompt and question are read once per walk.
    `prefix_cache=False` resets the context before each call (for measuring what reuse saves);
    `ram_cache_mb` adds a LlamaRAMCache, which also restores states across interleaved walks."""

    def __init__(self, path: str | os.PathLike[str], n_ctx: int = 4096, n_threads: int | None = None, seed: int = 0,
                 prefix_cache: bool = True, ram_cache_mb: int = 0) -> None:
        """`n_threads=None`: up to every core, fewer when the machine is loaded (server.cpu.threads_for_load,
        chosen again before every call: two threads on a loaded 2-core machine read a 4-token chunk in
        6.4 s, beyond any budget); an int: exactly that many."""
        from llama_cpp import Llama, LlamaRAMCache

        DeadlineLlama = _deadline_llama(Llama)

        self.path = check_gguf(Path(path))
        self.name = self.path.stem
        self.n_ctx = n_ctx
        self.prefix_cache = prefix_cache
        self.n_threads = n_threads
        self._max_threads = n_threads or (os.cpu_count() or 1)
        self._lock = threading.Lock()
        try:
            self._llm = DeadlineLlama(model_path=str(self.path), n_ctx=n_ctx, n_threads=self._max_threads,
                                      n_threads_batch=self._max_threads, seed=seed, verbose=False)
        except ValueError as exc:  # llama.cpp could not read it
            raise ModelError(f"llama.cpp could not load {self.path}: {exc}") from exc
        if ram_cache_mb:
            self._llm.set_cache(LlamaRAMCache(capacity_bytes=ram_cache_mb << 20))

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int = 96,
                 deadline: float | None = None) -> Completion:
        asked = time.perf_counter()
        timeout = -1 if deadline is None else max(0.0, deadline - asked)
        if not self._lock.acquire(timeout=timeout):  # another call holds the model past our deadline
            return Completion(text="", wait_ms=(time.perf_counter() - asked) * 1000, cut=True)
        try:
            return self._complete(messages, schema, max_tokens, deadline, asked)
        finally:
            self._lock.release()

    def _complete(self, messages: list[dict[str, str]], schema: dict[str, Any], max_tokens: int,
                  deadline: float | None, asked: float) -> Completion:
        start = time.perf_counter()
        llm = self._llm
        if not self.prefix_cache:
            llm.reset()
        if self.n_threads is None:
            threads = threads_for_load(self._max_threads)
            llm._ctx.set_n_threads(threads, threads)
        llm.begin(deadline)
        # Streamed, so that the generation can end at the deadline (llama.cpp's chat API has no
        # stopping criteria; an exception in a logits processor is swallowed by its C callback). The
        # prompt is read in chunks by DeadlineLlama.eval, which raises DeadlinePassed between them.
        chunks = llm.create_chat_completion(
            messages=messages,  # type: ignore[arg-type]
            response_format={"type": "json_object", "schema": schema},
            temperature=0.0, max_tokens=max_tokens, seed=0, stream=True,
        )
        parts: list[str] = []
        cut = False
        try:
            for chunk in chunks:  # type: ignore[union-attr]
                if deadline is not None and time.perf_counter() >= deadline:
                    cut = True
                    break
                piece = chunk["choices"][0]["delta"].get("content")  # type: ignore[index]
                if piece:
                    parts.append(piece)
        except DeadlinePassed:
            cut = True
        finally:
            chunks.close()  # type: ignore[union-attr]  # ends llama.cpp's generator; its cache stays consistent
            llm.deadline = None
        evaluated = llm.n_tokens  # prompt + generated; a streamed chunk is about one token
        done = time.perf_counter()
        return Completion(
            text="" if cut else "".join(parts), partial="".join(parts) if cut else "", prompt_tokens=max(0, evaluated - len(parts)),
            completion_tokens=len(parts), ms=(done - start) * 1000, wait_ms=(start - asked) * 1000, cut=cut,
            read_tokens=llm.read_tokens, read_ms=round(llm.read_ms, 2), gen_ms=round(llm.gen_ms, 2),
        )
