"""The files an index left out, told in a few lines: routine notices grouped, problems one line each.

A folder of real documentation holds hundreds of files of types readtrail does not read (`.json.gz`,
`.css`, `.png`) and of documents renamed because another file has the same path without its extension
(`tracing.md` beside `tracing.html`); one line each would bury the few files that could not be read.
`summary` gives one line per kind of routine notice (`graph.ingest.UNREAD_TYPE` ...) with its count, and
one line per file for every other notice (parse errors, too large, timeouts, links out of the folder).
`full_list` is every notice, one line each, as written beside the index (`LIST_NAME`).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from graph.ingest import HIDDEN, NOT_TEXT, READ, RENAMED, SAME_FILE, UNREAD_TYPE, IngestError

__all__ = ["LIST_NAME", "full_list", "summary"]

LIST_NAME = "not-indexed.txt"  # in the index folder: every file not (fully) read, with its reason

_SHOWN_TYPES = 12
# kind -> (what a group's line says before its count's noun, the noun)
_GROUPS = {
    RENAMED: ("renamed", "documents whose name another file had (same path, another extension)"),
    NOT_TEXT: ("skipped", "files without an extension readtrail reads that are not UTF-8 text"),
    HIDDEN: ("skipped", "hidden files and folders"),
    SAME_FILE: ("skipped", "links to a file read or a folder walked already"),
}


def full_list(errors: Sequence[IngestError]) -> str:
    """Every notice, `path: reason`, one a line."""
    return "".join(f"{e.path}: {e.reason}\n" for e in errors)


def summary(errors: Sequence[IngestError], listed_at: str = "") -> list[str]:
    """The lines to show: each problem on its own, then one line per kind of routine notice, then where the
    full list is (`listed_at`, when given and anything was grouped)."""
    lines = [f"{e.path}: {e.reason}" for e in errors if not _routine(e)]
    types = Counter(e.key for e in errors if e.kind == UNREAD_TYPE)
    if types:
        shown = ", ".join(f"{t} {n}" for t, n in types.most_common(_SHOWN_TYPES))
        more = f", {len(types) - _SHOWN_TYPES} other types" if len(types) > _SHOWN_TYPES else ""
        lines.append(f"skipped {types.total()} {_files(types.total())} of types readtrail does not read: {shown}{more} "
                     f"(it reads {READ})")
    for kind, (verb, noun) in _GROUPS.items():
        group = [e for e in errors if e.kind == kind]
        if group:
            lines.append(f"{verb} {len(group)} {noun}, e.g. {group[0].path}: {group[0].reason}")
    if listed_at and any(_routine(e) for e in errors):
        lines.append(f"every file not indexed, with its reason: {listed_at} (or index with --verbose)")
    return lines


def _routine(e: IngestError) -> bool:
    return e.kind == UNREAD_TYPE or e.kind in _GROUPS


def _files(n: int) -> str:
    return "file" if n == 1 else "files"
