"""Variant (e)'s data: synthetic questions over the ADGM corpus by the packaged Qwen2.5 0.5B (no labels).

    python bench/rerank_synth.py --index /tmp/idx-adgm --n 240 --out /tmp/synth-adgm.jsonl [--seed 1]

Another --seed samples other passages: runs with different seeds add up (concatenate their files)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from server.corpus import Corpus
from server.training.synthetic import generate_questions

ap = argparse.ArgumentParser()
ap.add_argument("--index", required=True)
ap.add_argument("--n", type=int, default=240)
ap.add_argument("--model", default="qwen2.5-0.5b")
ap.add_argument("--out", type=Path, required=True)
ap.add_argument("--seed", type=int, default=0, help="which passages are sampled")
a = ap.parse_args()
t = time.monotonic()
with a.out.open("w", encoding="utf-8") as f:  # written as they come: a partial run is still usable
    def sink(q: str, pid: str) -> None:
        f.write(json.dumps({"query": q, "passage_id": pid}) + "\n")
        f.flush()

    from server.llm.registry import resolve_model_path
    from server.settings import Settings

    model = resolve_model_path(a.model, Settings.from_env().models_dir)  # a name in the registry or a GGUF path
    pairs = generate_questions(Corpus.open(Path(a.index)), a.n, model, seed=a.seed, sink=sink,
                               progress=lambda d, n: print(f"{d}/{n} {time.monotonic() - t:.0f}s", file=sys.stderr, flush=True))
print(f"{len(pairs)} questions in {time.monotonic() - t:.0f}s", file=sys.stderr)
