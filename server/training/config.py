"""What every trainer shares: the configuration, logging, the time budget, scratch folders, passage texts.
`train.py` (the driver) and `train_embed.py` / `train_cross.py` (the two trainers) all import from here,
so the trainers never import the driver (no import cycle)."""
from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from server.rerank.embedding import passage_text

__all__ = ["TrainConfig", "log", "budget_callback", "scratch_dir", "texts_for"]


@dataclass
class TrainConfig:
    out: Path
    base: str | None = None  # None: the packaged MiniLM (embedding); a cross-encoder folder trains a cross-encoder
    kind: str | None = None  # "embedding" / "cross-encoder" / "adapter" / "query-encoder": force the kind (a cross-encoder from MiniLM: kind="cross-encoder")
    negatives: tuple[str, ...] = ("hard",)
    negatives_per_kind: int = 1  # negatives of each kind per pair (query-side kinds: extra columns cost nothing)
    per_query: int = 4  # labelled positives drawn per query
    max_steps: int = 120  # a cap on optimiser steps (with epochs > 0: min(this, what the epochs need); 0: no cap)
    epochs: float = 0.0  # > 0: every training pair, this many passes; 0: max_steps x batch_size sampled pairs
    time_budget_s: float | None = None  # stop training after this many seconds
    batch_size: int = 32
    max_seq_length: int = 128
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    lr_decay: bool = False  # adapter, query encoder, top layers: decay the rate to 0 at the budget's last step (server/training/schedule.py)
    loss: str = ""  # "" / "mnrl": a softmax ranking loss (both kinds); also "cached-mnrl" (embedding), "bce" (cross-encoder)
    holdout: int = 50  # held-back queries per labelled source for before/after metrics (0: none)
    val_fraction: float = 0.0  # > 0: hold back this fraction of each labelled source, chosen by a hash of the query id
    eval_every: int = 0  # > 0: validation nDCG@10 every this many steps (the curve goes into the card)
    patience: int = 0  # > 0: stop after this many validations without a gain of min_delta; the best weights are kept
    min_delta: float = 0.002
    val_max_queries: int = 100  # per validation source, during training (cost bound); the final evaluation uses all
    eval_candidates: int = 30
    frozen_layers: int = 2  # query-encoder: embeddings and this many lowest transformer layers stay frozen
    query_max_seq_length: int = 64  # query-encoder: tokens of a question read (questions are short)
    head_lr_scale: float = 1.0  # cross-encoder: learning rate of the fresh classification head, relative
    pos_weight: float | None = None  # cross-encoder BCE: weight of positive rows (None: negatives per positive)
    progress: bool = True  # a progress bar on stderr
    cache_dir: Path | None = None  # readtrail home (Settings.home): mining and passage-vector caches; None: memory only
    seed: int = 0
    extra: dict = field(default_factory=dict)


def log(msg: str) -> None:
    print(f"train-reranker: {msg}", file=sys.stderr, flush=True)


def budget_callback(seconds: float | None):
    from transformers import TrainerCallback

    class Budget(TrainerCallback):
        def __init__(self) -> None:
            self.t0 = time.monotonic()

        def on_train_begin(self, args, state, control, **kwargs):
            self.t0 = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):
            if seconds is not None and time.monotonic() - self.t0 > seconds:
                log(f"time budget of {seconds:.0f}s reached at step {state.global_step}: stopping")
                control.should_training_stop = True
            return control

    return Budget()


def scratch_dir() -> str:
    return tempfile.mkdtemp(prefix="readtrail-train-")


def texts_for(by_source: dict, src: str, pid: str) -> str:
    return passage_text(by_source[src].corpus.passage(pid))
