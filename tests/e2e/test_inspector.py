"""The MCP Inspector CLI (npx) against the real server, over stdio and HTTP."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import READTRAIL, env, http_server

pytestmark = pytest.mark.slow
INSPECTOR = ["npx", "-y", "@modelcontextprotocol/inspector", "--cli"]


def _inspect(target: list[str], *method: str) -> dict:
    if not shutil.which("npx"):
        pytest.fail("npx (Node.js) is required for the Inspector tests: install nodejs and npm")
    out = subprocess.run([*INSPECTOR, *target, *method], capture_output=True, text=True, timeout=300, env=env())
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_inspector_stdio_lists_and_calls_tools(tiny_index: Path) -> None:
    target = [READTRAIL, "serve", "--index", str(tiny_index)]
    listed = _inspect(target, "--method", "tools/list")
    assert {"search", "follow_reference"} <= {t["name"] for t in listed["tools"]}
    called = _inspect(target, "--method", "tools/call", "--tool-name", "search",
                      "--tool-arg", "query=suspicious activity report", "--tool-arg", "k=2")
    assert not called.get("isError") and called["structuredContent"]["hits"][0]["id"] == "aml:2.1"
    bad = _inspect(target, "--method", "tools/call", "--tool-name", "get_passage", "--tool-arg", "id=nope")
    assert bad.get("isError") is True and "unknown passage id" in bad["content"][0]["text"]


def test_inspector_http(tiny_index: Path) -> None:
    with http_server(tiny_index) as url:
        called = _inspect([url, "--transport", "http"], "--method", "tools/call", "--tool-name", "follow_reference",
                          "--tool-arg", "id=aml:2.1")
        texts = {r["text"] for r in called["structuredContent"]["references"]}
        assert "Section 4 of the GEN Rules" in texts
