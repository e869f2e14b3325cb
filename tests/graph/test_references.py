"""Citation extraction: regulatory forms, lists, ranges, cross-document names, links, negatives."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.references import expand_range, extract_citations, normalize_label


def _one(text: str):
    cs = extract_citations(text)
    assert len(cs) == 1, cs
    return cs[0]


def test_section_with_subparts_and_named_document() -> None:
    c = _one("This applies under Section 113(1)(a) of the FSMR only.")
    assert c.numbers == ["113(1)(a)"] and c.kind == "section" and c.document == "FSMR"
    assert c.text == "Section 113(1)(a) of the FSMR"


def test_leading_document_name_and_list() -> None:
    c = _one("See FUNDS Rules 9.2.1(b), 9.4.2(1)(b) for details.")
    assert c.document == "FUNDS" and c.numbers == ["9.2.1(b)", "9.4.2(1)(b)"]


def test_and_list_and_range() -> None:
    assert _one("Rules 2.4.2 and 2.4.3 apply.").numbers == ["2.4.2", "2.4.3"]
    assert _one("as required by Rule 6.2.7 to 6.2.10; and").numbers == ["6.2.7", "6.2.8", "6.2.9", "6.2.10"]
    assert _one("sections 94(a) to (c) then").numbers == ["94(a)", "94.b", "94(c)"]


def test_document_by_full_name() -> None:
    c = _one("cancellation under section 33 of the Widget Services Regulations 2015 of a permission")
    assert c.document == "Widget Services Regulations 2015" and c.numbers == ["33"]


def test_document_only_reference() -> None:
    c = _one("is permitted under the Conduct of Business Rulebook.")
    assert c.kind == "document" and c.numbers == [] and c.document == "Conduct of Business Rulebook"


def test_general_document_types_before_and_after_the_number() -> None:
    c = _one("Keys are returned as set out in section 7.2 of the Estates Security Handbook, then logged.")
    assert c.document == "Estates Security Handbook" and c.numbers == ["7.2"] and c.kind == "section"
    assert c.text == "section 7.2 of the Estates Security Handbook"
    c = _one("Notice is given under clause 12.1 of the Master Supply Agreement.")
    assert c.document == "Master Supply Agreement" and c.numbers == ["12.1"]
    c = _one("Leave is booked as in the Staff Rostering Procedure, section 5.4, before Friday.")
    assert c.document == "Staff Rostering Procedure" and c.numbers == ["5.4"]
    assert c.text == "Staff Rostering Procedure, section 5.4"
    c = _one("in accordance with the Wound Care Protocol, section 3")
    assert c.document == "Wound Care Protocol" and c.numbers == ["3"]
    c = _one("Each Member State shall comply with Article 8 of the Geneva Widget Convention.")
    assert c.document == "Geneva Widget Convention" and c.numbers == ["8"] and c.kind == "article"


def test_title_with_defined_abbreviation() -> None:
    c = _one('Escalate under the Night Cover Policy ("NCP"), section 2.3 at once.')
    assert c.document == 'Night Cover Policy ("NCP")' and c.numbers == ["2.3"] and c.kind == "section"
    c = _one("Doses follow the Paediatric Dosing Guideline (PDG) 4.1 for children.")
    assert c.document == "Paediatric Dosing Guideline (PDG)" and c.numbers == ["4.1"]
    assert c.text == "Paediatric Dosing Guideline (PDG) 4.1"
    c = _one("see the Lone Working and Safety Framework (LWSF) 3.2.")
    assert c.document == "Lone Working and Safety Framework (LWSF)" and c.numbers == ["3.2"]


def test_title_then_bare_number_and_leading_words_left_out() -> None:
    c = _one("(Cleaning Standard 6.1)")
    assert c.document == "Cleaning Standard" and c.numbers == ["6.1"]
    c = _one("The Cleaning Standard, section 6.1 applies.")  # 'The' is not part of the name
    assert c.document == "Cleaning Standard"
    c = _one("This Policy, section 3, applies to all staff.")  # the document itself: no name
    assert c.document is None and c.numbers == ["3"]
    c = _one("Data Retention Policy 2021, section 4")
    assert c.document == "Data Retention Policy 2021" and c.numbers == ["4"]


def test_regulatory_and_internal_forms_unchanged() -> None:
    c = _one("follow the escalation route in DPP 4.2 without waiting")
    assert c.document == "DPP" and c.numbers == ["4.2"]
    c = _one("as described in Section 3.1.")
    assert c.document is None and c.numbers == ["3.1"]
    c = _one("paragraphs 2.1 and 2.3 apply")
    assert c.document is None and c.numbers == ["2.1", "2.3"] and c.kind == "paragraph"


def test_general_document_words_are_not_citations_by_themselves() -> None:
    for text in ["the policy was updated in 2023", "the Data Protection Policy 2023 applies",
                 "a Recovery Plan 10 days before", "Our Standards 2024 were agreed", "the plan 4.2 percent",
                 "The Guideline was reviewed by 12 members"]:
        assert extract_citations(text) == [], text
    c = _one("Section 3 of the Policy applies")  # a bare type word is not a document name
    assert c.document is None and c.text == "Section 3"
    c = _one("section 4.3 of the ward policy")  # not a capitalised title
    assert c.document is None and c.text == "section 4.3"


def test_see_and_bare_multilevel_numbers() -> None:
    assert _one("(see 4.2)").numbers == ["4.2"]
    assert _one("(ii) 14.2.12(d) shall be carried out").numbers == ["14.2.12(d)"]


def test_container_qualifier_and_kind_switch() -> None:
    c = _one("Rules A4.6.14 to A4.6.15 of App 4; and")
    assert c.numbers == ["App 4.A4.6.14", "App 4.A4.6.15"]
    cs = extract_citations("imposed by Rules 8.8.5, 8.8.9 and Part 10 of the FSMR; or")
    assert [(c.numbers, c.document) for c in cs] == [(["8.8.5", "8.8.9"], None), (["10"], "FSMR")]


def test_article_chapter_paragraph_section_sign() -> None:
    assert _one("Article 5(2) applies").kind == "article"
    assert _one("Chapter 2 of MKT sets out").document == "MKT"
    assert _one("see paragraph 187 below").numbers == ["187"]
    assert _one("as in § 12(3)").numbers == ["12(3)"]


def test_markdown_and_html_links() -> None:
    cs = extract_citations('See [the rule](other.md#rule-4) and [here](#intro), <a href="#s2">two</a>, [web](https://x.org).')
    # external links are kept (the resolver leaves them unresolved, saying why)
    assert [c.anchor for c in cs] == ["other.md#rule-4", "#intro", "#s2", "https://x.org"]
    assert cs[0].document == "other.md" and all(c.kind == "link" for c in cs)


def test_negatives_dates_money_percentages_quantities() -> None:
    for text in ["on 12.03.2024 the fee rose", "a fee of $1.5 million", "it grew 5.5% last year",
                 "call +971 2 333 8888", "within 30 days", "version 2.4.1 of the software",
                 "the Financial Services and Markets Regulations 2015", "USD 2.5.1 million", "Section 5 days"]:
        assert extract_citations(text) == [], text


def test_invisible_marks_before_numbers() -> None:
    assert _one("under Rule \u200e16.3.1 only").numbers == ["16.3.1"]


def test_normalize_label_forms() -> None:
    assert normalize_label("2.4.2.(1)") == normalize_label("2.4.2(1)") == "2.4.2.1"
    assert normalize_label("PART 5.12.3.4") == "part 5.12.3.4"
    assert normalize_label("Rule 3.6A.4") == normalize_label("3.6A.4") == "3.6a.4"
    assert normalize_label("APP4.A4.6.21") == normalize_label("Appendix 4.A4.6.21")
    assert normalize_label("99)") == "99"
    assert normalize_label(None) == ""


def test_expand_range_limits() -> None:
    assert expand_range("3.1", "3.3") == ["3.1", "3.2", "3.3"]
    assert expand_range("3.1", "4.2") == ["3.1", "4.2"]
    assert expand_range("1", "500") == ["1", "500"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_never_crashes_and_spans_are_consistent(text: str) -> None:
    for c in extract_citations(text):
        assert 0 <= c.start <= c.end <= len(text)
        assert isinstance(c.numbers, list)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["Rule", "Section", "see", "of the", "FSMR", "3.2.1", "(a)", "and", "to", "12",
                                 "$", "%", "2024", ".", ",", "\n", "Part", "[x](#a)", "<a href='b.md'>c</a>"]),
                max_size=30))
def test_never_crashes_on_citation_like_soup(words: list[str]) -> None:
    text = " ".join(words)
    for c in extract_citations(text):
        assert text[c.start:c.end] == c.text


def test_markdown_link_destinations_in_angle_brackets_with_parentheses_and_titles() -> None:
    text = "[a](<my file.md#x>) [b](foo_(bar).md \"T\") [c](c.md 't') [d](d.md (t))"
    assert [c.anchor for c in extract_citations(text)] == ["<my file.md#x>", "foo_(bar).md", "c.md", "d.md"]
