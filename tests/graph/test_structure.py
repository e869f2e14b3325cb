"""Containment from numbered labels (nearest existing ancestor) and from heading paths."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.model import Passage
from graph.structure import containment, normalize_label


def _p(pid: str, label: str | None, ord_: int, doc: str = "d", heading: list[str] | None = None) -> Passage:
    return Passage(id=pid, doc_id=doc, doc_title=doc, ord=ord_, text="", label=label, heading_path=heading or [])


def test_numbered_labels_nearest_existing_ancestor() -> None:
    ps = [_p("a", "2.4", 0), _p("b", "2.4.2", 1), _p("c", "2.4.2.(1)", 2), _p("d", "2.4.2.1", 3),
          _p("e", "2.4.7.(3)", 4), _p("f", "PART 5", 5), _p("g", "PART 5.12.3.4", 6), _p("h", "5.1", 7)]
    edges = set(containment(ps))
    assert {("a", "b"), ("b", "c"), ("b", "d"), ("a", "e"), ("f", "g")} <= edges
    assert not any(child == "h" for _, child in edges)  # "PART 5" does not contain a separately numbered "5.1"


def test_parent_in_same_document_only() -> None:
    ps = [_p("a", "3", 0, "d1"), _p("b", "3.1", 0, "d2")]
    assert containment(ps) == []


def test_duplicate_labels_use_the_nearest_preceding_occurrence() -> None:
    ps = [_p("x", "4.", 0), _p("y", "5.", 1), _p("z", "4.", 2), _p("w", "4.1", 3)]
    assert ("z", "w") in containment(ps)


def test_heading_paths_without_numbers() -> None:
    ps = [_p("a", None, 0, heading=["Guide"]), _p("b", None, 1, heading=["Guide", "Setup"]),
          _p("c", None, 2, heading=["Guide", "Setup"]), _p("d", None, 3, heading=["Guide", "Setup", "Linux"]),
          _p("e", None, 4, heading=["Guide", "Usage"])]
    assert set(containment(ps)) == {("a", "b"), ("a", "c"), ("b", "d"), ("a", "e")}


def test_normalize_label_is_shared() -> None:
    assert normalize_label("2.4.2.(1)") == normalize_label("2.4.2(1)")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["d1", "d2"]),
                          st.sampled_from(["1", "1.1", "1.1.(1)", "2", "Part 2", "Part 2.3", None, "x"]),
                          st.lists(st.sampled_from(["A", "B", "C"]), max_size=3)), max_size=15))
def test_properties_same_doc_no_self_one_parent(rows) -> None:
    ps = [_p(f"p{i}", lab, i, d, hp) for i, (d, lab, hp) in enumerate(rows)]
    doc = {p.id: p.doc_id for p in ps}
    edges = containment(ps)
    children = [c for _, c in edges]
    assert len(children) == len(set(children))
    for parent, child in edges:
        assert parent != child and doc[parent] == doc[child]
