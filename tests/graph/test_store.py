import json
import os
import shutil
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
    assert meta["format_version"] == 3
    for name in ("passages.jsonl", "references.jsonl", "mentions.jsonl", "containment.jsonl"):
        for line in (gen / name).read_text(encoding="utf-8").splitlines():
            json.loads(line)


# --- a crafted index folder: one clear line, never a traceback or a hang ----------------

def _copy(tiny_index: Path, tmp: Path) -> tuple[Path, Path]:
    """A copy of the tiny index to damage, and its generation folder."""
    folder = tmp / "copy"
    shutil.copytree(tiny_index, folder)
    return folder, current_generation(folder)


def _refused(folder: Path, *words: str) -> str:
    with pytest.raises(IndexNotFound) as exc:
        load_index(folder)
    msg = str(exc.value)
    assert "\n" not in msg and "rebuild it with `readtrail index`" in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


@pytest.mark.parametrize("name", ["passages.jsonl", "meta.json"])
def test_deeply_nested_json_is_a_damaged_index(tiny_index: Path, tmp_path: Path, name: str) -> None:
    folder, gen = _copy(tiny_index, tmp_path)
    (gen / name).write_text("[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    _refused(folder, "damaged")


@pytest.mark.parametrize("file, row, words", [
    ("passages.jsonl", {"id": "x", "doc_id": "d", "doc_title": "t", "ord": "0", "text": "a"}, "ord is a string, not int"),
    ("passages.jsonl", {"id": ["x"], "doc_id": "d", "doc_title": "t", "ord": 0, "text": "a"}, "id is an array"),
    ("passages.jsonl", {"id": "x", "doc_id": "d", "doc_title": "t", "ord": 0, "text": "a", "heading_path": "h"},
     "heading_path is a string, not list[str]"),
    ("passages.jsonl", {"id": "x", "doc_id": "d", "doc_title": "t", "ord": 0, "text": "a", "anchors": [1]}, "anchors"),
    ("passages.jsonl", [1, 2], "row 7 is an array, not an object"),
    ("passages.jsonl", {"id": "x"}, "not those of a Passage"),
    ("references.jsonl", {"src": "aml:1", "text": "x", "targets": {"a": 1}}, "targets is an object"),
    ("mentions.jsonl", {"src": "aml:1", "dst": None, "term": "x"}, "dst is null, not str"),
    ("containment.jsonl", {"parent": {}, "child": "aml:1"}, "parent is an object"),
    ("containment.jsonl", "aml:1", "row 3 is a string, not an object"),
])
def test_wrong_types_in_a_row_are_a_damaged_index(tiny_index: Path, tmp_path: Path, file: str, row: object, words: str) -> None:
    folder, gen = _copy(tiny_index, tmp_path)
    with (gen / file).open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    _refused(folder, "damaged", file, words)


@pytest.mark.parametrize("meta", [[1, 2], "x", None, {"format_version": [1]}])
def test_meta_that_is_not_an_object_of_this_format_is_refused(tiny_index: Path, tmp_path: Path, meta: object) -> None:
    folder, gen = _copy(tiny_index, tmp_path)
    (gen / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IndexNotFound, match="rebuild it with `readtrail index`"):
        load_index(folder)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["passages.jsonl", "meta.json", "bm25/meta.json", "CURRENT"])
def test_a_fifo_in_place_of_a_file_is_refused_without_blocking(tiny_index: Path, tmp_path: Path, name: str) -> None:
    folder, gen = _copy(tiny_index, tmp_path)
    path = (folder if name == "CURRENT" else gen) / name
    path.unlink()
    os.mkfifo(path)
    _refused(folder, "FIFO")


@pytest.mark.parametrize("name", ["generation", "passages.jsonl", "bm25", "CURRENT"])
def test_links_out_of_the_index_folder_are_refused(tiny_index: Path, tmp_path: Path, name: str) -> None:
    """A copy of a good index outside, linked in: it would load, so only the link can be refused."""
    folder, gen = _copy(tiny_index, tmp_path)
    outside = tmp_path / "outside"
    shutil.copytree(gen, outside / gen.name)
    shutil.copy(folder / "CURRENT", outside / "CURRENT")
    if name == "generation":
        path, target = gen, outside / gen.name
    elif name == "CURRENT":
        path, target = folder / "CURRENT", outside / "CURRENT"
    else:
        path, target = gen / name, outside / gen.name / name
    shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    os.symlink(target, path)
    _refused(folder, "symlink")


def test_the_index_folder_itself_may_be_reached_through_a_link(tiny_index: Path, tmp_path: Path) -> None:
    os.symlink(tiny_index, tmp_path / "alias")
    assert len(load_index(tmp_path / "alias").passages) == len(tiny_passages())


def test_a_version_1_index_still_loads(tiny_index: Path, tmp_path: Path) -> None:
    """Indexes written before passages kept their paths (format 1) load as they are."""
    import shutil

    copy = tmp_path / "v1"
    shutil.copytree(tiny_index, copy)
    gen = copy / (copy / "CURRENT").read_text(encoding="utf-8").strip()
    meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    (gen / "meta.json").write_text(json.dumps({**meta, "format_version": 1}), encoding="utf-8")
    assert load_index(copy).passages
    (gen / "meta.json").write_text(json.dumps({**meta, "format_version": 4}), encoding="utf-8")
    with pytest.raises(IndexNotFound, match="reads 1, 2, 3"):
        load_index(copy)
