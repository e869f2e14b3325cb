"""A query adapter: a linear map W (dim x dim, starting at the identity) applied to the frozen base model's
query vectors, trained with an in-batch softmax ranking loss (MNRL) against the base model's cached
passage vectors. Passages are encoded once (and usually already are: the serving cache), so an epoch
over thousands of pairs costs seconds on a CPU where one step of full fine-tuning costs a minute; the
price is capacity: the passage side does not move."""
from __future__ import annotations

import random
import time

import numpy as np

from server.training.config import TrainConfig, log
from server.training.pairs import Example
from server.training.validation import EarlyStopper

__all__ = ["train_adapter", "QueryAdapter", "ADAPTER_FILE"]

ADAPTER_FILE = "query_adapter.npy"


class QueryAdapter:
    """What train_reranker saves: the matrix and where the base model is."""

    def __init__(self, weight: np.ndarray, base: str) -> None:
        self.weight, self.base = weight, base

    def save(self, folder: str) -> None:
        from pathlib import Path

        np.save(Path(folder) / ADAPTER_FILE, self.weight.astype(np.float32))


def _ndcg_sets(weight: np.ndarray, sets, qvec: dict[str, np.ndarray], pvec: dict[str, np.ndarray],
               per_query: dict | None = None) -> dict[str, float]:
    from server.eval.metrics import ndcg_at

    out: dict[str, float] = {}
    for vs in sets:
        total = 0.0
        for qid, text in vs.queries:
            q = weight @ qvec[text]
            q /= max(np.linalg.norm(q), 1e-12)
            ids = [pid for pid, _ in vs.candidates[qid]]
            s = np.stack([pvec[pid] for pid in ids]) @ q if ids else np.zeros(0)
            v = ndcg_at([ids[i] for i in np.argsort(-s, kind="stable")], vs.qrels[qid], 10)
            total += v
            if per_query is not None:
                per_query.setdefault(vs.name, {})[qid] = round(v, 4)
        out[vs.name] = round(total / max(len(vs.queries), 1), 4)
    out["mean"] = round(sum(out.values()) / max(len(out), 1), 4)
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


def train_adapter(base: str, examples: list[Example], by_source: dict, cfg: TrainConfig, rng: random.Random,
                  attach_negatives, val_sets=None, steps: int | None = None) -> tuple[object, dict, dict, float, int]:
    import torch

    from server.rerank.embedding import EmbeddingReranker

    embedder = EmbeddingReranker(base, max_seq_length=cfg.max_seq_length,
                                 cache_dir=cfg.cache_dir / "vectors" if cfg.cache_dir else None)
    negs, counts = attach_negatives(examples, by_source, cfg, embedder.model, rng) if cfg.negatives or any(
        e.negatives for e in examples) else (
        [[] for _ in examples], {})
    t0 = time.monotonic()
    # passage vectors (cached by the serving cache), query vectors (encoded once, length-sorted batches)
    need: dict[str, object] = {}
    for e, ns in zip(examples, negs):
        corpus = by_source[e.extra_src].corpus  # type: ignore[attr-defined]
        for pid in [e.positive, *ns]:
            need.setdefault(pid, corpus.passage(pid))
    for vs in val_sets or []:
        for qid, _ in vs.queries:
            for pid, _ in vs.candidates[qid]:
                need.setdefault(pid, vs.corpus.passage(pid))
    ids = list(need)
    log(f"adapter: {len(ids)} passage vectors (cache first, then encoding what is missing)")
    pv = embedder.vectors([need[i] for i in ids], show_progress=cfg.progress)
    pvec = dict(zip(ids, pv))
    texts = sorted({e.query for e in examples} | {t for vs in val_sets or [] for _, t in vs.queries})
    qvec = query_vectors(embedder, texts, cfg.progress)
    encode_s = time.monotonic() - t0

    dim = pv.shape[1]
    torch.manual_seed(cfg.seed)
    w = torch.nn.Parameter(torch.eye(dim))
    opt = torch.optim.AdamW([w], lr=cfg.learning_rate, weight_decay=0.0)
    ident = torch.eye(dim)
    reg = float(cfg.extra.get("adapter_l2", 1e-2)) if isinstance(cfg.extra, dict) else 1e-2
    scale = 20.0
    q_all = torch.tensor(np.stack([qvec[e.query] for e in examples]))
    p_all = torch.tensor(np.stack([pvec[e.positive] for e in examples]))
    width = max((len(n) for n in negs), default=0)
    n_all = [torch.tensor(np.stack([pvec[n[min(k, len(n) - 1)]] if n else pvec[e.positive] for e, n in zip(examples, negs)]))
             for k in range(width)]
    has_neg = torch.tensor([bool(n) for n in negs])
    srcs = [e.extra_src for e in examples]  # type: ignore[attr-defined]
    total_steps = steps or cfg.max_steps
    warm = max(1, int(cfg.warmup_ratio * total_steps))
    stopper = EarlyStopper(cfg.patience, cfg.min_delta)
    curve, loss_curve = [], []
    best_w = w.detach().clone()
    best_pq: dict = {}
    if val_sets:
        pq: dict = {}
        m = _ndcg_sets(best_w.numpy(), val_sets, qvec, pvec, pq)
        stopper.update(0, m["mean"])
        best_pq = pq
        curve.append({"step": 0, "elapsed_s": 0.0, **m})
        log(f"validation at step 0: {m}")
    step, t_train, stopped = 0, time.monotonic(), False
    by_src: dict[str, list[int]] = {}
    for i, s in enumerate(srcs):
        by_src.setdefault(s, []).append(i)
    while step < total_steps and not stopped:
        batches = []
        for idx in by_src.values():  # one source per batch: in-batch negatives from the same domain
            idx = idx[:]
            rng.shuffle(idx)
            batches += [idx[i:i + cfg.batch_size] for i in range(0, len(idx), cfg.batch_size)]
        rng.shuffle(batches)
        for b in batches:
            if step >= total_steps:
                break
            bt = torch.tensor(b)
            q = torch.nn.functional.normalize(q_all[bt] @ w.T, dim=1)
            cands = [p_all[bt]] + [n[bt] for n in n_all]
            logits = scale * torch.cat([q @ c.T for c in cands], dim=1)
            if n_all:  # a row without a real negative must not see its positive again as a "negative"
                mask = torch.zeros_like(logits, dtype=torch.bool)
                for k in range(len(n_all)):
                    mask[:, (k + 1) * len(b):(k + 2) * len(b)] = ~has_neg[bt].unsqueeze(0)
                logits = logits.masked_fill(mask, -1e4)
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(b))) + reg * ((w - ident) ** 2).sum()
            for g in opt.param_groups:
                g["lr"] = cfg.learning_rate * min(1.0, (step + 1) / warm)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 10 == 0:
                loss_curve.append({"step": step, "loss": round(float(loss.detach()), 4)})
            if val_sets and cfg.eval_every > 0 and step % cfg.eval_every == 0:
                pq = {}
                m = _ndcg_sets(w.detach().numpy(), val_sets, qvec, pvec, pq)
                improved, stop = stopper.update(step, m["mean"])
                curve.append({"step": step, "elapsed_s": round(time.monotonic() - t_train, 1), **m})
                if improved:
                    best_w, best_pq = w.detach().clone(), pq
                if stop:
                    log(f"early stopping at step {step}: best {stopper.best} at step {stopper.best_step}")
                    stopped = True
                    break
            if cfg.time_budget_s is not None and time.monotonic() - t0 > cfg.time_budget_s:
                log(f"time budget reached at step {step}")
                stopped = True
                break
    if not val_sets:
        best_w = w.detach().clone()
    log(f"adapter: {step} steps, best validation {stopper.best} at step {stopper.best_step}")
    seconds = time.monotonic() - t_train
    from server.rerank import ZERO_SHOT
    from server.rerank.embedding import minilm_path

    base_ref = ZERO_SHOT if base == minilm_path() else base
    hyper = {"loss": "in-batch softmax (MNRL) over cached passage vectors, scale 20", "adapter_l2": reg,
             "negative_columns": width, "rows": len(examples), "encode_seconds": round(encode_s, 1),
             "loss_curve": loss_curve, "validation_curve": curve, "best_step": stopper.best_step,
             "best_validation": stopper.best, "best_per_query": best_pq, "adapter_base": base_ref}
    return QueryAdapter(best_w.numpy(), base_ref), hyper, counts, seconds, step
