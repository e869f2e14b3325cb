"""Are two indexes of the same corpus the same?  For a change to the index code that must not change what it
writes (issue 12's parallel link stage): every row file, the state and the sidecar byte for byte; the manifest
and meta.json less what names the run (times, the corpus's path); BM25 by its passages and some searches.

    python bench/same_index.py INDEX_A INDEX_B     # exit status 0 when the same

INDEX_A / INDEX_B: index folders (their current generation is read) or generation folders."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.index import BM25Index  # noqa: E402

# what names the run, not the index: when and from where it was built
_RUN = {"meta.json": ("created", "sources"), "state/manifest.json": ("scanned_ns", "options")}
_QUERIES = ("capital requirements of an authorised person", "Rule 9.2.1", "client money", "vitamin D", "Section 113")


def generation(folder: Path) -> Path:
    current = folder / "CURRENT"
    return folder / current.read_text().strip() if current.is_file() else folder


def _without_run(name: str, data: bytes) -> object:
    row = json.loads(data)
    for key in _RUN[name]:
        row.pop(key, None)
    for f in row.get("files", []) if name == "state/manifest.json" else []:
        f["path"] = Path(f["path"]).name
    return row


def _positions(gen: Path) -> dict[str, int]:
    with (gen / "passages.jsonl").open(encoding="utf-8") as f:
        return {json.loads(line)["id"]: i for i, line in enumerate(f)}


def differences(a: Path, b: Path) -> list[str]:
    """What differs between the generations `a` and `b` (nothing: the same index)."""
    out: list[str] = []
    files = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file() and "bm25" not in p.parts}
    files |= {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file() and "bm25" not in p.parts}
    for name in sorted(files):
        fa, fb = a / name, b / name
        if not (fa.is_file() and fb.is_file()):
            out.append(f"{name}: only in {'the first' if fa.is_file() else 'the second'}")
            continue
        da, db = fa.read_bytes(), fb.read_bytes()
        same = _without_run(name, da) == _without_run(name, db) if name in _RUN else da == db
        if not same:
            out.append(f"{name}: differs")
    ia, ib = (BM25Index(g / "bm25", _positions(g)) for g in (a, b))
    for q in _QUERIES:
        ha, hb = ia.search(q, 20), ib.search(q, 20)
        if [(h.pos, round(h.score, 4)) for h in ha] != [(h.pos, round(h.score, 4)) for h in hb]:
            out.append(f"bm25: the hits of {q!r} differ")
    return out


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = (generation(Path(x)) for x in sys.argv[1:])
    diff = differences(a, b)
    for d in diff:
        print(d)
    print("the same" if not diff else f"{len(diff)} difference(s)")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
