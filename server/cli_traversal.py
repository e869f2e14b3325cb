"""CLI commands for read-time traversal: `readtrail models` and `readtrail deep-search`."""
from __future__ import annotations

import click

import server.traversal.strategies  # noqa: F401  (registers the walk and agent eval strategies)
from server.cli import main, open_corpus
from server.errors import UsageError

__all__ = ["models_cmd", "deep_search_cmd"]


@main.command("models")
@click.option("--prepare", "prepare", default=None, metavar="NAME",
              help="Assemble and verify this packaged model now (otherwise done on first use).")
def models_cmd(prepare: str | None) -> None:
    """List the packaged GGUF models readtrail finds, and the one the agent uses by default."""
    from server.traversal.models import PACKAGED, ModelError, default_model, list_models, prepare_packaged

    if prepare:
        if prepare not in PACKAGED:
            raise click.UsageError(f"unknown model {prepare!r}: choose one of {', '.join(PACKAGED)}")
        try:
            click.echo(f"{prepare}: verified at {prepare_packaged(PACKAGED[prepare])}")
        except ModelError as exc:
            raise click.ClickException(str(exc)) from exc
        return
    default = default_model()
    for m in list_models():
        mark = "*" if m.name == default else " "
        if not m.installed:
            state = f"not installed ({m.install_hint})"
        else:
            state = f"{'verified' if m.ready else 'installed, verified on first use'}: {m.path}"
        click.echo(f"{mark} {m.name:<14} {m.title}\n    {state}")
    click.echo(f"default: {default or 'none installed'} (override with --model PATH or READTRAIL_MODEL)")


@main.command("deep-search")
@click.argument("question")
@click.option("--index", "index_dir", help="Index folder (default: $READTRAIL_INDEX, else the sample corpus).")
@click.option("--strategy", type=click.Choice(["walk", "agent"]), default="walk", show_default=True)
@click.option("--model", envvar="READTRAIL_MODEL", default=None, help="agent: a GGUF file or packaged name.")
@click.option("--reranker", envvar="READTRAIL_RERANKER", default=None, help="A trained reranker folder.")
@click.option("--max-steps", type=int, default=None)
@click.option("--max-seconds", type=float, default=None)
@click.option("-k", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print evidence and trace as JSON.")
def deep_search_cmd(question: str, index_dir: str | None, strategy: str, model: str | None, reranker: str | None,
                    max_steps: int | None, max_seconds: float | None, k: int, as_json: bool) -> None:
    """Research QUESTION by walking the passage graph; print the evidence and the trace."""
    from server.app import App
    from server.traversal.runtime import run_deep_search

    app = App(corpus=open_corpus(index_dir), options={"model": model, "reranker": reranker})
    try:
        result = run_deep_search(app, question, strategy, max_steps, max_seconds, k,
                                 on_step=lambda s, n, msg: click.echo(f"  [{s}/{n}] {msg}", err=True))
    except UsageError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    click.echo(f"{result.strategy}: {result.steps} steps, {result.candidates} candidates, stopped by {result.stopped}, "
               f"{result.ms / 1000:.1f} s")
    for n, e in enumerate(result.evidence, 1):
        click.echo(f"{n:>2}. [{e.id}] {e.label or ''} score {e.score} via {e.via}{' (kept)' if e.kept else ''}")
        click.echo(f"    {e.text[:200]}")
