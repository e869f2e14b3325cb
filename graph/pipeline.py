"""Files on disk -> passages -> references, containment, mentions -> a stored index."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graph.ids import distinct_titles, rebase_sources
from graph.ingest import MAX_FILE_BYTES, PARSE_SECONDS, IngestError, ingest
from graph.mentions import find_mentions
from graph.printable import printable
from graph.resolver import ReferenceResolver, resolve_references
from graph.store import check_index_folder, write_index
from graph.structure import containment

__all__ = ["BuildReport", "build_index"]

# progress(stage, done, total, detail): total may be 0 when unknown
Progress = Callable[[str, int, int, str], None]


@dataclass
class BuildReport:
    generation: Path
    passages: int
    documents: int
    references: int
    resolved: int
    mentions: int
    errors: list[IngestError]
    files_seen: int
    seconds: dict[str, float]


def build_index(
    sources: Sequence[Path],
    folder: Path,
    progress: Progress | None = None,
    site_root: str | None = None,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    parse_seconds: float = PARSE_SECONDS,
) -> BuildReport:
    """Index `sources` (files or folders) into `folder`; the old index stays live until the swap.

    A file over `max_file_bytes`, or whose parsing takes over `parse_seconds` (more for
    files over 10 MB), is left out and reported in `errors` like every other file not read.
    `site_root`: the URL path the indexed folder is served at ("/", "/docs/"), for site-absolute links
    such as `/docs/x/`; None: such links are tried from the folder root and below (`graph.links`).
    """
    def report(stage: str, done: int, total: int, detail: str = "") -> None:
        if progress:
            progress(stage, done, total, detail)

    check_index_folder(folder)  # before the parsing, not after it
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    result = ingest(
        list(sources), progress=lambda d, n, path: report("parse", d, n, printable(str(path))),
        max_file_bytes=max_file_bytes, parse_seconds=parse_seconds,
    )
    seconds["parse"] = time.perf_counter() - t
    if not result.passages:
        reasons = "; ".join(f"{e.path}: {e.reason}" for e in result.errors[:5])
        raise ValueError(
            f"nothing to index in {', '.join(printable(str(s)) for s in sources)}"
            + (f" ({reasons})" if reasons else "")
            + ": give files or folders with .md, .rst, .txt, .html, .pdf or .jsonl documents"
        )
    passages = result.passages
    rebase_sources(passages, sources)
    distinct_titles(passages)
    report("link", 0, 3, "references")
    t = time.perf_counter()
    resolver = ReferenceResolver(passages, site_root=site_root)  # one, for references and mentions: it reads every passage
    references = resolve_references(passages, resolver)
    report("link", 1, 3, "containment")
    contained = containment(passages)
    report("link", 2, 3, "mentions")
    mentions = find_mentions(passages, resolver)
    report("link", 3, 3, "done")
    seconds["link"] = time.perf_counter() - t
    t = time.perf_counter()
    meta = {
        "sources": [str(Path(s).resolve()) for s in sources],
        "passages": len(passages),
        "documents": len({p.doc_id for p in passages}),
        "errors": [f"{e.path}: {e.reason}" for e in result.errors],
        "site_root": site_root,
    }
    done = 0

    def bm25_progress(n: int) -> None:
        nonlocal done
        done += n
        report("index", done, len(passages), "bm25")

    gen = write_index(folder, passages, references, mentions, contained, meta, progress=bm25_progress)
    seconds["write"] = time.perf_counter() - t
    return BuildReport(
        generation=gen, passages=len(passages), documents=meta["documents"],
        references=len(references), resolved=sum(r.resolved for r in references),
        mentions=len(mentions), errors=result.errors, files_seen=result.files_seen, seconds=seconds,
    )
