"""The MCP skin in memory (no sockets): schemas, annotations, errors, resources, prompt."""
import tempfile
from pathlib import Path

import anyio
import pytest
from mcp import Client

from server.corpus import Corpus
from server.mcp import create_server
from tests.conftest import make_services

CORE_TOOLS = {"search", "get_passage", "neighbors", "follow_reference", "outline", "list_documents"}


def _client(corpus: Corpus) -> Client:
    return Client(create_server(make_services(corpus, Path(tempfile.mkdtemp(prefix="rt-home-")))))


def test_tools_have_schemas_annotations_and_docs(tiny_corpus: Corpus) -> None:
    async def go() -> None:
        async with _client(tiny_corpus) as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
            assert CORE_TOOLS <= set(tools)
            for name in CORE_TOOLS:
                t = tools[name]
                assert t.output_schema and t.description and len(t.description) > 40
                assert t.annotations.read_only_hint is True and t.annotations.open_world_hint is False
    anyio.run(go)


def test_search_then_follow_reference_structured(tiny_corpus: Corpus) -> None:
    async def go() -> None:
        async with _client(tiny_corpus) as c:
            r = await c.call_tool("search", {"query": "suspicious activity report", "k": 3})
            assert not r.is_error
            top = r.structured_content["hits"][0]
            assert top["id"] == "aml:2.1"
            f = await c.call_tool("follow_reference", {"id": top["id"], "reference": top["references"][0]["text"]})
            assert not f.is_error and f.structured_content["targets"]
    anyio.run(go)


@pytest.mark.parametrize("tool, args, text", [
    ("search", {"query": ""}, "query is empty"),
    ("search", {"query": "x", "k": 1000}, "k must be between 1 and 100"),
    ("get_passage", {"id": "nope"}, "unknown passage id"),
    ("outline", {"document": "nope"}, "list_documents"),
])
def test_errors_reach_the_client_with_a_fix(tiny_corpus: Corpus, tool: str, args: dict, text: str) -> None:
    async def go() -> None:
        async with _client(tiny_corpus) as c:
            r = await c.call_tool(tool, args)
            assert r.is_error and text in r.content[0].text
    anyio.run(go)


def test_resources_and_prompt(tiny_corpus: Corpus) -> None:
    async def go() -> None:
        async with _client(tiny_corpus) as c:
            templates = {t.uri_template for t in (await c.list_resource_templates()).resource_templates}
            assert {"readtrail://passage/{id}", "readtrail://document/{id}"} <= templates
            res = await c.read_resource("readtrail://passage/aml:2.1")
            assert '"id":"aml:2.1"' in res.contents[0].text
            prompt = await c.get_prompt("research_question", {"question": "Who files reports?"})
            text = prompt.messages[0].content.text
            assert "Who files reports?" in text and "follow_reference" in text
    anyio.run(go)
