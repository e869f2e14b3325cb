"""The MCP `feedback` and `rerank` tools, in memory through mcp.Client(server)."""
from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from server.corpus import Corpus
from server.corpus.feedback import FeedbackStore
from server.mcp import create_server
from server.rerank.embedding import EmbeddingReranker, minilm_path
from server.services import Services
from tests.conftest import settings_for


def _client(corpus: Corpus, db: Path, with_reranker: bool = False) -> tuple[Client, Services]:
    reranker = EmbeddingReranker(minilm_path(), name="test-minilm") if with_reranker else None
    app = Services(settings_for(db.parent, feedback_db=db), corpus, reranker_override=reranker)
    return Client(create_server(app)), app


def test_feedback_tool_commits_then_acknowledges(tiny_corpus: Corpus, tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite3"

    async def go() -> None:
        client, _ = _client(tiny_corpus, db)
        async with client as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
            assert {"feedback", "rerank"} <= set(tools)
            assert tools["feedback"].annotations.read_only_hint is False
            r = await c.call_tool("feedback", {"query": "who files reports?", "passage_id": "aml:2.1",
                                               "verdict": "misleading", "note": "wrong section"})
            assert not r.is_error and r.structured_content["stored"] is True
            assert FeedbackStore(db).all()[0].verdict == "misleading"  # on disk before the reply
            bad = await c.call_tool("feedback", {"query": "q", "passage_id": "nope", "verdict": "relevant"})
            assert bad.is_error and "unknown passage id" in bad.content[0].text
            bad = await c.call_tool("feedback", {"query": "q", "passage_id": "aml:2.1", "verdict": "great"})
            assert bad.is_error
            bad = await c.call_tool("feedback", {"query": "q" * 3000, "passage_id": "aml:2.1", "verdict": "relevant"})
            assert bad.is_error and "keep it under" in bad.content[0].text
    anyio.run(go)
    assert FeedbackStore(db).count() == 1


@pytest.mark.slow  # loads MiniLM
def test_rerank_tool_orders_and_rejects_unknown_ids(tiny_corpus: Corpus, tmp_path: Path) -> None:
    async def go() -> None:
        client, _ = _client(tiny_corpus, tmp_path / "fb.sqlite3", with_reranker=True)
        async with client as c:
            r = await c.call_tool("rerank", {"query": "How fast must a suspicious activity report be filed?",
                                             "passage_ids": ["gen:5", "aml:2.1", "gen:4"]})
            assert not r.is_error
            out = r.structured_content
            assert out["reranker"] == "test-minilm" and out["passages"][0]["id"] == "aml:2.1"
            assert [p["rank"] for p in out["passages"]] == [1, 2, 3]
            bad = await c.call_tool("rerank", {"query": "x", "passage_ids": ["aml:2.1", "nope"]})
            assert bad.is_error and "unknown passage id 'nope'" in bad.content[0].text
            bad = await c.call_tool("rerank", {"query": "x", "passage_ids": ["aml:2.1"] * 101})
            assert bad.is_error and "between 1 and 100" in bad.content[0].text
            bad = await c.call_tool("rerank", {"query": "x", "passage_ids": []})
            assert bad.is_error
    anyio.run(go)
