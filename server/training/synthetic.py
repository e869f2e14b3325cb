"""Cold start: questions written by the local llama.cpp model for sampled passages of the index."""
from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from server.corpus import Corpus
from server.training.pairs import Example

__all__ = ["generate_questions", "synthetic_examples"]

# No length bounds in the schema: llama.cpp expands them into one grammar rule per character (very slow).
SCHEMA = {"type": "object", "properties": {"question": {"type": "string"}}, "required": ["question"]}
PROMPT = (
    "Here is a passage from {title}:\n\n{text}\n\n"
    "Write one question that a professional reading these documents might ask, which this passage answers. "
    "Do not quote the passage; use your own words. Reply as JSON: {{\"question\": \"...\"}}"
)


def generate_questions(corpus: Corpus, n: int, model_path: Path, seed: int = 0, min_chars: int = 120,
                       progress: Callable[[int, int], None] | None = None,
                       sink: Callable[[str, str], None] | None = None) -> list[tuple[str, str]]:
    """(question, passage id) for n sampled passages (those with at least min_chars of text);
    `sink` sees each pair as it is written (to keep partial work). `model_path`: a GGUF file from the
    registry (server.llm.registry.resolve_model_path)."""
    from llama_cpp import Llama

    rng = random.Random(seed)
    pool = [p for p in corpus.passages if len(p.text) >= min_chars] or list(corpus.passages)
    chosen = rng.sample(pool, min(n, len(pool)))
    llm = Llama(model_path=str(model_path), n_ctx=1024, n_threads=2, seed=seed, verbose=False)
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
