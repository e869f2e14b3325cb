"""Paired bootstrap 95% intervals between systems of bench/results/full-*.json, per validation set.

    python bench/rerank_bootstrap.py A.json:system B.json:system [...]   # each against the first
e.g. full-adgm-bm25.json:bm25 full-adgm-bi-hard.json:fused-lr"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from server.eval.bootstrap import paired_bootstrap


def per_query(spec: str) -> tuple[str, dict]:
    path, _, system = spec.rpartition(":")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return f"{data['name']}:{system}", {s: v["systems"][system]["per_query"] for s, v in data["sets"].items()
                                        if system in v["systems"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    base_name, base = per_query(a.specs[0])
    rows = []
    for spec in a.specs[1:]:
        name, other = per_query(spec)
        for s in base:
            if s in other:
                r = paired_bootstrap(base[s], other[s])
                rows.append({"set": s, "a": base_name, "b": name, **r})
                print(f"{s:>14}  {name:>28} - {base_name:<22} {r['diff']:+.4f} [{r['lo']:+.4f}, {r['hi']:+.4f}] n={r['n']}")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
