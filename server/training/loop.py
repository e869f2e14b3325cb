"""What the two trainers share around the sentence-transformers Trainer: its common arguments, the
callbacks (time budget, validation with early stopping) and the run itself with its curves."""
from __future__ import annotations

import shutil
import time

from server.training.config import TrainConfig, budget_callback, scratch_dir
from server.training.validation import validation_callback

__all__ = ["trainer_args", "callbacks_for", "run_trainer", "curves"]


def trainer_args(cfg: TrainConfig, steps: int | None) -> dict:
    """Keyword arguments both TrainingArguments classes take (output_dir is a fresh scratch folder)."""
    return dict(output_dir=scratch_dir(), max_steps=steps or cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
                learning_rate=cfg.learning_rate, warmup_ratio=cfg.warmup_ratio, seed=cfg.seed, use_cpu=True,
                save_strategy="no", logging_steps=10, report_to="none", dataloader_num_workers=0,
                disable_tqdm=not cfg.progress)


def callbacks_for(model, kind: str, cfg: TrainConfig, val_sets) -> tuple[list, object | None]:
    callbacks = [budget_callback(cfg.time_budget_s)]
    val_cb = None
    if val_sets:
        val_cb = validation_callback(model, kind, val_sets, cfg.eval_every, cfg.patience, cfg.min_delta)
        callbacks.append(val_cb)
    return callbacks, val_cb


def curves(trainer, val_cb) -> dict:
    """The loss curve (from the trainer's log) and the validation curve, for the model card and plots."""
    loss = [{"step": r["step"], "loss": round(r["loss"], 4), **({"lr": r["learning_rate"]} if "learning_rate" in r else {})}
            for r in trainer.state.log_history if "loss" in r]
    out: dict = {"loss_curve": loss}
    if val_cb is not None:
        out.update(validation_curve=val_cb.curve, best_step=val_cb.stopper.best_step, best_validation=val_cb.stopper.best,
                   validation_seconds=round(val_cb.seconds, 1), best_per_query=val_cb.best_per_query)
    return out


def run_trainer(trainer, val_cb) -> tuple[float, dict]:
    """Train; (seconds, curves). The scratch output folder is removed."""
    t = time.monotonic()
    try:
        trainer.train()
    finally:
        shutil.rmtree(trainer.args.output_dir, ignore_errors=True)
    return time.monotonic() - t, curves(trainer, val_cb)
