"""The `readtrail` command line: index, serve, search, eval, refs-eval."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from graph.store import IndexNotFound
from server.app import App
from server.corpus import Corpus
from server.errors import UsageError
from server.progress import StageBars, track
from server.settings import SAMPLE_CORPUS, Settings

__all__ = ["main"]

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _err(msg: str) -> None:
    click.echo(msg, err=True)


def build(sources: list[Path], index: Path) -> None:
    from graph.pipeline import build_index  # the write side loads only when indexing

    bars = StageBars()
    try:
        report = build_index(sources, index, progress=bars)
    finally:
        bars.close()
    for e in report.errors:
        _err(f"  {e.path}: {e.reason}")  # the reason says what was done (skipped, renamed, ...)
    _err(
        f"indexed {report.passages} passages from {report.documents} documents "
        f"({report.files_seen} files seen, {len(report.errors)} problems) into {index}\n"
        f"  references: {report.references} ({report.resolved} resolved), mentions: {report.mentions}; "
        + ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
    )


def open_corpus(index: str | None, allow_sample: bool = True) -> Corpus:
    settings = Settings.resolve(index)
    if settings.is_sample:
        if not allow_sample:
            raise click.UsageError("give --index DIR (or set READTRAIL_INDEX)")
        if not (settings.index / "CURRENT").is_file():
            _err(f"first use: indexing the bundled sample corpus into {settings.index}")
            build([SAMPLE_CORPUS / "docs"], settings.index)
    try:
        return Corpus.open(settings.index)
    except IndexNotFound as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="readtrail")
def main() -> None:
    """readtrail: an MCP server that reads your documents at query time."""


@main.command("index")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder (default: $READTRAIL_INDEX).")
def index_cmd(sources: tuple[Path, ...], index_dir: Path | None) -> None:
    """Index SOURCES (files or folders: .md .txt .html .pdf .jsonl) into an index folder.

    The new index is written beside the old one and swapped in when complete."""
    settings = Settings.resolve(index_dir)
    if settings.is_sample:
        raise click.UsageError("say where to write the index: --index DIR (or set READTRAIL_INDEX)")
    try:
        build(list(sources), settings.index)
    except (ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("search")
@click.argument("query")
@click.option("--index", "index_dir", help="Index folder (default: $READTRAIL_INDEX, else the sample corpus).")
@click.option("-k", default=10, show_default=True)
@click.option("--document", default=None, help="Only this document (id or title).")
@click.option("--json", "as_json", is_flag=True, help="Print the structured result as JSON.")
def search_cmd(query: str, index_dir: str | None, k: int, document: str | None, as_json: bool) -> None:
    """Search the index and print the best passages."""
    corpus = open_corpus(index_dir)
    try:
        result = corpus.search(query, k=k, document=document, max_chars=300)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    if not result.hits:
        click.echo(result.hint or "No matches found.")
    for n, h in enumerate(result.hits, 1):
        where = " > ".join(h.heading_path[-2:]) or h.document_title
        click.echo(f"{n:>2}. [{h.id}] {where}  (score {h.score})")
        click.echo(f"    {' '.join(h.text.split())}")
        refs = [r.text for r in h.references if r.kind == "reference"]
        if refs:
            click.echo(f"    cites: {', '.join(refs[:6])}")


@main.command("serve")
@click.option("--index", "index_dir", help="Index folder (default: $READTRAIL_INDEX, else the bundled sample corpus).")
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP only. Loopback unless told otherwise.")
@click.option("--port", default=8765, show_default=True, type=int, help="HTTP only.")
@click.option("--token", envvar="READTRAIL_TOKEN", default=None, help="Bearer token clients must send (HTTP).")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback --host without a token.")
@click.option("--reranker", envvar="READTRAIL_RERANKER", default=None, help="A trained reranker folder (default: the best zero-shot option).")
@click.option("--model", envvar="READTRAIL_MODEL", default=None, help="A GGUF file for deep_search's agent (default: a packaged one).")
def serve_cmd(index_dir: str | None, transport: str, host: str, port: int, token: str | None, insecure: bool,
              reranker: str | None, model: str | None) -> None:
    """Run the MCP server over stdio (for desktop clients) or streamable HTTP."""
    from server.mcp_server import create_server
    from server.http_security import http_options

    _check_model_paths(reranker, model)
    corpus = open_corpus(index_dir)
    app = App(corpus=corpus, options={"reranker": reranker, "model": model})
    try:
        server = create_server(lambda: app, token=token, host=host, port=port)
    except ValueError as exc:  # a token too short to be safe
        raise click.UsageError(str(exc)) from exc
    if transport == "stdio":
        _err(connect_help(index_dir, corpus))
        server.run()
        return
    if host not in LOOPBACK and not token and not insecure:
        raise click.UsageError(
            f"--host {host} exposes your documents beyond this machine: set --token (or READTRAIL_TOKEN), "
            "or pass --insecure if the network is trusted"
        )
    _err(http_connect_help(index_dir, corpus, f"http://{host}:{port}/mcp", bool(token)))
    server.run(transport="streamable-http", **http_options(host, port))


def _check_model_paths(reranker: str | None, model: str | None) -> None:
    """Fail at startup, not at the first deep_search, on a reranker or model path that cannot be used."""
    from server.rerank import ZERO_SHOT
    from server.traversal.models import PACKAGED, check_gguf

    if reranker and reranker != ZERO_SHOT and not Path(reranker).expanduser().is_dir():
        raise click.UsageError(f"--reranker {reranker} is not a folder: give a folder written by `readtrail train-reranker`")
    if model and model not in PACKAGED:
        try:
            check_gguf(Path(model).expanduser())
        except UsageError as exc:
            raise click.UsageError(str(exc)) from exc


def _stdio_command(index_dir: str | None) -> tuple[str, list[str], str]:
    """The executable, its arguments, and a desktop client's config entry for serving over stdio."""
    args = ["serve"] + (["--index", str(Path(index_dir).resolve())] if index_dir else [])
    exe = str(Path(sys.argv[0]).resolve()) if Path(sys.argv[0]).exists() else "readtrail"
    return exe, args, json.dumps({"mcpServers": {"readtrail": {"command": exe, "args": args}}})


def http_connect_help(index_dir: str | None, corpus: Corpus, url: str, token: bool) -> str:
    _, _, desktop = _stdio_command(index_dir)
    auth = "  Clients must send the header 'Authorization: Bearer <token>' (the Inspector UI has a field for it).\n" if token else ""
    return (
        f"readtrail: serving {len(corpus.passages)} passages at {url}\n{auth}"
        f"  MCP Inspector (CLI): npx -y @modelcontextprotocol/inspector --cli {url} --transport http --method tools/list\n"
        f"  MCP Inspector (UI):  npx -y @modelcontextprotocol/inspector  (transport Streamable HTTP, URL {url})\n"
        f"  Desktop client, which starts its own server over stdio (e.g. claude_desktop_config.json): {desktop}"
    )


def connect_help(index_dir: str | None, corpus: Corpus) -> str:
    exe, args, desktop = _stdio_command(index_dir)
    return (
        f"readtrail: serving {len(corpus.passages)} passages from {len(corpus.list_documents(limit=500).documents)} documents over stdio.\n"
        f"  MCP Inspector (UI):  npx -y @modelcontextprotocol/inspector {exe} {' '.join(args)}\n"
        f"  MCP Inspector (CLI): npx -y @modelcontextprotocol/inspector --cli {exe} {' '.join(args)} --method tools/list\n"
        f"  Desktop client (e.g. claude_desktop_config.json): {desktop}\n"
        "  Waiting for a client on stdin (Ctrl-C to stop)."
    )


@main.command("eval")
@click.option("--index", "index_dir", required=True)
@click.option("--queries", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--qrels", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--strategy", default="bm25", show_default=True, help="bm25 (more come from other modules).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write the figures as flat JSON.")
@click.option("--limit", type=int, default=None, help="Only the first N judged queries.")
@click.option("--model", envvar="READTRAIL_MODEL", default=None, help="agent: a GGUF file or packaged name (see `readtrail models`).")
@click.option("--reranker", "rerankers", multiple=True, help="bm25+rerank: a reranker folder (repeat to compare); 'default' or 'zero-shot' (MiniLM alone).")
@click.option("--candidates", type=int, default=50, show_default=True, help="bm25+rerank: BM25 candidates to rerank.")
@click.option("--plot", type=click.Path(path_type=Path), default=None, help="With several --reranker: quality-vs-latency PNG.")
@click.option("--easy-out", type=click.Path(path_type=Path), default=None, help="bm25+rerank: write ids of queries every configuration gets fully right.")
def eval_cmd(index_dir: str, queries: Path, qrels: Path, strategy: str, json_out: Path | None, limit: int | None,
             model: str | None, rerankers: tuple[str, ...], candidates: int, plot: Path | None, easy_out: Path | None) -> None:
    """Evaluate a strategy: nDCG@10, Recall@10/100, MRR@10, all-gold@10, latency p50/p95."""
    from server.evaluate import STRATEGIES, evaluate, load_qrels, load_queries

    if rerankers or strategy == "bm25+rerank":  # compare reranker folders side by side (server/cli_rerank.py)
        from server.cli_rerank import run_rerank_eval

        return run_rerank_eval(index_dir, queries, qrels, limit, list(rerankers), candidates, json_out, plot, easy_out)

    if strategy not in STRATEGIES:
        raise click.UsageError(f"unknown strategy {strategy!r}: choose one of {', '.join(sorted(STRATEGIES))}")
    corpus = open_corpus(index_dir, allow_sample=False)
    try:
        qs, qr = load_queries(queries), load_qrels(qrels)
        if limit:
            qs = dict(list((q, t) for q, t in qs.items() if q in qr)[:limit])
        report = evaluate(corpus, qs, qr, STRATEGIES[strategy](model=model), progress=lambda ids: track(ids, f"eval {strategy}"))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    _print_metrics(report.metrics, json_out)


def _print_metrics(metrics: dict[str, float], json_out: Path | None) -> None:
    for key, value in metrics.items():
        click.echo(f"{key:>16}  {value}")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(metrics, indent=2), encoding="utf-8")


@main.command("refs-eval")
@click.option("--index", "index_dir", required=True)
@click.option("--gold", type=click.Path(exists=True, path_type=Path), required=True, help="TSV with src and dst columns.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None)
def refs_eval_cmd(index_dir: str, gold: Path, json_out: Path | None) -> None:
    """Recall of gold reference edges, resolved/unresolved counts, mean out-degree."""
    from server.refs_eval import load_gold_edges, refs_eval

    corpus = open_corpus(index_dir, allow_sample=False)
    try:
        metrics = refs_eval(corpus, load_gold_edges(gold))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    _print_metrics(metrics, json_out)

import server.cli_traversal  # noqa: E402,F401  (registers `models`, `deep-search`, the walk/agent strategies)


from server import cli_rerank  # noqa: E402,F401  (train-reranker, feedback, bm25+rerank)
