"""Hyperlink resolution on a documentation folder against gold file links, without writing an index.

    python bench/docs_links.py [--corpus DIR] [--gold TSV] [--site-root PATH] [--json OUT]

Defaults: the rust-book corpus and its gold (/work/shared/data/docs/rust-book, see its README).
Prints reference counts, the unresolved links by reason, the resolved links that land in another
top-level folder than the citing file's (for a folder of several packages: each should be wrong),
and with a gold file-level and section-level recall and precision (`server.eval.refs.link_eval`).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.ids import distinct_titles  # noqa: E402
from graph.ingest import ingest  # noqa: E402
from graph.resolver import resolve_references  # noqa: E402
from server.eval.refs import GoldLinks, link_eval, load_gold_edges  # noqa: E402

DATA = Path("/work/shared/data/docs/rust-book")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--gold", type=Path, default=None)
    ap.add_argument("--site-root", default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.corpus is None:
        args.corpus, args.gold = DATA / "corpus", args.gold or DATA / "gold_links.tsv"
    if not args.corpus.is_dir():
        sys.exit(f"no corpus at {args.corpus}")
    t = time.perf_counter()
    result = ingest([args.corpus])
    distinct_titles(result.passages)
    refs = resolve_references(result.passages, site_root=args.site_root)
    seconds = time.perf_counter() - t
    links = [r for r in refs if r.kind == "link"]
    top = {p.id: p.source.split("/")[0] if "/" in p.source else "" for p in result.passages}
    out: dict[str, object] = {
        "passages": len(result.passages),
        "references": len(refs),
        "resolved": sum(r.resolved for r in refs),
        "links": len(links),
        "links_resolved": sum(r.resolved for r in links),
        "unresolved_links_by_reason": Counter(
            re.sub(r" at .*| #.*|^\S+ is |^label \S+ is ", "", r.reason or "") for r in links if not r.resolved).most_common(8),
        "links_into_another_top_folder": sum(top[t] != top[r.src] for r in links for t in r.targets),
        "seconds": round(seconds, 2),
    }
    if args.gold and args.gold.is_file():
        gold = load_gold_edges(args.gold)
        if isinstance(gold, GoldLinks):
            out.update(link_eval(result.passages, refs, gold))
    text = json.dumps(out, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
