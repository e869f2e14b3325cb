"""Re-index time after a small change vs a full index (issue 10, item 4), and that both give the same index.

    python bench/incremental.py [--files 2000] [--sections 10] [--work /tmp/rt-incr] [--corpora adgm,pages]

1. ADGM (../shared/data/adgm/corpus.jsonl, one JSONL file of 40 documents): one record of one document
   changes; incremental re-index vs a full index of the same final file.
2. A folder of generated Markdown files (real text: ADGM rules and NFCorpus abstracts, with links and
   "see section N" between files): 1% of the files change; incremental vs full.
Each incremental result is compared with the full build (passages, references, containment, mentions).
The files are written over a second before the first index, as a user's files are: a file written while
(or just before) an index looks at it is read again by the next re-index whatever its stat says
(`graph.previous.RACY_NS`).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from itertools import cycle
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.pipeline import build_index  # noqa: E402
from graph.previous import RACY_NS  # noqa: E402
from graph.store import current_generation  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its ended children (the parse worker)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(sources: list[Path], index: Path, full: bool) -> tuple[float, str, float]:
    """(wall seconds, what was reused, CPU seconds: on a loaded machine, about what a quiet one takes)."""
    t, cpu = time.perf_counter(), _cpu()
    report = build_index(sources, index, full=full)
    return time.perf_counter() - t, report.incremental, _cpu() - cpu


def _same(a: Path, b: Path) -> bool:
    ga, gb = current_generation(a), current_generation(b)
    names = ("passages.jsonl", "references.jsonl", "containment.jsonl", "mentions.jsonl")
    return all((ga / n).read_bytes() == (gb / n).read_bytes() for n in names)


def _texts() -> list[tuple[str, str]]:
    out = []
    for name in ("adgm/corpus.jsonl", "nfcorpus/corpus.jsonl"):
        with (DATA / name).open(encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if len(r.get("text", "")) > 200:
                    out.append((" ".join(str(r.get("title") or "Notes").split())[:80], r["text"]))
    return out


def _page(n: int, files: int, sections: int, texts) -> str:  # type: ignore[no-untyped-def]
    parts = [f"# Handbook page {n}\n"]
    for s in range(1, sections + 1):
        title, text = next(texts)
        other = (n * 7 + s) % files
        parts.append(f"## {s} {title}\n\n{text}\n\nSee section {max(1, s - 1)} and [page {other}](page-{other:05d}.md#{s}-).\n")
    return "\n".join(parts)


def _folder(root: Path, files: int, sections: int) -> None:
    texts = cycle(_texts())
    root.mkdir(parents=True)
    for n in range(files):
        (root / f"page-{n:05d}.md").write_text(_page(n, files, sections, texts), encoding="utf-8")


def run(label: str, src: Path, change, work: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    inc, full = work / f"{label}-incremental", work / f"{label}-full"
    time.sleep(RACY_NS / 1e9 + 0.2)
    first, _, _ = _timed([src], inc, full=True)
    changed = change()
    load_inc = os.getloadavg()[0]
    t_inc, what, cpu_inc = _timed([src], inc, full=False)
    load_full = os.getloadavg()[0]
    t_full, _, cpu_full = _timed([src], full, full=True)
    return {"corpus": label, "changed": changed, "first index s": round(first, 1), "full index s": round(t_full, 2),
            "re-index s": round(t_inc, 2), "share": f"{t_inc / t_full:.0%}", "identical": _same(inc, full), "what": what,
            "cpu s full, re-index": [round(cpu_full, 2), round(cpu_inc, 2)],
            "load (1 min) before re-index, before full": [round(load_inc, 2), round(load_full, 2)]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--sections", type=int, default=10)
    ap.add_argument("--work", type=Path, default=Path("/tmp/rt-incr"))
    ap.add_argument("--corpora", default="adgm,pages", help="which of adgm,pages to run")
    args = ap.parse_args()
    corpora = args.corpora.split(",")
    print(f"load at start: {os.getloadavg()}", flush=True)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    rows = []

    adgm = args.work / "adgm"
    adgm.mkdir()
    shutil.copy(DATA / "adgm" / "corpus.jsonl", adgm / "corpus.jsonl")

    def change_adgm() -> str:
        lines = (adgm / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
        rec = json.loads(lines[500])
        rec["text"] += " This rule was amended."
        lines[500] = json.dumps(rec)
        (adgm / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return f"1 record of document {rec['doc_name']} (1 of 40 documents)"
    if "adgm" in corpora:
        rows.append(run("adgm", adgm, change_adgm, args.work))
        print(json.dumps(rows[-1]), flush=True)

    if "pages" not in corpora:
        print(f"load: {os.getloadavg()}")
        return
    folder = args.work / "pages"
    _folder(folder, args.files, args.sections)

    def change_folder() -> str:
        picked = sorted(folder.iterdir())[:: 100][: max(1, args.files // 100)]
        for path in picked:
            path.write_text(path.read_text(encoding="utf-8") + "\nAmended: checked again this year.\n", encoding="utf-8")
        return f"{len(picked)} of {args.files} files"
    rows.append(run("pages", folder, change_folder, args.work))
    print(json.dumps(rows[-1]), flush=True)
    from graph.store import load_index
    passages = len(load_index(args.work / "pages-full").passages)
    print(f"pages: {args.files} files, {passages} passages; load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
