"""Hybrid search from the outside: `readtrail index --vectors` fills the vector cache at index time,
then a real MCP client over stdio searches by mode with the packaged MiniLM (no fake parts)."""
import subprocess
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from server.settings import SAMPLE_CORPUS
from tests.e2e.helpers import READTRAIL, env

pytestmark = pytest.mark.slow


def test_index_vectors_then_search_by_mode_over_stdio(tmp_path: Path) -> None:
    home, idx = tmp_path / "home", tmp_path / "idx"
    out = subprocess.run([READTRAIL, "index", str(SAMPLE_CORPUS / "docs"), "--index", str(idx), "--vectors"],
                         capture_output=True, text=True, timeout=600, env=env(READTRAIL_HOME=str(home)))
    assert out.returncode == 0, out.stderr
    assert "passage vectors cached" in out.stderr
    chunks = list((home / "vectors").glob("*/chunk-*.npz"))
    assert chunks, "index --vectors wrote the cache serve reads"
    params = StdioServerParameters(command=READTRAIL, args=["serve", "--index", str(idx)],
                                   env=env(READTRAIL_HOME=str(home), READTRAIL_WARM="0"))

    async def go() -> None:
        async with Client(params) as client:
            question = "how fast should antibiotics be given when a patient may have sepsis"
            by_mode = {}
            for mode in ("bm25", "dense", "hybrid"):
                r = await client.call_tool("search", {"query": question, "k": 5, "mode": mode})
                assert not r.is_error and r.structured_content["mode"] == mode
                by_mode[mode] = [h["document"] for h in r.structured_content["hits"]]
            assert "sepsis-guideline" in by_mode["dense"][:3] and "sepsis-guideline" in by_mode["hybrid"][:3]
            default = await client.call_tool("search", {"query": question, "k": 3})
            assert default.structured_content["mode"] == "hybrid"
            bad = await client.call_tool("search", {"query": question, "mode": "semantic"})
            assert bad.is_error and "mode" in bad.content[0].text
    anyio.run(go)
    assert sorted((home / "vectors").glob("*/chunk-*.npz")) == sorted(chunks), "serving encoded no passage again"
