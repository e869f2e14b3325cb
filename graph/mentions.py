"""Mentions: a passage names another document (title/alias), a defined glossary term, or an entity title.

One token-trie pass over every passage. Precision first: names must be capitalised (acronyms exact),
single common words are never names, terms found in too many passages are dropped, mentions of the
passage's own document are skipped, and each passage keeps at most `max_per_passage` mentions.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from graph.model import Mention, Passage
from graph.resolver import ReferenceResolver

__all__ = [
    "find_mentions", "glossary_terms", "lower_words", "mention_terms", "terms_fingerprint", "term_trie", "scan",
    "select_mentions",
]

_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
_STOP = frozenset({"of", "and", "for", "on", "in", "the", "to", "a", "an", "by", "with", "at", "de", "la", "von", "&"})
# every token whose lowercase is a stop word: only ASCII letters lowercase to theirs (the Kelvin sign, the one
# other letter that lowercases to an ASCII one, is in none)
_STOP_CASES = frozenset(
    "".join(v) for w in _STOP for v in itertools.product(*({ch, ch.upper()} for ch in w)))
_GLOSS_HEAD = re.compile(r"\b(?:definitions?|defined terms|glossary|interpretation|meaning of terms)\b", re.I)
_TAB_TERM = re.compile(r"^(?P<t>[A-Z][^\t\n]{1,80})\t+\s*(?:Means|means|Has|has|Refers|refers|Is|is|In relation)\b", re.M)
_QUOTE_TERM = re.compile(r"[“\"](?P<t>[A-Z][^”\"\n]{1,80})[”\"]\s*(?:means|has the meaning|refers to|includes)\b")
_DISAMBIG = re.compile(r"\s*\([^)]*\)\s*$")


@dataclass
class _Term:
    surface: str
    tokens: tuple[str, ...]
    dst: str
    doc: str
    exact: bool  # acronyms: the text must match case exactly

    @cached_property  # read for every name found in every passage
    def key(self) -> str:
        return " ".join(self.tokens)


def glossary_terms(passages: Sequence[Passage]) -> list[tuple[str, Passage]]:
    """(term, defining passage) from definition passages: 'Term<TAB>Means ...' rows and '"Term" means'."""
    out: list[tuple[str, Passage]] = []
    for p in passages:
        head = " ".join([p.label or "", *p.heading_path, p.text[:300]])
        if not _GLOSS_HEAD.search(head) and "\t" not in p.text:
            continue
        for rx in (_TAB_TERM, _QUOTE_TERM):
            for m in rx.finditer(p.text):
                term = m.group("t").strip()
                if rx is _TAB_TERM and not _GLOSS_HEAD.search(head):
                    continue
                out.append((term, p))
    return out


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _title_like(label: str) -> bool:
    """An entity title (HotpotQA style) rather than a structural number like '2.4.1' or 'Part 5'."""
    if not re.search(r"[A-Za-z]{2}", label) or re.search(r"\d+\.\d", label):
        return False
    return not re.match(r"^(?:part|chapter|section|article|rule|schedule|app(?:endix)?|annex)\b", label, re.I)


def lower_words(passages: Iterable[Passage]) -> set[str]:
    """Words written in lowercase somewhere other than at a passage's start: such a word alone is no name."""
    out: set[str] = set()
    for p in passages:
        out.update(filter(str.islower, _TOKEN.findall(p.text)[1:]))
    return out


def mention_terms(passages: Sequence[Passage], r: ReferenceResolver, lower_vocab: set[str],
                  glossary: Sequence[tuple[str, Passage]] | None = None) -> dict[str, _Term]:
    """The names a passage can mention, by their lowercased words (`_Term.key`); ambiguous ones left out.
    `glossary`: `glossary_terms(passages)`, when known already."""
    terms: list[_Term] = []

    def add(surface: str, dst: str, doc: str, exact: bool) -> None:
        tk = tuple(t.lower() for t in _tokens(surface))
        sig = [t for t in tk if t not in _STOP]
        if not sig or len(surface) < 3:
            return
        if len(sig) == 1 and not exact:
            word = sig[0]
            if word in lower_vocab or len(word) < 4 or word.isdigit():
                return  # a single common or short word is not a name
        terms.append(_Term(surface, tk, dst, doc, exact))

    # 1. document aliases -> the document's first passage
    roots = {d: pid for d, (_, pid) in r._root.items()}
    for key, docs in r.aliases.items():
        best = min(docs.values())
        top = [d for d, pr in docs.items() if pr == best]
        if len(top) != 1 or top[0] not in roots:
            continue
        words = key.split()
        if len(words) == 1:
            if 3 <= len(key) <= 10 and re.fullmatch(r"[a-z][a-z0-9&]+", key):
                add(key.upper(), roots[top[0]], top[0], True)
        elif sum(w not in _STOP for w in words) >= 2:
            add(key, roots[top[0]], top[0], False)
    # 2. glossary terms -> defining passage
    for term, p in glossary_terms(passages) if glossary is None else glossary:
        exact = bool(re.fullmatch(r"[A-Z][A-Z0-9&]{1,9}", term))
        add(term, p.id, p.doc_id, exact)
    # 3. entity titles (pre-chunked records whose label is a title)
    label_count: dict[str, int] = defaultdict(int)
    for p in passages:
        if p.label:
            label_count[p.label.strip().lower()] += 1
    for p in passages:
        if p.label and _title_like(p.label) and label_count[p.label.strip().lower()] == 1:
            name = _DISAMBIG.sub("", p.label.strip())
            add(name, p.id, p.doc_id, bool(re.fullmatch(r"[A-Z][A-Z0-9&]{1,9}", name)))

    # surface forms that point at more than one passage are ambiguous: dropped
    by_tokens: dict[tuple[str, ...], list[_Term]] = defaultdict(list)
    for t in terms:
        by_tokens[t.tokens].append(t)
    return {
        " ".join(tk): min(ts, key=lambda t: (t.surface.islower(), not t.exact))
        for tk, ts in by_tokens.items() if len({t.dst for t in ts}) == 1
    }


def terms_fingerprint(terms: dict[str, _Term]) -> str:
    """Equal for two term sets that find the same names in any text."""
    rows = sorted((k, t.surface, t.dst, t.doc, t.exact) for k, t in terms.items())
    return hashlib.sha256(json.dumps(rows).encode("utf-8")).hexdigest()


def term_trie(terms: dict[str, _Term]) -> dict:
    trie: dict = {}
    for term in terms.values():
        node = trie
        for w in term.tokens:
            node = node.setdefault(w, {})
        node[None] = term
    return trie


def scan(p: Passage, trie: dict) -> list[_Term]:
    """The terms `p` names, longest match first, each once, in order."""
    ts = _tokens(p.text)
    # a token that is not capitalised, a number or a stop word is in no name (`_case_ok`): no walk
    # starts or goes on through it (common lowercase words begin many titles' keys); most tokens are such
    # words, so the test is made once a token, without lowercasing it (`_STOP_CASES`)
    found: list[_Term] = []
    seen: set[int] = set()
    get = trie.get
    i, n = 0, len(ts)
    while i < n:
        t = ts[i]
        c = t[0]
        if not (c.isupper() or c.isdigit() or t in _STOP_CASES):
            i += 1
            continue
        node = get(t.lower())
        j, best, best_j = i, None, i
        while node is not None:
            term = node.get(None)
            if term is not None and _case_ok(term, ts[i:j + 1]):
                best, best_j = term, j
            j += 1
            if j < n:
                t = ts[j]
                c = t[0]
                node = node.get(t.lower()) if c.isupper() or c.isdigit() or t in _STOP_CASES else None
            else:
                node = None
        if best is not None:
            if id(best) not in seen:
                seen.add(id(best))
                found.append(best)
            i = best_j + 1
        else:
            i += 1
    return found


def select_mentions(
    passages: Sequence[Passage], hits: Sequence[list[_Term]], *,
    max_per_passage: int = 8, max_df: float = 0.01, min_df_cap: int = 30,
) -> list[Mention]:
    """Mentions from the terms each passage names (`hits[i]` for `passages[i]`), too common ones dropped."""
    df: dict[int, int] = defaultdict(int)
    for found in hits:
        for t in found:
            df[id(t)] += 1
    cap = max(min_df_cap, int(max_df * len(passages)))
    out: list[Mention] = []
    for p, found in zip(passages, hits):
        kept: set[str] = set()
        for t in found:
            if df[id(t)] > cap or t.doc == p.doc_id or t.dst == p.id or t.dst in kept:
                continue
            kept.add(t.dst)
            out.append(Mention(src=p.id, dst=t.dst, term=t.surface))
            if len(kept) >= max_per_passage:
                break
    return out


def find_mentions(
    passages: Sequence[Passage],
    resolver: ReferenceResolver | None = None,
    *,
    max_per_passage: int = 8,
    max_df: float = 0.01,
    min_df_cap: int = 30,
) -> list[Mention]:
    """Mentions from passages to document roots, glossary entries and entity-titled passages.

    `resolver` supplies the learned document aliases (built here when omitted). A term found in
    more than max(min_df_cap, max_df * len(passages)) passages is treated as too common.
    """
    if not passages:
        return []
    r = resolver or ReferenceResolver(passages)
    # tokens are made per passage, twice, never held for the whole corpus (~150 bytes a token)
    trie = term_trie(mention_terms(passages, r, lower_words(passages)))
    return select_mentions(passages, [scan(p, trie) for p in passages], max_per_passage=max_per_passage,
                           max_df=max_df, min_df_cap=min_df_cap)


def _case_ok(term: _Term, toks: list[str]) -> bool:
    if term.exact:
        return all(a == b.upper() or a == b for a, b in zip(toks, term.surface.split())) and all(
            t[0].isupper() or t[0].isdigit() for t in toks)
    return all(t[0].isupper() or t[0].isdigit() or t.lower() in _STOP for t in toks)
