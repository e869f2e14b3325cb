"""The real server over stdio and streamable HTTP, driven by the SDK's client."""
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.helpers import READTRAIL, env, http_server, initialize

pytestmark = pytest.mark.slow


async def _research(client: Client) -> None:
    tools = {t.name for t in (await client.list_tools()).tools}
    assert {"search", "neighbors", "follow_reference", "get_passage", "outline", "list_documents"} <= tools
    found = await client.call_tool("search", {"query": "suspicious activity report", "k": 5})
    assert not found.is_error
    hits = found.structured_content["hits"]
    assert hits[0]["id"] == "aml:2.1"
    around = await client.call_tool("neighbors", {"id": hits[0]["id"], "before": 1, "after": 1})
    assert [p["is_target"] for p in around.structured_content["passages"]] == [False, True]
    refs = await client.call_tool("follow_reference", {"id": hits[0]["id"]})
    resolved = [r for r in refs.structured_content["references"] if r["resolved"]]
    followed = await client.call_tool("follow_reference", {"id": hits[0]["id"], "reference": resolved[0]["text"]})
    assert followed.structured_content["targets"][0]["id"] in resolved[0]["targets"]
    bad = await client.call_tool("neighbors", {"id": "no-such-id"})
    assert bad.is_error and "unknown passage id" in bad.content[0].text


def test_stdio(tiny_index: Path) -> None:
    params = StdioServerParameters(command=READTRAIL, args=["serve", "--index", str(tiny_index)], env=env())

    async def go() -> None:
        async with Client(params) as client:
            await _research(client)
    anyio.run(go)


def test_http(tiny_index: Path) -> None:
    with http_server(tiny_index) as url:
        async def go() -> None:
            async with Client(url) as client:
                await _research(client)
        anyio.run(go)


def test_http_refuses_foreign_host_and_origin(tiny_index: Path) -> None:
    with http_server(tiny_index) as url:
        assert initialize(url).status_code == 200
        assert initialize(url, {"Host": "evil.example:80"}).status_code == 421
        assert initialize(url, {"Origin": "http://evil.example"}).status_code == 403


def test_http_token_required_when_set(tiny_index: Path) -> None:
    token = "s3cret-token-for-tests-0123456789"
    with http_server(tiny_index, READTRAIL_TOKEN=token) as url:
        assert initialize(url).status_code == 401
        assert initialize(url, {"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
        assert initialize(url, {"Authorization": f"Bearer {token}"}).status_code == 200


def test_non_loopback_bind_needs_token_or_insecure(tiny_index: Path) -> None:
    import subprocess

    out = subprocess.run([READTRAIL, "serve", "--index", str(tiny_index), "--transport", "http", "--host", "0.0.0.0"],
                         capture_output=True, text=True, timeout=60, env=env(READTRAIL_TOKEN=""))
    assert out.returncode != 0 and "--token" in out.stderr


def test_ipv6_loopback_with_a_token_starts_and_checks_it(tiny_index: Path) -> None:
    import socket
    import subprocess
    import time

    import httpx
    import pytest

    from tests.e2e.helpers import free_port

    if not socket.has_ipv6:
        pytest.skip("this machine has no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    token, port = "s3cret-token-for-tests-0123456789", free_port()
    proc = subprocess.Popen([READTRAIL, "serve", "--index", str(tiny_index), "--transport", "http", "--host", "::1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env(READTRAIL_TOKEN=token))
    try:
        url = f"http://[::1]:{port}/mcp"
        body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-2000:]  # type: ignore[union-attr]
            try:
                r = httpx.post(url, json=body, headers=headers, timeout=5)
                break
            except httpx.TransportError:
                assert time.time() < deadline, "the server did not start on ::1"
                time.sleep(0.3)
        assert r.status_code == 401
        ok = httpx.post(url, json=body, headers={**headers, "Authorization": f"Bearer {token}"}, timeout=5)
        assert ok.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
