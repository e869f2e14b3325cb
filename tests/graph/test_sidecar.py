"""The sidecar (graph/sidecar.py): an index opened from it serves what one opened from its rows serves,
and damage it cannot see at open is found when the row is read."""
import json
import shutil
from pathlib import Path

import pytest

from graph.model import Mention, Reference
from graph.sidecar import FOLDER, read_sidecar
from graph.store import IndexNotFound, PassageTable, current_generation, load_index, write_index
from server.corpus import Corpus
from tests.conftest import tiny_passages
from tests.graph.test_graph import _same


def _without_sidecar(index: Path, tmp: Path) -> Path:
    folder = tmp / "rows"
    shutil.copytree(index, folder)
    shutil.rmtree(current_generation(folder) / FOLDER)
    return folder


def _results(corpus: Corpus) -> list:
    out = []
    for p in corpus.passages:
        out += [corpus.get_passage(p.id), corpus.neighbors(p.id), corpus.follow_reference(p.id)]
        refs = corpus.references_of(p.id)
        if refs:
            out.append(corpus.follow_reference(p.id, refs[0].text))
    out += [corpus.search("money laundering officer report"), corpus.list_documents()]
    return [r.model_dump() for r in out]


def test_written_and_read_without_parsing_rows(sample_index: Path) -> None:
    gen = current_generation(sample_index)
    side = read_sidecar(gen, sample_index.resolve())
    assert side is not None and len(side.ids) > 100
    stored = load_index(sample_index)
    assert isinstance(stored.passages, PassageTable) and not stored.passages._checked


def test_same_graph_and_tool_results_as_from_the_rows(sample_index: Path, tmp_path: Path) -> None:
    fast, rows = load_index(sample_index), load_index(_without_sidecar(sample_index, tmp_path))
    assert rows.passages._checked
    _same(fast.graph, rows.graph)
    assert list(fast.references) == list(rows.references) and list(fast.mentions) == list(rows.mentions)
    assert _results(Corpus(fast)) == _results(Corpus(rows))


def test_unknown_sources_and_links_over_structural_edges(tmp_path: Path) -> None:
    """build_graph's corner cases: a reference from no passage, several edges over one pair."""
    ps = tiny_passages()
    a, b = ps[0].id, ps[1].id
    refs = [Reference(src=a, text="see 1.1", targets=[b]), Reference(src="ghost", text="x", targets=[a]),
            Reference(src=b, text="doc", targets=["doc::gen", "nowhere"])]
    mentions = [Mention(src=a, dst=b, term="Appointment"), Mention(src="ghost", dst=b, term="g")]
    folder = tmp_path / "idx"
    write_index(folder, ps, refs, mentions, [(a, b)], {})
    fast, rows = load_index(folder), load_index(_without_sidecar(folder, tmp_path))
    _same(fast.graph, rows.graph)
    assert "ghost" in fast.graph
    assert [getattr(r, "text", None) or r.term for r in fast.links_of(a)] == ["see 1.1", "Appointment"]


def test_files_changed_after_the_sidecar_are_read_as_rows(tiny_index: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(tiny_index, folder)
    gen = current_generation(folder)
    with (gen / "references.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"src": "aml:1", "text": "new", "targets": ["gen:5"]}) + "\n")
    stored = load_index(folder)
    assert stored.passages._checked  # every row read and checked, as without a sidecar
    assert [r.text for r in stored.links_of("aml:1")] == ["new"]


@pytest.mark.parametrize("file, old, new", [
    ("passages.jsonl", '"ord": 1, ', '"ord":"1",'),
    ("passages.jsonl", '"id": "aml:1.1"', '"id": "aml:9.9"'),
    ("references.jsonl", '"text": "Rule 2.1"', '"text": ["Rule 2"]'),
])
def test_a_row_damaged_in_place_is_refused_when_read(tiny_index: Path, tmp_path: Path, file: str, old: str,
                                                     new: str) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(tiny_index, folder)
    path = current_generation(folder) / file
    text = path.read_text(encoding="utf-8")
    assert old in text and len(old) == len(new)  # same size: the sidecar still fits the file
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    corpus = Corpus.open(folder)
    with pytest.raises(IndexNotFound, match="damaged.*rebuild it with `readtrail index`"):
        corpus.get_passage("aml:1.1")
