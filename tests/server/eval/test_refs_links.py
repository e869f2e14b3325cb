"""refs-eval with gold file links (src_path, dst_path, dst_fragment): recall and precision at file and section
level; the passage-id gold format (src, dst) keeps working."""
from __future__ import annotations

from pathlib import Path

import pytest

from graph.model import Passage, Reference
from graph.pipeline import build_index
from server.corpus import Corpus
from server.eval.refs import GoldLinks, link_eval, load_gold_edges, refs_eval

FIXTURE = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "linked_docs"


def _tsv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_header_line_tells_the_formats_apart(tmp_path: Path) -> None:
    links = load_gold_edges(_tsv(tmp_path / "l.tsv", ["src_path\tdst_path\tdst_fragment\tlink_text\tkind", "a.md\tb.md\t\tB\tfile"]))
    assert isinstance(links, GoldLinks) and links.rows == [("a.md", "b.md", "")]
    assert load_gold_edges(_tsv(tmp_path / "e.tsv", ["src\tdst", "x:1\ty:2"])) == [("x:1", "y:2")]
    with pytest.raises(ValueError, match="src_path"):
        load_gold_edges(_tsv(tmp_path / "bad.tsv", ["from\tto", "a\tb"]))


def test_refs_eval_on_an_index_of_a_docs_folder(tmp_path: Path) -> None:
    build_index([FIXTURE], tmp_path / "index")
    gold = load_gold_edges(_tsv(tmp_path / "gold.tsv", [
        "src_path\tdst_path\tdst_fragment",
        "README.md\tguide/intro.md\t",
        "README.md\tguide/install.md\trequirements",
        "guide/intro.md\tguide/install.md\told-anchor",
        "html/faq.html\thtml/index.html\t",
        "guide/intro.md\tguide/missing.md\t",  # never resolved: recall only
    ]))
    m = refs_eval(Corpus.open(tmp_path / "index"), gold)
    assert m["file_recall"] == pytest.approx(4 / 5)  # the 4 linked (src, dst) pairs of 5
    assert m["section_recall"] == 1.0
    # every resolved link of the folder is judged; most are not in this small gold, so precision is low
    assert 0 < m["file_precision"] < 1 and m["resolved_links"] > 5


def _p(pid: str, doc: str, source: str, anchors: list[str] | None = None) -> Passage:
    return Passage(id=pid, doc_id=doc, doc_title=doc, ord=int(pid[-1]), text="", anchors=anchors or [], source=source)


def test_a_wrong_target_costs_precision_and_an_unresolved_one_only_recall() -> None:
    passages = [_p("a:0", "a", "a.md"), _p("b:0", "b", "b.md"), _p("b:1", "b", "b.md", ["s"]), _p("c:0", "c", "c.md"),
                _p("d:0", "d", "d.md")]
    gold = GoldLinks([("a.md", "b.md", "s"), ("a.md", "c.md", "")])
    right = [Reference("a:0", "[x](b.html#s)", ["b:1"], "link"), Reference("a:0", "[y](c.md)", [], "link")]
    m = link_eval(passages, right, gold)
    assert (m["file_recall"], m["file_precision"], m["section_recall"], m["section_precision"]) == (0.5, 1.0, 1.0, 1.0)
    wrong = [Reference("a:0", "[x](b.html#s)", ["b:0"], "link"), Reference("a:0", "[y](c.md)", ["d:0"], "link")]
    m = link_eval(passages, wrong, gold)
    assert m["file_precision"] == 0.5 and m["section_precision"] == 0.0 and m["section_recall"] == 0.0
    assert m["file_recall"] == 0.5  # a.md -> b.md found, a.md -> c.md not
