"""Run by `make check-wheel` with the python of a fresh venv holding only the installed wheel (from
/tmp, so that the source tree cannot be imported): the server reports its version, the prompt
renders, and an agent deep_search with the packaged test model answers over stdio."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

import server

assert server.__file__.startswith(sys.prefix), f"imported {server.__file__}, not the wheel installed in {sys.prefix}"
READTRAIL = str(Path(sys.executable).with_name("readtrail"))


async def main() -> None:
    home = tempfile.mkdtemp(prefix="rt-wheel-")
    params = StdioServerParameters(command=READTRAIL, args=["serve", "--model", "smollm2-135m"],
                                   env={"READTRAIL_HOME": home, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        assert init.server_info.version and init.server_info.version != "0+unknown", init.server_info
        prompt = await session.get_prompt("research_question", {"question": "When is sepsis escalated?"})
        text = prompt.messages[0].content.text
        assert "When is sepsis escalated?" in text and "follow_reference" in text, text[:300]
        result = await session.call_tool("deep_search", {"question": "When must sepsis be escalated?", "strategy": "agent",
                                                         "max_steps": 2, "max_seconds": 60})
        assert not result.is_error, result.content[0].text
        out = result.structured_content
        assert out["evidence"] and out["prompt_version"].startswith("agent_system@"), out
        print(f"wheel OK: readtrail {init.server_info.version}, prompt rendered, agent deep_search "
              f"{out['steps']} steps, {len(out['evidence'])} passages, model {out['model']}")


anyio.run(main)
