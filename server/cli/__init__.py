"""The `readtrail` command line. Every command lives in a module of this package and is registered
here, explicitly (nothing registers itself by being imported)."""
from __future__ import annotations

import click

from server.cli.deep import deep_search_cmd, models_cmd
from server.cli.evaluate import eval_cmd, refs_eval_cmd
from server.cli.feedback import feedback_group
from server.cli.index import index_cmd, search_cmd
from server.cli.rerank import train_reranker_cmd, warm_reranker_cmd
from server.cli.serve import serve_cmd
from server.settings import ENV_VARS

__all__ = ["main", "COMMANDS"]

COMMANDS = (index_cmd, search_cmd, serve_cmd, deep_search_cmd, models_cmd, eval_cmd, refs_eval_cmd,
            train_reranker_cmd, warm_reranker_cmd, feedback_group)

_ENV_HELP = "\n\n\b\nEnvironment:\n" + "\n".join(f"  {k}: {v}" for k, v in ENV_VARS.items())


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=_ENV_HELP)
@click.version_option(package_name="readtrail")
def main() -> None:
    """readtrail: an MCP server that reads your documents at query time."""


for _command in COMMANDS:
    main.add_command(_command)
