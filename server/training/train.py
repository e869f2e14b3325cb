"""`train_reranker`: examples -> negatives -> a sentence-transformers trainer -> a versioned model
folder with a model card (base, data, hyperparameters, held-back metrics before and after)."""
from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from server.eval import evaluate
from server.eval.strategies import rerank_ids
from server.rerank import CARD, ZERO_SHOT, detect_kind
from server.rerank.cache import model_key
from server.rerank.embedding import EmbeddingReranker, minilm_path
from server.training.config import TrainConfig, log
from server.training.negatives import bm25_negatives, graph_negatives, mine_negatives, random_negative
from server.training.pairs import Example, Source, labelled_examples, positives_by_query, sample_by_weight, split_queries
from server.training.validation import hash_split, make_validation_set

__all__ = ["TrainConfig", "train_reranker", "NEGATIVE_KINDS", "training_steps"]

NEGATIVE_KINDS = ("random", "hard", "graph", "bm25")
QUERY_SIDE = ("adapter", "query-encoder")  # passages keep the base model's cached vectors; only queries learn
CACHED_SIDE = (*QUERY_SIDE, "top-layers")  # trained over cached passage representations (server/training/train_query.py)


_log = log


def training_steps(rows: int, cfg: TrainConfig, sources: int = 1) -> int:
    """Optimiser steps: with epochs, what they need over `rows` pairs (one batch per source per partial
    batch), capped by max_steps when it is > 0; without, max_steps."""
    if cfg.epochs <= 0:
        return cfg.max_steps
    need = max(1, math.ceil(cfg.epochs * (rows / cfg.batch_size + sources - 1)))
    return min(need, cfg.max_steps) if cfg.max_steps > 0 else need


def _heldout(reranker, source: Source, qids: list[str], candidates: int) -> dict[str, float]:
    qs = {q: source.queries[q] for q in qids}
    strat = lambda c, question, depth: rerank_ids(c, reranker, question, candidates, depth)  # noqa: E731
    m = evaluate(source.corpus, qs, source.qrels, strat, depth=candidates).metrics
    return {"ndcg@10": m["ndcg@10"], "recall@10": m["recall@10"], "queries": m["queries"]}


def _attach_negatives(examples: list[Example], by_source: dict[str, Source], cfg: TrainConfig, model,
                      rng: random.Random) -> tuple[list[list[str]], dict[str, int]]:
    """One list of negative passage ids per example, in column order; counts by kind."""
    counts = {"explicit": 0, "random": 0, "hard": 0, "graph": 0, "bm25": 0, "fallback_random": 0}
    cols: list[list[str]] = [[] for _ in examples]
    positives = {name: positives_by_query(s) for name, s in by_source.items()}
    src_of = [e.extra_src for e in examples]  # type: ignore[attr-defined]
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(src_of):
        groups.setdefault(s, []).append(i)
    mined: dict[int, list[str]] = {}
    if "hard" in cfg.negatives:
        emb_path = cfg.base if cfg.base and (cfg.kind or detect_kind(Path(cfg.base))) == "embedding" else minilm_path()
        cache = str(cfg.cache_dir / "mining-cache" / model_key(emb_path, cfg.max_seq_length)) if cfg.cache_dir else None
        embedder = None
        if kind_of(model) == "embedding":  # reuse (and fill) the passage-vector cache that serving reads
            embedder = EmbeddingReranker(emb_path, max_seq_length=cfg.max_seq_length,
                                         cache_dir=cfg.cache_dir / "vectors" if cfg.cache_dir else None)
        for name, idx in groups.items():
            _log(f"mining hard negatives for {len(idx)} pairs of {name}")
            got = mine_negatives([examples[i] for i in idx], by_source[name].corpus, positives[name], model,
                                 cache_folder=cache, embedder=embedder)
            for j, i in enumerate(idx):
                mined[i] = got.get(j, [])
    for i, e in enumerate(examples):
        s = by_source[src_of[i]]
        exclude = positives[src_of[i]].get(e.query, set()) | {e.positive}
        chosen: list[str] = []
        if e.negatives:
            chosen.append(e.negatives[0])
            counts["explicit"] += 1
        n_each = max(1, cfg.negatives_per_kind)
        for kind in cfg.negatives:
            if kind == "hard":
                got = [x for x in mined.get(i, []) if x not in chosen][:n_each]
            elif kind == "bm25":  # the query's BM25 list, deeper when more than one negative is asked for
                got = bm25_negatives(s.corpus, e.query, e.positive, exclude | set(chosen), rng, n_each,
                                     depth=max(10, 5 * n_each))
            elif kind == "graph":
                got = graph_negatives(s.corpus, e.positive, exclude | set(chosen), rng, n_each)
            else:
                got = []
            counts[kind] += len(got)
            while len(got) < n_each:  # random ones (and where a kind found too few: random fallbacks)
                n = random_negative(s.corpus, exclude | set(chosen) | set(got), rng)
                if n is None:
                    break
                got.append(n)
                counts["random" if kind == "random" else "fallback_random"] += 1
            chosen += got
        cols[i] = chosen
    return cols, counts


def train_reranker(sources: list[Source], cfg: TrainConfig, extra_examples: dict[str, list[Example]] | None = None,
                   validation: list[Source] | None = None) -> Path:
    """Train and write `cfg.out/<version>/`; returns that folder. `extra_examples` maps a source name
    to feedback or synthetic examples over that source's corpus. With `cfg.val_fraction` > 0 a hashed
    fraction of each labelled source is held back for validation; `validation` adds whole sources
    (never trained on) to the validation sets."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    unknown = set(cfg.negatives) - set(NEGATIVE_KINDS)
    if unknown:
        raise ValueError(f"unknown negative kind(s) {sorted(unknown)}: choose from {', '.join(NEGATIVE_KINDS)}")
    rng = random.Random(cfg.seed)
    base = cfg.base or minilm_path()
    kind = cfg.kind or (detect_kind(Path(base)) if cfg.base else "embedding")
    if kind not in ("embedding", "cross-encoder", *CACHED_SIDE):
        raise ValueError("--base must be an embedding or cross-encoder folder, not a fusion model")
    by_source = {s.name: s for s in sources}
    examples: list[Example] = []
    held: dict[str, list[str]] = {}
    val_sets = []
    data_counts: dict[str, int] = {}
    for s in sources:
        if s.qrels:
            if cfg.val_fraction > 0 and s.validate:
                train_q, val_q = hash_split([q for q in s.queries if q in s.qrels], cfg.val_fraction)
                held[s.name] = val_q[:cfg.holdout]
                if val_q and cfg.eval_every >= 0:
                    val_sets.append(make_validation_set(s.name, s.corpus, s.queries, s.qrels, val_q,
                                                        cfg.eval_candidates, cfg.val_max_queries))
            elif cfg.val_fraction > 0:
                train_q = [q for q in s.queries if q in s.qrels]
            else:
                train_q, held[s.name] = split_queries(s, cfg.holdout, cfg.seed)
            ex = labelled_examples(s, train_q, cfg.per_query, rng)
            data_counts[f"labels:{s.name}"] = len(ex)
            examples += ex
    for v in validation or []:
        val_sets.append(make_validation_set(v.name, v.corpus, v.queries, v.qrels, list(v.queries),
                                            cfg.eval_candidates, cfg.val_max_queries))
    for name, ex in (extra_examples or {}).items():
        for e in ex:
            e.extra_src = name  # type: ignore[attr-defined]
        for e in ex:
            data_counts[f"{e.source}:{name}"] = data_counts.get(f"{e.source}:{name}", 0) + 1
        examples += ex
    for e in examples:
        if not hasattr(e, "extra_src"):
            e.extra_src = e.source.split(":", 1)[-1]  # type: ignore[attr-defined]
    if not examples:
        raise ValueError("no training pairs: give --queries/--qrels, --feedback with relevant verdicts, or --synthetic N")
    if cfg.epochs <= 0:
        examples = sample_by_weight(examples, cfg.max_steps * cfg.batch_size, rng)
    steps_planned = training_steps(len(examples), cfg, len({e.extra_src for e in examples}))  # type: ignore[attr-defined]
    _log(f"{len(examples)} training pairs from {data_counts}; {steps_planned} steps planned"
         + (f"; validation on {', '.join(f'{v.name} ({len(v.queries)} q)' for v in val_sets)}" if val_sets else ""))

    t_start = time.monotonic()
    if kind == "cross-encoder":
        from server.training.train_cross import train_cross_encoder

        model, hyper, neg_counts, train_s, steps = train_cross_encoder(base, examples, by_source, cfg, rng,
                                                                       _attach_negatives, val_sets, steps_planned)
        before_r = lambda: __import__("server.rerank.cross_encoder", fromlist=["x"]).CrossEncoderReranker(base)  # noqa: E731
    elif kind in CACHED_SIDE:
        from server.training.train_query import train_query_side

        model, hyper, neg_counts, train_s, steps = train_query_side(kind, base, examples, by_source, cfg, rng,
                                                                    _attach_negatives, val_sets, steps_planned)
        before_r = lambda: EmbeddingReranker(base, max_seq_length=cfg.max_seq_length)  # noqa: E731
    else:
        from server.training.train_embed import train_embedding

        model, hyper, neg_counts, train_s, steps = train_embedding(base, examples, by_source, cfg, rng, _attach_negatives,
                                                                   val_sets, steps_planned)
        before_r = lambda: EmbeddingReranker(base, max_seq_length=cfg.max_seq_length)  # noqa: E731
    version = datetime.now(timezone.utc).strftime("rr-%Y%m%d-%H%M%S")
    folder = Path(cfg.out) / version
    folder.mkdir(parents=True, exist_ok=False)
    model.save_pretrained(str(folder)) if hasattr(model, "save_pretrained") else model.save(str(folder))

    query_side = getattr(model, "card", {}) if kind in QUERY_SIDE else {}  # what the card needs to load it
    if query_side:  # passages come from the base model: the card says how to load it (rewritten in full below)
        (folder / CARD).write_text(json.dumps({"kind": "embedding", "serving": {"max_seq_length": cfg.max_seq_length},
                                               **query_side}), encoding="utf-8")
    metrics: dict[str, dict] = {}
    if any(held.values()):
        before = before_r() if cfg.base or kind == "embedding" else None  # a fresh head ranks at random: skip it
        from server.rerank import load_reranker

        shared = cfg.cache_dir / "vectors" if cfg.cache_dir and kind in CACHED_SIDE else None  # vectors already there
        after = load_reranker(folder, cache_dir=shared)
        for name, qids in held.items():
            if qids:
                _log(f"held-back evaluation on {len(qids)} {name} queries (BM25 top {cfg.eval_candidates} reranked)")
                metrics[name] = {"bm25": _heldout(_Bm25Order(), by_source[name], qids, cfg.eval_candidates),
                                 **({"before": _heldout(before, by_source[name], qids, cfg.eval_candidates)}
                                    if before is not None else {}),
                                 "after": _heldout(after, by_source[name], qids, cfg.eval_candidates)}
    served_kind = "embedding" if kind in CACHED_SIDE else kind
    card = {
        "kind": served_kind, "version": version, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "base": cfg.base or f"{ZERO_SHOT} ({base})", "data": data_counts, "negatives": neg_counts,
        "hyperparameters": {**{k: v for k, v in asdict(cfg).items() if k not in ("out", "extra")}, **hyper},
        "steps": steps, "training_seconds": round(train_s, 1), "total_seconds": round(time.monotonic() - t_start, 1),
        "heldout": {n: len(q) for n, q in held.items()}, "metrics": metrics,
        "validation": {"sets": {v.name: len(v.queries) for v in val_sets}, "fraction": cfg.val_fraction,
                       "candidates": cfg.eval_candidates},
        "serving": {"max_seq_length": cfg.max_seq_length} if served_kind == "embedding" else {"max_length": cfg.max_seq_length},
        **query_side,
        **({"extra": cfg.extra} if cfg.extra else {}),
    }
    (folder / CARD).write_text(json.dumps(card, indent=2, default=str), encoding="utf-8")
    (folder / "README.md").write_text(_readme(card), encoding="utf-8")
    latest = Path(cfg.out) / "LATEST"
    latest.write_text(version + "\n", encoding="utf-8")
    _log(f"wrote {folder} ({steps} steps, {train_s:.0f}s training)")
    return folder


def kind_of(model) -> str:
    return "embedding" if hasattr(model, "encode_document") and not hasattr(model, "predict") else "other"


class _Bm25Order:
    name = "bm25"

    def score(self, query, passages):
        return [-i for i in range(len(passages))]


def _readme(card: dict) -> str:
    lines = [f"# readtrail reranker {card['version']}", "",
             f"- kind: {card['kind']}", f"- base: {card['base']}", f"- created: {card['created']}",
             f"- steps: {card['steps']} in {card['training_seconds']} s", f"- data: {card['data']}",
             f"- negatives: {card['negatives']}", "", "## Held-back metrics (BM25 candidates reranked)", "",
             "| source | ranking | nDCG@10 | Recall@10 | queries |", "|---|---|---|---|---|"]
    for src, m in card["metrics"].items():
        for stage, v in m.items():
            lines.append(f"| {src} | {stage} | {v['ndcg@10']} | {v['recall@10']} | {v['queries']} |")
    lines += ["", "## Hyperparameters", "", "```json", json.dumps(card["hyperparameters"], indent=2, default=str), "```",
              "", "Serve it: `readtrail serve --reranker THIS_FOLDER`; compare: `readtrail eval --strategy bm25+rerank --reranker THIS_FOLDER`."]
    return "\n".join(lines) + "\n"


def resolve_model_folder(path: Path) -> Path:
    """A training output root with a LATEST file points at its newest version."""
    latest = path / "LATEST"
    if not (path / CARD).is_file() and latest.is_file():
        return path / latest.read_text(encoding="utf-8").strip()
    return path

