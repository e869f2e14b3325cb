"""Access control beyond test_transports.py: bounded request bodies, the token on every request,
and index, model and token settings checked at startup with a one-line error (no traceback)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client

from tests.e2e.helpers import READTRAIL, env, http_server, initialize

pytestmark = pytest.mark.slow

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _call_body(padding: int) -> bytes:
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "search", "arguments": {"query": "q" * padding}}}
    return json.dumps(body).encode()


def test_request_bodies_over_1mb_are_refused(tiny_index: Path) -> None:
    big = _call_body(1_500_000)
    with http_server(tiny_index) as url:
        declared = httpx.post(url, content=big, headers=HEADERS, timeout=10)
        assert declared.status_code == 413

        def chunks():  # no Content-Length: the server must count what it reads
            for i in range(0, len(big), 64_000):
                yield big[i:i + 64_000]
        streamed = httpx.post(url, content=chunks(), headers=HEADERS, timeout=10)
        assert streamed.status_code == 413
        assert initialize(url).status_code == 200  # and it keeps serving


def test_oversized_tool_arguments_over_http_get_a_tool_error(tiny_index: Path) -> None:
    with http_server(tiny_index) as url:
        async def go() -> None:
            async with Client(url) as c:
                r = await c.call_tool("search", {"query": "q" * 500_000})  # under the body bound
                assert r.is_error and "query is 500000 characters" in r.content[0].text
                assert len(r.content[0].text) < 2_000
                r = await c.call_tool("search", {"query": "report", "k": 1_000_000})
                assert r.is_error and "k must be between 1 and 100" in r.content[0].text
        anyio.run(go)


def test_token_checked_on_every_request_not_only_the_first(tiny_index: Path) -> None:
    token = "another-secret-token-0123456789"
    with http_server(tiny_index, "--token", token) as url:
        ok = initialize(url, {"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        session = ok.headers.get("mcp-session-id")
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
        h = {**HEADERS, "mcp-session-id": session or "", "mcp-protocol-version": "2025-11-25"}
        assert httpx.post(url, json=call, headers=h, timeout=10).status_code == 401
        assert httpx.post(url, json=call, headers={**h, "Authorization": f"Basic {token}"}, timeout=10).status_code == 401
        assert httpx.post(url, json=call, headers={**h, "Authorization": f"Bearer {token}"}, timeout=10).status_code == 200


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([READTRAIL, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env=env(READTRAIL_TOKEN=""))


def _clear_error(out: subprocess.CompletedProcess[str], *words: str) -> None:
    assert out.returncode != 0
    assert "Traceback" not in out.stderr, out.stderr[-1500:]
    assert "Error:" in out.stderr and all(w in out.stderr for w in words), out.stderr


def _damaged(tiny_index: Path, tmp: Path) -> Path:
    copy = tmp / "damaged"
    shutil.copytree(tiny_index, copy)
    gen = copy / (copy / "CURRENT").read_text(encoding="utf-8").strip()
    (gen / "passages.jsonl").unlink()
    return copy


@pytest.mark.parametrize("kind", ["file", "foreign-folder", "missing", "damaged", "bad-pointer"])
def test_bad_index_paths_fail_with_one_clear_line(tiny_index: Path, tmp_path: Path, kind: str) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    pointer = tmp_path / "pointer"
    pointer.mkdir()
    (pointer / "CURRENT").write_bytes(b"../../etc\xff")
    index = {
        "file": tmp_path / "notes.txt", "foreign-folder": tmp_path, "missing": tmp_path / "nope",
        "damaged": _damaged(tiny_index, tmp_path), "bad-pointer": pointer,
    }[kind]
    _clear_error(_run("search", "--index", str(index), "report"), "index")
    _clear_error(_run("serve", "--index", str(index), "--transport", "http"), "index")


def test_index_refuses_to_write_over_a_file_or_into_a_foreign_folder(tmp_path: Path) -> None:
    doc = tmp_path / "src" / "a.md"
    doc.parent.mkdir()
    doc.write_text("# Title\n\nSome text about escalation.\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    _clear_error(_run("index", str(doc), "--index", str(tmp_path / "notes.txt")), "is a file")
    _clear_error(_run("index", str(doc), "--index", str(tmp_path)), "new or empty folder")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("gen-", ".gen-", "CURRENT"))]


def test_bad_model_paths_and_short_tokens_fail_at_startup(tiny_index: Path, tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"\x80\x04\x95 pickle, not gguf")
    base = ["serve", "--index", str(tiny_index), "--transport", "http"]
    _clear_error(_run(*base, "--model", str(fake)), "not a GGUF model")
    _clear_error(_run(*base, "--model", str(tmp_path / "missing.gguf")), "does not exist")
    _clear_error(_run(*base, "--reranker", str(fake)), "not a folder")
    _clear_error(_run(*base, "--token", "short"), "at least 16 characters")
