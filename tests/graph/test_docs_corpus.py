"""The rust-book corpus (mdBook, real inter-file links) against its gold links; skipped without the data."""
from __future__ import annotations

from pathlib import Path

import pytest

from graph.ingest import ingest
from graph.resolver import resolve_references

DATA = Path("/work/shared/data/docs/rust-book")
pytestmark = pytest.mark.skipif(
    not (DATA / "gold_links.tsv").is_file(), reason=f"rust-book corpus not found at {DATA} (shared evaluation data)")


def test_rust_book_links_meet_the_targets() -> None:
    from server.eval.refs import GoldLinks, link_eval, load_gold_edges

    passages = ingest([DATA / "corpus"]).passages
    gold = load_gold_edges(DATA / "gold_links.tsv")
    assert isinstance(gold, GoldLinks)
    m = link_eval(passages, resolve_references(passages), gold)
    assert m["file_recall"] >= 0.98 and m["file_precision"] >= 0.99, m
    assert m["section_recall"] >= 0.90 and m["section_precision"] >= 0.95, m
