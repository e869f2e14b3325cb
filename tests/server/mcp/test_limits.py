"""Tool arguments are bounded: an oversized or out-of-range argument is a tool error that says
what to change, short (it never echoes a huge argument back), and the server keeps serving."""
from __future__ import annotations

import anyio
import pytest
from mcp import Client

from server.corpus import Corpus
from server.limits import TEXT
from tests.conftest import server_over

BIG = "x" * 200_000  # well past every text limit, well under the 1 MB body bound

CASES = [
    ("search", {"query": BIG}, "query is 200000 characters"),
    ("search", {"query": "report", "k": 0}, "k must be between 1 and 100"),
    ("search", {"query": "report", "k": 10_000}, "k must be between 1 and 100"),
    ("search", {"query": "report", "offset": -1}, "offset must be between"),
    ("search", {"query": "report", "offset": 10**9}, "offset must be between"),
    ("search", {"query": "report", "max_chars": 10**9}, "max_chars must be between"),
    ("search", {"query": "report", "document": BIG}, "document is 200000 characters"),
    ("search", {"query": "report", "k": "lots"}, "k"),
    ("get_passage", {"id": BIG}, "id is 200000 characters"),
    ("neighbors", {"id": BIG}, "id is 200000 characters"),
    ("neighbors", {"id": "aml:2.1", "before": 10_000}, "before must be between 0 and 20"),
    ("neighbors", {"id": "aml:2.1", "after": -5}, "after must be between 0 and 20"),
    ("follow_reference", {"id": BIG}, "id is 200000 characters"),
    ("follow_reference", {"id": "aml:2.1", "reference": BIG}, "reference is 200000 characters"),
    ("outline", {"document": BIG}, "document is 200000 characters"),
    ("list_documents", {"limit": 100_000}, "limit must be between 1 and 500"),
    ("list_documents", {"offset": -3}, "offset must be between"),
]


@pytest.mark.parametrize("tool, args, text", CASES, ids=[f"{t}-{'-'.join(a)}-{i}" for i, (t, a, _) in enumerate(CASES)])
def test_oversized_arguments_get_a_short_clear_tool_error(tiny_corpus: Corpus, tool: str, args: dict, text: str) -> None:
    async def go() -> None:
        async with Client(server_over(tiny_corpus)) as c:
            r = await c.call_tool(tool, args)
            assert r.is_error, r
            message = r.content[0].text
            assert text in message
            assert len(message) < 2_000, "the error echoes the oversized argument back"
            ok = await c.call_tool("search", {"query": "suspicious activity report", "k": 1})
            assert not ok.is_error  # the server keeps serving
    anyio.run(go)


def test_limits_are_documented_in_the_schemas(tiny_corpus: Corpus) -> None:
    """A client can see the bounds before it calls: the parameter descriptions state them."""
    async def go() -> None:
        async with Client(server_over(tiny_corpus)) as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
            props = tools["search"].input_schema["properties"]
            assert "1-100" in props["k"]["description"]
            assert "0-20" in tools["neighbors"].input_schema["properties"]["before"]["description"]
    anyio.run(go)


def test_passage_resource_rejects_oversized_ids(tiny_corpus: Corpus) -> None:
    """The SDK itself puts the URI in a resource error; the id check still refuses before lookup."""
    async def go() -> None:
        async with Client(server_over(tiny_corpus)) as c:
            with pytest.raises(Exception):
                await c.read_resource("readtrail://passage/" + "y" * 5_000)
            ok = await c.read_resource("readtrail://passage/aml:2.1")
            assert "suspicious activity" in ok.contents[0].text
    anyio.run(go)


def test_every_text_limit_is_finite() -> None:
    assert TEXT and all(0 < limit <= 10_000 for limit in TEXT.values())


@pytest.mark.parametrize("pid", ["../../../../etc/passwd", "/etc/passwd", "aml:2.1/../../gen:4", "~/.ssh/id_rsa"])
def test_ids_are_keys_never_paths(tiny_corpus: Corpus, pid: str) -> None:
    """Ids are looked up in the loaded index only; a path-like id is just an unknown id."""
    async def go() -> None:
        async with Client(server_over(tiny_corpus)) as c:
            r = await c.call_tool("get_passage", {"id": pid})
            assert r.is_error and "unknown passage id" in r.content[0].text
            assert "root:" not in r.content[0].text
    anyio.run(go)


def test_schema_bounds_are_in_the_json_schemas(tiny_corpus: Corpus) -> None:
    """The bounds are machine-readable too: minimum/maximum/maxLength, from server.limits."""
    async def go() -> None:
        async with Client(server_over(tiny_corpus)) as c:
            tools = {t.name: t.input_schema["properties"] for t in (await c.list_tools()).tools}
            assert (tools["search"]["k"]["minimum"], tools["search"]["k"]["maximum"]) == (1, 100)
            assert tools["search"]["query"]["maxLength"] == 2000
            assert tools["rerank"]["query"]["maxLength"] == 2000 and tools["rerank"]["passage_ids"]["maxItems"] == 100
            assert tools["deep_search"]["question"]["maxLength"] == 2000
    anyio.run(go)


@pytest.mark.parametrize("tool, args, text", [
    ("rerank", {"query": BIG, "passage_ids": ["aml:2.1"]}, "query is 200000 characters"),
    ("rerank", {"query": "x", "passage_ids": ["nope-" + "z" * 900_000]}, "characters"),
    ("rerank", {"query": "x", "passage_ids": ["nope-" + "z" * 500]}, "unknown passage id"),
    ("search", {}, "query is required"),
    ("deep_search", {}, "question is required"),
])
def test_rerank_and_missing_arguments_get_one_short_line(tiny_corpus: Corpus, tool: str, args: dict, text: str) -> None:
    async def go() -> None:
        async with Client(server_over(tiny_corpus)) as c:
            r = await c.call_tool(tool, args)
            message = r.content[0].text
            assert r.is_error and text in message, message
            assert len(message) < 300 and "\n" not in message and "pydantic.dev" not in message
    anyio.run(go)


def test_prompt_and_resource_errors_say_what_to_do(tiny_corpus: Corpus) -> None:
    from mcp.shared.exceptions import MCPError

    async def go() -> None:
        async with Client(server_over(tiny_corpus)) as c:
            with pytest.raises(MCPError) as err:
                await c.get_prompt("research_question", {"question": "q" * 900_000})
            assert "keep it under 2000" in str(err.value) and len(str(err.value)) < 300
            with pytest.raises(MCPError) as err:
                await c.read_resource("readtrail://passage/nope")
            assert "unknown passage id 'nope'" in str(err.value)
            with pytest.raises(MCPError) as err:
                await c.read_resource("readtrail://document/nope")
            assert "list_documents" in str(err.value)
    anyio.run(go)
