"""What `readtrail serve` tells a user about connecting clients (it goes to stderr: stdout is stdio's)."""
from __future__ import annotations

import json

from server.cli.serve import connect_help, http_connect_help
from server.corpus import Corpus


def _desktop_entry(text: str) -> dict:
    line = next(line for line in text.splitlines() if "Desktop client" in line)
    return json.loads(line[line.index("{"):])


def test_http_banner_names_the_url_the_inspector_and_a_desktop_config(tiny_corpus: Corpus) -> None:
    text = http_connect_help("/some/index", tiny_corpus, "http://127.0.0.1:8765/mcp", token=False)
    assert "npx -y @modelcontextprotocol/inspector --cli http://127.0.0.1:8765/mcp --transport http" in text
    assert "Bearer" not in text
    entry = _desktop_entry(text)["mcpServers"]["readtrail"]
    assert entry["args"] == ["serve", "--index", "/some/index"]


def test_http_banner_says_a_token_is_needed_when_one_is_set(tiny_corpus: Corpus) -> None:
    text = http_connect_help(None, tiny_corpus, "http://127.0.0.1:8765/mcp", token=True)
    assert "Authorization: Bearer" in text
    assert _desktop_entry(text)["mcpServers"]["readtrail"]["args"] == ["serve"]


def test_stdio_banner_has_a_desktop_config_that_parses(tiny_corpus: Corpus) -> None:
    assert _desktop_entry(connect_help(None, tiny_corpus))["mcpServers"]["readtrail"]["args"] == ["serve"]
