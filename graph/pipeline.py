"""Files on disk -> passages -> references, containment, mentions -> a stored index.

On an existing index built with the same options, unchanged files are not parsed again and the link
stage redoes only what the changes reach (`graph.previous`, `graph.linking`); `full=True` rebuilds all.
Either way the new generation is written beside the old one and swapped in when complete."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graph.ids import distinct_titles
from graph.ingest import MAX_FILE_BYTES, PARSE_SECONDS, IngestError, IngestResult, ingest
from graph.linking import TextsAhead, bm25_ahead, link
from graph.notices import LIST_NAME, full_list
from graph.previous import Previous, build_options, load_previous, manifest
from graph.printable import printable
from graph.store import StaleRows, check_index_folder, write_index

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
    incremental: str = ""  # what was reused, or why everything was rebuilt
    listed_at: Path | None = None  # the file that lists every file not (fully) read, with its reason (`graph.notices`)


def build_index(
    sources: Sequence[Path],
    folder: Path,
    progress: Progress | None = None,
    site_root: str | None = None,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    parse_seconds: float = PARSE_SECONDS,
    full: bool = False,
) -> BuildReport:
    """Index `sources` (files or folders) into `folder`; the old index stays live until the swap.

    A file over `max_file_bytes`, or whose parsing takes over `parse_seconds` (more for
    files over 10 MB), is left out and reported in `errors` like every other file not read.
    `site_root`: the URL path the indexed folder is served at ("/", "/docs/"), for site-absolute links
    such as `/docs/x/`; None: such links are tried from the folder root and below (`graph.links`).
    `full`: parse and link everything even where the current index could lend its results.
    """
    def report(stage: str, done: int, total: int, detail: str = "") -> None:
        if progress:
            progress(stage, done, total, detail)

    check_index_folder(folder)  # before the parsing, not after it
    options = build_options(list(sources), site_root, max_file_bytes, parse_seconds)
    prev, why_full = (None, "--full") if full else load_previous(folder, options)
    try:
        return _build(sources, folder, report, site_root, max_file_bytes, parse_seconds, options, prev, why_full)
    except StaleRows as e:  # the previous generation is not as its state says: nothing is taken from it
        if prev:
            prev.release()
            prev = None
        return _build(sources, folder, report, site_root, max_file_bytes, parse_seconds, options, None,
                      f"previous rows unreadable: {e}")
    finally:
        if prev:
            prev.release()


def _build(
    sources: Sequence[Path], folder: Path, report: Callable[..., None], site_root: str | None,
    max_file_bytes: int, parse_seconds: float, options: str, prev: Previous | None, why_full: str,
) -> BuildReport:
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    scanned_ns = time.time_ns()
    # a full build of many passages: their text work begins in worker processes while the rest is parsed
    texts = TextsAhead() if prev is None else None
    try:
        result = ingest(
            list(sources), progress=lambda d, n, path: report("parse", d, n, printable(str(path))),
            max_file_bytes=max_file_bytes, parse_seconds=parse_seconds, reuse=prev.reuse if prev else None,
            known=prev.known_sha if prev else None, reuse_docs=prev.reuse_docs if prev else None,
            on_passages=texts.add if texts else None,
        )
        return _link(sources, folder, report, site_root, options, prev, why_full, result, scanned_ns, t, seconds, texts)
    finally:
        if texts:
            texts.close()


def _link(
    sources: Sequence[Path], folder: Path, report: Callable[..., None], site_root: str | None, options: str,
    prev: Previous | None, why_full: str, result: IngestResult, scanned_ns: int, t: float, seconds: dict[str, float],
    texts: TextsAhead | None,
) -> BuildReport:
    seconds["parse"] = time.perf_counter() - t
    if not result.passages:
        reasons = "; ".join(f"{e.path}: {e.reason}" for e in result.errors[:5])
        raise ValueError(
            f"nothing to index in {', '.join(printable(str(s)) for s in sources)}"
            + (f" ({reasons})" if reasons else "")
            + ": give files or folders with .md, .rst, .txt, .html, .pdf, .docx or .jsonl documents (or those "
              "compressed, .md.gz, or text files without an extension, README)"
        )
    passages = result.passages
    distinct_titles(passages)
    t = time.perf_counter()
    steps = iter(range(3))
    done = 0

    def bm25_progress(n: int) -> None:
        nonlocal done
        done += n
        report("index", done, len(passages), "bm25")

    if texts:
        texts.results()  # (its pool ended before this process forks for BM25)
    bm25_job = bm25_ahead(passages, prev, folder)
    try:
        linked = link(passages, site_root, prev, step=lambda what: report("link", next(steps), 3, what),
                      bm25_progress=bm25_progress, bm25_job=bm25_job, texts=texts)
        report("link", 3, 3, "done")
        seconds["link"] = time.perf_counter() - t
        incremental = (
            f"{result.reused} of {result.files_seen} files unchanged, {linked.changed} documents changed, "
            f"references of {linked.resolved_again} resolved again, {linked.read_back} read back"
            if prev else f"full build ({why_full})"
        )
        t = time.perf_counter()
        meta = {
            "sources": [str(Path(s).resolve()) for s in sources],
            "passages": len(passages),
            "documents": len({p.doc_id for p in passages}),
            "errors": [f"{e.path}: {e.reason}" for e in result.errors],
            "site_root": site_root,
            "incremental": incremental,
        }
        st = linked.state
        state = {
            "manifest.json": manifest(options, result.files, scanned_ns, st["resolver"], st["consulted"], st["terms"],
                                      st["stale"], st["word_docs"], st["ranges"]),
            "docs.jsonl": st["docs"], "citations.jsonl": st["citations"],
        }
        gen = write_index(folder, linked.passages, linked.references, linked.mentions, linked.containment, meta,
                          bm25=linked.bm25, state=state, done_reading=prev.release if prev else None)
        listed_at = _write_list(folder, result.errors)
        seconds["write"] = time.perf_counter() - t
        return BuildReport(
            generation=gen, passages=len(passages), documents=meta["documents"],
            references=linked.counts["references"], resolved=linked.counts["resolved"],
            mentions=len(linked.mentions), errors=result.errors, files_seen=result.files_seen, seconds=seconds,
            incremental=incremental, listed_at=listed_at,
        )
    finally:
        if bm25_job:
            bm25_job.cancel()


def _write_list(folder: Path, errors: Sequence[IngestError]) -> Path:
    """Every file not (fully) read, one line each, into `folder`/LIST_NAME (replaced whole)."""
    path = folder / LIST_NAME
    tmp = folder / f".{LIST_NAME}.tmp"
    tmp.write_text(full_list(errors), encoding="utf-8")
    os.replace(tmp, path)
    return path
