"""Measure reference-resolution recall against hand-labelled cross-reference edges.

    python bench/refs_recall.py [--corpus PATH] [--gold PATH] [--misses N]

A gold edge (src, dst) counts as found when src has a resolved reference to dst, to an ancestor
of dst, or to a descendant of dst (containment from graph.structure, transitive). The gold file
is used only here, to measure.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.mentions import find_mentions  # noqa: E402
from graph.model import Passage  # noqa: E402
from graph.references import extract_citations  # noqa: E402
from graph.resolver import ReferenceResolver, resolve_references  # noqa: E402
from graph.structure import containment  # noqa: E402

DATA = Path("/work/shared/data/adgm")


def load_passages(path: Path) -> list[Passage]:
    out: list[Passage] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(Passage(id=r["_id"], doc_id=str(r["doc_id"]), doc_title=r["doc_name"], ord=int(r["ord"]),
                               text=r.get("text") or "", label=r.get("passage_id") or None))
    return out


def ancestors_of(edges: list[tuple[str, str]]) -> dict[str, set[str]]:
    parent = {c: p for p, c in edges}
    memo: dict[str, set[str]] = {}
    for node in parent:
        chain: set[str] = set()
        cur = node
        while cur in parent and parent[cur] not in chain:
            cur = parent[cur]
            chain.add(cur)
        memo[node] = chain
    return memo


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=DATA / "corpus.jsonl")
    ap.add_argument("--gold", type=Path, default=DATA / "edges_xref.dev.tsv")
    ap.add_argument("--misses", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    passages = load_passages(args.corpus)
    byid = {p.id: p for p in passages}
    t0 = time.perf_counter()
    resolver = ReferenceResolver(passages)
    t1 = time.perf_counter()
    refs = resolve_references(passages, resolver)
    t2 = time.perf_counter()
    edges = containment(passages)
    t3 = time.perf_counter()
    mentions = find_mentions(passages, resolver)
    t4 = time.perf_counter()

    anc = ancestors_of(edges)
    targets: dict[str, set[str]] = defaultdict(set)
    for r in refs:
        targets[r.src].update(r.targets)
    resolved = sum(r.resolved for r in refs)
    n_targets = sum(len(r.targets) for r in refs)
    srcs_with = sum(1 for s in targets if targets[s])

    gold = list(csv.DictReader(args.gold.open(encoding="utf-8"), delimiter="\t"))
    found_by_type: Counter[str] = Counter()
    total_by_type: Counter[str] = Counter()
    misses = []
    for g in gold:
        s, d = g["src"], g["dst"]
        total_by_type[g["reference_type"]] += 1
        ok = any(t == d or t in anc.get(d, ()) or d in anc.get(t, ()) for t in targets.get(s, ()))
        if ok:
            found_by_type[g["reference_type"]] += 1
        else:
            misses.append(g)
    n = len(gold)
    found = sum(found_by_type.values())
    print(f"passages {len(passages)}  docs {len({p.doc_id for p in passages})}")
    print(f"aliases learned {len(resolver.aliases)}")
    print(f"references {len(refs)}  resolved {resolved}  unresolved {len(refs) - resolved}  "
          f"target edges {n_targets}  mean out-degree {n_targets / len(passages):.2f} per passage, "
          f"{n_targets / max(srcs_with, 1):.2f} per citing passage")
    print(f"containment edges {len(edges)}  mentions {len(mentions)}")
    print(f"recall {found}/{n} = {found / n:.3f}  " + "  ".join(
        f"{k} {found_by_type[k]}/{v} = {found_by_type[k] / v:.3f}" for k, v in sorted(total_by_type.items())))
    print(f"time: resolver init {t1 - t0:.1f}s  resolve {t2 - t1:.1f}s  containment {t3 - t2:.1f}s  "
          f"mentions {t4 - t3:.1f}s  total {t4 - t0:.1f}s")
    random.Random(args.seed).shuffle(misses)
    for g in misses[: args.misses]:
        s, d = byid[g["src"]], byid[g["dst"]]
        i = s.text.find(g["reference_text"])
        ctx = s.text[max(0, i - 90): i + 90] if i >= 0 else s.text[:180]
        cites = [(c.text, c.document, c.numbers[:3]) for c in extract_citations(s.text)]
        got = [byid[t].label for r in refs if r.src == s.id for t in r.targets][:6]
        print(f"--- {g['reference_type']} {g['reference_text']!r}: {s.doc_title[:25]} {s.label} -> "
              f"{d.doc_title[:25]} {d.label}")
        print("    " + ctx.replace("\n", " "))
        print(f"    cites {cites[:6]}  got {got}")


if __name__ == "__main__":
    main()
