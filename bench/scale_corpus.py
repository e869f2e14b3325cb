"""A seeded generator of large corpora (10k / 100k / 1M passages) from real text, for `bench/scale.py`.

Two kinds of document, in the proportions of the data sets they come from:

- *editions* of the 40 ADGM rulebooks (`../shared/data/adgm`): a document copies one ADGM document's
  passages (labels, reading order, text, so about 340 passages a document on average, as in ADGM) under a
  new, unique title ("Harbour Custody Rules"). Every citation that names another ADGM document
  ("Section 113(1) of the FSMR", "FUNDS Rules 9.2.1") is rewritten to name one edition of that document,
  drawn at random, so references cross documents at ADGM's rate and resolve as they do in ADGM;
  citations inside a document ("Rule 2.4.2") stay as written. Half the passages with text get one
  sentence appended from the other sources, so that editions are not identical for BM25.
- *single-passage documents* (NFCorpus abstracts, HotpotQA paragraphs: 1 passage a document): the first
  half of one text and the second half of another, under the first's title.

Ids are unique (`e000012.0345`, `s000123`), the output is JSONL in the layout `readtrail index` reads
(`_id`, `title`, `text`, `doc_id`, `doc_name`, `passage_id`, `ord`), and the same seed and size give
the same bytes. Data is read from ../shared/data and never copied into the repository; write corpora
under /tmp or /work/scale-data:

    python bench/scale_corpus.py --passages 100000 --out /work/scale-data/c100k.jsonl
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.model import Passage  # noqa: E402
from graph.references import extract_citations  # noqa: E402
from graph.resolver import ReferenceResolver  # noqa: E402

__all__ = ["generate", "DATA", "SINGLE_SHARE"]

DATA = ROOT.parent / "shared" / "data"
SINGLE_SHARE = 0.15  # share of passages in one-passage documents (NFCorpus/HotpotQA-like)
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_WORD = re.compile(r"^[a-z]{5,10}$")
_DOCTYPES = ("Rules", "Regulations", "Rulebook", "Guidance", "Code", "Manual")


@dataclass
class _Template:
    doc: str
    name: str
    rows: list[dict]
    # per passage: [(start, end, citation text, document as written, template doc it names)]
    cites: list[list[tuple[int, int, str, str, str]]]


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@lru_cache(maxsize=2)
def _templates(data: Path) -> list[_Template]:
    rows = _read(data / "adgm" / "corpus.jsonl")
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_doc[str(r["doc_id"])].append(r)
    passages = []
    for d, rs in by_doc.items():
        rs.sort(key=lambda r: r["ord"])
        for r in rs:
            passages.append(Passage(id=r["_id"], doc_id=d, doc_title=r["doc_name"], ord=r["ord"], text=r["text"],
                                    label=r.get("passage_id")))
    resolver = ReferenceResolver(passages)
    out = []
    for d, rs in by_doc.items():
        cites = []
        for r in rs:
            found = []
            for c in extract_citations(r["text"]):
                if not c.document:
                    continue
                target = resolver.document_for(c.document, d)
                if target and target != d and c.document in c.text:
                    found.append((c.start, c.end, c.text, c.document, target))
            cites.append(found)
        out.append(_Template(doc=d, name=rs[0]["doc_name"], rows=rs, cites=cites))
    out.sort(key=lambda t: int(t.doc))
    return out


@lru_cache(maxsize=2)
def _singles(data: Path) -> list[tuple[str, str]]:
    out = []
    for name in ("nfcorpus", "hotpotqa100"):
        for r in _read(data / name / "corpus.jsonl"):
            if r.get("text", "").strip() and r.get("title", "").strip():
                out.append((r["title"].strip(), r["text"].strip()))
    return out


def _vocabulary(singles: list[tuple[str, str]]) -> list[str]:
    words = sorted({w for title, _ in singles for w in title.lower().split() if _WORD.match(w)})
    return [w.capitalize() for w in words]


def generate(passages: int, seed: int = 12, data: Path = DATA):
    """Yield the records of a corpus of exactly `passages` passages (deterministic in `seed`)."""
    rng = random.Random(seed)
    templates = _templates(data)
    singles = _singles(data)
    sentences = [s for _, text in singles for s in _SENT.split(text) if 40 <= len(s) <= 300]
    vocab = _vocabulary(singles)
    # plan: a sequence of documents, editions and singles, that adds up to `passages`
    plan: list[tuple[str, int]] = []  # ("e", template index) or ("s", 0)
    total = 0
    single_budget = int(passages * SINGLE_SHARE)
    while total < passages:
        if single_budget > 0 and rng.random() < SINGLE_SHARE * 0.9:  # singles spread through the corpus
            plan.append(("s", 0))
            single_budget -= 1
            total += 1
            continue
        t = rng.randrange(len(templates))
        plan.append(("e", t))
        total += len(templates[t].rows)
    editions: dict[int, list[int]] = defaultdict(list)  # template -> plan positions of its editions
    titles: dict[int, str] = {}
    used: set[str] = set()
    for i, (kind, t) in enumerate(plan):
        if kind != "e":
            continue
        editions[t].append(i)
        while True:
            title = f"{rng.choice(vocab)} {rng.choice(vocab)} {rng.choice(_DOCTYPES)}"
            key = " ".join(title.lower().split()[:2])
            if key not in used:
                used.add(key)
                titles[i] = title
                break
    by_doc = {tp.doc: n for n, tp in enumerate(templates)}
    left = passages
    for i, (kind, t) in enumerate(plan):
        if left <= 0:
            break
        if kind == "s":
            (title, a), (_, b) = rng.choice(singles), rng.choice(singles)
            text = a[: len(a) // 2] + b[len(b) // 2:]
            yield {"_id": f"s{i:07d}", "title": title, "text": text}
            left -= 1
            continue
        tp = templates[t]
        for r, cites in zip(tp.rows[:left], tp.cites):
            text = r["text"]
            for start, end, ctext, written, target in sorted(cites, reverse=True):
                copies = editions.get(by_doc[target])
                if copies:  # a document without an edition here stays cited by its old name (unresolved)
                    text = text[:start] + ctext.replace(written, titles[rng.choice(copies)], 1) + text[end:]
            if text.strip() and rng.random() < 0.5:
                text = f"{text} {rng.choice(sentences)}"
            yield {"_id": f"e{i:07d}.{r['ord']:04d}", "title": f"{titles[i]} {r.get('passage_id') or ''}".strip(),
                   "text": text, "doc_id": i, "doc_name": titles[i], "passage_id": r.get("passage_id"), "ord": r["ord"]}
            left -= 1


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, required=True)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--per-file", type=int, default=0,
                    help="write --out as a folder of JSONL files of about this many passages each (readtrail index "
                         "leaves out files over --max-file-mb, 200 MB by default)")
    args = ap.parse_args(argv)
    if not (args.data / "adgm" / "corpus.jsonl").is_file():
        sys.exit(f"no data in {args.data}: the generator reads ../shared/data (adgm, nfcorpus, hotpotqa100)")
    n = docs = 0
    last = None
    if args.per_file:  # a folder of files, a document never split between two (as a user's folder would be)
        args.out.mkdir(parents=True, exist_ok=True)
        f, part = None, 0
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        f = args.out.open("w", encoding="utf-8")
    try:
        for rec in generate(args.passages, args.seed, args.data):
            key = rec.get("doc_id", rec["_id"])
            new_doc = key != last
            if args.per_file and (f is None or (new_doc and n >= (part) * args.per_file)):
                if f is not None:
                    f.close()
                part += 1
                f = (args.out / f"part-{part:03d}.jsonl").open("w", encoding="utf-8")
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
            docs += new_doc
            last = key
    finally:
        if f is not None:
            f.close()
    print(f"{n} passages in {docs} documents -> {args.out}", file=sys.stderr)

if __name__ == "__main__":
    main()
