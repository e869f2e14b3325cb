"""Load over streamable HTTP: C concurrent MCP clients, each making N calls, a mix of search,
neighbors and follow_reference; prints calls, errors, throughput and latency p50/p95/p99.

    python bench/load.py --index /tmp/idx-adgm [--clients 32] [--calls 160] [--client raw|sdk] [--json out.json]
    python bench/load.py --url http://127.0.0.1:8765/mcp ...    # a server already running

With --index it starts `readtrail serve --transport http` on a free loopback port and stops it
after. `raw`: one MCP session per client over plain JSON-RPC POSTs (httpx), light enough that the
load generator does not starve a 2-core server; `sdk`: one `mcp.Client(url)` per client.
Queries are word windows drawn from the corpus' own passages (seeded), so every run is the same.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx

__all__ = ["LoadReport", "run_load", "plan_calls"]

PROTOCOL = "2025-11-25"
MIX = (("search", 0.5), ("neighbors", 0.25), ("follow_reference", 0.25))


@dataclass
class LoadReport:
    clients: int
    calls: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # tool -> ms

    def summary(self) -> dict[str, Any]:
        every = sorted(ms for v in self.latencies.values() for ms in v)
        out: dict[str, Any] = {
            "clients": self.clients, "calls": self.calls, "errors": len(self.errors),
            "seconds": round(self.seconds, 2), "calls_per_s": round(self.calls / self.seconds, 1) if self.seconds else 0,
            **{f"p{q}_ms": _pct(every, q) for q in (50, 95, 99)},
        }
        for tool, v in sorted(self.latencies.items()):
            v = sorted(v)
            out[tool] = {"calls": len(v), "p50_ms": _pct(v, 50), "p95_ms": _pct(v, 95)}
        return out


def _pct(sorted_ms: list[float], q: int) -> float:
    if not sorted_ms:
        return 0.0
    return round(sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * q / 100))], 1)


def plan_calls(passages: list[tuple[str, str]], clients: int, calls: int, seed: int = 0) -> list[list[tuple[str, dict]]]:
    """Per client, `calls` (tool, arguments) from (id, text) pairs: a fixed, seeded mix."""
    rng = random.Random(seed)
    tools, weights = zip(*MIX)
    plans = []
    for _ in range(clients):
        plan = []
        for tool in rng.choices(tools, weights, k=calls):
            pid, text = rng.choice(passages)
            if tool == "search":
                words = text.split()
                start = rng.randrange(max(1, len(words) - 4))
                plan.append((tool, {"query": " ".join(words[start:start + rng.randint(2, 5)]) or "rule", "k": 10}))
            elif tool == "neighbors":
                plan.append((tool, {"id": pid, "before": 2, "after": 2}))
            else:
                plan.append((tool, {"id": pid}))
        plans.append(plan)
    return plans


class RawSession:
    """One MCP session over plain JSON-RPC POSTs (initialize, then tools/call)."""

    def __init__(self, http: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> None:
        self.http, self.url, self.n = http, url, 0
        self.headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
                        **(headers or {})}

    async def _post(self, method: str, params: dict, notify: bool = False) -> dict | None:
        self.n += 1
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            body["id"] = self.n
        r = await self.http.post(self.url, json=body, headers=self.headers)
        r.raise_for_status()
        if notify:
            return None
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            for line in r.text.splitlines():
                if line.startswith("data:"):
                    msg = json.loads(line[5:])
                    if msg.get("id") == body["id"]:
                        return msg
            raise RuntimeError(f"no response to {method} in the event stream")
        return r.json()

    async def open(self) -> None:
        r = await self.http.post(self.url, headers=self.headers, json={
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "load", "version": "0"}}})
        r.raise_for_status()
        self.headers["mcp-session-id"] = r.headers["mcp-session-id"]
        self.headers["mcp-protocol-version"] = PROTOCOL
        await self._post("notifications/initialized", {}, notify=True)

    async def call_tool(self, tool: str, args: dict) -> tuple[bool, str]:
        msg = await self._post("tools/call", {"name": tool, "arguments": args})
        if msg is None or "error" in msg:
            return False, json.dumps(msg)[:300]
        result = msg["result"]
        return (not result.get("isError"), "" if not result.get("isError") else result["content"][0]["text"][:300])


async def _raw_client(url: str, plan: list[tuple[str, dict]], report: LoadReport) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        session = RawSession(http, url)
        await session.open()
        for tool, args in plan:
            t = time.perf_counter()
            try:
                ok, why = await session.call_tool(tool, args)
            except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
                ok, why = False, f"{type(exc).__name__}: {exc}"
            _record(report, tool, args, t, ok, why)


async def _sdk_client(url: str, plan: list[tuple[str, dict]], report: LoadReport) -> None:
    from mcp import Client

    async with Client(url) as client:
        for tool, args in plan:
            t = time.perf_counter()
            try:
                r = await client.call_tool(tool, args)
                ok, why = not r.is_error, (r.content[0].text[:300] if r.is_error else "")
            except Exception as exc:  # noqa: BLE001
                ok, why = False, f"{type(exc).__name__}: {exc}"
            _record(report, tool, args, t, ok, why)


def _record(report: LoadReport, tool: str, args: dict, t: float, ok: bool, why: str) -> None:
    report.latencies.setdefault(tool, []).append((time.perf_counter() - t) * 1000)
    report.calls += 1
    if not ok:
        report.errors.append(f"{tool} {json.dumps(args)[:120]}: {why}")


async def _passages(url: str, want: int, seed: int) -> list[tuple[str, str]]:
    """(id, text) of up to `want` passages, found through the server's own tools."""
    async with httpx.AsyncClient(timeout=60) as http:
        s = RawSession(http, url)
        await s.open()
        msg = await s._post("tools/call", {"name": "list_documents", "arguments": {"limit": 500}})
        docs = msg["result"]["structuredContent"]["documents"]
        rng = random.Random(seed)
        out: list[tuple[str, str]] = []
        for d in rng.sample(docs, min(len(docs), 40)):
            msg = await s._post("tools/call", {"name": "neighbors", "arguments": {"id": d["first_passage"], "after": 20}})
            out += [(p["id"], p["text"]) for p in msg["result"]["structuredContent"]["passages"]]
        rng.shuffle(out)
        return out[:want]


async def run_load(url: str, clients: int, calls: int, client: str = "raw", seed: int = 0) -> LoadReport:
    """`clients` concurrent sessions, `calls` calls each; every error is kept in the report."""
    plans = plan_calls(await _passages(url, 400, seed), clients, calls, seed)
    report = LoadReport(clients=clients)
    run_one: Callable = _raw_client if client == "raw" else _sdk_client
    t = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for plan in plans:
            tg.start_soon(run_one, url, plan, report)
    report.seconds = time.perf_counter() - t
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--index", type=Path, help="start a server on this index")
    where.add_argument("--url", help="an MCP URL already serving")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--calls", type=int, default=160, help="calls per client")
    ap.add_argument("--client", choices=["raw", "sdk"], default="raw")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    a = ap.parse_args()

    def go(url: str) -> LoadReport:
        return anyio.run(run_load, url, a.clients, a.calls, a.client, a.seed)

    if a.url:
        report = go(a.url)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.e2e.helpers import http_server  # the same server start as the e2e tests

        with http_server(a.index) as url:
            report = go(url)
    figures = report.summary()
    print(json.dumps(figures, indent=2))
    for e in report.errors[:10]:
        print("error:", e, file=sys.stderr)
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    sys.exit(1 if report.errors else 0)


if __name__ == "__main__":
    main()
