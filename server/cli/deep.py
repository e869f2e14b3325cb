"""`readtrail models` (the GGUF registry) and `readtrail deep-search`."""
from __future__ import annotations

import click

from server.cli.common import INDEX_HELP, services_from, settings_from, usage_errors

__all__ = ["models_cmd", "deep_search_cmd"]


@click.command("models")
@click.option("--prepare", "prepare", default=None, metavar="NAME",
              help="Assemble and verify this packaged model now (otherwise done on first use).")
def models_cmd(prepare: str | None) -> None:
    """List the packaged GGUF models readtrail finds, and the one the agent uses by default."""
    from server.llm.registry import PACKAGED, default_model, list_models, prepare_packaged

    models_dir = settings_from().models_dir
    if prepare:
        if prepare not in PACKAGED:
            raise click.UsageError(f"unknown model {prepare!r}: choose one of {', '.join(PACKAGED)}")
        with usage_errors():
            click.echo(f"{prepare}: verified at {prepare_packaged(PACKAGED[prepare], models_dir)}")
        return
    default = default_model(models_dir)
    for m in list_models(models_dir):
        mark = "*" if m.name == default else " "
        if not m.installed:
            state = f"not installed ({m.install_hint})"
        else:
            state = f"{'verified' if m.ready else 'installed, verified on first use'}: {m.path}"
        click.echo(f"{mark} {m.name:<14} {m.title}\n    {state}")
    click.echo(f"default: {default or 'none installed'} (override with --model PATH or READTRAIL_MODEL)")


@click.command("deep-search")
@click.argument("question")
@click.option("--index", "index_dir", help=INDEX_HELP)
@click.option("--strategy", type=click.Choice(["mixed", "walk", "rerank", "planned", "agent"]), default="mixed",
              show_default=True,
              help="mixed: search + rerank's top 7, then the walk's best 3; walk: follows citations and bridges; rerank: search + reranker, for passages that do not cite "
                   "each other; planned: a local LLM writes extra queries, then the walk; agent: a local LLM picks "
                   "steps (bench/TRAVERSAL.md).")
@click.option("--model", default=None, help="planned, agent: a GGUF file or packaged name (default: $READTRAIL_MODEL, else packaged).")
@click.option("--reranker", default=None, help="A reranker folder (default: $READTRAIL_RERANKER, else the index's latest trained model).")
@click.option("--max-steps", type=int, default=None)
@click.option("--max-seconds", type=float, default=None)
@click.option("-k", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print evidence and trace as JSON.")
def deep_search_cmd(question: str, index_dir: str | None, strategy: str, model: str | None, reranker: str | None,
                    max_steps: int | None, max_seconds: float | None, k: int, as_json: bool) -> None:
    """Research QUESTION by walking the passage graph; print the evidence and the trace."""
    services = services_from(settings_from(index_dir, model=model, reranker=reranker))
    with usage_errors():
        result = services.deep_search(question, strategy, max_steps, max_seconds, k,
                                      on_step=lambda s, n, msg: click.echo(f"  [{s}/{n}] {msg}", err=True))
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    click.echo(f"{result.strategy}: {result.steps} steps, {result.candidates} candidates, stopped by {result.stopped}, "
               f"{result.ms / 1000:.1f} s, reranker {result.reranker}")
    for n, e in enumerate(result.evidence, 1):
        click.echo(f"{n:>2}. [{e.id}] {e.label or ''} score {e.score} via {e.via}{' (kept)' if e.kept else ''}")
        click.echo(f"    {e.text[:200]}")
