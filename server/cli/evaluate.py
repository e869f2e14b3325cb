"""`readtrail eval` (a strategy, with one or several rerankers side by side) and `readtrail refs-eval`."""
from __future__ import annotations

from pathlib import Path

import click

from server.cli.common import err, open_index, print_metrics, settings_from, usage_errors, write_json

__all__ = ["eval_cmd", "refs_eval_cmd"]


@click.command("eval")
@click.option("--index", "index_dir", required=True)
@click.option("--queries", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--qrels", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--strategy", type=click.Choice(["bm25", "bm25+rerank", "dense", "hybrid", "hybrid+rerank", "walk", "walk+hybrid",
                                              "mixed", "mixed+hybrid", "planned", "planned+hybrid", "agent"]),
              default="bm25", show_default=True,
              help="mixed: search + rerank's top 7, then the walk's best 3 (deep_search's default). dense, hybrid, "
                   "hybrid+rerank, walk+hybrid, mixed+hybrid and planned+hybrid use the dense first stage "
                   "(server.retrieval); planned, planned+hybrid and agent a local GGUF model (--model).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write the figures as JSON.")
@click.option("--limit", type=int, default=None, help="Only the first N judged queries.")
@click.option("--model", default=None, help="planned, agent: a GGUF file or packaged name (see `readtrail models`).")
@click.option("--reranker", "rerankers", multiple=True,
              help="A reranker folder; repeat to compare side by side. 'default': what serve uses with no flag "
                   "(the index's latest trained model, else the zero-shot fusion); 'zero-shot': MiniLM alone.")
@click.option("--candidates", type=int, default=50, show_default=True, help="bm25+rerank: BM25 candidates to rerank.")
@click.option("--plot", type=click.Path(path_type=Path), default=None, help="With several --reranker: quality-vs-latency PNG.")
@click.option("--easy-out", type=click.Path(path_type=Path), default=None, help="Write ids of queries every configuration gets fully right.")
def eval_cmd(index_dir: str, queries: Path, qrels: Path, strategy: str, json_out: Path | None, limit: int | None,
             model: str | None, rerankers: tuple[str, ...], candidates: int, plot: Path | None, easy_out: Path | None) -> None:
    """Evaluate a strategy: nDCG@10, Recall@10/100, MRR@10, all-gold@10, latency p50/p95.

    The strategy and the reranker are independent: `--strategy walk --reranker DIR` walks with DIR."""
    from server.eval import load_qrels, load_queries, select_queries
    from server.eval.compare import (compare, easy_queries, format_differences, format_table, paired_differences,
                                     plot_quality_latency)
    from server.eval.strategies import NEEDS_FIRST_STAGE, NEEDS_MODEL, NEEDS_RERANKER, StrategyParts, make_strategy
    from server.progress import track
    from server.services import build_reranker, open_services

    if rerankers and strategy not in NEEDS_RERANKER:
        raise click.UsageError(f"--reranker has no effect with --strategy {strategy}: use one of {', '.join(NEEDS_RERANKER)}")
    settings = settings_from(index_dir, model=model)
    services = open_services(settings, open_index(settings, allow_sample=False))
    with usage_errors():
        qr = load_qrels(qrels)
        qs = select_queries(load_queries(queries), qr, limit)
        specs = list(rerankers) or (["default"] if strategy in NEEDS_RERANKER else ["-"])
        configs = {}
        for spec in specs:
            parts = StrategyParts(
                reranker=None if spec == "-" else (lambda s=spec: build_reranker(settings, services.corpus, s)),
                model=services.chat_model if strategy in NEEDS_MODEL else None,
                candidates=candidates, agent_options=services.agent_options(), plan_options=services.plan_options(),
                first_stage=services.first_stage if strategy in NEEDS_FIRST_STAGE else None)
            configs[spec if spec != "-" else strategy] = make_strategy(strategy, parts)
        reports = compare(services.corpus, qs, qr, configs, depth=max(candidates, 100),
                          progress=lambda name: (lambda ids: track(ids, f"eval {strategy}" + (f" {Path(name).name}" if name != strategy else ""))))
    metrics = {name: r.metrics for name, r in reports.items()}
    if len(metrics) == 1:
        print_metrics(next(iter(metrics.values())), json_out)
    else:
        diffs = paired_differences(reports)
        click.echo(format_table(metrics))
        click.echo(format_differences(next(iter(reports)), diffs))
        write_json({**metrics, "paired_to_first": diffs}, json_out)
        if plot:
            err(f"wrote {plot_quality_latency(metrics, plot)}")
    if len(reports) == 1 and not easy_out:
        return
    easy = easy_queries(reports)
    total = len(next(iter(reports.values())).per_query)
    err(f"{len(easy)} of {total} queries ({100 * len(easy) / max(total, 1):.0f}%) have all gold in the top 10 "
        "under every configuration" + (f": ids written to {easy_out}" if easy_out else " (--easy-out FILE lists them)"))
    if easy_out:
        easy_out.parent.mkdir(parents=True, exist_ok=True)
        easy_out.write_text("".join(f"{q}\n" for q in easy), encoding="utf-8")


@click.command("refs-eval")
@click.option("--index", "index_dir", required=True)
@click.option("--gold", type=click.Path(exists=True, path_type=Path), required=True, help="TSV: src and dst passage ids, or src_path, dst_path, dst_fragment file links (by the header line).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
def refs_eval_cmd(index_dir: str, gold: Path, json_out: Path | None) -> None:
    """Recall of gold reference edges, resolved/unresolved counts, mean out-degree; for gold file links,
    file and section recall and precision."""
    from server.eval.refs import load_gold_edges, refs_eval

    corpus = open_index(settings_from(index_dir), allow_sample=False)
    with usage_errors():
        metrics = refs_eval(corpus, load_gold_edges(gold))
    print_metrics(metrics, json_out)
