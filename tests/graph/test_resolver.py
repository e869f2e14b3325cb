"""Resolution: labels per document, fallback to containing sections, learned aliases, links, properties."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.model import Citation, Passage
from graph.references import extract_citations
from graph.resolver import ReferenceResolver, acronym, alias_key, resolve_references


def _p(pid: str, doc: str, title: str, ord_: int, label: str | None, text: str = "", anchors=None) -> Passage:
    return Passage(id=pid, doc_id=doc, doc_title=title, ord=ord_, text=text, label=label, anchors=anchors or [])


def corpus() -> list[Passage]:
    wsr = "Widget Services Regulations (Consolidated 2024)"
    cob = "COB_VER02.010124"
    return [
        _p("w0", "wsr", wsr, 0, "WIDGET SERVICES REGULATIONS 2020", "Regulations about widgets."),
        _p("w1", "wsr", wsr, 1, "Part 3", "Permissions"),
        _p("w2", "wsr", wsr, 2, "Part 3.33.", "Cancellation of permission."),
        _p("w3", "wsr", wsr, 3, "Part 3.33.(1)", "The Regulator may cancel."),
        _p("w4", "wsr", wsr, 4, "Part 9.113.", "Winding up."),
        _p("w5", "wsr", wsr, 5, "Part 9.113.(1)", "A fund manager must apply.", anchors=["winding-up"]),
        _p("w6", "wsr", wsr, 6, "Schedule 1.Part 2.64.", "Schedule paragraph 64."),
        _p("w7", "wsr", wsr, 7, "Schedule 1.Part 2.65.", "See paragraph 64 for the rule."),
        _p("w8", "wsr", wsr, 8, "Part 4.64.", "Main body section 64."),
        _p("c0", "cob", cob, 0, "1.", "INTRODUCTION"),
        _p("c1", "cob", cob, 1, "1.1", 'This Rulebook is the Conduct of Business Rulebook ("COB").'),
        _p("c2", "cob", cob, 2, "2.4", "Client classification"),
        _p("c3", "cob", cob, 3, "2.4.2", "A firm must classify each client."),
        _p("c4", "cob", cob, 4, "2.4.2.(1)", "Retail clients are those not professional."),
        _p("c5", "cob", cob, 5, "2.4.3", "Subject to Rule 2.4.2(1)(a), see also Rules 2.4.2 and 2.4.3."),
        _p("c6", "cob", cob, 6, "3.6A.4", "Under section 113(1)(a) of the WSR, a fund must wind up; see 2.4."),
        _p("c7", "cob", cob, 7, "3.7", "Section 33 of the Widget Services Regulations 2020 applies. Paid $1.5 million on 12.03.2024."),
        _p("c8", "cob", cob, 8, "3.8", "See [winding up](wsr.md#winding-up) and [top](#top) and Rule 9.9.9."),
        _p("g0", "gui", "Guidance - Client Money_VER01", 0, "1)", "This Guidance supplements COB Rule 2.4.2 as set out in the Conduct of Business Rulebook."),
        _p("g1", "gui", "Guidance - Client Money_VER01", 1, "2)", "Paragraph 1 explains; Chapter 2 of the COB Rules and Rule 11.2.1 matter."),
    ]


def targets(refs, src: str) -> list[str]:
    return [t for r in refs if r.src == src for t in r.targets]


def test_alias_helpers() -> None:
    assert alias_key("the Conduct of Business Rulebook") == "conduct of business"
    assert alias_key("Widget Services Regulations 2020") == "widget services"
    assert acronym("Financial Services and Markets Regulations") == "FSMR"


def test_internal_exact_list_and_subpart_fallback() -> None:
    refs = resolve_references(corpus())
    assert targets(refs, "c5") == ["c4", "c3"]  # 2.4.2(1)(a) -> 2.4.2.(1); 2.4.2; 2.4.3 is itself: dropped
    assert "c5" not in targets(refs, "c5")


def test_cross_document_by_acronym_learned_from_title_and_definition() -> None:
    passages = corpus()
    r = ReferenceResolver(passages)
    assert r.document_for("WSR") == "wsr"  # initials of the title-like first heading
    assert r.document_for("COB Rules") == "cob"  # leading acronym of the doc name
    assert r.document_for("Conduct of Business Rulebook") == "cob"  # learned from '... ("COB")'
    refs = resolve_references(passages)
    assert targets(refs, "c6") == ["w5", "c2"]  # 113(1)(a) -> Part 9.113.(1); see 2.4
    assert targets(refs, "c7") == ["w2"]  # by full name; money and dates are not citations


def test_named_document_and_unknown_document() -> None:
    refs = resolve_references(corpus())
    assert targets(refs, "g0") == ["c3", "c0"]  # COB Rule 2.4.2; the Rulebook itself -> its first passage
    g1 = [r for r in refs if r.src == "g1"]
    assert "g0" in targets(refs, "g1") and "c2" not in targets(refs, "g1")
    assert any(not r.resolved for r in g1)  # Rule 11.2.1 is nowhere: kept, unresolved; not paragraph "11)"


def test_schedule_scope_prefers_its_own_paragraphs() -> None:
    assert targets(resolve_references(corpus()), "w7") == ["w6"]


def test_links_and_anchors() -> None:
    passages = corpus()
    r = ReferenceResolver(passages)
    c8 = passages[[p.id for p in passages].index("c8")]
    cs = [c for c in extract_citations(c8.text) if c.kind == "link"]
    assert r.resolve(c8, cs[0]) == ["w5"]
    assert r.resolve(c8, cs[1]) == []  # unknown anchor
    assert r.resolve(c8, Citation("x", 0, 1, [], "link", None, "#winding-up")) == []  # other document's anchor


def test_unresolved_are_kept() -> None:
    refs = resolve_references(corpus())
    assert any(r.src == "c8" and r.text.startswith("Rule 9.9.9") and not r.resolved for r in refs)


def _guidelines() -> list[Passage]:
    return [
        _p("k0", "kitchen", "Kitchen Hygiene Policy", 0, "Kitchen Hygiene Policy",
           'This Kitchen Hygiene Policy ("KHP") covers food storage.'),
        _p("k1", "kitchen", "Kitchen Hygiene Policy", 1, "2", "Storage"),
        _p("k2", "kitchen", "Kitchen Hygiene Policy", 2, "2.1", "Chilled food is kept below 5 C."),
        _p("k3", "kitchen", "Kitchen Hygiene Policy", 3, "4", "Cleaning"),
        _p("k4", "kitchen", "Kitchen Hygiene Policy", 4, "4.3", "Surfaces are cleaned hourly."),
        _p("e0", "events", "Staff Events Guideline", 0, "Staff Events Guideline", "How staff events run."),
        _p("e1", "events", "Staff Events Guideline", 1, "1", "Scope"),
        _p("e2", "events", "Staff Events Guideline", 2, "2.1",
           "Food is stored as in section 2.1 of the Kitchen Hygiene Policy and the Kitchen Hygiene Policy, "
           "section 4.3."),
        _p("e3", "events", "Staff Events Guideline", 3, "4.3",
           "Surfaces: Kitchen Hygiene Policy (KHP) 4.3; see the Kitchen Hygiene Policy (KHP) 2.1 and KHP 4."),
        _p("e4", "events", "Staff Events Guideline", 4, "4.4",
           "The policy was updated in 2023. Section 2.1 of the Laundry Policy does not exist here; see section 4.3."),
    ]


def test_general_document_names_resolve_in_the_named_document() -> None:
    passages = _guidelines()
    r = ReferenceResolver(passages)
    assert r.document_for("Kitchen Hygiene Policy (KHP)") == "kitchen"
    assert r.document_for('Kitchen Hygiene Policy ("KHP")') == "kitchen"
    assert r.document_for("Laundry Policy") is None
    refs = resolve_references(passages)
    assert targets(refs, "e2") == ["k2", "k4"]  # not the citing document's own 2.1 / 4.3
    assert targets(refs, "e3") == ["k4", "k2", "k3"]


def test_unknown_named_document_is_not_the_citing_one() -> None:
    refs = [r for r in resolve_references(_guidelines()) if r.src == "e4"]
    assert [(r.text, r.targets) for r in refs] == [("Section 2.1 of the Laundry Policy", []), ("section 4.3", ["e3"])]


_LABELS = ["1", "1.1", "1.1.1", "1.1.1.(1)", "2", "2.1", "Part 3", "Part 3.4.", "Part 3.4.(2)", "APP1.A1.2", "7)", None]
_TEXTS = ["Rule 1.1.1", "see 2.1", "Section 4(2) of the ABC", "Part 3", "A1.2", "Rules 1.1 and 2.1", "$1.5",
          "[a](#x)", "paragraph 7", "under the Alpha Beta Rules", "ABC 1.1", "Rule 2.1(a)"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["d1", "d2"]), st.sampled_from(_LABELS),
                          st.lists(st.sampled_from(_TEXTS), max_size=4)), min_size=1, max_size=12))
def test_properties_targets_exist_and_no_self_reference(rows) -> None:
    passages = [_p(f"p{i}", d, "ABC Rules" if d == "d1" else "Alpha Beta Rules", i, lab, " ; ".join(ts), ["x"])
                for i, (d, lab, ts) in enumerate(rows)]
    ids = {p.id for p in passages}
    for r in resolve_references(passages):
        assert r.src in ids
        for t in r.targets:
            assert t in ids and t != r.src
