"""Extract citations ("Rule 9.2.1(b)", "section 113(1) of the FSMR", Markdown links) from text.

Extraction knows nothing about the corpus: it finds the cited numbers, their kind and the
document named as written. `graph.resolver` maps them to passages.
"""
from __future__ import annotations

import re
from functools import lru_cache

from graph.model import Citation

__all__ = ["extract_citations", "normalize_label", "label_parts", "expand_range", "KIND_WORDS"]

# invisible characters some documents put before numbers; replaced 1:1 so offsets hold
_INVISIBLE = {ord(c): " " for c in "\u200e\u200f\u200b\u200c\u200d\ufeff\xa0\u2009\u202f"}
_ANY_INVISIBLE = re.compile("[" + "".join(chr(c) for c in _INVISIBLE) + "]")  # str.translate with a dict is slow

# kind word (singular/plural/abbreviated) -> canonical kind
KIND_WORDS: dict[str, str] = {
    "rule": "rule", "rules": "rule", "r.": "rule",
    "section": "section", "sections": "section", "s.": "section", "ss.": "section",
    "sec.": "section", "subsection": "section", "subsections": "section", "§": "section", "§§": "section",
    "article": "article", "articles": "article", "art.": "article", "arts.": "article",
    "chapter": "chapter", "chapters": "chapter", "ch.": "chapter",
    "part": "part", "parts": "part",
    "paragraph": "paragraph", "paragraphs": "paragraph", "para": "paragraph", "para.": "paragraph",
    "paras": "paragraph", "paras.": "paragraph", "subparagraph": "paragraph", "sub-paragraph": "paragraph",
    "sub-paragraphs": "paragraph", "subparagraphs": "paragraph",
    "regulation": "regulation", "regulations": "regulation", "reg.": "regulation",
    "schedule": "schedule", "schedules": "schedule", "sch.": "schedule",
    "appendix": "appendix", "appendices": "appendix", "app": "appendix", "app.": "appendix",
    "annex": "annex", "annexes": "annex", "clause": "clause", "clauses": "clause",
}
CONTAINER_KINDS = frozenset({"part", "chapter", "schedule", "appendix", "annex"})

_KIND_RE = (
    r"(?:sub-?paragraphs?|subsections?|paragraphs?|paras?\.?|sections?|ss?\.|sec\.|§§?|rules?|r\.|"
    r"articles?|arts?\.|chapters?|ch\.|parts?|regulations?|reg\.|schedules?|sch\.|"
    r"appendix|appendices|app\.?|annex(?:es)?|clauses?)"
)
# a cited number: 113(1)(a), 2.4.2.(1), 3.6A.4, A4.6.14, 4.3.1 (13); roman numbers only after a kind
_PAREN = r"\((?:[a-z]{1,4}|\d{1,3}[a-z]?|[A-Z])\)"
_NUM = rf"(?:[A-Z]{{1,3}}\s?)?\d{{1,4}}[A-Za-z]{{0,2}}(?:\.\d{{1,4}}[A-Za-z]{{0,2}})*(?:\.?{_PAREN}|\s{_PAREN}(?=\s*(?:[,;.:)]|and\b|or\b|to\b|of\b|$)))*"
_ROMAN = r"(?:[IVXLC]{1,6}|[ivxlc]{1,6})\b"
_ROMANS = frozenset("i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx".split())
_ITEM = rf"(?:{_NUM}|{_ROMAN})"
_CONT = r"(?:\s*(?:,|;)?\s*(?:and/or|and|or|to|through|–|—|-|,)\s*|\s*,\s*)"
_NAME_WORD = r"(?-i:[A-Z][\w'’&-]*)"
_LINK_WORD = r"(?:of|and|for|on|in|the|to|&)"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_LINK_WORD}\s+)*{_NAME_WORD}){{0,8}}(?:\s+(?:19|20)\d\d)?"
# words that end a document title: regulatory ones and general ones (policies, guidelines, contracts, treaties)
_GENERAL_DOCTYPES = (
    "Policy|Policies|Guidelines?|Standards?|Procedures?|Protocols?|Handbook|Framework|Guide|Statute|Ordinance|"
    "Charter|Plan|Pathway|Specification|Agreement|Contract|Constitution|Treaty|Convention|Notice|Circular"
)
_DOCTYPE = (
    rf"(?-i:(?:Rules|Rulebook|Regulations|Regulation|Code|Manual|Module|Act|Law|Directive|Guidance|"
    rf"{_GENERAL_DOCTYPES})\b)"
)
_ACRO = (
    rf"(?:(?-i:[A-Z][A-Z0-9&]{{1,9}}\b)(?:\s+Rules?|\s+Rulebook|\s+Regulations?|\s+Module"
    rf"|\s+(?-i:(?:{_GENERAL_DOCTYPES})\b))?)"
)
# a title: capitalised words (linked by of/and/for/on/in/&, never 'the') ending in a document-type word
# (not starting with an article, determiner or preposition: "The X Policy" names "X Policy")
_TITLE = (
    r"(?!(?-i:The|This|These|That|Those|Each|Any|Its|Our|Their|A|An|In|Of|On|For|And|To|See|Under|By|With|As|At|"
    rf"From|Per)\s)(?:{_NAME_WORD}\s+(?:(?:of|and|for|on|in|&)\s+)*){{1,6}}{_DOCTYPE}"
)
# its abbreviation defined in passing: 'Sepsis Guideline ("SG")', 'Anticoagulation Policy (ACP)'
_DEF_ABBR = r"\((?:the\s+)?[\"“‘']?(?-i:[A-Z][A-Za-z0-9&]{1,9})[\"”’']?\)"

_PCONT = r"[ \t]*,?[ \t]*(?:and/or|and|or|to|through|–|—|-|,)[ \t]*"
_CONTAINER_REF = r"(?:Schedule|Part|Chapter|Appendix|App\.?|Annex)\s*[0-9]{1,3}[A-Z]?"
_KIND_CITE = re.compile(
    rf"(?<![\w.])(?P<pre>(?:(?P<predoc>{_ACRO})"
    rf"|(?P<title>{_TITLE}(?:\s+(?:19|20)\d\d)?)(?P<tdef>[ \t]*{_DEF_ABBR})?(?:[ \t]*,)?)\s+)?"
    rf"(?P<kind>{_KIND_RE})\s*(?P<items>{_ITEM}(?:{_CONT}(?:{_KIND_RE}\s*)?{_ITEM}|{_PCONT}{_PAREN})*)"
    rf"(?P<post>\s+(?:of|in|under)\s+(?:the\s+)?(?:(?P<cont>{_CONTAINER_REF}(?:\s+(?:of|in)\s+(?:the\s+)?{_CONTAINER_REF})?)"
    rf"(?:\s+(?:of|in|to)\s+(?:the\s+)?(?P<contdoc>{_NAME}))?|(?P<postdoc>{_NAME})))?",
    re.IGNORECASE,
)
# a document acronym then bare numbers: "FEES 1.2.8", "GEN 3.3.21-3.3.24", "GEN 6"
_DOTNUM = rf"\d{{1,3}}[A-Z]?(?:\.\d{{1,4}}[A-Z]?)*(?:\.?{_PAREN})*"
_ACRO_CITE = re.compile(
    rf"(?<![\w.])(?P<predoc>[A-Z][A-Z0-9&]{{1,9}})(?:[ \t]+(?:Rules?|Rulebook|Regulations?|{_GENERAL_DOCTYPES}))?[ \t]+"
    rf"(?P<items>{_DOTNUM}(?:{_CONT}{_DOTNUM})*)(?![\d%]|\.\d)"
)
# a title (with its abbreviation) then bare numbers: "Falls Prevention Policy 2.1", "Anticoagulation Policy (ACP) 5.1"
_TITLE_CITE = re.compile(
    rf"(?<![\w.])(?P<predoc>{_TITLE}(?:[ \t]*{_DEF_ABBR})?)[ \t]+"
    rf"(?P<items>{_DOTNUM}(?:{_CONT}{_DOTNUM})*)(?![\d%]|\.\d)"
)
_SEE_CITE = re.compile(
    rf"\b(?:see|cf\.?|refer to|compare)\s+(?:also\s+)?(?P<items>\d{{1,4}}[A-Z]?(?:\.\d{{1,4}}[A-Z]?)*(?:\.?{_PAREN})*"
    rf"(?:{_CONT}\d{{1,4}}[A-Z]?(?:\.\d{{1,4}}[A-Z]?)*(?:\.?{_PAREN})*)*)",
    re.IGNORECASE,
)
# bare multi-level numbers (x.y.z...) are citations in regulatory text unless they look like dates/versions
_BARE_CITE = re.compile(
    rf"(?<![\w.$€£¥/:-])(?P<items>\d{{1,3}}[A-Z]?(?:\.\d{{1,3}}[A-Z]?){{2,}}(?:\.?{_PAREN})*)(?![\w%]|\.\d)"
)
_DOC_ONLY = re.compile(
    rf"\b(?:under|in|of|see|by|with|to)\s+the\s+(?P<doc>(?:{_NAME_WORD}\s+(?:{_LINK_WORD}\s+)*){{1,6}}"
    rf"(?:Rulebook|Rules|Regulations|Code|Manual))\b(?!\s+(?:{_KIND_RE})?\s*\d)"
)
# [text](href "title"): the href may be <in angle brackets> (spaces allowed) or hold balanced parentheses
_MD_LINK = re.compile(
    r"(?<!!)\[(?P<text>(?:[^\]\n]|\n(?![ \t]*\n)){0,300})\]"
    r"\((?P<href><[^<>\n]*>|(?:[^()\s]|\([^()\s]*\))+)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)")
# Markdown inline code on one line (a link or number written there is an example, not a reference);
# fenced blocks are not matched: a passage may begin or end inside one
_CODE = re.compile(r"(?<!`)(`+)(?!`)[^\n]*?(?<!`)\1(?!`)")
_HTML_LINK = re.compile(r"<a\s[^>]*?href\s*=\s*[\"'](?P<href>[^\"']+)[\"'][^>]*>(?P<text>.*?)</a>", re.I | re.S)
_SPLIT_ITEMS = re.compile(
    rf"(?P<sep>{_CONT})(?:(?P<kw>{_KIND_RE})\s*(?P<item>{_ITEM})|(?P<item2>{_NUM}))|(?P<psep>{_PCONT})(?P<pitem>{_PAREN})",
    re.IGNORECASE)
_FIRST_ITEM = re.compile(rf"{_ITEM}", re.IGNORECASE)
_QUANTITY_AFTER = re.compile(
    r"\s*(?:%|per\s?cent|percent|days?|months?|years?|weeks?|hours?|minutes?|million|billion|"
    r"thousand|times|persons?|members?|USD|AED|US\$|\$)\b",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥]|USD|AED|US\$|EUR|GBP|no\.|tel\.?|phone|fax|version|ver\.?|v)\s*$", re.I)
_DATE_LIKE = re.compile(r"^(?:\d{1,2}\.\d{1,2}\.\d{4}|(?:19|20)\d\d\.\d{1,2}\.\d{1,2})$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_RANGE_SEP = re.compile(r"^\s*(?:to|through|–|—|-)\s*$", re.I)

# label normalisation: containers keep their word ("part 5"); "(1)" and ".(1)" become ".1"
_CONTAINER_TOKEN = re.compile(
    r"(?P<w>part|chapter|schedule|appendix|app|annex|section|article|title|division)\s*(?P<n>[0-9]+[a-z]?|[ivxlc]+\b|[a-z]\b)",
    re.I,
)
_LEAD_KIND = re.compile(rf"^\s*(?:{_KIND_RE})\s+(?=[0-9A-Z(])", re.I)
_PART_TOKEN = re.compile(r"[0-9]+[a-z]{0,2}|[a-z]+[0-9]*[a-z]?", re.I)
_CONTAINER_ALIAS = {"appendix": "app", "sch": "schedule"}


def label_parts(label: str) -> list[str]:
    """Components of a label: "PART 5.12.3.4" -> ["part 5", "12", "3", "4"], "113(1)(a)" -> ["113", "1", "a"]."""
    return list(_label_parts(label))


@lru_cache(maxsize=1 << 16)  # each passage's label is split several times while linking
def _label_parts(label: str) -> tuple[str, ...]:
    s = label.translate(_INVISIBLE).strip().lower()
    s = s.replace("§", " ")
    s = _LEAD_KIND.sub("", s) if not _CONTAINER_TOKEN.match(s) else s
    parts: list[str] = []
    pos = 0
    for m in _CONTAINER_TOKEN.finditer(s):
        parts.extend(t.lower() for t in _PART_TOKEN.findall(s[pos:m.start()]))
        w = _CONTAINER_ALIAS.get(m.group("w").lower(), m.group("w").lower())
        parts.append(f"{w} {m.group('n').lower()}")
        pos = m.end()
    parts.extend(t.lower() for t in _PART_TOKEN.findall(s[pos:]))
    return tuple(parts)


def normalize_label(label: str | None) -> str:
    """Canonical form: "2.4.2.(1)" == "2.4.2(1)" -> "2.4.2.1"; "PART 5.12.3.4" -> "part 5.12.3.4"."""
    return ".".join(label_parts(label)) if label else ""


def expand_range(a: str, b: str, limit: int = 30) -> list[str]:
    """Items of the range a..b when both share a prefix and differ in a final number or letter."""
    pa, pb = label_parts(a), label_parts(b)
    if len(pa) != len(pb) or not pa or pa[:-1] != pb[:-1]:
        return [a, b]
    x, y = pa[-1], pb[-1]
    if x.isdigit() and y.isdigit() and 0 < int(y) - int(x) <= limit:
        vals = [str(i) for i in range(int(x), int(y) + 1)]
    elif len(x) == len(y) == 1 and x.isalpha() and y.isalpha() and 0 < ord(y) - ord(x) <= limit:
        vals = [chr(i) for i in range(ord(x), ord(y) + 1)]
    else:
        return [a, b]
    return [a] + [".".join(pa[:-1] + [v]) for v in vals[1:-1]] + [b]


def _is_quantity(text: str, start: int, end: int, item: str) -> bool:
    if _QUANTITY_AFTER.match(text, end):
        return True
    if _CURRENCY_BEFORE.search(text[max(0, start - 8):start]):
        return True
    return bool(_DATE_LIKE.match(item) or _YEAR.match(item))


_PORT_OR_MASK = re.compile(r"[:/]\d")
_IP_FIRST = frozenset({"0", "10", "127", "169", "172", "192", "255"})


def _not_a_label(text: str, end: int, item: str) -> bool:
    """A bare dotted number that is an address ("127.0.0.1", "10.0.0.2:8080") rather than a clause."""
    if _PORT_OR_MASK.match(text, end):
        return True
    parts = item.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) <= 255 for p in parts) and (
        parts[0] in _IP_FIRST or sum(int(p) >= 100 for p in parts) >= 1)


def _split_items(items: str, base_start: int, text: str) -> tuple[list[tuple[str | None, list[str]]], int]:
    """Segments [(kind word or None, numbers)] and the consumed length.

    '9.2.1(b), 9.4.2(1)(b)' -> both; '94(a) to (d)' -> 94(a)..94(d); small ranges are expanded;
    'Rules 8.8.5 and Part 10' -> two segments, so a trailing 'of the X' can bind to the last only.
    """
    m = _FIRST_ITEM.match(items)
    if not m:
        return [], 0
    segs: list[tuple[str | None, list[str]]] = [(None, [m.group(0).strip()])]
    pos = end = m.end()
    for sm in _SPLIT_ITEMS.finditer(items, pos):
        if sm.start() != pos:
            break
        cur = segs[-1][1]
        if sm.group("pitem"):
            if not cur[-1].endswith(")"):
                break
            item = re.sub(rf"\s?{_PAREN}$", "", cur[-1]) + sm.group("pitem")
            sep, istart, iend = sm.group("psep"), sm.start("pitem"), sm.end("pitem")
        else:
            g = "item" if sm.group("item") else "item2"
            item = sm.group(g).strip()
            sep, istart, iend = sm.group("sep"), sm.start(g), sm.end(g)
        if _is_quantity(text, base_start + istart, base_start + iend, item):
            break
        pos = sm.end()
        if sm.group("kw"):
            segs.append((sm.group("kw"), [item]))
        elif _RANGE_SEP.match(sep):
            cur.extend(expand_range(cur[-1], item)[1:])
        else:
            cur.append(item)
        end = pos
    return [(k, [re.sub(r"\s+", "", o) for o in nums]) for k, nums in segs], end


def _clean_doc(name: str | None) -> str | None:
    if not name:
        return None
    name = re.sub(r"\s+", " ", name).strip(" ,.;")
    return name or None


_NOT_DOC = re.compile(
    rf"^(?:{_KIND_RE}|this|these|that|those|such|which|its|his|her|their|our|a|an|any|each|every|"
    rf"the|paragraph|above|below|ADGM Financial System|Court|Regulator)\b",
    re.IGNORECASE,
)


def _doc_name(name: str | None) -> str | None:
    """A trailing 'of X' names a document only when X is an acronym or ends in Rules/Regulations/Act..."""
    name = _doc_or_none(name)
    if not name:
        return None
    if re.fullmatch(r"[A-Z][A-Z0-9&]{1,9}", name.split()[0]) and len(name.split()) == 1:
        return name
    words = re.sub(r"\s+(?:19|20)\d\d$", "", name).split()
    if len(words) >= 2 and re.fullmatch(_DOCTYPE, words[-1]):
        return name
    if re.fullmatch(r"[A-Z][A-Z0-9&]{1,9}", words[0]) and re.fullmatch(_DOCTYPE, words[-1]):
        return name
    return None


_NEXT_NAME = re.compile(r"\s+(?:and|or)\s+")


def _leading_doc_name(name: str) -> tuple[str | None, int]:
    """The document named at the start of a trailing 'of X' and its length: "Kitchen Policy and the Laundry
    Policy" -> "Kitchen Policy" (the second name may head its own citation); "COB Rules and Rule" -> "COB Rules";
    "Financial Services and Markets Regulations" stays whole ("Financial Services" names no document)."""
    for cut in _NEXT_NAME.finditer(name):  # "GEN and APP 1", "the FSMR and the Rules": the first name
        if _doc_name(name[:cut.start()]):
            name = name[:cut.start()]
            break
    doc = _doc_name(name)
    if doc:
        return doc, len(name)
    for w in reversed(list(re.finditer(r"\S+", name))[1:]):  # a shorter name must end in a document type
        if re.fullmatch(_DOCTYPE, w.group(0)) and _doc_name(name[:w.end()]):
            return _doc_name(name[:w.end()]), w.end()
    return None, 0


_CAPS_WORD_BEFORE = re.compile(r"\b[A-Z]{2,}[ \t]*$")


def _after_caps(text: str, start: int) -> bool:
    """True inside an all-caps heading ("OTHER INFORMATION RELATING TO THE ISSUER 8.1")."""
    return bool(_CAPS_WORD_BEFORE.search(text[max(0, start - 30):start]))


def _kind(word: str) -> str:
    w = word.lower()
    return KIND_WORDS.get(w, KIND_WORDS.get(w.rstrip("."), w))


def _doc_or_none(name: str | None) -> str | None:
    name = _clean_doc(name)
    if not name or _NOT_DOC.match(name):
        return None
    return name


# Necessary conditions, each a cheap test, for a pattern to match anywhere in a text: a pattern whose condition
# fails is not run (most passages cite nothing; these patterns cost most of the link stage's time per passage)
_DIGIT = re.compile(r"\d")  # _ACRO_CITE, _TITLE_CITE, _SEE_CITE and _BARE_CITE cite a number that starts with one
# a kind word, at a word's start (after the lookbehind or the title's whitespace), then a number
_KIND_NEEDS = re.compile(rf"(?<![\w.])(?:{_KIND_RE})\s*{_ITEM}", re.IGNORECASE)
_TITLE_NEEDS = re.compile(rf"{_DOCTYPE}(?:[ \t]*{_DEF_ABBR})?[ \t]+\d")  # a title's last word, then a number
_BARE_NEEDS = re.compile(r"\d[A-Z]?\.\d")
_SEE_WORDS = ("see", "cf", "refer to", "compare")  # in a casefolded text: what IGNORECASE matches
_DOC_ONLY_WORDS = ("Rule", "Regulations", "Code", "Manual")


def _may_match(rx: re.Pattern[str], t: str, digit: bool) -> bool:
    """False only when `rx` (one of the patterns after _KIND_CITE) cannot match in `t`."""
    if rx is _DOC_ONLY:
        return any(w in t for w in _DOC_ONLY_WORDS)
    if not digit:
        return False
    if rx is _TITLE_CITE:
        return _TITLE_NEEDS.search(t) is not None
    if rx is _BARE_CITE:
        return _BARE_NEEDS.search(t) is not None
    if rx is _SEE_CITE:
        folded = t.casefold()
        return any(w in folded for w in _SEE_WORDS)
    return True


def extract_citations(text: str) -> list[Citation]:
    """All citations in `text`, in order; overlapping matches keep the earliest, longest one."""
    if not text:
        return []
    t = _ANY_INVISIBLE.sub(" ", text)  # as text.translate(_INVISIBLE), ten times faster
    found: list[Citation] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def add(c: Citation) -> None:
        found.append(c)
        taken.append((c.start, c.end))

    # nothing in code counts; links, external ones included: the resolver keeps those unresolved, saying why
    code = [m.span() for m in _CODE.finditer(t)] if "`" in t else []

    def in_code(pos: int) -> bool:  # a link whose text holds code ("[`match`](x.md)") is still a link
        return any(a <= pos < b for a, b in code)

    for m in _MD_LINK.finditer(t) if "](" in t else ():
        if in_code(m.start()):
            continue
        href = m.group("href")
        path, _, frag = href.partition("#")
        add(Citation(m.group(0), m.start(), m.end(), [], "link", path or None, href))
    for m in _HTML_LINK.finditer(t) if "<a" in t or "<A" in t else ():
        href = m.group("href")
        if not free(m.start(), m.end()) or in_code(m.start()):
            continue
        path, _, frag = href.partition("#")
        add(Citation(m.group(0), m.start(), m.end(), [], "link", path or None, href))
    taken.extend(code)

    digit = _DIGIT.search(t) is not None
    pos = 0 if _KIND_NEEDS.search(t) else len(t) + 1
    while (m := _KIND_CITE.search(t, pos)) is not None:
        pos = max(m.end(), m.start() + 1)
        kind = _kind(m.group("kind"))
        s_items = m.start("items")
        first = _FIRST_ITEM.match(m.group("items"))
        if first is None:
            continue
        first_item = first.group(0).strip()
        roman = re.fullmatch(_ROMAN, first_item) is not None
        if roman and (kind not in CONTAINER_KINDS | {"section", "article"} or first_item.lower() not in _ROMANS):
            continue
        if not roman and _is_quantity(t, s_items, s_items + first.end(), first_item):
            continue
        if kind in ("regulation", "rule", "section") and _YEAR.match(first_item):
            continue  # "Regulations 2015" is a title, not a number
        segs, used = _split_items(m.group("items"), s_items, t)
        if not segs:
            continue
        start, end = m.start("kind"), s_items + used
        predoc, pre_start = None, m.start("kind")
        if m.group("pre") and not _after_caps(t, m.start()):
            if m.group("predoc"):
                predoc, pre_start = _doc_or_none(m.group("predoc")), m.start("predoc")
            elif "\n" not in t[m.end("title"):m.start("kind")]:  # a title on the line before is a heading
                # "the Blood Transfusion Policy, section 4.3", 'the Sepsis Guideline ("SG"), section 2.1'
                predoc = _doc_or_none(t[m.start("title"):m.end("tdef") if m.group("tdef") else m.end("title")])
                pre_start = m.start("title")
        if predoc:
            start = pre_start
        postdoc, cont = None, None
        if m.group("post") and used == len(m.group("items")):
            if m.group("cont"):  # "A4.6.14 of App 4", "Part 3 of Schedule 1 of the FSMR"
                chain = re.split(r"\s+(?:of|in)\s+(?:the\s+)?", m.group("cont"), flags=re.I)
                cont = ".".join(re.sub(r"\s+", " ", c) for c in reversed(chain))
                postdoc = _doc_name(m.group("contdoc"))
                end = m.end("contdoc") if postdoc else m.end("cont")
            else:
                postdoc, n_used = _leading_doc_name(m.group("postdoc"))
                if postdoc:
                    end = m.start("postdoc") + n_used
        if not free(start, end):
            continue
        if end < pos:  # a trailing name cut short ("of the X Policy and the Y Policy, section 2"): look again there
            pos = max(end, m.start() + 1)
        if cont:
            last_kw, last_nums = segs[-1]
            ck = _kind(last_kw or m.group("kind"))
            pre = f"{cont}.{ck} " if ck in CONTAINER_KINDS else f"{cont}."
            segs[-1] = (last_kw, [pre + n for n in last_nums])
        if postdoc and len(segs) > 1:  # "Rules 8.8.5 and Part 10 of the FSMR": the name binds to the last kind
            head = [n for _, nums in segs[:-1] for n in nums]
            add(Citation(t[start:end], start, end, head, kind, predoc, None))
            add(Citation(t[start:end], start, end, segs[-1][1], _kind(segs[-1][0] or m.group("kind")), postdoc, None))
        elif predoc and len({_kind(k) for k, _ in segs[1:] if k} - {kind}) > 0:
            # "COBS Rule 17.2.2 and paragraph 25": the leading name binds to its own kind only
            same = [n for k, ns in segs if k is None or _kind(k) == kind for n in ns]
            other = [(k, ns) for k, ns in segs if k is not None and _kind(k) != kind]
            add(Citation(t[start:end], start, end, same, kind, predoc, None))
            for k, ns in other:
                add(Citation(t[start:end], start, end, ns, _kind(k), postdoc, None))
        else:
            nums = [n for _, nums in segs for n in nums]
            add(Citation(t[start:end], start, end, nums, kind, postdoc or predoc, None))

    for rx, kind in ((_ACRO_CITE, "rule"), (_TITLE_CITE, None), (_SEE_CITE, None), (_BARE_CITE, None)):
        for m in rx.finditer(t) if _may_match(rx, t, digit) else ():
            s_items = m.start("items")
            if not free(m.start(), m.end()):
                continue
            segs, used = _split_items(m.group("items"), s_items, t)
            nums = [n for _, ns in segs for n in ns if not _DATE_LIKE.match(n)]
            if not nums or _is_quantity(t, s_items, m.end("items"), nums[0]):
                continue
            if rx is _SEE_CITE and len(label_parts(nums[0])) == 1 and _YEAR.match(nums[0]):
                continue
            doc = _doc_or_none(m.group("predoc")) if "predoc" in rx.groupindex and not _after_caps(t, m.start()) else None
            if rx in (_ACRO_CITE, _TITLE_CITE) and doc is None:
                continue
            if rx is _TITLE_CITE and len(nums) == 1 and _YEAR.match(nums[0]):
                continue  # "the Data Protection Policy 2023" is a title with its year
            if rx is _BARE_CITE and _not_a_label(t, m.end("items"), nums[0]):
                continue
            start, end = (m.start("predoc") if doc else s_items), s_items + used
            # a bare number, or an acronym and numbers with no kind word ("ICU 58.2", "TLS 1.3" are versions
            # as often as "FEES 1.2.8" is a rule): references only where they resolve
            add(Citation(t[start:end], start, end, nums, kind, doc, None, loose=rx in (_BARE_CITE, _ACRO_CITE)))

    for m in _DOC_ONLY.finditer(t) if _may_match(_DOC_ONLY, t, digit) else ():
        if free(m.start("doc"), m.end("doc")) and _doc_or_none(m.group("doc")):
            add(Citation(m.group("doc"), m.start("doc"), m.end("doc"), [], "document", m.group("doc"), None))

    found.sort(key=lambda c: (c.start, c.end))
    return found
