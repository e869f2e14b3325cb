"""Load over the real streamable HTTP server: concurrent sessions get no errors, and deep_search
beyond what the machine runs at once waits in a bounded queue or gets a clear busy error."""
from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from bench.load import run_load
from tests.e2e.helpers import http_server, http_server_process

pytestmark = pytest.mark.slow


def test_8_clients_x_50_mixed_calls_without_errors(sample_index: Path) -> None:
    with http_server(sample_index) as url:
        report = anyio.run(run_load, url, 8, 50)
    figures = report.summary()
    print(figures)
    assert report.errors == [] and report.calls == 400
    assert set(report.latencies) == {"search", "neighbors", "follow_reference"}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_deep_search_beyond_capacity_queues_or_says_busy(sample_index: Path) -> None:
    args = {"question": "what to do when lactate is high in sepsis", "strategy": "walk", "max_steps": 2,
            "max_seconds": 2.0, "k": 5}
    outcomes: list[str] = []

    async def one(url: str) -> None:
        async with Client(url) as c:
            with anyio.fail_after(120):
                r = await c.call_tool("deep_search", args)
            if not r.is_error:
                assert r.structured_content["evidence"], r.structured_content
                outcomes.append("ok")
            else:
                assert "busy" in r.content[0].text and "retry" in r.content[0].text, r.content[0].text
                outcomes.append("busy")

    with http_server_process(sample_index) as (proc, url):
        anyio.run(one, url)  # loads the reranker once
        warm = _rss_mb(proc.pid)

        async def burst() -> None:
            async with anyio.create_task_group() as tg:
                for _ in range(12):
                    tg.start_soon(one, url)
        for _ in range(2):
            anyio.run(burst)
        grown = _rss_mb(proc.pid) - warm
        assert proc.poll() is None  # still serving
    print(f"deep_search x12 twice: {outcomes.count('ok')} ok, {outcomes.count('busy')} busy; RSS +{grown:.0f} MB")
    assert len(outcomes) == 25 and outcomes.count("ok") >= 3 and "busy" in outcomes
    assert grown < 300, f"server memory grew {grown:.0f} MB over two bursts"
