"""Every READTRAIL_* variable, read once, in one place: the rest of readtrail receives a Settings."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SAMPLE_CORPUS", "ENV_VARS"]

SAMPLE_CORPUS = Path(__file__).resolve().parent / "sample_corpus"

# name -> what it sets (printed by `readtrail --help` and the README)
ENV_VARS = {
    "READTRAIL_HOME": "readtrail's home: the sample index, vector caches, feedback, assembled models (default ~/.cache/readtrail)",
    "READTRAIL_INDEX": "the index folder (stands in for --index)",
    "READTRAIL_RERANKER": "a trained reranker folder (stands in for --reranker)",
    "READTRAIL_MODEL": "a GGUF file or packaged model name for the agent (stands in for --model)",
    "READTRAIL_TOKEN": "the bearer token HTTP clients must send (prefer it to --token: a command line is visible to every local user)",
    "READTRAIL_ALLOWED_HOSTS": "extra host names HTTP clients may use, comma-separated",
    "READTRAIL_FEEDBACK": "the feedback store (default HOME/feedback.sqlite3)",
    "READTRAIL_PROMPTS": "a folder of prompt files to use instead of the packaged ones",
    "READTRAIL_WARM": "0: do not warm the reranker when the server starts",
    "READTRAIL_SEARCH_MODE": "the first stage of search and deep_search: bm25, dense or hybrid (default hybrid)",
}


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: give seconds, e.g. 30") from None
    if not seconds >= 0:
        raise ValueError(f"{name}={value!r}: give 0 or more seconds")
    return seconds


@dataclass(frozen=True)
class Settings:
    home: Path  # vector caches, the sample index, feedback, assembled GGUF models
    index: Path  # the index folder to serve
    is_sample: bool  # True: the bundled sample corpus, indexed on first use
    reranker: str | None = None  # a reranker folder or name; None: the index's own trained model, else zero-shot
    model: str | None = None  # a GGUF path or packaged name; None: the default packaged model
    token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    feedback_db: Path | None = None
    prompts: Path | None = None  # None: the packaged prompts
    warm: bool = True  # warm the reranker and its passage vectors when a server starts
    search_mode: str | None = None  # bm25, dense, hybrid; None: server.retrieval.DEFAULT_MODE
    deep_search_running: int = 2
    deep_search_waiting: int = 4
    # deep_search waits this long for the warm-up, then walks anyway: seeds from BM25 until the passage
    # vectors are ready, the reranker encoding what it touches (a large corpus's warm-up takes hours)
    warm_wait_s: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: Any) -> Settings:
        """The environment, then what the caller was given (command-line options; None: not given)."""
        env = os.environ if env is None else env
        home = _path(env.get("READTRAIL_HOME")) or Path.home() / ".cache" / "readtrail"
        index = given.pop("index", None) or env.get("READTRAIL_INDEX")
        values: dict[str, Any] = {
            "home": home,
            "index": Path(index).expanduser().resolve() if index else home / "sample-index",
            "is_sample": not index,
            "reranker": env.get("READTRAIL_RERANKER") or None,
            "model": env.get("READTRAIL_MODEL") or None,
            "token": env.get("READTRAIL_TOKEN") or None,
            "allowed_hosts": tuple(h.strip() for h in env.get("READTRAIL_ALLOWED_HOSTS", "").split(",") if h.strip()),
            "feedback_db": _path(env.get("READTRAIL_FEEDBACK")) or home / "feedback.sqlite3",
            "prompts": _path(env.get("READTRAIL_PROMPTS")),
            "warm": env.get("READTRAIL_WARM", "1").strip().lower() not in ("0", "false", "no", "off"),
            "search_mode": env.get("READTRAIL_SEARCH_MODE") or None,
        }
        if env.get("READTRAIL_WARM_WAIT"):
            values["warm_wait_s"] = _seconds("READTRAIL_WARM_WAIT", env["READTRAIL_WARM_WAIT"])
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)

    def but(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def vector_cache(self) -> Path:
        return self.home / "vectors"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def index_models(self) -> Path:
        """The index's own model folder: `train-reranker --into-index` writes there, and serve, deep-search
        and eval use its latest model when no reranker is named (re-indexing keeps it)."""
        return self.index / "models"
