"""deep_search through the real MCP client over stdio: `readtrail serve` as a subprocess, the real
zero-shot reranker, the packaged SmolLM2 for the agent, progress notifications per step."""
from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from server.llm.registry import ModelError, resolve_model_path
from tests.e2e.helpers import READTRAIL, env
from tests.server.traversal.fixture_corpus import write_traversal_index

pytestmark = pytest.mark.slow

QUESTION = "What must the money laundering reporting officer do about suspicious activity reports?"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_traversal_index(tmp_path_factory.mktemp("deep-e2e") / "index")


def test_deep_search_over_stdio_with_progress(index: Path, tmp_path: Path) -> None:
    try:
        resolve_model_path("smollm2-135m", tmp_path / "home" / "models")
    except ModelError as exc:
        pytest.skip(f"SmolLM2 is not available: {exc}")
    params = StdioServerParameters(command=READTRAIL, args=["serve", "--index", str(index), "--model", "smollm2-135m"],
                                   env=env(READTRAIL_HOME=str(tmp_path / "home")))

    async def go() -> None:
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert "deep_search" in tools and tools["deep_search"].output_schema

            progress: list[tuple[float, float | None, str | None]] = []

            async def on_progress(p: float, total: float | None, message: str | None) -> None:
                progress.append((p, total, message))

            walked = await client.call_tool("deep_search", {"question": QUESTION, "strategy": "walk", "max_steps": 4,
                                                            "max_seconds": 30}, progress_callback=on_progress)
            assert not walked.is_error, walked.content
            result = walked.structured_content
            assert result["strategy"] == "walk" and "minilm-zero-shot" in result["reranker"]  # the default reranker, plain or fused with BM25
            ids = [e["id"] for e in result["evidence"]]
            assert "gen:4" in ids  # reached by following Rule 2.1's citation of Section 4
            assert [t["step"] for t in result["trace"]] == list(range(result["steps"] + 1))
            steps = [(p, total, msg) for p, total, msg in progress if "warm up" not in (msg or "")]  # a fresh server may say so first
            assert [p for p, _, _ in steps] == list(range(result["steps"] + 1))
            assert all(total == 4 and msg for _, total, msg in steps)

            default = await client.call_tool("deep_search", {"question": QUESTION, "max_seconds": 30})
            assert not default.is_error, default.content
            assert default.structured_content["strategy"] == "mixed" and default.structured_content["evidence"]

            progress.clear()
            agent = await client.call_tool(
                "deep_search", {"question": QUESTION, "strategy": "agent", "max_steps": 2, "max_seconds": 60, "k": 5},
                progress_callback=on_progress)
            assert not agent.is_error, agent.content
            result = agent.structured_content
            assert result["model"] == "SmolLM2-135M-Instruct.Q4_1" and result["prompt_version"]
            assert 1 <= result["steps"] <= 2 and len(result["evidence"]) <= 5
            assert all(t["valid"] for t in result["trace"])
            assert len(progress) == result["steps"] + 1

            bad = await client.call_tool("deep_search", {"question": QUESTION, "max_steps": 0})
            assert bad.is_error and "max_steps must be between 1 and 50" in bad.content[0].text
    anyio.run(go)


def test_serve_refuses_a_non_gguf_model_at_startup(index: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a model", encoding="utf-8")
    done = subprocess.run([READTRAIL, "serve", "--index", str(index), "--model", str(fake)], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, env=env(READTRAIL_HOME=str(tmp_path / "home")))
    assert done.returncode != 0 and "not a GGUF model" in done.stderr and not done.stdout
