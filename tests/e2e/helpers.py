"""Start real readtrail processes for end-to-end tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

READTRAIL = str(Path(sys.executable).with_name("readtrail"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra: str) -> dict[str, str]:
    e = dict(os.environ)
    e.update(extra)
    return e


@contextmanager
def http_server(index: Path, *args: str, port: int | None = None, **env_extra: str) -> Iterator[str]:
    """`readtrail serve --transport http` on a free loopback port; yields the MCP URL."""
    with http_server_process(index, *args, port=port, **env_extra) as (_proc, url):
        yield url


@contextmanager
def http_server_process(index: Path, *args: str, port: int | None = None,
                        **env_extra: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Like http_server, also yielding the process (to kill it); stderr goes to a file, never a full pipe."""
    port = port or free_port()
    log = tempfile.TemporaryFile()  # a pipe nobody reads fills up under load and stalls the server
    proc = subprocess.Popen(
        [READTRAIL, "serve", "--index", str(index), "--transport", "http", "--port", str(port), *args],
        stdout=log, stderr=subprocess.STDOUT, env=env(**env_extra),
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start within 60 s")
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def initialize(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    h = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", **(headers or {})}
    return httpx.post(url, json=body, headers=h, timeout=10)
