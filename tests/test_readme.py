"""The README and the code cannot drift: every CLI command and MCP tool is documented, and every
`readtrail <command>` the README shows exists."""
from __future__ import annotations

import re
from pathlib import Path

import anyio
from mcp import Client

from server.cli import main
from server.corpus import Corpus
from tests.conftest import server_over

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_in_the_readme_and_every_readme_command_exists() -> None:
    shown = set(re.findall(r"readtrail ([a-z][a-z-]+)", README))
    commands = set(main.commands)
    assert commands - shown == set(), "commands the README does not show"
    assert {c for c in shown if c not in commands} == set(), "README shows commands that do not exist"


def test_every_mcp_tool_is_in_the_readme_tool_table(tiny_corpus: Corpus) -> None:
    async def names() -> set[str]:
        async with Client(server_over(tiny_corpus)) as c:
            return {t.name for t in (await c.list_tools()).tools}
    rows = [line for line in README.splitlines() if line.startswith("| `")]
    table = {name for row in rows for name in re.findall(r"`([a-z_]+)\(", row.split(" | ")[0])}
    assert anyio.run(names) <= table
