"""CLI for the reranker: `train-reranker`, `feedback add|export`, and the comparison behind
`eval --reranker DIR [--reranker DIR ...]`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from server.cli import _err, main, open_corpus
from server.errors import UsageError
from server.rerank import strategy as _strategy  # noqa: F401  (registers bm25+rerank)

__all__ = ["train_reranker_cmd", "feedback_group", "compare_rerankers", "run_rerank_eval"]


@main.command("train-reranker")
@click.option("--index", "index_dir", required=True, help="The index whose passages the queries are judged against.")
@click.option("--queries", type=click.Path(exists=True, path_type=Path), default=None, help="BEIR-like queries.jsonl.")
@click.option("--qrels", type=click.Path(exists=True, path_type=Path), default=None, help="query-id, corpus-id, score TSV.")
@click.option("--feedback", "use_feedback", is_flag=True, help="Add the verdicts in the feedback store, weighted by strength.")
@click.option("--feedback-db", type=click.Path(path_type=Path), default=None, help="Feedback store (default: readtrail home).")
@click.option("--synthetic", type=int, default=0, show_default=True, help="Write N questions for sampled passages with the local LLM.")
@click.option("--generator", default="qwen2.5-0.5b", show_default=True, help="GGUF path, or qwen2.5-0.5b / smollm2.")
@click.option("--base", default=None, help="Model folder to fine-tune (default: packaged MiniLM). A cross-encoder folder trains a cross-encoder.")
@click.option("--negatives", default="hard", show_default=True, help="Comma list of random, hard (embedding-mined), graph, bm25 (BM25 top 10, unjudged); '' for in-batch only.")
@click.option("--max-steps", type=int, default=120, show_default=True)
@click.option("--time-budget", type=float, default=None, help="Stop training after this many seconds.")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-seq-length", type=int, default=128, show_default=True)
@click.option("--learning-rate", type=float, default=5e-5, show_default=True)
@click.option("--holdout", type=int, default=50, show_default=True, help="Held-back labelled queries for before/after metrics.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--kind", type=click.Choice(["embedding", "cross-encoder", "adapter"]), default=None,
              help="cross-encoder: a fresh scoring head on --base (default: the packaged MiniLM); adapter: a query-side linear map over the frozen --base (seconds on a CPU).")
@click.option("--loss", default=None, help="embedding: mnrl, cached-mnrl; cross-encoder: bce, mnrl (default: mnrl / bce).")
@click.option("--epochs", type=float, default=0.0, show_default=True, help="> 0: every pair this many passes (--max-steps caps; 0 = no cap).")
@click.option("--val-fraction", type=float, default=0.0, show_default=True, help="Hold back this fraction of the queries (by a hash of the id) for validation.")
@click.option("--eval-every", type=int, default=0, show_default=True, help="Validation nDCG@10 every N steps (with --val-fraction).")
@click.option("--patience", type=int, default=0, show_default=True, help="Stop after N validations without a gain; the best weights are kept.")
@click.option("--fusion", is_flag=True, help="Instead: fit a logistic-regression fusion of BM25 and the --base (or zero-shot) embedding cosine.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output root; each run writes a versioned folder inside.")
def train_reranker_cmd(index_dir: str, queries: Path | None, qrels: Path | None, use_feedback: bool, feedback_db: Path | None,
                       synthetic: int, generator: str, base: str | None, negatives: str, max_steps: int,
                       time_budget: float | None, batch_size: int, max_seq_length: int, learning_rate: float,
                       holdout: int, seed: int, kind: str | None, loss: str | None, epochs: float, val_fraction: float,
                       eval_every: int, patience: int, fusion: bool, out: Path) -> None:
    """Fine-tune the reranker on labelled pairs, feedback and/or synthetic questions.

    Writes OUT/rr-<time>/ with a model card; point `serve --reranker` or `eval --reranker` at it."""
    from server.evaluate import load_qrels, load_queries
    from server.training.pairs import Source, feedback_examples
    from server.training.train import TrainConfig, train_reranker

    if bool(queries) != bool(qrels):
        raise click.UsageError("give --queries and --qrels together")
    if not (queries or use_feedback or synthetic):
        raise click.UsageError("nothing to train on: give --queries/--qrels, --feedback, or --synthetic N")
    corpus = open_corpus(index_dir, allow_sample=False)
    if fusion:
        if not (queries and qrels):
            raise click.UsageError("--fusion fits on labelled queries: give --queries and --qrels")
        from server.evaluate import load_qrels as _lq, load_queries as _lqs
        from server.rerank import load_reranker
        from server.rerank.fusion import fit_fusion

        try:
            folder = fit_fusion(corpus, _lqs(queries), _lq(qrels), load_reranker(base or "minilm-zero-shot", corpus), out)
        except (ValueError, UsageError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(str(folder))
        return
    name = Path(index_dir).name or "index"
    source = Source(name, corpus)
    try:
        if queries and qrels:
            source.queries, source.qrels = load_queries(queries), load_qrels(qrels)
        extra = []
        if use_feedback:
            from server.feedback import FeedbackStore

            ex, skipped = feedback_examples(FeedbackStore(feedback_db).pairs(), corpus)
            _err(f"feedback: {len(ex)} usable pairs, {skipped} rows unusable (unknown passage or no positive beside a negative)")
            extra += ex
        if synthetic:
            from server.progress import StageBars
            from server.training.synthetic import generate_questions, synthetic_examples

            bars = StageBars()
            try:
                pairs = generate_questions(corpus, synthetic, generator, seed,
                                           progress=lambda d, t: bars("synthetic questions", d, t))
            finally:
                bars.close()
            _err(f"synthetic: {len(pairs)} questions from {synthetic} sampled passages")
            extra += synthetic_examples(pairs)
        cfg = TrainConfig(out=out, base=base, negatives=tuple(n for n in negatives.split(",") if n.strip()),
                          max_steps=max_steps, time_budget_s=time_budget, batch_size=batch_size,
                          max_seq_length=max_seq_length, learning_rate=learning_rate, holdout=holdout, seed=seed,
                          kind=kind, epochs=epochs, val_fraction=val_fraction, eval_every=eval_every, patience=patience,
                          loss=loss or "")
        folder = train_reranker([source], cfg, {name: extra} if extra else None)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(folder))


@main.command("warm-reranker")
@click.option("--index", "index_dir", required=True)
@click.option("--reranker", default=None, help="A trained embedding reranker folder (default: the zero-shot MiniLM).")
def warm_reranker_cmd(index_dir: str, reranker: str | None) -> None:
    """Encode every passage now (index time) instead of on first touch, so that no query pays for it.

    Vectors go to the on-disk cache that `serve` and `eval` read (readtrail home)."""
    from server.progress import StageBars
    from server.rerank import load_reranker

    corpus = open_corpus(index_dir, allow_sample=False)
    try:
        rr = load_reranker(reranker or "minilm-zero-shot", corpus)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    embedder = getattr(rr, "embedder", rr)
    if not hasattr(embedder, "precompute"):
        raise click.UsageError(f"{rr.name} scores pairs (a cross-encoder): there are no passage vectors to precompute")
    bars = StageBars()
    try:
        embedder.precompute(corpus.passages, progress=lambda d, t: bars("encode passages", d, t))
    finally:
        bars.close()
    click.echo(f"{len(corpus.passages)} passage vectors cached for {embedder.name}")


@main.group("feedback")
def feedback_group() -> None:
    """Record verdicts on passages and export them as training pairs."""


@feedback_group.command("add")
@click.argument("query")
@click.argument("passage_id")
@click.argument("verdict", type=click.Choice(["relevant", "irrelevant", "misleading", "skipped"]))
@click.option("--note", default=None)
@click.option("--client", default="cli", show_default=True)
@click.option("--index", "index_dir", default=None, help="Check the passage id against this index.")
@click.option("--db", type=click.Path(path_type=Path), default=None, help="Feedback store (default: readtrail home).")
def feedback_add(query: str, passage_id: str, verdict: str, note: str | None, client: str, index_dir: str | None,
                 db: Path | None) -> None:
    """Record that PASSAGE_ID is VERDICT for QUERY."""
    from server.feedback import FeedbackStore

    try:
        if index_dir:
            open_corpus(index_dir, allow_sample=False).passage(passage_id)
        row = FeedbackStore(db).add(query, passage_id, verdict, note, client)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"recorded feedback #{row}: {passage_id} is {verdict}")


@feedback_group.command("export")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="pairs.jsonl: query, passage_id, label, weight.")
@click.option("--db", type=click.Path(path_type=Path), default=None)
def feedback_export(out: Path, db: Path | None) -> None:
    """Write the training pairs (latest verdict per query and passage) with their weights."""
    from server.feedback import FeedbackStore

    n = FeedbackStore(db).export(out)
    click.echo(f"wrote {n} pairs to {out}")


def compare_rerankers(corpus, queries: dict, qrels: dict, rerankers: list[str], candidates: int,
                      json_out: Path | None, plot: Path | None, easy_out: Path | None) -> dict[str, dict]:
    """Evaluate BM25 top-`candidates` reranked by each folder; side-by-side table, plot, easy queries."""
    from server.evaluate import STRATEGIES, evaluate
    from server.progress import track
    from server.rerank import load_reranker

    configs = rerankers or ["default"]
    reports = {}
    for path in configs:
        try:  # "default": what serve uses with no trained model; "zero-shot": MiniLM cosine alone
            rr = load_reranker({"default": None, "zero-shot": "minilm-zero-shot"}.get(path, path), corpus)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from exc
        strat = STRATEGIES["bm25+rerank"](reranker=rr, candidates=candidates)
        reports[path] = evaluate(corpus, queries, qrels, strat, depth=max(candidates, 100),
                                 progress=lambda ids, p=path: track(ids, f"eval {Path(p).name}"))
    metrics = {p: r.metrics for p, r in reports.items()}
    if len(configs) == 1:
        from server.cli import _print_metrics

        _print_metrics(metrics[configs[0]], json_out)
    else:
        keys = list(next(iter(metrics.values())))
        names = [Path(p).name for p in configs]
        click.echo(f"{'':>16}  " + "  ".join(f"{n[-18:]:>18}" for n in names))
        for k in keys:
            click.echo(f"{k:>16}  " + "  ".join(f"{metrics[p][k]:>18}" for p in configs))
        if json_out:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        if plot:
            _plot(metrics, plot)
    solved = [{row["id"] for row in r.per_query if row["all_gold@10"] >= 1.0} for r in reports.values()]
    easy = sorted(set.intersection(*solved))
    total = len(next(iter(reports.values())).per_query)
    _err(f"{len(easy)} of {total} queries ({100 * len(easy) / max(total, 1):.0f}%) have all gold in the top 10 "
         "under every configuration" + (f": ids written to {easy_out}" if easy_out else " (--easy-out FILE lists them)"))
    if easy_out:
        easy_out.parent.mkdir(parents=True, exist_ok=True)
        easy_out.write_text("".join(f"{q}\n" for q in easy), encoding="utf-8")
    return metrics


def _plot(metrics: dict[str, dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for path, m in metrics.items():
        ax.scatter(m["latency_p50_ms"], m["ndcg@10"])
        ax.annotate(Path(path).name, (m["latency_p50_ms"], m["ndcg@10"]), fontsize=8)
    ax.set_xlabel("latency p50 per query (ms)")
    ax.set_ylabel("nDCG@10")
    ax.set_title("reranker quality vs latency")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(f"wrote {out}", file=sys.stderr)


def run_rerank_eval(index_dir: str, queries: Path, qrels: Path, limit: int | None, rerankers: list[str],
                    candidates: int, json_out: Path | None, plot: Path | None, easy_out: Path | None) -> None:
    from server.evaluate import load_qrels, load_queries

    corpus = open_corpus(index_dir, allow_sample=False)
    try:
        qs, qr = load_queries(queries), load_qrels(qrels)
        if limit:
            qs = dict(list((q, t) for q, t in qs.items() if q in qr)[:limit])
        compare_rerankers(corpus, qs, qr, rerankers, candidates, json_out, plot, easy_out)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
