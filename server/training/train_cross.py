"""The cross-encoder's training step: a folder the user brings (e.g. a bge-reranker), or a fresh
classification head on the packaged MiniLM (or on a fine-tuned bi-encoder: `kind="cross-encoder"`).

Losses: "mnrl", the default (a softmax over the positive, its negatives and the other rows' positives: a
ranking loss that needs no calibrated probabilities; from a fresh head on MiniLM it learned within 25 steps,
ADGM validation 0.17 -> 0.67, bench/RERANKER.md), or "bce" (BinaryCrossEntropyLoss over positives and
their negatives; positives are labelled 1 whatever their grade, because a 0.5 target for a grade-1 passage
pins the loss at ln 2 by design; from a fresh head it stayed at ln 2 for the 20-30 steps measured). The
fresh head can train faster than the body (`head_lr_scale`)."""
from __future__ import annotations

import random

from server.training.config import TrainConfig, log, texts_for
from server.training.loop import callbacks_for, run_trainer, trainer_args
from server.training.pairs import Example

__all__ = ["train_cross_encoder", "HEAD_PARTS"]

HEAD_PARTS = ("classifier", "score", "pooler")  # parameter names of the (fresh) head on a BERT body


def _optimizer(model, cfg: TrainConfig):
    import torch

    head, body = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (head if any(h in name for h in HEAD_PARTS) else body).append(p)
    return torch.optim.AdamW([{"params": body, "lr": cfg.learning_rate},
                              {"params": head, "lr": cfg.learning_rate * cfg.head_lr_scale}], lr=cfg.learning_rate,
                             weight_decay=0.01)


def train_cross_encoder(base: str, examples: list[Example], by_source: dict, cfg: TrainConfig, rng: random.Random,
                        attach_negatives, val_sets=None, steps: int | None = None) -> tuple[object, dict, dict, float, int]:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, MultipleNegativesRankingLoss

    from server.rerank.embedding import minilm_path

    model = CrossEncoder(base, num_labels=1, device="cpu", max_length=cfg.max_seq_length, local_files_only=True)
    miner = SentenceTransformer(minilm_path(), device="cpu", local_files_only=True) if "hard" in cfg.negatives else None
    if miner is not None:
        miner.max_seq_length = cfg.max_seq_length
    negs, counts = attach_negatives(examples, by_source, cfg, miner, rng)
    if cfg.loss in ("", "mnrl"):
        width = max((len(n) for n in negs), default=0)
        cols: dict[str, list[str]] = {"query": [], "positive": [], **{f"negative_{k}": [] for k in range(width)}}
        for e, ns in zip(examples, negs):
            src = e.extra_src  # type: ignore[attr-defined]
            cols["query"].append(e.query)
            cols["positive"].append(texts_for(by_source, src, e.positive))
            for k in range(width):
                cols[f"negative_{k}"].append(texts_for(by_source, src, ns[min(k, len(ns) - 1)] if ns else e.positive))
        data = Dataset.from_dict(cols).shuffle(seed=cfg.seed)
        loss = MultipleNegativesRankingLoss(model, num_negatives=min(4, max(cfg.batch_size - 1, 1)))
        rows, positives = len(data), len(data)
    else:
        q, p, y = [], [], []
        for e, ns in zip(examples, negs):
            src = e.extra_src  # type: ignore[attr-defined]
            q.append(e.query), p.append(texts_for(by_source, src, e.positive)), y.append(1.0 if e.label > 0 else 0.0)
            for n in ns:
                q.append(e.query), p.append(texts_for(by_source, src, n)), y.append(0.0)
        data = Dataset.from_dict({"query": q, "passage": p, "label": y}).shuffle(seed=cfg.seed)
        positives = int(sum(y))
        pos_weight = cfg.pos_weight if cfg.pos_weight is not None else max(1.0, (len(y) - positives) / max(positives, 1))
        import torch

        loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(pos_weight))
        rows = len(data)
        log(f"cross-encoder BCE rows: {rows} ({positives} positive), pos_weight {pos_weight:.2f}")
    args = CrossEncoderTrainingArguments(**trainer_args(cfg, steps))
    callbacks, val_cb = callbacks_for(model, "cross-encoder", cfg, val_sets)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss, callbacks=callbacks,
                                  optimizers=(_optimizer(model, cfg), None))
    seconds, curve = run_trainer(trainer, val_cb)
    hyper = {"loss": type(loss).__name__, "rows": rows, "positives": positives, **curve}
    return model, hyper, counts, seconds, int(trainer.state.global_step)
