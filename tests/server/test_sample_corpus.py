"""The bundled sample corpus: documents, questions and relevance judgements agree with each other."""
from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "server" / "sample_corpus"
DOCS = ROOT / "docs"
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\b", re.M)
ANY_HEADING = re.compile(r"^#{1,6}\s", re.M)
ABBREVIATION = re.compile(r"\(\"[A-Z][A-Z0-9&-]{1,9}\"\)")
AMBIGUOUS = ("MS", "PE", "RA")
TYPES = {"single", "multi-hop", "ambiguous"}


def _docs() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}


def _labels(text: str) -> list[str]:
    return HEADING.findall(text)


def _queries() -> list[dict]:
    lines = (ROOT / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _qrels() -> list[tuple[str, str, int]]:
    with (ROOT / "qrels.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert rows[0] == ["query-id", "corpus-id", "score"]
    return [(q, c, int(s)) for q, c, s in rows[1:] if q]


def test_document_count_and_names():
    docs = _docs()
    assert 13 <= len(docs) <= 17
    for name in docs:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", name), name
    assert "glossary" in docs


@pytest.mark.parametrize("name", sorted(p.stem for p in DOCS.glob("*.md")))
def test_document_shape(name):
    text = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    assert text.startswith("# "), "an H1 title first"
    assert ABBREVIATION.search(text), 'states its abbreviation as ("XYZ")'
    assert "fictional" in text.lower()
    labels = _labels(text)
    assert labels, "numbered headings"
    assert len(labels) == len(set(labels)), f"duplicate section numbers: {Counter(labels)}"
    assert 400 <= len(text.split()) <= 1200


def test_queries():
    qs = _queries()
    assert len(qs) == 30
    ids = [q["_id"] for q in qs]
    assert len(set(ids)) == len(ids)
    for q in qs:
        assert q["text"].strip()
        assert q["type"] in TYPES, q


def _section_bodies(text: str) -> dict[str, str]:
    """Numbered heading label -> its body text up to the next heading of any level."""
    out: dict[str, str] = {}
    starts = [m.start() for m in ANY_HEADING.finditer(text)] + [len(text)]
    for a, b in zip(starts, starts[1:]):
        block = text[a:b]
        m = HEADING.match(block)
        if m:
            out[m.group(1)] = block.split("\n", 1)[1] if "\n" in block else ""
    return out


def test_qrels_point_at_existing_sections():
    docs = _docs()
    labels = {name: set(_labels(text)) for name, text in docs.items()}
    bodies = {name: _section_bodies(text) for name, text in docs.items()}
    qids = {q["_id"] for q in _queries()}
    seen: set[tuple[str, str]] = set()
    for qid, cid, score in _qrels():
        assert qid in qids, qid
        assert score in (1, 2), (qid, cid, score)
        assert (qid, cid) not in seen, f"duplicate qrel {qid} {cid}"
        seen.add((qid, cid))
        doc, _, label = cid.partition(":")
        assert doc in docs, f"{cid}: no file {doc}.md"
        assert label in labels[doc], f"{cid}: no heading numbered {label} in {doc}.md"
        # a judged passage must stay one passage when chunked
        assert len(bodies[doc][label].strip()) < 1200, f"{cid}: section body too long"


def test_every_query_judged_and_multi_hop_has_two():
    per_query: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for qid, cid, score in _qrels():
        per_query[qid].append((cid, score))
    for q in _queries():
        rels = per_query[q["_id"]]
        assert rels, f"{q['_id']} has no qrels"
        assert any(s == 2 for _, s in rels), f"{q['_id']} has no answering passage"
        if q["type"] == "multi-hop":
            assert len(rels) >= 2, f"{q['_id']} is multi-hop with {len(rels)} qrel(s)"


def test_ambiguous_abbreviations_used_in_several_documents():
    docs = _docs()
    for abbr in AMBIGUOUS:
        word = re.compile(rf"\b{abbr}\b")
        using = [name for name, text in docs.items() if word.search(text)]
        assert len(using) >= 2, f"{abbr} appears only in {using}"
        assert word.search(docs["glossary"]), f"the glossary does not explain {abbr}"
    for q in _queries():
        if q["type"] == "ambiguous":
            assert any(re.search(rf"\b{a}\b", q["text"]) for a in AMBIGUOUS), q


def test_markdown_links_target_existing_files():
    docs = _docs()
    for name, text in docs.items():
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)\s]*)?\)", text):
            assert Path(target).stem in docs, f"{name}: link to missing {target}"
