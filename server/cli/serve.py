"""`readtrail serve`: the MCP server over stdio (desktop clients) or streamable HTTP."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from server.cli.common import INDEX_HELP, err, services_from, settings_from
from server.corpus import Corpus
from server.errors import UsageError
from server.mcp.http_security import url_host
from server.settings import Settings

__all__ = ["serve_cmd", "connect_help", "http_connect_help"]

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@click.command("serve")
@click.option("--index", "index_dir", help=INDEX_HELP)
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP only. Loopback unless told otherwise.")
@click.option("--port", default=8765, show_default=True, type=int, help="HTTP only.")
@click.option("--token", default=None,
              help="Bearer token clients must send (HTTP). Prefer READTRAIL_TOKEN: a command line is visible to every local user.")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback --host without a token.")
@click.option("--reranker", default=None,
              help="A reranker folder (default: $READTRAIL_RERANKER, else the index's latest trained model, else zero-shot).")
@click.option("--model", default=None, help="A GGUF file or packaged name for deep_search's agent (default: $READTRAIL_MODEL, else packaged).")
def serve_cmd(index_dir: str | None, transport: str, host: str, port: int, token: str | None, insecure: bool,
              reranker: str | None, model: str | None) -> None:
    """Run the MCP server over stdio (for desktop clients) or streamable HTTP.

    A `readtrail index` on the served folder is picked up without a restart (checked once a second, at calls)."""
    from server.mcp import create_server
    from server.mcp.http_security import http_options

    settings = settings_from(index_dir, reranker=reranker, model=model, token=token)
    check_model_paths(settings)
    if transport == "http" and host not in LOOPBACK and not settings.token and not insecure:
        raise click.UsageError(
            f"--host {host} exposes your documents beyond this machine: set READTRAIL_TOKEN (or --token), "
            "or pass --insecure if the network is trusted"
        )
    services = services_from(settings)
    services.watch_index()  # `readtrail index` on the served folder is picked up without a restart
    try:
        server = create_server(services, token=settings.token, host=host, port=port)
    except ValueError as exc:  # a token too short to be safe
        raise click.UsageError(str(exc)) from exc
    if transport == "stdio":
        err(connect_help(index_dir, services.corpus))
        server.run()
        return
    err(http_connect_help(index_dir, services.corpus, f"http://{url_host(host)}:{port}/mcp", bool(settings.token)))
    server.run(transport="streamable-http", **http_options(host, port, settings.allowed_hosts))


def check_model_paths(settings: Settings) -> None:
    """Fail at startup, not at the first deep_search, on a reranker or model path that cannot be used."""
    from server.llm.registry import PACKAGED, check_gguf
    from server.rerank import ZERO_SHOT, ZERO_SHOT_FUSED

    reranker, model = settings.reranker, settings.model
    if reranker and reranker not in (ZERO_SHOT, ZERO_SHOT_FUSED) and not Path(reranker).expanduser().is_dir():
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
