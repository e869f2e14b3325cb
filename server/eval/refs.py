"""`readtrail refs-eval`: how many hand-labelled reference edges the graph recovered."""
from __future__ import annotations

import csv
from pathlib import Path

from server.corpus import Corpus

__all__ = ["load_gold_edges", "refs_eval"]


def load_gold_edges(path: Path) -> list[tuple[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        if not reader.fieldnames or not {"src", "dst"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs a header with src and dst columns (tab-separated)")
        return [(row["src"], row["dst"]) for row in reader]


def _chain(corpus: Corpus, pid: str, kind: str) -> set[str]:
    """All passages reachable from pid along `kind` edges (parent: ancestors, child: descendants)."""
    seen: set[str] = set()
    stack = [pid]
    while stack:
        node = stack.pop()
        for _, nxt, data in corpus.graph.out_edges(node, data=True):
            if data.get("kind") == kind and nxt not in seen and not nxt.startswith("doc::"):
                seen.add(nxt)
                stack.append(nxt)
    return seen


def refs_eval(corpus: Corpus, gold: list[tuple[str, str]]) -> dict[str, float]:
    """Recall: src has a reference edge to dst, or to a section containing dst, or to one dst contains."""
    targets: dict[str, set[str]] = {}
    for r in corpus.stored.references:
        targets.setdefault(r.src, set()).update(r.targets)
    found = 0
    for src, dst in gold:
        hit = targets.get(src, set())
        if not hit:
            continue
        if dst in hit or hit & _chain(corpus, dst, "parent") or hit & _chain(corpus, dst, "child"):
            found += 1
    refs = corpus.stored.references
    resolved = sum(r.resolved for r in refs)
    edges = sum(len(set(r.targets)) for r in refs)
    return {
        "recall": round(found / len(gold), 4) if gold else 0.0,
        "gold_edges": len(gold),
        "resolved": resolved,
        "unresolved": len(refs) - resolved,
        "mean_out_degree": round(edges / max(1, len(corpus.passages)), 4),
    }
