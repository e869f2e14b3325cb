"""Mentions of document names, glossary terms and entity titles; precision guards."""
from __future__ import annotations

from graph.mentions import find_mentions, glossary_terms
from graph.model import Passage


def _p(pid: str, doc: str, title: str, text: str, label: str | None = None, ord_: int = 0) -> Passage:
    return Passage(id=pid, doc_id=doc, doc_title=title, ord=ord_, text=text, label=label)


def test_entity_titles_hotpot_style() -> None:
    ps = [_p("h0", "h0", "Demon Dice", "Demon Dice is a game by Lester Smith, who also made Dragon Dice.", "Demon Dice"),
          _p("h1", "h1", "Dragon Dice", "Dragon Dice is a collectible dice game.", "Dragon Dice"),
          _p("h2", "h2", "Lester Smith", "Lester Smith is a game designer who likes the dice.", "Lester Smith"),
          _p("h3", "h3", "Game", "A game is structured play.", "Game")]
    got = {(m.src, m.dst) for m in find_mentions(ps)}
    assert ("h0", "h1") in got and ("h0", "h2") in got
    assert not any(dst == "h3" for _, dst in got)  # "game" is a common word
    assert not any(src == dst for src, dst in got)


def test_document_aliases_and_glossary_terms() -> None:
    ps = [_p("c0", "cob", "COB_VER01", "INTRODUCTION", "1."),
          _p("c1", "cob", "COB_VER01", 'The Conduct of Business Rulebook ("COB") applies to every Widget Dealer.', "1.1", 1),
          _p("g0", "glo", "GLO_VER01", "Definitions\nWidget Dealer\tMeans a person dealing in widgets.\n"
             "Business Day\tMeans a day.", "1.2"),
          _p("x0", "oth", "Other Guidance", "Firms must follow COB and be a Widget Dealer; the COB is short.", "1)")]
    assert ("Widget Dealer", "g0") in [(t, p.id) for t, p in glossary_terms(ps)]
    got = {(m.src, m.dst, m.term) for m in find_mentions(ps)}
    assert ("x0", "c0", "COB") in got and ("x0", "g0", "Widget Dealer") in got
    assert ("c1", "g0", "Widget Dealer") in got
    assert not any(src == "c1" and dst == "c0" for src, dst, _ in got)  # own document is skipped


def test_cap_per_passage() -> None:
    names = [f"Alpha{i} Beta" for i in range(20)]
    ps = [_p(f"e{i}", f"e{i}", n, f"{n} is a thing.", n) for i, n in enumerate(names)]
    ps.append(_p("s", "s", "Summary", " ".join(names), "Summary"))
    assert sum(m.src == "s" for m in find_mentions(ps, max_per_passage=5)) == 5


def test_names_are_found_only_in_capitalised_runs() -> None:
    """A walk through the name trie stops at a word that is not capitalised, a number or a stop word: the
    longest capitalised name still wins, and a name written in lower case is no mention."""
    ps = [_p("a0", "a", "Sepsis Escalation Pathway", "Sepsis Escalation Pathway", "Sepsis Escalation Pathway"),
          _p("b0", "b", "Sepsis Escalation", "Sepsis Escalation", "Sepsis Escalation"),
          _p("x0", "x", "Ward notes", "Follow the Sepsis Escalation Pathway of the Trust; sepsis escalation pathway in lower case."),
          _p("y0", "y", "Other notes", "Sepsis Escalation matters, and the sepsis escalation pathway is long."),
          _p("z0", "z", "Third notes", "Sepsis Escalation pathway: capitalised only in part.")]
    got = {(m.src, m.dst) for m in find_mentions(ps)}
    assert ("x0", "a0") in got and ("x0", "b0") not in got  # the longest name, once
    assert ("y0", "b0") in got and ("y0", "a0") not in got
    assert ("z0", "b0") in got and ("z0", "a0") not in got
