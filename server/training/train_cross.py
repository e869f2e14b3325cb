"""The cross-encoder's training step (a base the user brings, e.g. a bge-reranker folder):
CrossEncoderTrainer with BinaryCrossEntropyLoss over graded positives and their negatives."""
from __future__ import annotations

import random
import shutil
import time

from server.training.pairs import Example
from server.training.train import TrainConfig, budget_callback, scratch_dir, texts_for

__all__ = ["train_cross_encoder"]


def train_cross_encoder(base: str, examples: list[Example], by_source: dict, cfg: TrainConfig, rng: random.Random,
                        attach_negatives) -> tuple[object, dict, dict, float, int]:
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from server.rerank.embedding import minilm_path
    from sentence_transformers import SentenceTransformer

    model = CrossEncoder(base, device="cpu", max_length=cfg.max_seq_length, local_files_only=True)
    miner = SentenceTransformer(minilm_path(), device="cpu", local_files_only=True) if "hard" in cfg.negatives else None
    negs, counts = attach_negatives(examples, by_source, cfg, miner, rng)
    q, p, y = [], [], []
    for e, ns in zip(examples, negs):
        src = e.extra_src  # type: ignore[attr-defined]
        q.append(e.query), p.append(texts_for(by_source, src, e.positive)), y.append(float(e.label))
        for n in ns:
            q.append(e.query), p.append(texts_for(by_source, src, n)), y.append(0.0)
    data = Dataset.from_dict({"query": q, "passage": p, "label": y}).shuffle(seed=cfg.seed)
    loss = BinaryCrossEntropyLoss(model)
    out_dir = scratch_dir()
    args = CrossEncoderTrainingArguments(
        output_dir=out_dir, max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate, warmup_ratio=cfg.warmup_ratio, seed=cfg.seed, use_cpu=True,
        save_strategy="no", logging_steps=10, report_to="none", dataloader_num_workers=0,
    )
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss,
                                  callbacks=[budget_callback(cfg.time_budget_s)])
    t = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - t
    shutil.rmtree(out_dir, ignore_errors=True)
    return model, {"loss": "BinaryCrossEntropyLoss", "rows": len(data)}, counts, seconds, int(trainer.state.global_step)
