"""`readtrail feedback add|export`: verdicts on passages, exported as training pairs."""
from __future__ import annotations

from pathlib import Path

import click

from server.cli.common import open_index, settings_from, usage_errors

__all__ = ["feedback_group"]


@click.group("feedback")
def feedback_group() -> None:
    """Record verdicts on passages and export them as training pairs."""


@feedback_group.command("add")
@click.argument("query")
@click.argument("passage_id")
@click.argument("verdict", type=click.Choice(["relevant", "irrelevant", "misleading", "skipped"]))
@click.option("--note", default=None)
@click.option("--client", default="cli", show_default=True)
@click.option("--index", "index_dir", default=None, help="Check the passage id against this index.")
@click.option("--db", type=click.Path(path_type=Path), default=None, help="Feedback store (default: $READTRAIL_FEEDBACK, else readtrail home).")
def feedback_add(query: str, passage_id: str, verdict: str, note: str | None, client: str, index_dir: str | None,
                 db: Path | None) -> None:
    """Record that PASSAGE_ID is VERDICT for QUERY."""
    from server.corpus.feedback import FeedbackStore

    settings = settings_from(index_dir, feedback_db=db)
    with usage_errors():
        if index_dir:
            open_index(settings, allow_sample=False).passage(passage_id)
        row = FeedbackStore(settings.feedback_db).add(query, passage_id, verdict, note, client)
    click.echo(f"recorded feedback #{row}: {passage_id} is {verdict}")


@feedback_group.command("export")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="pairs.jsonl: query, passage_id, label, weight.")
@click.option("--db", type=click.Path(path_type=Path), default=None)
def feedback_export(out: Path, db: Path | None) -> None:
    """Write the training pairs (latest verdict per query and passage) with their weights."""
    from server.corpus.feedback import FeedbackStore

    n = FeedbackStore(settings_from(feedback_db=db).feedback_db).export(out)
    click.echo(f"wrote {n} pairs to {out}")
