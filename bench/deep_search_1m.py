"""deep_search over stdio on a large index right after `readtrail serve` starts, while the server's
warm-up is still encoding every passage (the default hybrid first stage): how long each call takes.

    python bench/deep_search_1m.py [INDEX] [READTRAIL_HOME]      # defaults: the 1M scale index, a fresh home
"""
import os
import sys
import time

import anyio
from mcp import Client, StdioServerParameters
INDEX = sys.argv[1] if len(sys.argv) > 1 else "/work/scale-data/i1000000-s12"
HOME = sys.argv[2] if len(sys.argv) > 2 else "/tmp/rt1m-home"
Q = ["What are the obligations of an Authorised Person in relation to client money?", "When must a firm notify the Regulator of a breach?", "What records must be kept of client assets?"]
params = StdioServerParameters(command=os.path.join(os.path.dirname(sys.executable), "readtrail"), args=["serve", "--index", INDEX],
                               env={**os.environ, "READTRAIL_HOME": HOME, "HF_HUB_OFFLINE": "1"})
async def go():
    t0 = time.monotonic()
    async with Client(params) as client:
        print(f"initialized {time.monotonic() - t0:.1f}s", flush=True)
        for q in Q:
            t = time.monotonic()
            r = await client.call_tool("deep_search", {"question": q})
            s = r.structured_content or {}
            print(f"{time.monotonic() - t:.1f}s error={r.is_error} strategy={s.get('strategy')} stopped={s.get('stopped')} ms={s.get('ms')} evidence={len(s.get('evidence', []))} note={s.get('note')}", flush=True)
            if r.is_error:
                print(r.content)
anyio.run(go)
