"""The embedding model's training step: SentenceTransformerTrainer with (Cached)MultipleNegativesRankingLoss,
each batch drawn from one source (in-batch negatives from the same domain), no duplicate texts in a batch."""
from __future__ import annotations

import random

from server.training.config import TrainConfig, texts_for
from server.training.loop import callbacks_for, run_trainer, trainer_args
from server.training.pairs import Example

__all__ = ["train_embedding"]


def train_embedding(base: str, examples: list[Example], by_source: dict, cfg: TrainConfig, rng: random.Random,
                    attach_negatives, val_sets=None, steps: int | None = None) -> tuple[object, dict, dict, float, int]:
    from datasets import Dataset, DatasetDict
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    try:  # sentence-transformers >= 6 moved these
        from sentence_transformers.sentence_transformer.losses import (
            CachedMultipleNegativesRankingLoss, MultipleNegativesRankingLoss,
        )
        from sentence_transformers.sentence_transformer.training_args import BatchSamplers, MultiDatasetBatchSamplers
    except ImportError:
        from sentence_transformers.losses import CachedMultipleNegativesRankingLoss, MultipleNegativesRankingLoss
        from sentence_transformers.training_args import BatchSamplers, MultiDatasetBatchSamplers

    model = SentenceTransformer(base, device="cpu", local_files_only=True)
    model.max_seq_length = cfg.max_seq_length
    negs, counts = attach_negatives(examples, by_source, cfg, model, rng) if cfg.negatives or any(
        e.negatives for e in examples) else ([[] for _ in examples], {})
    width = max((len(n) for n in negs), default=0)
    per_src: dict[str, dict[str, list[str]]] = {}
    for e, n in zip(examples, negs):
        src = e.extra_src  # type: ignore[attr-defined]
        cols = per_src.setdefault(src, {"anchor": [], "positive": [], **{f"negative_{k}": [] for k in range(width)}})
        cols["anchor"].append(e.query)
        cols["positive"].append(texts_for(by_source, src, e.positive))
        for k in range(width):  # rows short of negatives repeat their last one (or a random passage)
            pid = n[k] if k < len(n) else (n[-1] if n else by_source[src].corpus.passages[rng.randrange(len(by_source[src].corpus.passages))].id)
            cols[f"negative_{k}"].append(texts_for(by_source, src, pid))
    data = DatasetDict({s: Dataset.from_dict(c) for s, c in per_src.items()})
    train_data = data[next(iter(data))] if len(data) == 1 else data
    if cfg.loss == "cached-mnrl":
        loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=16)
    else:
        loss = MultipleNegativesRankingLoss(model)
    args = SentenceTransformerTrainingArguments(
        **trainer_args(cfg, steps), batch_sampler=BatchSamplers.NO_DUPLICATES,
        multi_dataset_batch_sampler=MultiDatasetBatchSamplers.PROPORTIONAL)
    callbacks, val_cb = callbacks_for(model, "embedding", cfg, val_sets)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train_data, loss=loss, callbacks=callbacks)
    seconds, curve = run_trainer(trainer, val_cb)
    hyper = {"loss": type(loss).__name__, "negative_columns": width, "rows": len(examples),
             "batch_sampler": "no_duplicates", "multi_dataset": "proportional", **curve}
    return model, hyper, counts, seconds, int(trainer.state.global_step)
