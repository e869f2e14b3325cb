"""The composition root of the read side: `open_services(settings)` builds the one `Services` object
that the MCP server's lifespan, the CLI, evaluation and training receive. Heavy parts (the reranker,
the chat model) are built here, once, lazily and safely under concurrency; `warm()` pays for them
before the first call does."""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from server.corpus import Corpus
from server.cpu import fit_torch_threads
from server.corpus.feedback import FeedbackStore
from server.corpus.watch import CorpusWatch
from server.corpus.results import FeedbackAck, RerankedPassage, RerankResult, SearchResult
from server.limits import check_ids, check_text
from server.llm.chat import ChatModel
from server.rerank.base import Reranker
from server.retrieval import DEFAULT_MODE, DenseIndex, FirstStage, check_mode
from server.settings import Settings
from server.traversal import (
    DEFAULT_STRATEGY, NEEDS_MODEL, AgentOptions, DeepSearchResult, OnStep, PlanOptions, WalkOptions, check_arguments, deep_search,
    with_defaults,
)

__all__ = ["Services", "open_services", "reranker_spec", "build_reranker", "dense_index", "Gate", "Busy"]

Progress = Callable[[str, int, int], None]


class Busy(RuntimeError):
    """Every deep_search slot is running and the queue is full."""


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


def latest_model(root: Path) -> Path | None:
    """The folder `train-reranker` marked LATEST under `root`, if any."""
    marker = root / "LATEST"
    if not marker.is_file():
        return None
    folder = root / marker.read_text(encoding="utf-8").strip()
    return folder if folder.is_dir() and folder.parent == root else None


def reranker_spec(settings: Settings) -> str | None:
    """--reranker / READTRAIL_RERANKER, else the latest model trained into the index, else None (zero-shot)."""
    if settings.reranker:
        return settings.reranker
    latest = latest_model(settings.index_models)
    return str(latest) if latest else None


def dense_index(settings: Settings, corpus: Corpus, rr: Reranker) -> DenseIndex:
    """The dense side of the first stage that serves beside `rr`: its embedding model's vectors, or the
    packaged MiniLM's when it has none (a cross-encoder, or a fusion over one)."""
    model = getattr(rr, "embedder", rr)
    if not (hasattr(model, "query_vector") and hasattr(model, "passage_matrix")):
        model = build_reranker(settings, corpus, "zero-shot")
    return DenseIndex(corpus, model)


def build_reranker(settings: Settings, corpus: Corpus, spec: str | None) -> Reranker:
    """A reranker by folder or name ('default': what serving uses with no flag; 'zero-shot': MiniLM alone)."""
    from server.rerank import ZERO_SHOT, load_reranker

    spec = {"default": reranker_spec(settings), "zero-shot": ZERO_SHOT}.get(str(spec), spec)
    return load_reranker(spec, corpus, cache_dir=settings.vector_cache)


@dataclass
class Services:
    """What every entry point works with. Pass `reranker` / `chat_model` to use ready-made ones (tests)."""

    settings: Settings
    corpus: Corpus
    reranker_override: Reranker | None = None
    chat_model_override: ChatModel | None = None
    gate: Gate = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _parts: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _warmed: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _warm_wait_over: bool = field(default=False, init=False, repr=False)
    _warm_progress: tuple[float, int, int] | None = field(default=None, init=False, repr=False)  # start, done, total
    _watch: CorpusWatch | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._warmed.set()  # nothing to wait for until a warm-up starts
        self.gate = Gate(self.settings.deep_search_running, self.settings.deep_search_waiting)
        if self.reranker_override is not None:
            self._parts["reranker"] = self.reranker_override
        if self.chat_model_override is not None:
            self._parts["chat_model"] = self.chat_model_override

    def _lazy(self, name: str, factory: Callable[[], Any]) -> Any:
        part = self._parts.get(name)
        if part is None:
            with self._lock:
                part = self._parts.get(name)
                if part is None:
                    part = self._parts[name] = factory()
        return part

    # -- following re-indexing ----------------------------------------------------------------------
    def watch_index(self, interval: float = 1.0) -> CorpusWatch:
        """From now on `refresh()` swaps in the generation `readtrail index` writes (checked once per `interval`)."""
        self._watch = CorpusWatch(self.corpus, self._swap, interval)
        return self._watch

    def refresh(self) -> None:
        """Cheap; call at the start of a request. A new generation loads in the background and serves later calls."""
        if self._watch is not None:
            self._watch.poll()

    def _swap(self, corpus: Corpus) -> None:
        # Runs in the loading thread. A first stage built over the old corpus is built again over the new one
        # first (its dense matrix from the vector cache, changed passages encoded), so no call pays for it.
        old_stage = self._parts.get("first_stage")
        stage = None
        if old_stage is not None and old_stage.dense_ready:
            stage = FirstStage(corpus, DenseIndex(corpus, old_stage.dense.model), self.search_mode)
            _ = stage.dense.matrix
        elif old_stage is not None:
            stage = FirstStage(corpus, self._dense_index, self.search_mode)
        # one assignment each: a call holds the corpus it started with; the reranker's BM25 features follow
        self.corpus = corpus
        if stage is not None:
            self._parts["first_stage"] = stage
        rr = self._parts.get("reranker")
        if rr is not None and hasattr(rr, "corpus"):
            rr.corpus = corpus

    # -- parts -------------------------------------------------------------------------------------
    def reranker(self) -> Reranker:
        def build() -> Reranker:
            spec = reranker_spec(self.settings)
            rr = build_reranker(self.settings, self.corpus, spec)
            print(f"readtrail: reranker {rr.name}" + (f" from {spec}" if spec else ""), file=sys.stderr)
            return rr
        return self._lazy("reranker", build)

    def chat_model(self) -> ChatModel:
        from server.llm.chat import LlamaChat
        from server.llm.registry import resolve_model_path

        return self._lazy("chat_model", lambda: LlamaChat(resolve_model_path(self.settings.model, self.settings.models_dir)))

    @property
    def search_mode(self) -> str:
        """The first stage search and deep_search use unless told otherwise."""
        return check_mode(self.settings.search_mode or DEFAULT_MODE)

    def first_stage(self) -> FirstStage:
        """BM25, dense or hybrid by mode; the dense side is built on first use (the matrix of passage
        vectors, from the reranker's embedding model, else the packaged MiniLM)."""
        return self._lazy("first_stage", lambda: FirstStage(self.corpus, self._dense_index, self.search_mode))

    def _dense_index(self) -> DenseIndex:
        return dense_index(self.settings, self.corpus, self.reranker())

    def feedback(self) -> FeedbackStore:
        return self._lazy("feedback", lambda: FeedbackStore(self.settings.feedback_db))

    def agent_options(self) -> AgentOptions:
        return AgentOptions(prompts=self.settings.prompts)

    def plan_options(self) -> PlanOptions:
        return PlanOptions(prompts=self.settings.prompts)

    # -- warm-up -----------------------------------------------------------------------------------
    def warm(self, progress: Progress | None = None) -> None:
        """Build the reranker and encode every passage it will score (cached on disk), now."""
        try:
            rr = self.reranker()
            embedder = getattr(rr, "embedder", rr)
            if hasattr(embedder, "precompute"):
                started = time.monotonic()

                def seen(done: int, total: int) -> None:
                    self._warm_progress = (started, done, total)
                    if progress:
                        progress("encode passages", done, total)
                embedder.precompute(self.corpus.passages, progress=seen)
            if self.search_mode != "bm25":
                _ = self.first_stage().dense.matrix  # from the vectors just cached
        finally:
            self._warmed.set()

    def warm_in_background(self) -> threading.Thread:
        """Warm in a thread (the server answers search meanwhile); deep_search waits for it, so long."""
        def run() -> None:
            try:
                self.warm()
                print(f"readtrail: reranker warm ({len(self.corpus.passages)} passages)", file=sys.stderr)
            except Exception as exc:  # noqa: BLE001  (reported; the first call will raise it again, clearly)
                print(f"readtrail: could not warm the reranker: {exc}", file=sys.stderr)
        self._warmed.clear()
        self._warm_wait_over, self._warm_progress = False, None
        thread = threading.Thread(target=run, name="readtrail-warm", daemon=True)
        thread.start()
        return thread

    def wait_warm(self, timeout: float | None = None) -> bool:
        return self._warmed.wait(timeout)

    @property
    def warm_wait_over(self) -> bool:
        """True once a deep_search has waited its bound for this warm-up."""
        return self._warm_wait_over

    def warm_eta(self) -> float | None:
        """Seconds the warm-up's encoding still needs at its pace so far (None: no pace measured yet)."""
        if self._warm_progress is None:
            return None
        started, done, total = self._warm_progress
        spent = time.monotonic() - started
        return None if done <= 0 or spent <= 0 else (total - done) * spent / done

    def wait_warm_once(self, timeout: float, poll: float = 0.5) -> bool:
        """deep_search's wait for the warm-up: at most `timeout`, less as soon as its pace says it will not
        end within what is left (a large folder's warm-up takes minutes: waiting for part of it buys
        nothing), and once a call has stopped waiting the later ones do not wait again (they seed from
        BM25 until the vectors are ready). True: warm."""
        if self._warm_wait_over:
            return self._warmed.is_set()
        end = time.monotonic() + timeout
        while not self._warmed.wait(max(0.0, min(poll, end - time.monotonic()))):
            left, eta = end - time.monotonic(), self.warm_eta()
            if left <= 0 or (eta is not None and eta > left):
                self._warm_wait_over = True
                return False
        return True

    # -- verbs beyond the corpus ------------------------------------------------------------------
    def search(self, query: str, k: int = 10, offset: int = 0, document: str | None = None, max_chars: int = 600,
               mode: str | None = None) -> SearchResult:
        """The corpus's search with a first stage: bm25, dense or hybrid (None: the server's mode)."""
        asked = mode is not None
        mode = check_mode(mode or self.search_mode)
        hint = None
        if mode != "bm25" and not asked and not self.first_stage().dense_ready:
            # The server's default mode never makes a search wait for every passage to be encoded: BM25 answers
            # until the warm-up (or `readtrail index --vectors`) has the vectors; asking for a mode waits for it.
            mode, hint = "bm25", (f"ranked by BM25: passage vectors for {self.search_mode} search are not ready yet "
                                  f"({'the warm-up is encoding them' if not self._warmed.is_set() else 'warm-up is off'}; "
                                  f"pass mode='{self.search_mode}' to wait for them)")
        if mode == "bm25":
            result = self.corpus.search(query, k, offset, document, max_chars)
            return result.model_copy(update={"mode": mode, "hint": hint or result.hint})
        fit_torch_threads()  # the query is encoded: torch's threads for the load now (BM25 needs none)
        stage = self.first_stage()

        def ranker(q: str, n: int, off: int, doc_id: str | None) -> list:
            return stage.ranked(q, n + off, mode, doc_id)[off:]
        return self.corpus.search(query, k, offset, document, max_chars, ranker=ranker).model_copy(update={"mode": mode})

    def rerank(self, query: str, passage_ids: list[str]) -> RerankResult:
        """Order passages by the reranker's score for the query, best first."""
        check_text("query", query)
        check_ids("passage_ids", passage_ids)
        ids = list(dict.fromkeys(passage_ids))
        passages = [self.corpus.passage(p) for p in ids]  # unknown ids: a short UsageError
        rr = self.reranker()
        scores = rr.score(query, passages)
        order = sorted(range(len(ids)), key=lambda i: -scores[i])
        return RerankResult(query=query, reranker=rr.name, passages=[
            RerankedPassage(id=ids[i], score=round(float(scores[i]), 4), rank=r) for r, i in enumerate(order, 1)])

    def record_feedback(self, query: str, passage_id: str, verdict: str, note: str | None = None,
                        client: str = "mcp") -> FeedbackAck:
        self.corpus.passage(passage_id)
        row = self.feedback().add(query, passage_id, verdict, note, client)
        return FeedbackAck(id=row, query=query, passage_id=passage_id, verdict=verdict, stored=True)

    # -- deep search -------------------------------------------------------------------------------
    def deep_search(self, question: str, strategy: str = DEFAULT_STRATEGY, max_steps: int | None = None,
                    max_seconds: float | None = None, k: int = 10, on_step: OnStep | None = None,
                    walk_options: WalkOptions | None = None) -> DeepSearchResult:
        """Blocking: the strategy's parts (built once), then the walk or the agent within its budget."""
        steps, seconds = with_defaults(strategy, max_steps, max_seconds)
        check_arguments(question, strategy, steps, seconds, k)  # before loading anything
        model = self.chat_model() if strategy in NEEDS_MODEL else None
        fit_torch_threads()  # the reranker encodes the question at every step
        stage, note = None, None
        if self.search_mode != "bm25":
            if self._warmed.is_set() or self.first_stage().dense_ready:
                stage = self.first_stage()
            else:  # never wait for every passage's vector (hours on a large corpus): seed as search does meanwhile
                note = (f"seeded by BM25: passage vectors for {self.search_mode} seeds are not ready yet "
                        "(the warm-up is encoding them; `readtrail warm-reranker` or `index --vectors` does it ahead)")
        result = deep_search(self.corpus, self.reranker(), question, strategy, steps, seconds, k, model=model,
                             on_step=on_step, walk_options=walk_options, agent_options=self.agent_options(),
                             first_stage=stage, plan_options=self.plan_options())
        if note:
            result = result.with_note(note)
        return result


def open_services(settings: Settings, corpus: Corpus | None = None, **parts: Any) -> Services:
    """Services over `corpus`, or the index that `settings` names."""
    return Services(settings, corpus if corpus is not None else Corpus.open(settings.index), **parts)
