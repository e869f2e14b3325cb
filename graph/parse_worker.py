"""Parsing in a child process with a time limit per file, so that no file can stall indexing.

Python's html.parser is worse than quadratic on some inputs and pypdf can loop on a
crafted PDF; neither can be interrupted from inside.  `ParseWorker.parse` sends one file
to a long-lived child (`python -m graph.parse_worker`) and kills it when the file's time
is up; the next file gets a fresh child.  Requests and replies are JSON lines (the raw
bytes follow the request line), so nothing the child sends can run code here.

Each document comes back with a digest of what was parsed (`digest`, or the parser's own: `graph.parsers.
LINE_PARSERS`); a request can name digests the caller has already (a re-index of a changed JSONL file knows
its unchanged documents), and for those the reply carries only the digest (a str in the list of documents),
not the document.  A parser of `LINE_PARSERS` also takes and gives back a table of what it read from each
line (`lines`), so that a re-parse decodes only the lines that changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from graph.model import ParsedDocument, Section

__all__ = ["ParseFailed", "ParseWorker", "Parsed", "digest", "parse_budget"]

_START_SECONDS = 120.0  # a cold start on a loaded machine; not counted in any file's budget
_ROOT = str(Path(__file__).resolve().parents[1])  # the folder that holds the `graph` package


class ParseFailed(Exception):
    """The file was not parsed; the message is one line saying why."""


class Parsed(NamedTuple):
    docs: list[ParsedDocument | str]  # a document whose digest the caller knows is that digest alone
    notes: list[str]  # warnings
    digests: list[str]  # each document's
    lines: str | None  # the parser's line table of the file (`graph.parsers.LINE_PARSERS`) as JSON text, or None


def parse_budget(seconds: float, size: int) -> float:
    """`seconds` for a file of up to 10 MB, proportionally more for a larger one."""
    return seconds * max(1.0, size / 10_000_000)


class ParseWorker:
    """One child process at a time; use as a context manager so the child is always ended."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def parse(self, rel: str, raw: bytes, doc_id: str, seconds: float, known: Collection[str] = (),
              lines: str | None = None, kind: str | None = None) -> Parsed:
        """The documents of the file `rel` (`kind`, an extension of PARSERS, or else its suffix picks the parser)
        parsed within `seconds`; a document whose
        digest is in `known` is given as that digest alone.  `lines`: the line table of a previous parse of the
        file, for a parser that keeps one (JSON text: only the child decodes it)."""
        proc = self._child()
        header = json.dumps({"path": rel, "doc_id": doc_id, "size": len(raw), "known": sorted(known), "lines": lines,
                             "kind": kind}).encode("utf-8") + b"\n"
        try:
            assert proc.stdin is not None
            proc.stdin.write(header)
            proc.stdin.write(raw)
            proc.stdin.flush()
            reply = self._reply(time.monotonic() + seconds)
        except TimeoutError:
            self.close(kill=True)
            raise ParseFailed(f"parsing took over {seconds:.0f} s (the time limit per file): skipped") from None
        except (OSError, EOFError):
            code = self.close(kill=True)
            raise ParseFailed(f"the parser process died (exit code {code}): skipped") from None
        if "error" in reply:
            raise ParseFailed(f"could not parse: {reply['error']}")
        try:
            docs: list[ParsedDocument | str] = [d if isinstance(d, str) else _document(d) for d in reply["docs"]]
            digests = [str(h) for h in reply["digests"]]
            table = reply.get("lines")
            if len(digests) != len(docs) or not isinstance(table, (str, type(None))):
                raise TypeError
            return Parsed(docs, [str(n) for n in reply["notes"]], digests, table)
        except (KeyError, TypeError) as e:
            raise ParseFailed(f"the parser process sent a malformed reply ({type(e).__name__}): skipped") from None

    def close(self, kill: bool = False) -> int | None:
        """End the child (at once with `kill`); its exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if kill:
            proc.kill()
        else:
            try:
                assert proc.stdin is not None
                proc.stdin.close()  # end of requests: the child exits
                return proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
        return proc.wait()

    def _child(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self.close(kill=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH", "")) if p)
        try:
            # -P: the working folder (maybe the one being indexed) is not put on the import path
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "graph.parse_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, env=env,
            )
            if self._reply(time.monotonic() + _START_SECONDS) != {"ready": True}:
                raise EOFError
        except (TimeoutError, EOFError, OSError) as e:
            self.close(kill=True)
            raise RuntimeError(f"could not start the parser process ({sys.executable} -m graph.parse_worker)") from e
        return self._proc

    def _reply(self, deadline: float) -> dict[str, Any]:
        """The child's next JSON line, or TimeoutError at `deadline`, EOFError if it died."""
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()  # read unbuffered: only the raw fd is ever read
        poll = select.poll()
        poll.register(fd, select.POLLIN)
        buf = bytearray()
        while not buf.endswith(b"\n"):  # one request at a time: the line ends a read
            left = deadline - time.monotonic()
            if left <= 0 or not poll.poll(left * 1000):
                raise TimeoutError
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise EOFError
            buf += chunk
        try:
            reply = json.loads(buf)
        except ValueError:
            raise EOFError from None
        if not isinstance(reply, dict):
            raise EOFError
        return reply


def digest(doc: ParsedDocument) -> str:
    """Equal for two parsed documents that chunk into the same passages (same code)."""
    return hashlib.sha256(json.dumps(_as_dict(doc), ensure_ascii=False).encode("utf-8", "backslashreplace")).hexdigest()


def _as_dict(doc: ParsedDocument) -> dict[str, Any]:
    """`asdict` without its deep copies (a large JSONL file has ~10^4 sections)."""
    return {**vars(doc), "sections": [vars(s) for s in doc.sections]}


def _document(d: dict[str, Any]) -> ParsedDocument:
    sections = [Section(**s) for s in d.pop("sections")]
    return ParsedDocument(**d, sections=sections)


# --- the child ---------------------------------------------------------------------------

def _answer(out: BinaryIO, reply: dict[str, Any]) -> None:
    # a lone surrogate becomes the JSON escape \udcxx, which the parent reads back as it was
    out.write(json.dumps(reply, ensure_ascii=False).encode("utf-8", errors="backslashreplace") + b"\n")
    out.flush()


def _by_lines(parse: Any, path: Path, raw: bytes, req: dict[str, Any], notes: list[str]) -> tuple[list[Any], list[str], str]:
    """A `LINE_PARSERS` parse with the request's line table; one that does not read as written is not used."""
    try:
        table = json.loads(req["lines"]) if isinstance(req.get("lines"), str) else None
        if not isinstance(table, dict):
            table = None
    except ValueError:
        table = None
    known = set(req.get("known") or ())
    if table is not None:
        said: list[str] = []
        try:
            got, digests, lines = parse(path, raw, req["doc_id"], warn=said.append, known=known, table=table)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            pass  # a damaged table (or a file that cannot be parsed: said again below): every line is read
        else:
            notes.extend(said)
            return got, digests, json.dumps(lines)
    got, digests, lines = parse(path, raw, req["doc_id"], warn=notes.append, known=known)
    return got, digests, json.dumps(lines)


def _serve(inp: BinaryIO, out: BinaryIO) -> None:
    from graph.parsers import LINE_PARSERS, PARSERS, ParseError

    _answer(out, {"ready": True})
    while line := inp.readline():
        req = json.loads(line)
        raw = inp.read(req["size"])
        notes: list[str] = []
        path = Path(req["path"])
        known = set(req.get("known") or ())
        kind = req.get("kind") or path.suffix.lower()
        parse, by_lines = PARSERS.get(kind), LINE_PARSERS.get(kind)
        try:
            if by_lines is not None:
                got, digests, lines = _by_lines(by_lines, path, raw, req, notes)
            elif parse is None:
                raise ParseError(f"no parser for {req['path']}")
            else:
                got, lines = parse(path, raw, req["doc_id"], warn=notes.append), None
                digests = [digest(d) for d in got]
        except ParseError as e:
            _answer(out, {"error": str(e)})
        except Exception as e:  # a parser bug: reported for this file only
            _answer(out, {"error": f"{type(e).__name__}: {e}"})
        else:
            docs = [h if h in known or isinstance(d, str) else _as_dict(d) for d, h in zip(got, digests)]
            _answer(out, {"docs": docs, "notes": notes, "digests": digests, "lines": lines})


if __name__ == "__main__":
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a parser that prints cannot corrupt the replies
    sys.stdout = sys.stderr
    _serve(sys.stdin.buffer, replies)
    replies.flush()
    os._exit(0)  # every reply is out: no interpreter teardown for the parent to wait on (`ParseWorker.close`)
