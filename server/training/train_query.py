"""Training over cached passage representations, with an in-batch softmax ranking loss (MNRL) whose columns
are the batch's positives plus each row's negatives (BM25-mined, random, graph or embedding-mined).

Three kinds (`server/training/towers.py`):
- `adapter`: a linear map on the frozen base model's query vectors (seconds per run);
- `query-encoder`: the base transformer fine-tuned on question text with its lowest layers frozen, while
  passages keep the base model's cached vectors (the serving cache stays valid; extra negative columns
  cost nothing);
- `top-layers`: the base transformer's top layers fine-tuned for questions AND passages; a passage's
  states after the frozen layers are computed once, so a step runs only the top layers over them (a third
  of a full fine-tuning step with 4 of MiniLM's 6 layers frozen)."""
from __future__ import annotations

import random
import time

import numpy as np

from server.training.config import TrainConfig, log
from server.training.pairs import Example
from server.training.schedule import BudgetSchedule
from server.training.towers import EncoderTower, LinearTower, TopLayersTower
from server.training.validation import EarlyStopper

__all__ = ["train_query_side", "query_vectors", "FrozenPassages"]


class FrozenPassages:
    """The passage side of the query-side kinds: the base model's cached vectors, which never move."""

    def __init__(self, pvec: dict[str, np.ndarray]) -> None:
        self.pvec = pvec

    def passage_vectors(self, ids: list[str], grad: bool = False):
        import torch

        return torch.tensor(np.stack([self.pvec[i] for i in ids]))

SCALE = 20.0  # cosine -> logit, as sentence-transformers' MNRL


def _ndcg_sets(tower, sets, side, per_query: dict | None = None) -> dict[str, float]:
    from server.eval.metrics import ndcg_at

    tower.train(False)
    every = list(dict.fromkeys(pid for vs in sets for qid, _ in vs.queries for pid, _ in vs.candidates[qid]))
    pvec = dict(zip(every, side.passage_vectors(every, grad=False).numpy())) if every else {}
    out: dict[str, float] = {}
    for vs in sets:
        qv = tower.vectors([text for _, text in vs.queries], grad=False).numpy()
        total = 0.0
        for (qid, _), q in zip(vs.queries, qv):
            ids = [pid for pid, _ in vs.candidates[qid]]
            s = np.stack([pvec[pid] for pid in ids]) @ q if ids else np.zeros(0)
            v = ndcg_at([ids[i] for i in np.argsort(-s, kind="stable")], vs.qrels[qid], 10)
            total += v
            if per_query is not None:
                per_query.setdefault(vs.name, {})[qid] = round(v, 4)
        out[vs.name] = round(total / max(len(vs.queries), 1), 4)
    out["mean"] = round(sum(out.values()) / max(len(out), 1), 4)
    tower.train(True)
    return out


def query_vectors(embedder, texts: list[str], progress: bool = False) -> dict[str, np.ndarray]:
    """Base-model query vectors, kept in the embedder's vector cache under a query key (runs over the same
    training questions, e.g. an ablation, encode them once)."""
    from server.rerank.cache import text_key

    keys = [text_key("\x00query", t) for t in texts]
    found = embedder.cache.get_many(keys)
    todo = [i for i, v in enumerate(found) if v is None]
    log(f"adapter: {len(texts)} query vectors, {len(todo)} to encode")
    if todo:
        vecs = embedder.encode([texts[i] for i in todo], show_progress=progress)
        embedder.cache.put_many([keys[i] for i in todo], vecs)
        for i, v in zip(todo, vecs):
            found[i] = v
    return dict(zip(texts, found))


class _Saved:
    """What train_reranker saves: the tower's files; the card entry says how to load them."""

    def __init__(self, tower, base_ref: str, cache_root=None) -> None:
        self.tower, self.base_ref, self.cache_root = tower, base_ref, cache_root
        self.card: dict = {}

    def save(self, folder: str) -> None:
        self.card = self.tower.save(folder, self.base_ref)
        if hasattr(self.tower, "warm_serving_cache"):  # new passage vectors: write what was computed anyway
            n = self.tower.warm_serving_cache(folder, self.cache_root)
            log(f"{n} passage vectors of the trained model written to the serving cache")


def _needed_passages(examples, negs, by_source, val_sets) -> dict[str, object]:
    """Every passage a step or a validation reads: positives, negatives, validation candidates."""
    need: dict[str, object] = {}
    for e, ns in zip(examples, negs):
        corpus = by_source[e.extra_src].corpus  # type: ignore[attr-defined]
        for pid in [e.positive, *ns]:
            need.setdefault(pid, corpus.passage(pid))
    for vs in val_sets or []:
        for qid, _ in vs.queries:
            for pid, _ in vs.candidates[qid]:
                need.setdefault(pid, vs.corpus.passage(pid))
    return need


def _passage_vectors(embedder, need: dict, cfg) -> dict[str, np.ndarray]:
    ids = list(need)
    log(f"query-side training: {len(ids)} passage vectors (cache first, then encoding what is missing)")
    return dict(zip(ids, embedder.vectors([need[i] for i in ids], show_progress=cfg.progress)))


def _batches(examples: list[Example], batch_size: int, rng: random.Random) -> list[list[int]]:
    """One source per batch: in-batch negatives come from the same domain."""
    by_src: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        by_src.setdefault(e.extra_src, []).append(i)  # type: ignore[attr-defined]
    out = []
    for idx in by_src.values():
        idx = idx[:]
        rng.shuffle(idx)
        out += [idx[i:i + batch_size] for i in range(0, len(idx), batch_size)]
    rng.shuffle(out)
    return out


def _loss(tower, examples: list[Example], negs: list[list[str]], b: list[int], side, positives_of):
    """Softmax over [the batch's positives, every row's negatives]; a column that is one of the row's own
    judged positives (another row's positive for the same question, a padded negative) is masked."""
    import torch

    q = tower.vectors([examples[i].query for i in b])
    cols = [examples[i].positive for i in b] + [n for i in b for n in negs[i]]
    cand = side.passage_vectors(cols, grad=True)
    logits = SCALE * q @ cand.T
    mask = torch.zeros_like(logits, dtype=torch.bool)
    for r, i in enumerate(b):
        own = positives_of(examples[i])
        for c, pid in enumerate(cols):
            if c != r and pid in own:
                mask[r, c] = True
    logits = logits.masked_fill(mask, -1e4)
    return torch.nn.functional.cross_entropy(logits, torch.arange(len(b))) + tower.regulariser()


def train_query_side(kind: str, base: str, examples: list[Example], by_source: dict, cfg: TrainConfig,
                     rng: random.Random, attach_negatives, val_sets=None,
                     steps: int | None = None) -> tuple[object, dict, dict, float, int]:
    import torch

    from server.rerank import ZERO_SHOT
    from server.rerank.embedding import EmbeddingReranker, minilm_path
    from server.training.pairs import positives_by_query

    embedder = EmbeddingReranker(base, max_seq_length=cfg.max_seq_length,
                                 cache_dir=cfg.cache_dir / "vectors" if cfg.cache_dir else None)
    negs, counts = attach_negatives(examples, by_source, cfg, embedder.model, rng) if cfg.negatives or any(
        e.negatives for e in examples) else ([[] for _ in examples], {})
    t0 = time.monotonic()
    need = _needed_passages(examples, negs, by_source, val_sets)
    torch.manual_seed(cfg.seed)
    extra = cfg.extra if isinstance(cfg.extra, dict) else {}
    frozen = int(extra.get("frozen_layers", cfg.frozen_layers))
    if kind == "top-layers":
        tower = TopLayersTower(base, cfg.query_max_seq_length, cfg.max_seq_length, frozen)
        log(f"top-layers: frozen-layer states of {len(need)} passages (computed once)")
        tower.prepare(need, cfg.progress, cfg.cache_dir / "states" if cfg.cache_dir else None)
        side = tower
    else:
        side = FrozenPassages(_passage_vectors(embedder, need, cfg))
    if kind == "adapter":
        texts = sorted({e.query for e in examples} | {t for vs in val_sets or [] for _, t in vs.queries})
        qvec = query_vectors(embedder, texts, cfg.progress)
        dim = next(iter(side.pvec.values())).shape[0]
        tower = LinearTower(qvec, dim, float(extra.get("adapter_l2", 1e-2)))
        described = {"adapter_l2": tower.l2}
    elif kind == "query-encoder":
        tower = EncoderTower(base, cfg.query_max_seq_length, frozen)
    if kind != "adapter":  # the transformer kinds
        described = {"frozen_layers": frozen, "query_max_seq_length": cfg.query_max_seq_length,
                     "trainable_parameters": sum(p.numel() for p in tower.parameters())}
    encode_s = time.monotonic() - t0
    del embedder  # the passage side is done: cached vectors, or the top-layers tower's own states
    opt = torch.optim.AdamW(tower.parameters(), lr=cfg.learning_rate, weight_decay=0.01 if kind != "adapter" else 0.0)
    positives = {name: positives_by_query(s) for name, s in by_source.items()}
    positives_of = lambda e: positives.get(e.extra_src, {}).get(e.query, set()) | {e.positive}  # noqa: E731
    total_steps = steps or cfg.max_steps
    schedule = BudgetSchedule(cfg.learning_rate, total_steps, cfg.warmup_ratio, cfg.time_budget_s, cfg.lr_decay)
    stopper = EarlyStopper(cfg.patience, cfg.min_delta)
    curve, loss_curve = [], []
    best, best_pq = tower.snapshot(), {}
    if val_sets:
        pq: dict = {}
        m = _ndcg_sets(tower, val_sets, side, pq)
        stopper.update(0, m["mean"])
        best_pq = pq
        curve.append({"step": 0, "elapsed_s": 0.0, **m})
        log(f"validation at step 0: {m}")
    step, t_train, stopped = 0, time.monotonic(), False
    tower.train(True)
    bar = _progress(total_steps, cfg.progress)
    while step < total_steps and not stopped:
        for b in _batches(examples, cfg.batch_size, rng):
            if step >= total_steps:
                break
            loss = _loss(tower, examples, negs, b, side, positives_of)
            for g in opt.param_groups:
                g["lr"] = schedule.rate(step)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            schedule.update(step, time.monotonic() - t0, time.monotonic() - t_train)
            bar(step, float(loss.detach()))
            if step % 10 == 0:
                loss_curve.append({"step": step, "loss": round(float(loss.detach()), 4),
                                   "lr": opt.param_groups[0]["lr"]})
            if val_sets and cfg.eval_every > 0 and step % cfg.eval_every == 0:
                pq = {}
                m = _ndcg_sets(tower, val_sets, side, pq)
                improved, stop = stopper.update(step, m["mean"])
                curve.append({"step": step, "elapsed_s": round(time.monotonic() - t_train, 1), **m})
                log(f"validation at step {step}: {m}")
                if improved:
                    best, best_pq = tower.snapshot(), pq
                if stop:
                    log(f"early stopping at step {step}: best {stopper.best} at step {stopper.best_step}")
                    stopped = True
                    break
            if cfg.time_budget_s is not None and time.monotonic() - t0 > cfg.time_budget_s:
                log(f"time budget reached at step {step}")
                stopped = True
                break
    if val_sets and cfg.eval_every > 0:
        if step % cfg.eval_every != 0:  # the last steps (e.g. cut by the time budget) were never validated: compare them too
            pq = {}
            m = _ndcg_sets(tower, val_sets, side, pq)
            improved, _ = stopper.update(step, m["mean"])
            curve.append({"step": step, "elapsed_s": round(time.monotonic() - t_train, 1), **m})
            if improved:
                best, best_pq = tower.snapshot(), pq
        tower.restore(best)  # the best validated weights (early stopping)
    # without validation during training (eval_every 0) the last weights are the model
    tower.train(False)
    log(f"{kind}: {step} steps, best validation {stopper.best} at step {stopper.best_step}")
    seconds = time.monotonic() - t_train
    base_ref = ZERO_SHOT if base == minilm_path() else base
    hyper = {"loss": f"in-batch softmax (MNRL) over cached passage vectors, scale {SCALE:g}", **described,
             "lr_schedule": f"linear warm-up over {schedule.warm} steps, then "
                            + (f"linear decay to 0 at step {schedule.horizon}" if schedule.decay else "constant"),
             "negative_columns": max((len(n) for n in negs), default=0), "rows": len(examples),
             "encode_seconds": round(encode_s, 1), "loss_curve": loss_curve, "validation_curve": curve,
             "best_step": stopper.best_step, "best_validation": stopper.best, "best_per_query": best_pq,
             "adapter_base": base_ref}
    return _Saved(tower, base_ref, cfg.cache_dir / "vectors" if cfg.cache_dir else None), hyper, counts, seconds, step


def _progress(total: int, on: bool):
    """A progress line on stderr (steps, loss, seconds) about every 2 % of the run: one line each, so that a
    log file reads as well as a terminal."""
    import sys

    every = max(1, total // 50)
    t0 = time.monotonic()

    def show(step: int, loss: float) -> None:
        if on and (step % every == 0 or step == total):
            print(f"train-reranker: step {step}/{total}  loss {loss:.3f}  {time.monotonic() - t0:.0f}s",
                  file=sys.stderr, flush=True)

    return show
