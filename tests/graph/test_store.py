import json
from pathlib import Path

import pytest

from graph.model import Passage
from graph.store import IndexNotFound, current_generation, index_lock, load_index, write_index
from tests.conftest import tiny_passages


def test_round_trip_keeps_passages_links_and_graph(tiny_index: Path) -> None:
    stored = load_index(tiny_index)
    assert [p.id for p in stored.passages] == [p.id for p in tiny_passages()]
    assert stored.passages[1].heading_path == ["1 Introduction", "1.1 Appointment"]
    unresolved = [r for r in stored.references if not r.resolved]
    assert [r.text for r in unresolved] == ["Rule 99.9"]
    kinds = {d["kind"] for _, _, d in stored.graph.out_edges("aml:2.1", data=True)}
    assert {"reference", "mention", "parent", "prev"} <= kinds and "next" not in kinds
    assert stored.graph.has_edge("aml:1.1", "aml:2.1")


def test_rewrite_swaps_generation_and_removes_old(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    ps = tiny_passages()
    first = write_index(folder, ps, [], [], [], {})
    second = write_index(folder, ps[:2], [], [], [], {})
    assert current_generation(folder) == second
    assert not first.exists()
    assert len(load_index(folder).passages) == 2


def test_missing_and_damaged_index_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="readtrail index"):
        load_index(tmp_path)
    (tmp_path / "CURRENT").write_text("../../etc", encoding="utf-8")
    with pytest.raises(IndexNotFound, match="damaged"):
        load_index(tmp_path)


def test_failed_write_leaves_previous_index_live(tmp_path: Path) -> None:
    folder = tmp_path / "idx"
    write_index(folder, tiny_passages(), [], [], [], {})
    bad = [Passage(id="x", doc_id="d", doc_title="t", ord=0, text="ok")]
    with pytest.raises(TypeError):
        write_index(folder, bad, [], [], [], {"unserialisable": object()})
    assert len(load_index(folder).passages) == len(tiny_passages())
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_second_writer_is_refused(tmp_path: Path) -> None:
    with index_lock(tmp_path):
        with pytest.raises(RuntimeError, match="another"):
            with index_lock(tmp_path):
                pass


def test_stored_files_are_plain_json(tiny_index: Path) -> None:
    gen = current_generation(tiny_index)
    meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    assert meta["format_version"] == 1
    for name in ("passages.jsonl", "references.jsonl", "mentions.jsonl", "containment.jsonl"):
        for line in (gen / name).read_text(encoding="utf-8").splitlines():
            json.loads(line)
