"""Validation during training: nDCG@10 of the model being trained on held-back queries (BM25 top-N
candidates reranked), every `eval_every` steps, with early stopping on it (the best weights are kept).

Also the split itself: a fixed fraction of a labelled source, chosen by a hash of the query id, so the
same questions are held back on every run, on every machine, whatever else is in the file."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from server.eval.metrics import ndcg_at
from server.rerank.embedding import passage_text
from server.training.config import log

__all__ = ["hash_split", "in_validation", "ValidationSet", "make_validation_set", "validate", "validation_callback",
           "EarlyStopper"]

SALT = "readtrail-val-v1"


def in_validation(qid: str, fraction: float, salt: str = SALT) -> bool:
    """True for a fixed `fraction` of query ids (a hash of salt + id: stable across runs and machines)."""
    h = int.from_bytes(hashlib.blake2b(f"{salt}\x1f{qid}".encode("utf-8"), digest_size=8).digest(), "big")
    return h / 2**64 < fraction


def hash_split(qids: Iterable[str], fraction: float, salt: str = SALT) -> tuple[list[str], list[str]]:
    """(train ids, validation ids), both sorted; validation is the hashed `fraction`."""
    train, val = [], []
    for q in sorted(set(qids)):
        (val if in_validation(q, fraction, salt) else train).append(q)
    return train, val


@dataclass
class ValidationSet:
    name: str
    queries: list[tuple[str, str]]  # (qid, text)
    qrels: dict[str, dict[str, float]]
    candidates: dict[str, list[tuple[str, str]]]  # qid -> [(passage id, passage text)], BM25 order
    corpus: object = None


def make_validation_set(name: str, corpus, queries: dict[str, str], qrels: dict[str, dict[str, float]],
                        qids: list[str], candidates: int, max_queries: int = 0) -> ValidationSet:
    """BM25 candidates computed once; `max_queries` > 0 keeps that many (the first, in the hashed order)."""
    chosen = [q for q in qids if q in queries and any(s > 0 for s in qrels.get(q, {}).values())]
    chosen.sort(key=lambda q: hashlib.blake2b(q.encode("utf-8"), digest_size=8).digest())
    if max_queries > 0:
        chosen = chosen[:max_queries]
    cands = {q: [(p.id, passage_text(p)) for p, _ in corpus.bm25(queries[q], candidates)] for q in chosen}
    return ValidationSet(name, [(q, queries[q]) for q in chosen], {q: qrels[q] for q in chosen}, cands, corpus)


def _scores(model, kind: str, vs: ValidationSet, batch_size: int) -> dict[str, list[float]]:
    import numpy as np

    if kind == "cross-encoder":
        pairs, spans = [], {}
        for qid, text in vs.queries:
            start = len(pairs)
            pairs += [(text, t) for _, t in vs.candidates[qid]]
            spans[qid] = (start, len(pairs))
        raw = model.predict(pairs, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True) if pairs else []
        raw = np.asarray(raw).reshape(len(pairs), -1)[:, -1] if len(pairs) else raw
        return {q: [float(x) for x in raw[a:b]] for q, (a, b) in spans.items()}
    texts = sorted({t for qid, _ in vs.queries for _, t in vs.candidates[qid]})
    index = {t: i for i, t in enumerate(texts)}
    pv = model.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                      show_progress_bar=False) if texts else np.zeros((0, 1))
    qv = model.encode([t for _, t in vs.queries], batch_size=batch_size, convert_to_numpy=True,
                      normalize_embeddings=True, show_progress_bar=False)
    return {qid: [float(pv[index[t]] @ qv[i]) for _, t in vs.candidates[qid]] for i, (qid, _) in enumerate(vs.queries)}


def validate(model, kind: str, sets: list[ValidationSet], batch_size: int = 32,
             per_query: dict[str, dict[str, float]] | None = None) -> dict[str, float]:
    """nDCG@10 per set (BM25 candidates reordered by the model) and their mean under "mean";
    `per_query`, when given, is filled with {set: {query id: nDCG@10}} (for a paired bootstrap)."""
    import torch

    out: dict[str, float] = {}
    was_training = getattr(model, "training", False)
    model.eval()
    with torch.no_grad():
        for vs in sets:
            if not vs.queries:
                continue
            scores = _scores(model, kind, vs, batch_size)
            total = 0.0
            for qid, _ in vs.queries:
                ids = [pid for pid, _ in vs.candidates[qid]]
                order = sorted(range(len(ids)), key=lambda i: -scores[qid][i])
                v = ndcg_at([ids[i] for i in order], vs.qrels[qid], 10)
                total += v
                if per_query is not None:
                    per_query.setdefault(vs.name, {})[qid] = round(v, 4)
            out[vs.name] = round(total / len(vs.queries), 4)
    if was_training:
        model.train()
    out["mean"] = round(sum(v for k, v in out.items()) / max(len(out), 1), 4)
    return out


@dataclass
class EarlyStopper:
    """Tracks the best validation score; `update` returns True when training should stop."""
    patience: int
    min_delta: float = 0.0
    best: float = float("-inf")
    best_step: int = -1
    bad: int = 0
    history: list[dict] = field(default_factory=list)

    def update(self, step: int, score: float) -> tuple[bool, bool]:
        """(improved, stop)."""
        improved = score > self.best + self.min_delta
        if improved or self.best_step < 0:
            self.best, self.best_step, self.bad = max(score, self.best), step, 0
            return True, False
        self.bad += 1
        return False, self.patience > 0 and self.bad >= self.patience


def validation_callback(model, kind: str, sets: list[ValidationSet], every: int, patience: int, min_delta: float,
                        batch_size: int = 32):
    """A TrainerCallback: validates at step 0 and every `every` steps (and at the end), stops early after
    `patience` validations without a gain, and restores the best weights when training ends."""
    from transformers import TrainerCallback

    class Validation(TrainerCallback):
        def __init__(self) -> None:
            self.stopper = EarlyStopper(patience, min_delta)
            self.curve: list[dict] = []
            self.best_state = None
            self.best_per_query: dict[str, dict[str, float]] = {}
            self.t0 = time.monotonic()
            self.seconds = 0.0  # spent validating

        def _run(self, step: int, control=None) -> None:
            t = time.monotonic()
            pq: dict[str, dict[str, float]] = {}
            m = validate(model, kind, sets, batch_size, pq)
            self.seconds += time.monotonic() - t
            improved, stop = self.stopper.update(step, m["mean"])
            self.curve.append({"step": step, "elapsed_s": round(time.monotonic() - self.t0, 1), **m})
            log(f"validation at step {step}: {m} ({time.monotonic() - t:.0f}s)" + (" best" if improved else ""))
            if improved:
                self.best_per_query = pq
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if stop and control is not None:
                log(f"early stopping at step {step}: no gain over {self.stopper.best} (step {self.stopper.best_step}) "
                    f"for {patience} validations")
                control.should_training_stop = True

        def on_train_begin(self, args, state, control, **kwargs):
            self.t0 = time.monotonic()
            self._run(0)

        def on_step_end(self, args, state, control, **kwargs):
            if every > 0 and state.global_step % every == 0:
                self._run(state.global_step, control)
            return control

        def on_train_end(self, args, state, control, **kwargs):
            if not self.curve or self.curve[-1]["step"] != state.global_step:
                self._run(state.global_step)
            if self.best_state is not None and self.stopper.best_step != state.global_step:
                log(f"restoring the best weights (step {self.stopper.best_step}, validation {self.stopper.best})")
                model.load_state_dict(self.best_state)

    return Validation()


