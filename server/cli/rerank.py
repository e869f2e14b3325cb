"""`readtrail train-reranker` (labels, feedback, synthetic questions) and `readtrail warm-reranker`."""
from __future__ import annotations

from pathlib import Path

import click

from server.cli.common import err, open_index, settings_from, usage_errors

__all__ = ["train_reranker_cmd", "warm_reranker_cmd"]


@click.command("train-reranker")
@click.option("--index", "index_dir", required=True, help="The index whose passages the queries are judged against.")
@click.option("--queries", type=click.Path(exists=True, path_type=Path), default=None, help="BEIR-like queries.jsonl.")
@click.option("--qrels", type=click.Path(exists=True, path_type=Path), default=None, help="query-id, corpus-id, score TSV.")
@click.option("--feedback", "use_feedback", is_flag=True, help="Add the verdicts in the feedback store, weighted by strength.")
@click.option("--feedback-db", type=click.Path(path_type=Path), default=None, help="Feedback store (default: $READTRAIL_FEEDBACK, else readtrail home).")
@click.option("--synthetic", type=int, default=0, show_default=True, help="Write N questions for sampled passages with the local LLM.")
@click.option("--generator", default="qwen2.5-0.5b", show_default=True, help="A GGUF path or packaged name (see `readtrail models`).")
@click.option("--base", default=None, help="Model folder to fine-tune (default: packaged MiniLM). A cross-encoder folder trains a cross-encoder.")
@click.option("--negatives", default="hard", show_default=True,
              help="Comma list of random, hard (embedding-mined), graph, bm25 (BM25 top 10, unjudged); '' for in-batch only.")
@click.option("--max-steps", type=int, default=120, show_default=True)
@click.option("--time-budget", type=float, default=None, help="Stop training after this many seconds.")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-seq-length", type=int, default=128, show_default=True)
@click.option("--learning-rate", type=float, default=5e-5, show_default=True)
@click.option("--holdout", type=int, default=50, show_default=True, help="Held-back labelled queries for before/after metrics.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--kind", type=click.Choice(["embedding", "cross-encoder", "adapter", "query-encoder", "top-layers"]), default=None,
              help="cross-encoder: a fresh scoring head on --base (default: the packaged MiniLM); adapter: a query-side "
                   "linear map over the frozen --base (seconds on a CPU); query-encoder: --base fine-tuned on the "
                   "questions only, passages keep their cached vectors (minutes on a CPU); top-layers: --base's top layers "
                   "fine-tuned for questions and passages, the frozen layers' passage states computed once (tens of "
                   "minutes on a CPU; the trained model re-encodes the corpus).")
@click.option("--negatives-per-kind", type=int, default=1, show_default=True,
              help="Negatives of each --negatives kind per pair (query-side kinds: extra ones cost nothing).")
@click.option("--frozen-layers", type=int, default=2, show_default=True,
              help="query-encoder, top-layers: the lowest transformer layers left frozen.")
@click.option("--loss", default=None, help="embedding: mnrl, cached-mnrl; cross-encoder: mnrl, bce (default: mnrl for both).")
@click.option("--epochs", type=float, default=0.0, show_default=True, help="> 0: every pair this many passes (--max-steps caps; 0 = no cap).")
@click.option("--val-fraction", type=float, default=0.0, show_default=True,
              help="Hold back this fraction of the queries (by a hash of the id) for validation.")
@click.option("--eval-every", type=int, default=0, show_default=True, help="Validation nDCG@10 every N steps (with --val-fraction).")
@click.option("--patience", type=int, default=0, show_default=True, help="Stop after N validations without a gain; the best weights are kept.")
@click.option("--fusion", is_flag=True, help="Instead: fit a logistic-regression fusion of BM25 and the --base (or zero-shot) embedding cosine.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output root; each run writes a versioned folder inside.")
@click.option("--fuse/--no-fuse", default=True, show_default=True,
              help="With --queries/--qrels: after training, fit the fusion of BM25 and the trained model's cosine on "
                   "them and serve that (measured better than the cosine alone on every labelled set: bench/RERANKER.md).")
@click.option("--into-index", is_flag=True,
              help="Write into the index's own model folder: serve, deep-search and eval then use it without flags.")
def train_reranker_cmd(index_dir: str, queries: Path | None, qrels: Path | None, use_feedback: bool, feedback_db: Path | None,
                       synthetic: int, generator: str, base: str | None, negatives: str, max_steps: int,
                       time_budget: float | None, batch_size: int, max_seq_length: int, learning_rate: float,
                       holdout: int, seed: int, kind: str | None, negatives_per_kind: int, frozen_layers: int, loss: str | None, epochs: float, val_fraction: float,
                       eval_every: int, patience: int, fusion: bool, fuse: bool, out: Path | None, into_index: bool) -> None:
    """Fine-tune the reranker on labelled pairs, feedback and/or synthetic questions.

    Writes OUT/rr-<time>/ with a model card (OUT is the index's model folder with --into-index)."""
    from server.eval import load_qrels, load_queries
    from server.services import build_reranker
    from server.training.pairs import Source, feedback_examples
    from server.training.train import TrainConfig, train_reranker

    if bool(queries) != bool(qrels):
        raise click.UsageError("give --queries and --qrels together")
    if not (queries or use_feedback or synthetic):
        raise click.UsageError("nothing to train on: give --queries/--qrels, --feedback, or --synthetic N")
    if bool(out) == into_index:
        raise click.UsageError("say where the model goes: --out DIR, or --into-index (the index's own model folder)")
    settings = settings_from(index_dir, feedback_db=feedback_db)
    corpus = open_index(settings, allow_sample=False)
    out = settings.index_models if into_index else out
    assert out is not None
    with usage_errors():
        if fusion:
            if not (queries and qrels):
                raise click.UsageError("--fusion fits on labelled queries: give --queries and --qrels")
            folder = _fit_fusion(settings, corpus, queries, qrels, build_reranker(settings, corpus, base or "zero-shot"), out)
            click.echo(str(folder))
            return
        name = Path(index_dir).name or "index"
        source = Source(name, corpus)
        if queries and qrels:
            source.queries, source.qrels = load_queries(queries), load_qrels(qrels)
        extra = []
        if use_feedback:
            from server.corpus.feedback import FeedbackStore

            ex, skipped = feedback_examples(FeedbackStore(settings.feedback_db).pairs(), corpus)
            err(f"feedback: {len(ex)} usable pairs, {skipped} rows unusable (unknown passage or no positive beside a negative)")
            extra += ex
        if synthetic:
            from server.llm.registry import resolve_model_path
            from server.progress import StageBars
            from server.training.synthetic import generate_questions, synthetic_examples

            bars = StageBars()
            try:
                pairs = generate_questions(corpus, synthetic, resolve_model_path(generator, settings.models_dir), seed,
                                           progress=lambda d, t: bars("synthetic questions", d, t))
            finally:
                bars.close()
            err(f"synthetic: {len(pairs)} questions from {synthetic} sampled passages")
            extra += synthetic_examples(pairs)
        cfg = TrainConfig(out=out, base=base, negatives=tuple(n for n in negatives.split(",") if n.strip()),
                          max_steps=max_steps, time_budget_s=time_budget, batch_size=batch_size,
                          max_seq_length=max_seq_length, learning_rate=learning_rate, holdout=holdout, seed=seed,
                          kind=kind, negatives_per_kind=negatives_per_kind, frozen_layers=frozen_layers, epochs=epochs, val_fraction=val_fraction, eval_every=eval_every, patience=patience,
                          loss=loss or "", cache_dir=settings.home)
        folder = train_reranker([source], cfg, {name: extra} if extra else None)
        if fuse and queries and qrels:
            # A bi-encoder's or a cross-encoder's score alone can be below BM25 on the user's own domain (ADGM:
            # 0.647 and 0.612 vs 0.686): what is served is their fusion with BM25, fitted on the same labels.
            trained = build_reranker(settings, corpus, str(folder))
            err(f"fitting the fusion of BM25 and {folder.name} on the labelled queries (what serving will use)")
            folder = _fit_fusion(settings, corpus, queries, qrels, trained, out)
    click.echo(str(folder))
    if into_index:
        err(f"serve, deep-search and eval on {settings.index} now use {folder} (no --reranker needed)")


def _fit_fusion(settings, corpus, queries: Path, qrels: Path, embedder, out: Path) -> Path:
    """A fusion of BM25 and `embedder`'s score (a cosine, or a cross-encoder's), weights fitted on the
    labelled queries over the candidates serving will score (its first stage); written into `out`, whose
    LATEST then names it."""
    from server.eval import load_qrels, load_queries
    from server.rerank.fusion import fit_fusion
    from server.retrieval import DEFAULT_MODE, FirstStage, check_mode
    from server.services import dense_index

    mode = check_mode(settings.search_mode or DEFAULT_MODE)
    stage = FirstStage(corpus, dense_index(settings, corpus, embedder), mode) if mode != "bm25" else None
    return fit_fusion(corpus, load_queries(queries), load_qrels(qrels), embedder, out, first_stage=stage)


@click.command("warm-reranker")
@click.option("--index", "index_dir", required=True)
@click.option("--reranker", default=None, help="A reranker folder (default: what serve would use).")
def warm_reranker_cmd(index_dir: str, reranker: str | None) -> None:
    """Encode every passage now (index time) instead of on first touch, so that no query pays for it.

    Vectors go to the on-disk cache that `serve` and `eval` read (readtrail home)."""
    from server.progress import StageBars
    from server.services import open_services

    settings = settings_from(index_dir, reranker=reranker)
    services = open_services(settings, open_index(settings, allow_sample=False))
    bars = StageBars()
    with usage_errors():
        try:
            services.warm(progress=bars)
        finally:
            bars.close()
    rr = services.reranker()
    if not hasattr(getattr(rr, "embedder", rr), "precompute"):
        raise click.UsageError(f"{rr.name} scores pairs (a cross-encoder): there are no passage vectors to precompute")
    click.echo(f"{len(services.corpus.passages)} passage vectors cached for {rr.name}")
