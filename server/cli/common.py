"""What every command shares: settings from options + environment, the corpus (the sample corpus
indexed on first use), the Services, and printing on stderr (stdout may be the MCP transport)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from graph.store import IndexNotFound
from server.errors import UsageError
from server.progress import StageBars
from server.services import Services, open_services
from server.settings import SAMPLE_CORPUS, Settings

__all__ = ["err", "settings_from", "open_index", "services_from", "build", "print_metrics", "usage_errors", "INDEX_HELP"]

INDEX_HELP = "Index folder (default: $READTRAIL_INDEX, else the bundled sample corpus)."


def err(msg: str) -> None:
    click.echo(msg, err=True)


def settings_from(index: str | Path | None = None, **given: Any) -> Settings:
    try:
        return Settings.from_env(index=index, **given)
    except ValueError as exc:  # a READTRAIL_* variable that does not parse: say which, no traceback
        raise click.UsageError(str(exc)) from None


def build(sources: list[Path], index: Path, verbose: bool = False, **limits: Any) -> None:
    """Index `sources` into `index` with progress bars; files not indexed are told with their reasons: each problem
    on its line, routine notices (types not read, renamed documents) grouped, each on its line with `verbose`.
    `limits`: build_index's per-file limits (max_file_bytes, parse_seconds)."""
    from graph.notices import full_list, summary
    from graph.pipeline import build_index  # the write side loads only when indexing

    bars = StageBars()
    try:
        report = build_index(sources, index, progress=bars, **limits)
    finally:
        bars.close()
    lines = full_list(report.errors).splitlines() if verbose else summary(report.errors, str(report.listed_at or ""))
    for line in lines:
        err(f"  {line}")
    err(
        f"indexed {report.passages} passages from {report.documents} documents "
        f"({report.files_seen} files seen, {len(report.errors)} not indexed or with problems) into {index}\n"
        f"  references: {report.references} ({report.resolved} resolved), mentions: {report.mentions}; "
        + ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
        + f"\n  {report.incremental}"
    )


def open_index(settings: Settings, allow_sample: bool = True):
    """The Corpus that `settings` names; the sample corpus is indexed on first use."""
    from server.corpus import Corpus

    if settings.is_sample:
        if not allow_sample:
            raise click.UsageError("give --index DIR (or set READTRAIL_INDEX)")
        if not (settings.index / "CURRENT").is_file():
            err(f"first use: indexing the bundled sample corpus into {settings.index}")
            build([SAMPLE_CORPUS / "docs"], settings.index)
    try:
        return Corpus.open(settings.index)
    except IndexNotFound as exc:
        raise click.ClickException(str(exc)) from exc


def services_from(settings: Settings, allow_sample: bool = True) -> Services:
    return open_services(settings, open_index(settings, allow_sample))


class usage_errors:
    """`with usage_errors():` turns the core's errors into a one-line click error."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, _tb: object) -> bool:
        if exc is not None and isinstance(exc, (UsageError, ValueError, OSError)) and not isinstance(exc, click.ClickException):
            raise click.ClickException(str(exc)) from exc
        return False


def print_metrics(metrics: dict[str, Any], json_out: Path | None) -> None:
    for key, value in metrics.items():
        click.echo(f"{key:>16}  {value}")
    write_json(metrics, json_out)


def write_json(data: Any, out: Path | None) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2), encoding="utf-8")
