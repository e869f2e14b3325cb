"""`readtrail index` and `readtrail search`."""
from __future__ import annotations

from pathlib import Path

import click

from server.cli.common import INDEX_HELP, build, err, open_index, services_from, settings_from, usage_errors
from server.limits import CHOICES

__all__ = ["index_cmd", "search_cmd"]


@click.command("index")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (default: $READTRAIL_INDEX).")
@click.option("--max-file-mb", type=click.FloatRange(min=0.001), default=200, show_default=True,
              help="Larger files are reported and left out.")
@click.option("--parse-seconds", type=click.FloatRange(min=0.1), default=20, show_default=True,
              help="Time allowed to parse a file of up to 10 MB (proportionally more above); slower files are cut and reported.")
@click.option("--site-root", default=None, metavar="PATH",
              help="The URL path the folder is served at ('/', '/docs/'), for site-absolute links such as /docs/x/.")
@click.option("--full", is_flag=True, help="Re-read every file and rebuild everything, even what the current index could lend.")
@click.option("-v", "--verbose", is_flag=True,
              help="List every file not indexed on its own line (by default routine ones, types not read and renamed "
                   "documents, are counted in one line each; the full list is in the index folder, not-indexed.txt).")
@click.option("--vectors", is_flag=True,
              help="Also encode every passage now (into the vector cache `serve` reads), so that the first dense or "
                   "hybrid search, and the first reranked question, do not pay for it.")
def index_cmd(sources: tuple[Path, ...], index_dir: Path | None, max_file_mb: float, parse_seconds: float,
              site_root: str | None, full: bool, verbose: bool, vectors: bool) -> None:
    """Index SOURCES (files or folders: .md .rst .txt .html .pdf .jsonl .docx, those but .jsonl compressed as .gz,
    and text files without an extension such as README or changelog.gz) into an index folder.

    On an index built from the same sources with the same options, only added and changed files are
    read and only what they reach is linked again. The new index is written beside the old one and
    swapped in when complete; a running server picks it up."""
    settings = settings_from(index_dir)
    if settings.is_sample:
        raise click.UsageError("say where to write the index: --index DIR (or set READTRAIL_INDEX)")
    with usage_errors():
        try:
            build(list(sources), settings.index, site_root=site_root, max_file_bytes=int(max_file_mb * 1_000_000),
                  parse_seconds=parse_seconds, full=full, verbose=verbose)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
        if vectors:
            encode_vectors(settings)


def encode_vectors(settings) -> None:  # type: ignore[no-untyped-def]
    """The passage vectors the reranker and dense search use, encoded into Settings.vector_cache."""
    from server.progress import StageBars
    from server.services import open_services

    services = open_services(settings, open_index(settings, allow_sample=False))
    bars = StageBars()
    try:
        services.warm(progress=bars)
        n = services.first_stage().dense.matrix.shape[0]
    finally:
        bars.close()
    err(f"{n} passage vectors cached in {settings.vector_cache} for {services.reranker().name}")


@click.command("search")
@click.argument("query")
@click.option("--index", "index_dir", help=INDEX_HELP)
@click.option("-k", default=10, show_default=True)
@click.option("--document", default=None, help="Only this document (id or title).")
@click.option("--json", "as_json", is_flag=True, help="Print the structured result as JSON.")
@click.option("--mode", type=click.Choice(list(CHOICES["mode"][0])), default=None,
              help="bm25 (exact words), dense (meaning) or hybrid (both; the default, or $READTRAIL_SEARCH_MODE).")
def search_cmd(query: str, index_dir: str | None, k: int, document: str | None, as_json: bool, mode: str | None) -> None:
    """Search the index and print the best passages."""
    services = services_from(settings_from(index_dir))
    with usage_errors():
        result = services.search(query, k=k, document=document, max_chars=300, mode=mode)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    if not result.hits:
        click.echo(result.hint or "No matches found.")
    for n, h in enumerate(result.hits, 1):
        where = " > ".join(h.heading_path[-2:]) or h.document_title
        click.echo(f"{n:>2}. [{h.id}] {where}  (score {h.score})")
        click.echo(f"    {' '.join(h.text.split())}")
        refs = [r.text for r in h.references if r.kind in ("reference", "link")]
        if refs:
            click.echo(f"    cites: {', '.join(refs[:6])}")
