"""Hyperlink resolution on a documentation folder against gold file links, without writing an index.

    python bench/docs_links.py [--corpus DIR] [--gold TSV] [--site-root PATH] [--json OUT]

Defaults: the rust-book corpus (/work/shared/data/docs/rust-book, see its README). Prints file- and
section-level recall and precision (`server.refs_eval.link_eval`), reference counts, and the
unresolved links by reason.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.ids import distinct_titles  # noqa: E402
from graph.ingest import ingest  # noqa: E402
from graph.resolver import resolve_references  # noqa: E402
from server.refs_eval import GoldLinks, link_eval, load_gold_edges  # noqa: E402

DATA = Path("/work/shared/data/docs/rust-book")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DATA / "corpus")
    ap.add_argument("--gold", type=Path, default=DATA / "gold_links.tsv")
    ap.add_argument("--site-root", default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"no corpus at {args.corpus}")
    t = time.perf_counter()
    result = ingest([args.corpus])
    distinct_titles(result.passages)
    refs = resolve_references(result.passages, site_root=args.site_root)
    seconds = time.perf_counter() - t
    links = [r for r in refs if r.kind == "link"]
    out: dict[str, object] = {
        "passages": len(result.passages),
        "references": len(refs),
        "resolved": sum(r.resolved for r in refs),
        "links": len(links),
        "links_resolved": sum(r.resolved for r in links),
        "unresolved_links_by_reason": Counter(
            (r.reason or "").split(" at ")[0].split(" is ")[-1] for r in links if not r.resolved).most_common(8),
        "seconds": round(seconds, 2),
    }
    if args.gold.is_file():
        gold = load_gold_edges(args.gold)
        if isinstance(gold, GoldLinks):
            out.update(link_eval(result.passages, refs, gold))
    text = json.dumps(out, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
