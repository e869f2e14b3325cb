"""Resolve citations to passages: per-document label index plus document aliases learned from the corpus.

Hyperlinks are resolved by path (`graph.links`), their `#fragment` by the anchors of the target page.
Aliases come from document titles (cleaned of versions/dates), their acronyms, a title-like first
heading, and definitions in the text itself: 'Long Name ("ABBR")' and glossary rows 'ABBR<TAB>Means the Long Name'.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from urllib.parse import unquote

from graph.links import EXTERNAL, LABEL_SCHEME, OWN_PASSAGE, LinkIndex, by_path, is_external
from graph.model import Citation, Passage, Reference
from graph.parsers.text import github_slug
from graph.references import CONTAINER_KINDS, extract_citations, label_parts

__all__ = ["ReferenceResolver", "resolve_references", "alias_key", "acronym"]

_STOP = frozenset({"of", "and", "for", "on", "in", "the", "to", "&", "a", "an", "by", "with", "at"})
_DOCTYPE = frozenset({
    "rules", "rule", "rulebook", "rulebooks", "regulations", "regulation", "code", "manual", "module",
    "act", "law", "guidance", "directive", "notes", "note",
})
_EXT = re.compile(r"\.(?:md|markdown|txt|html?|pdf|docx?|jsonl?|rst)$", re.I)
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_VERSION = re.compile(r"(?:[\s_-]+(?:VER|ver|Version|v)\s*[\d.]+\w*|\b(?:Consolidated|Final|Draft|Eng)\b).*$")
_DATE_TAIL = re.compile(
    r"(?:\s+\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{4}|\s+\d{6,8}|\s+\(\d+\))\s*$", re.I)
_YEAR_TAIL = re.compile(r"\s+(?:19|20)\d\d$")
_WORD = re.compile(r"[A-Za-z][\w'’&-]*")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]{1,9}$")
# 'Long Name ("ABBR")', 'Long Name (ABBR)', 'Long Name (the "ABBR")'
_PAREN_DEF = re.compile(r"\((?:the\s+)?[“\"‘']?(?P<abbr>[A-Z][A-Za-z0-9&]{1,9})[”\"’']?\)")
_GLOSS_DEF = re.compile(
    r"^(?P<abbr>[A-Z][A-Z0-9&]{1,9})\s*(?:\t|:|\s[–-]\s)\s*(?:Means|means|Refers to|refers to|is)\s+(?:the\s+)?"
    r"(?P<long>[^.;,\n]{3,120})", re.M)
_CLEAN_LONG = re.compile(r"^[A-Z][\w'’&,\- ]+$")
_PARA_LABEL = re.compile(r"^\s*\(?\d{1,4}[a-z]?\)\s*$")
_RELEASE_HEADING = re.compile(
    r"^\s*v?\d+(?:\.\d+)+\b.*(?:\b(?:19|20)\d\d\b|\b(?:release[sd]?|version)\b)|^\s*(?:release|version)\s+v?\d", re.I)
_NOT_PARA_KINDS = frozenset({"rule", "section", "article", "chapter", "part", "regulation", "schedule", "appendix", "annex"})


def alias_key(name: str) -> str:
    """Comparable core of a document name: lowercase, no 'the', year, or trailing 'Rules'/'Regulations'."""
    s = re.sub(r"[_\s]+", " ", name).strip(" .,;:'\"“”‘’").lower()
    s = re.sub(r"^the\s+", "", s)
    s = _YEAR_TAIL.sub("", s)
    words = s.split()
    while len(words) > 1 and words[-1] in _DOCTYPE:
        words.pop()
    while len(words) > 1 and (words[-1] in _STOP or not re.search(r"\w", words[-1])):
        words.pop()
    return " ".join(words).strip(" -–")


def acronym(name: str) -> str:
    """Initials of the significant words: 'Financial Services and Markets Regulations' -> 'FSMR'."""
    return "".join(w[0].upper() for w in _WORD.findall(name) if w.lower() not in _STOP)


def _clean_title(title: str) -> str:
    s = _EXT.sub("", title.strip()).replace("_", " ")
    s = _BRACKETS.sub(" ", s)
    s = _VERSION.sub("", s).split("(")[0]
    s = _DATE_TAIL.sub("", s)
    return re.sub(r"\s+", " ", s).strip(" -–.,")


def _long_form(before: str, abbr: str) -> str | None:
    """Schwartz-Hearst: the shortest run of words before '(ABBR)' whose letters spell ABBR in order."""
    words = before.split()[-(min(len(abbr) + 5, len(abbr) * 2)):]
    if not words:
        return None
    cand = " ".join(words)
    a, s = abbr.lower(), cand.lower()
    si, ai = len(s) - 1, len(a) - 1
    while ai >= 0:
        c = a[ai]
        if not c.isalnum():
            ai -= 1
            continue
        while si >= 0 and (s[si] != c or (ai == 0 and si > 0 and s[si - 1].isalnum())):
            si -= 1
        if si < 0:
            return None
        si -= 1
        ai -= 1
    start = s.rfind(" ", 0, si + 1) + 1
    long = cand[start:].strip(" ,;:(\"“")
    if len(long.split()) < 2 or not long[:1].isupper():
        return None
    return long


class ReferenceResolver:
    """Maps (citing passage, citation) to target passage ids within the right document."""

    def __init__(self, passages: Sequence[Passage], site_root: str | None = None,
                 defs: dict[str, list[tuple[str, str]]] | None = None) -> None:
        """`site_root`: the URL path the indexed folder is served at, for links like `/docs/x/` (see `graph.links`).
        `defs`: the abbreviation definitions of some documents, found already (`defs_by_doc` of a resolver
        built before): their passages' text is not read (an incremental re-index gives them without it)."""
        self.passages: dict[str, Passage] = {p.id: p for p in passages}
        self._site_root = site_root
        self._paths = list(dict.fromkeys((p.source, p.doc_id) for p in passages if by_path(p)))
        self.links = LinkIndex(self._paths, site_root)
        self._labels: dict[str, dict[str, list[tuple[int, int, int, str]]]] = defaultdict(lambda: defaultdict(list))
        self._anchors: dict[str, dict[str, str]] = defaultdict(dict)
        self._labels_defined: dict[str, dict[str, str]] = defaultdict(dict)  # rst label -> {doc: passage}
        self._root: dict[str, tuple[int, str]] = {}
        self._files: dict[str, str] = {}
        # alias key -> {doc_id: priority}; lower priority wins
        self.aliases: dict[str, dict[str, int]] = defaultdict(dict)
        self.doc_titles: dict[str, str] = {}
        self._has_child: set[str] = set()
        self._para: set[str] = set()
        self.releases: set[str] = set()  # passages under a release heading (of documents indexed so far: `is_release`)
        self._prefixes: dict[str, set[str]] = defaultdict(set)
        self.defs_by_doc: dict[str, list[tuple[str, str]]] = {}  # document -> its 'Long Name (ABBR)' definitions
        # a document's label and anchor tables are built when a citation first looks into it (`_ensure`): a
        # re-index resolves a few documents' references and need not index the whole corpus's labels
        self._by_doc: dict[str, list[Passage]] = defaultdict(list)
        for p in passages:
            self._by_doc[p.doc_id].append(p)
            d = p.doc_id
            self.doc_titles.setdefault(d, p.doc_title)
            if d not in self._root or p.ord < self._root[d][0]:
                self._root[d] = (p.ord, p.id)
            for a in p.anchors:
                if a.startswith(LABEL_SCHEME):
                    self._labels_defined[a.lower()].setdefault(d, p.id)
        self._indexed: set[str] = set()
        self._learn_aliases(passages, defs or {})

    # -- indexing ---------------------------------------------------------------------------
    def _ensure(self, d: str) -> None:
        """Build document `d`'s label, anchor and paragraph tables (once)."""
        if d in self._indexed:
            return
        self._indexed.add(d)
        doc = sorted(self._by_doc.get(d, ()), key=lambda x: x.ord)
        for a, b in zip(doc, doc[1:]):  # among equal labels prefer the one that opens a numbered section
            if a.label and b.label:
                pa, pb = label_parts(a.label), label_parts(b.label)
                if pa and len(pb) > len(pa) and pb[: len(pa)] == pa:
                    self._has_child.add(a.id)
        for p in self._by_doc.get(d, ()):
            self._index_passage(p)

    def is_release(self, pid: str, doc: str) -> bool:
        """`pid` (a passage of `doc`) lies under a release heading ("1.1.32: Nov 02 2017")."""
        self._ensure(doc)
        return pid in self.releases

    def _index_passage(self, p: Passage) -> None:
        d = p.doc_id
        for a in p.anchors:
            self._anchors[d].setdefault(a.lstrip("#").lower(), p.id)
        if not p.label:
            return
        parts = label_parts(p.label)
        if not parts:
            return
        idx = self._labels[d]
        opens = 0 if p.id in self._has_child else 1
        if p.heading_path and _RELEASE_HEADING.search(p.heading_path[-1]):
            self.releases.add(p.id)
        if _PARA_LABEL.match(p.label):
            self._para.add(p.id)
        keys = [(0, parts)]
        lead = 0
        while lead < len(parts) - 1 and " " in parts[lead]:
            lead += 1  # leading containers ("part 8", "chapter 1", "schedule 1")
        weight = 0
        for i in range(lead):
            weight += 10 if parts[i].split()[0] in ("schedule", "app", "annex") else 1
            keys.append((weight, parts[i + 1:]))
        if lead >= 2:  # "Schedule 1.Part 2.Chapter 18.76" is also "Schedule 1.76"
            keys.append((lead - 1, parts[:1] + parts[lead:]))
        prefixes = self._prefixes[d]
        for w, k in keys:
            idx[".".join(k)].append((w, opens, p.ord, p.id))
            for j in range(1, len(k)):
                prefixes.add(".".join(k[:j]))

    def _add_alias(self, name: str, doc: str, prio: int) -> None:
        k = alias_key(name)
        if len(k) < 2 or k.isdigit():
            return
        cur = self.aliases[k].get(doc)
        if cur is None or prio < cur:
            self.aliases[k][doc] = prio

    def _learn_aliases(self, passages: Sequence[Passage], known: dict[str, list[tuple[str, str]]]) -> None:
        first: dict[str, Passage] = {}
        for p in passages:
            if p.doc_id not in first or p.ord < first[p.doc_id].ord:
                first[p.doc_id] = p
        for d, title in self.doc_titles.items():
            self._files[_EXT.sub("", d).lower()] = d
            self._files[_EXT.sub("", title.strip()).lower()] = d
            clean = _clean_title(title)
            names = [clean]
            fp = first.get(d)
            if fp and fp.label and re.search(r"[A-Za-z]{3}", fp.label) and not re.search(r"\d(?!\d{3}\b)", re.sub(r"\b(19|20)\d\d\b", "", fp.label)):
                if len(fp.label.split()) >= 2:
                    names.append(fp.label)
            for n in names:
                self._add_alias(n, d, 0)
                words = n.split()
                if words and _ACRONYM.match(words[0]) and all(
                        w.lower() in _DOCTYPE or re.fullmatch(r"[\d.]+", w) for w in words[1:]):
                    self._add_alias(words[0], d, 0)
                sig = [w for w in _WORD.findall(n) if w.lower() not in _STOP]
                if len(sig) >= 3 and all(w[0].isupper() for w in sig):
                    ac = acronym(n)
                    self._add_alias(ac, d, 2)
                    if sig[-1].lower() in _DOCTYPE and len(ac) > 3:
                        self._add_alias(ac[:-1], d, 2)
        by_doc = self.defs_by_doc
        defs: list[tuple[str, str]] = []  # in the order of the passages they are found in
        for p in passages:
            if p.doc_id in known:
                if p.doc_id not in by_doc:
                    by_doc[p.doc_id] = [(str(a), str(b)) for a, b in known[p.doc_id]]
                    defs.extend(by_doc[p.doc_id])
                continue
            found = by_doc.setdefault(p.doc_id, [])
            text = p.text
            if "(" in text:
                for m in _PAREN_DEF.finditer(text):
                    long = _long_form(text[max(0, m.start() - 200):m.start()], m.group("abbr"))
                    if long and _CLEAN_LONG.match(long):
                        found.append((m.group("abbr"), long))
                        defs.append(found[-1])
            if "\t" in text or ":" in text:
                for m in _GLOSS_DEF.finditer(text):
                    if _CLEAN_LONG.match(m.group("long").strip()):
                        found.append((m.group("abbr"), m.group("long").strip()))
                        defs.append(found[-1])
        for _ in range(2):  # a definition can link an abbreviation learned by another definition
            for abbr, long in defs:
                ka, kl = alias_key(abbr), alias_key(long)
                for d, prio in list(self.aliases.get(ka, {}).items()):
                    if prio <= 1:
                        self._add_alias(long, d, 1)
                for d, prio in list(self.aliases.get(kl, {}).items()):
                    if prio <= 1:
                        self._add_alias(abbr, d, 1)

    # -- lookup -----------------------------------------------------------------------------
    def document_for(self, name: str, own_doc: str | None = None) -> str | None:
        """The doc_id a written document name refers to, or None when unknown or ambiguous."""
        pieces = [name] + re.split(r"\s*(?:,|\band\b|\bor\b|/)\s*", name)[:1]
        if "(" in name:  # 'Anticoagulation Policy (ACP)': the name, then the abbreviation defined with it
            inner = re.findall(r"\(([^()]*)\)", name)
            pieces = [_BRACKETS.sub(" ", name)] + [re.sub(r"^the\s+", "", i.strip(" \"“”‘’'")) for i in inner]
        for piece in pieces:
            cands = self.aliases.get(alias_key(piece))
            if not cands:
                continue
            best = min(cands.values())
            top = [d for d, pr in cands.items() if pr == best]
            if len(top) == 1:
                return top[0]
            if own_doc in top:
                return own_doc
            return None
        return None

    def _lookup(self, doc: str, number: str, kind: str | None) -> tuple[str | None, int, int]:
        """(passage id, label components matched, key weight): the exact label, else the nearest ancestor that
        is a numbered container in that document (has labelled children), else (None, 0)."""
        self._ensure(doc)
        idx = self._labels.get(doc)
        parts = label_parts(number)
        if not idx or not parts:
            return None, 0, 0
        prefixes = self._prefixes[doc]
        tries: list[list[str]] = []
        if kind in CONTAINER_KINDS | {"section", "article"} and " " not in parts[0]:
            word = "app" if kind == "appendix" else kind
            tries.append([f"{word} {parts[0]}"] + parts[1:])
        tries.append(parts)
        if " " in parts[0] and len(parts) > 1 and (
                parts[0].split()[0] in ("part", "chapter", "section", "article") or parts[0] not in idx):
            tries.append(parts[1:])
        best: tuple[str | None, int, int] = (None, 0, 0)
        for cand in tries:
            for k in range(len(cand), 0, -1):
                key = ".".join(cand[:k])
                hits = idx.get(key)
                if not hits:
                    continue
                weight, _, _, pid = min(hits)
                if pid in self._para and kind in _NOT_PARA_KINDS:
                    break  # "Chapter 11" is not numbered paragraph "11)"
                depth = k - (len(cand) - len(parts))
                if k == len(cand):
                    return pid, len(parts), weight
                # a lone top-level number is a fallback only when it heads numbered children:
                # "113(1)(a)" -> "113" yes, "Rule 11.2.1" -> paragraph "11)" no
                if (depth >= 2 or key in prefixes) and depth > best[1]:
                    best = (pid, depth, weight)
                break
        return best

    def _link_doc(self, passage: Passage, href: str) -> tuple[str | None, str, str | None]:
        """(document, fragment, reason when no document) of a link written in `passage`."""
        if by_path(passage) and self.links:
            t = self.links.locate(href, passage.source, passage.doc_id)
            return t.doc, t.fragment, t.reason
        if is_external(href):
            return None, "", EXTERNAL
        # passages without a file of their own (built by hand, pre-chunked): the file name's stem, then a title
        path, _, frag = href.partition("#")
        if not path:
            return passage.doc_id, frag, None
        stem = _EXT.sub("", path.rstrip("/").rsplit("/", 1)[-1]).lower()
        doc = self._files.get(stem) or self.document_for(stem.replace("-", " ").replace("_", " "))
        return doc, frag, None if doc else f"no indexed document {path}"

    def _anchor(self, doc: str, fragment: str) -> str | None:
        """The passage an anchor names: as written, as a heading slug, or as a section number."""
        self._ensure(doc)
        anchors = self._anchors.get(doc, {})
        key = fragment.lower()
        hit = anchors.get(key) or anchors.get(github_slug(fragment))
        if hit is None and re.match(r"^\d", key):
            hit = self._lookup(doc, key.replace("-", "."), None)[0]
        return hit

    def _label_targets(self, passage: Passage, label: str) -> tuple[list[str], str | None]:
        """A Sphinx `:ref:` label, defined once in the whole corpus (the citing document's own wins)."""
        hits = self._labels_defined.get(LABEL_SCHEME + unquote(label).lower(), {})
        if passage.doc_id in hits:
            return [hits[passage.doc_id]], None
        if len(hits) == 1:
            return list(hits.values()), None
        return [], f"label {unquote(label)} is defined in {len(hits)} documents" if hits else f"no label {unquote(label)}"

    def _link_targets(self, passage: Passage, citation: Citation) -> tuple[list[str], str | None]:
        if (citation.anchor or "").startswith(LABEL_SCHEME):
            return self._label_targets(passage, citation.anchor[len(LABEL_SCHEME):])
        doc, frag, reason = self._link_doc(passage, citation.anchor or "")
        if doc is None:
            return [], reason
        own = doc == passage.doc_id
        if frag:
            hit = self._anchor(doc, frag)
            if hit:
                return [hit], None
            if own:
                return [], f"no anchor #{frag} on this page"
        if own:
            return [], "link to its own page"
        # a page without the anchor opens at its top, as in a browser
        return ([self._root[doc][1]], None) if doc in self._root else ([], "no passage in the linked document")

    def _scope(self, passage: Passage) -> str | None:
        parts = label_parts(passage.label) if passage.label else []
        if parts and " " in parts[0] and parts[0].split()[0] in ("schedule", "app", "annex"):
            return parts[0]
        return None

    def fingerprint(self) -> str:
        """Equal for two corpora in which every document name, file path and `:ref:` label leads to the same
        documents: then a citation's targets can change only where a document it consults changed (`consulted`)."""
        state = [
            sorted((k, sorted(v.items())) for k, v in self.aliases.items()),
            sorted(self._files.items()), self._paths, self._site_root, sorted(self.doc_titles.items()),
            sorted((k, sorted(v)) for k, v in self._labels_defined.items()),
        ]
        return hashlib.sha256(json.dumps(state).encode("utf-8")).hexdigest()

    def consulted(self, passage: Passage, citation: Citation, context_docs: Sequence[str] = ()) -> set[str]:
        """The documents whose passages `explain(passage, citation, context_docs)` looks at."""
        docs = {passage.doc_id, *context_docs}
        anchor = citation.anchor or ""
        if citation.kind == "link" and anchor.startswith(LABEL_SCHEME):
            docs.update(self._labels_defined.get(LABEL_SCHEME + unquote(anchor[len(LABEL_SCHEME):]).lower(), {}))
        elif citation.kind == "link":
            docs.add(self._link_doc(passage, anchor)[0] or passage.doc_id)
        elif citation.document:
            docs.add(self.document_for(citation.document, passage.doc_id) or passage.doc_id)
        return docs

    def resolve(self, passage: Passage, citation: Citation, context_docs: Sequence[str] = ()) -> list[str]:
        """Target passage ids of `citation` made in `passage`; [] when it cannot be resolved.

        `context_docs`: documents an unqualified citation may mean when the citing document lacks the
        cited number (e.g. named earlier in the same passage); used only when they match more deeply.
        """
        return self.explain(passage, citation, context_docs)[0]

    def explain(self, passage: Passage, citation: Citation, context_docs: Sequence[str] = ()) -> tuple[list[str], str | None]:
        """`resolve`'s targets and, when there are none, why."""
        reason: str | None = None
        if citation.kind == "link":
            out, reason = self._link_targets(passage, citation)
        else:
            doc: str | None = passage.doc_id
            if citation.document:
                doc = self.document_for(citation.document, passage.doc_id)
            if doc is None:
                return [], f"no indexed document named {citation.document}"
            if not citation.numbers:
                out = [self._root[doc][1]] if doc != passage.doc_id and doc in self._root else []
            else:
                out = []
                scope = self._scope(passage) if doc == passage.doc_id else None
                for n in citation.numbers:
                    t, depth = None, 0
                    if scope and " " not in (label_parts(n) or [" "])[0]:
                        # inside a schedule/appendix, "paragraph 64" means that schedule's paragraph 64
                        t, depth, _ = self._lookup(doc, f"{scope}.{n}", None)
                        depth = depth - 1 if depth == len(label_parts(n)) + 1 else 0
                        t = t if depth else None
                    if t is None:
                        t, depth, _ = self._lookup(doc, n, citation.kind)
                    if not citation.document and depth < len(label_parts(n)):
                        dotted = len(label_parts(n.split("(")[0])) or 1
                        for cd in context_docs:
                            if cd != doc:
                                t2, d2, w2 = self._lookup(cd, n, citation.kind)
                                if d2 > depth and d2 >= dotted and w2 < 10:
                                    t, depth = t2, d2
                    if t and t not in out:
                        out.append(t)
            if not out:
                reason = f"no {citation.kind or 'label'} {', '.join(citation.numbers)} in {doc}" if citation.numbers else "no such document"
        out = [t for t in out if t != passage.id]
        return out, (reason or OWN_PASSAGE) if not out else None


def resolve_references(
    passages: Sequence[Passage], resolver: ReferenceResolver | None = None, site_root: str | None = None,
    *, only: Collection[str] | None = None, consulted: dict[str, set[str]] | None = None,
    citations: dict[str, list[Citation]] | None = None,
) -> list[Reference]:
    """Every citation of every passage as a Reference (empty targets and a reason when unresolved); never a
    self-reference.  A bare number ("2.37.3") that names no label is not a reference and is left out.

    An unqualified citation whose number the citing document lacks may resolve in a document named
    earlier in the same passage, or in the one document its document cites by name most of the time.
    `only`: the documents whose passages' citations are resolved (default all); `consulted`, when given,
    receives for each of them the documents its resolution looked at (`ReferenceResolver.consulted`).
    `citations`: passage id -> its citations, known already (they depend on its text alone); the ones
    extracted here are added.
    """
    r = resolver or ReferenceResolver(passages, site_root=site_root)
    if only is not None:
        passages = [p for p in passages if p.doc_id in only]
    known = {} if citations is None else citations
    cites = [known[p.id] if p.id in known else known.setdefault(p.id, extract_citations(p.text)) for p in passages]
    named: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for p, cs in zip(passages, cites):
        for c in cs:
            if c.document and c.numbers:
                d = r.document_for(c.document, p.doc_id)
                if d and d != p.doc_id:
                    named[p.doc_id][d] += 1
                    kinds[(p.doc_id, d)].add(c.kind)
    dominant: dict[str, str] = {}
    for d, cnt in named.items():
        (top, n), total = cnt.most_common(1)[0], sum(cnt.values())
        if n >= 5 and n >= 0.6 * total:
            dominant[d] = top
    out: list[Reference] = []
    for p, cs in zip(passages, cites):
        ctx: list[str] = []
        external: list[Reference] = []  # listed after the passage's other references (tools show the first few)
        seen: set[tuple[str, tuple[str, ...]]] = set()  # the same citation repeated in a passage counts once
        for c in cs:
            if c.document:
                d = r.document_for(c.document, p.doc_id)
                if d and d != p.doc_id:
                    ctx = [d] + [x for x in ctx if x != d]
            if not c.numbers and c.kind == "document" and r.document_for(c.document or "", p.doc_id) == p.doc_id:
                continue  # the passage names its own document
            dom = dominant.get(p.doc_id)
            # the cited kind must be one this document uses when naming its dominant document
            extra = ctx + ([dom] if dom and c.kind in kinds[(p.doc_id, dom)] else [])
            targets, reason = r.explain(p, c, extra)
            if consulted is not None:
                consulted.setdefault(p.doc_id, {p.doc_id}).update(r.consulted(p, c, extra))
            if c.loose:  # a bare number is a reference only to a clause, never to a release's notes
                targets = [t for t in targets if not r.is_release(t, r.passages[t].doc_id)]
                if not targets:
                    continue
            key = (c.text, tuple(targets))
            if key not in seen:
                seen.add(key)
                ref = Reference(src=p.id, text=c.text, targets=targets, kind="link" if c.kind == "link" else "", reason=reason)
                (external if reason == EXTERNAL else out).append(ref)
        out.extend(external)
    return out
