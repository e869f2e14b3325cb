"""What a server needs to open a generation without reading every row (issue 12: server start at 1M
passages): written at index time beside the JSONL files, in `sidecar/`, read at open.

- `strings.json`: passage ids, document ids and titles (in order of first passage), the texts of the
  reference edges, the terms of the mention edges, nodes that are neither a passage nor a document
  (only a damaged index has them), and the size of each JSONL file it was made from;
- `arrays.npz` (numpy, no pickles): each passage's row offset in passages.jsonl and its document; the
  graph's edges as positions (containment pairs, reference and mention edges with their text);
  each passage's rows of references.jsonl and mentions.jsonl (CSR: `*_ptr` over `*_rows`, rows at
  byte offsets `*_off`), so that its references are read when a hit shows them.

Opening checks the sidecar as a whole (shapes, bounds, unique ids, file sizes: `read_sidecar`); a row is
checked when it is read (`graph.store.PassageTable`). The graph built from it is the one
`graph.graph.build_graph` builds from the rows (`tests/graph/test_sidecar.py`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graph.graph import doc_node
from graph.safe_open import FileRefused, open_regular

__all__ = ["Sidecar", "SidecarDamaged", "write_sidecar", "read_sidecar", "FOLDER"]

FOLDER = "sidecar"
VERSION = 1
FILES = ("passages.jsonl", "references.jsonl", "mentions.jsonl", "containment.jsonl")
_STR = r'"((?:[^"\\]|\\.)*)"'
# rows as graph.store writes them: fields in the dataclass's order
_PASSAGE = re.compile(rb'\{"id": ' + _STR.encode() + rb', "doc_id": ' + _STR.encode() + rb', "doc_title": ' + _STR.encode())
_CONTAINED = re.compile(rb'\{"parent": ' + _STR.encode() + rb', "child": ' + _STR.encode() + rb'\}\s*$')


class SidecarDamaged(ValueError):
    """The sidecar does not describe the files beside it."""


@dataclass
class Sidecar:
    ids: list[str]
    doc_ids: list[str]
    doc_titles: list[str]
    extra_nodes: list[str]
    ref_texts: list[str]
    mention_terms: list[str]
    arrays: dict[str, np.ndarray]

    def node(self, i: int) -> str:
        """The graph node at position `i`: passages, then documents, then other nodes."""
        n, d = len(self.ids), len(self.doc_ids)
        if i < n:
            return self.ids[i]
        return doc_node(self.doc_ids[i - n]) if i < n + d else self.extra_nodes[i - n - d]


def _string(raw: bytes) -> str:
    return raw.decode("utf-8") if b"\\" not in raw else json.loads(b'"' + raw + b'"')


def _lines(path: Path, root: Path) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line) of each non-blank line."""
    with open_regular(path, root) as f:
        start = 0
        for line in f:
            if line.strip():
                yield start, line
            start += len(line)


def _csr(src: list[int], offsets: list[int], n: int) -> dict[str, np.ndarray]:
    """Rows grouped by passage: rows[ptr[p]:ptr[p + 1]] are passage p's, in file order."""
    s = np.asarray(src, dtype=np.int64)
    keep = np.flatnonzero(s >= 0)
    order = keep[np.argsort(s[keep], kind="stable")]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s[keep], minlength=n), out=ptr[1:])
    return {"ptr": ptr, "rows": order.astype(np.int64), "off": np.asarray(offsets, dtype=np.int64)}


def write_sidecar(gen: Path) -> None:
    """Read the JSONL files of generation folder `gen` (as written) once and write `gen/sidecar/`."""
    ids: list[str] = []
    doc_ids: list[str] = []
    doc_titles: list[str] = []
    docs: dict[str, int] = {}
    doc_of: list[int] = []
    offsets: list[int] = []
    end = 0
    for start, line in _lines(gen / "passages.jsonl", gen):
        m = _PASSAGE.match(line)
        if m:
            pid, did, title = _string(m[1]), _string(m[2]), _string(m[3])
        else:  # another writer's field order
            row = json.loads(line)
            pid, did, title = row["id"], row["doc_id"], row["doc_title"]
        d = docs.get(did)
        if d is None:
            d = docs[did] = len(doc_ids)
            doc_ids.append(did)
            doc_titles.append(title)
        ids.append(pid)
        doc_of.append(d)
        offsets.append(start)
        end = start + len(line)
    offsets.append(end)
    n = len(ids)
    node = {pid: i for i, pid in enumerate(ids)}
    for j, did in enumerate(doc_ids):
        node.setdefault(doc_node(did), n + j)
    extra: list[str] = []

    def position(name: str, add: bool) -> int:
        i = node.get(name)
        if i is None and add:  # build_graph adds an unknown source as a node of its own
            i = node[name] = n + len(doc_ids) + len(extra)
            extra.append(name)
        return -1 if i is None else i

    cont: list[tuple[int, int]] = []
    for _, line in _lines(gen / "containment.jsonl", gen):
        m = _CONTAINED.match(line)
        parent, child = (_string(m[1]), _string(m[2])) if m else (lambda r: (r["parent"], r["child"]))(json.loads(line))
        a, b = node.get(parent, n), node.get(child, n)
        if a < n and b < n and a != b:  # both passages, as build_graph's containment pass requires
            cont.append((a, b))
    passage_pos = {pid: i for i, pid in enumerate(ids)}
    rows: dict[str, tuple[list[int], list[int]]] = {"ref": ([], []), "men": ([], [])}
    edges: dict[str, list[tuple[int, int, int]]] = {"ref": [], "men": []}
    texts: dict[str, dict[str, int]] = {"ref": {}, "men": {}}
    for kind, name in (("ref", "references.jsonl"), ("men", "mentions.jsonl")):
        src_of, offs = rows[kind]
        end = 0
        for start, line in _lines(gen / name, gen):
            row = json.loads(line)
            src_of.append(passage_pos.get(row["src"], -1))
            offs.append(start)
            end = start + len(line)
            text = row["text"] if kind == "ref" else row["term"]
            targets = row["targets"] if kind == "ref" else [row["dst"]]
            for t in targets:
                if t in node and t != row["src"] and (kind == "ref" or row["src"] in node):
                    k = texts[kind].setdefault(text, len(texts[kind]))
                    edges[kind].append((position(row["src"], True), node[t], k))
        offs.append(end)
    out = gen / FOLDER
    out.mkdir()
    sizes = {name: (gen / name).stat().st_size for name in FILES}
    strings = {"version": VERSION, "ids": ids, "doc_ids": doc_ids, "doc_titles": doc_titles, "extra_nodes": extra,
               "ref_texts": list(texts["ref"]), "mention_terms": list(texts["men"]), "sizes": sizes}
    (out / "strings.json").write_text(json.dumps(strings, ensure_ascii=False), encoding="utf-8")
    arrays = {"offsets": np.asarray(offsets, dtype=np.int64), "doc_of": np.asarray(doc_of, dtype=np.int32),
              "cont": np.asarray(cont, dtype=np.int32).reshape(-1, 2)}
    for kind in ("ref", "men"):
        arrays[f"{kind}_edges"] = np.asarray(edges[kind], dtype=np.int32).reshape(-1, 3)
        for key, value in _csr(*rows[kind], n).items():
            arrays[f"{kind}_{key}"] = value
    with (out / "arrays.npz").open("wb") as f:
        np.savez(f, **arrays)


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise SidecarDamaged(what)


def _in(a: np.ndarray, hi: int) -> bool:
    return a.size == 0 or (int(a.min()) >= 0 and int(a.max()) < hi)


def read_sidecar(gen: Path, root: Path) -> Sidecar | None:
    """The sidecar of generation `gen` (None for an index written before sidecars), checked against the
    files beside it; SidecarDamaged if it does not fit them."""
    folder = gen / FOLDER
    if not folder.exists():
        return None
    try:
        with open_regular(folder / "strings.json", root) as f:
            s = json.loads(f.read().decode("utf-8"))
        with open_regular(folder / "arrays.npz", root) as f, np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, FileRefused, ValueError, KeyError, RecursionError) as e:
        raise SidecarDamaged(f"sidecar unreadable ({type(e).__name__})") from None
    _check(isinstance(s, dict) and s.get("version") == VERSION, "sidecar of another version")
    lists = ("ids", "doc_ids", "doc_titles", "extra_nodes", "ref_texts", "mention_terms")
    for key in lists:
        _check(isinstance(s.get(key), list) and all(isinstance(x, str) for x in s[key]), f"sidecar {key}")
    sizes = s.get("sizes")
    _check(isinstance(sizes, dict) and all(sizes.get(n) == (gen / n).stat().st_size for n in FILES),
           "sidecar written for other files")
    n, d = len(s["ids"]), len(s["doc_ids"])
    nodes = n + d + len(s["extra_nodes"])
    a = arrays
    shapes = {"offsets": (n + 1,), "doc_of": (n,), "ref_ptr": (n + 1,), "men_ptr": (n + 1,)}
    for key, shape in shapes.items():
        _check(key in a and a[key].shape == shape and a[key].dtype.kind == "i", f"sidecar {key}")
    for key in ("cont", "ref_edges", "men_edges", "ref_rows", "men_rows", "ref_off", "men_off"):
        _check(key in a and a[key].dtype.kind == "i", f"sidecar {key}")
    _check(len(set(s["ids"])) == n and len(s["doc_titles"]) == d, "sidecar ids")
    off = a["offsets"]
    _check(n == 0 or (off[0] >= 0 and bool(np.all(np.diff(off) > 0)) and off[-1] <= sizes["passages.jsonl"]),
           "sidecar offsets")
    _check(_in(a["doc_of"], d) and a["cont"].ndim == 2 and _in(a["cont"], n), "sidecar documents")
    for kind, texts in (("ref", "ref_texts"), ("men", "mention_terms")):
        e, ptr, rows, roff = a[f"{kind}_edges"], a[f"{kind}_ptr"], a[f"{kind}_rows"], a[f"{kind}_off"]
        _check(e.ndim == 2 and e.shape[1] == 3 and _in(e[:, :2], nodes) and _in(e[:, 2], len(s[texts])),
               f"sidecar {kind} edges")
        _check(roff.ndim == 1 and roff.size >= 1 and bool(np.all(np.diff(roff) > 0) if roff.size > 1 else True)
               and int(roff[-1]) <= sizes["references.jsonl" if kind == "ref" else "mentions.jsonl"],
               f"sidecar {kind} offsets")
        _check(ptr[0] == 0 and bool(np.all(np.diff(ptr) >= 0)) and int(ptr[-1]) == rows.size
               and _in(rows, roff.size - 1), f"sidecar {kind} rows")
    return Sidecar(s["ids"], s["doc_ids"], s["doc_titles"], s["extra_nodes"], s["ref_texts"], s["mention_terms"],
                   arrays)
