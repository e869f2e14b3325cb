"""Training examples from labelled BEIR-like data, the feedback store and synthetic questions."""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from server.corpus import Corpus

__all__ = ["Example", "Source", "labelled_examples", "feedback_examples", "split_queries", "positives_by_query"]


@dataclass
class Example:
    query: str
    positive: str  # passage id
    label: float = 1.0  # graded relevance mapped to 0..1
    weight: float = 1.0
    source: str = "labels"
    negatives: list[str] = field(default_factory=list)  # passage ids known not to be relevant (e.g. feedback)


@dataclass
class Source:
    """One corpus with (optionally) labelled queries."""

    name: str
    corpus: Corpus
    queries: dict[str, str] = field(default_factory=dict)
    qrels: dict[str, dict[str, float]] = field(default_factory=dict)
    validate: bool = True  # with TrainConfig.val_fraction > 0, hold back a hashed fraction of this source's queries


def positives_by_query(source: Source) -> dict[str, set[str]]:
    """query text -> every judged-relevant passage id (all of them, not only those sampled)."""
    out: dict[str, set[str]] = defaultdict(set)
    for qid, rels in source.qrels.items():
        if qid in source.queries:
            out[source.queries[qid]].update(pid for pid, s in rels.items() if s > 0)
    return out


def split_queries(source: Source, holdout: int, seed: int) -> tuple[list[str], list[str]]:
    """(train query ids, held-back query ids): held back = min(holdout, 10% of the judged queries)."""
    judged = sorted(q for q in source.queries if any(s > 0 for s in source.qrels.get(q, {}).values()))
    rng = random.Random(seed)
    rng.shuffle(judged)
    n = min(holdout, len(judged) // 10)
    return judged[n:], judged[:n]


def labelled_examples(source: Source, qids: list[str], per_query: int, rng: random.Random) -> list[Example]:
    """Up to `per_query` positives per query, higher grades first; grades mapped to 0..1 by the max."""
    top = max((s for q in qids for s in source.qrels.get(q, {}).values()), default=1.0) or 1.0
    out: list[Example] = []
    for qid in qids:
        rels = [(pid, s) for pid, s in source.qrels.get(qid, {}).items() if s > 0 and pid in source.corpus.by_id]
        rng.shuffle(rels)
        rels.sort(key=lambda r: -r[1])
        for pid, s in rels[:per_query]:
            out.append(Example(source.queries[qid], pid, label=s / top, weight=s / top, source=f"labels:{source.name}"))
    return out


def feedback_examples(pairs: list[dict], corpus: Corpus) -> tuple[list[Example], int]:
    """Feedback rows -> examples: each relevant verdict a positive, the query's negative verdicts
    attached to it as explicit negatives (strongest first). Returns (examples, unusable rows)."""
    pos: dict[str, list[dict]] = defaultdict(list)
    neg: dict[str, list[dict]] = defaultdict(list)
    unusable = 0
    for p in pairs:
        if p["passage_id"] not in corpus.by_id:
            unusable += 1
            continue
        (pos if p["label"] > 0 else neg)[p["query"]].append(p)
    out: list[Example] = []
    for query, rows in pos.items():
        negs = [n["passage_id"] for n in sorted(neg.get(query, []), key=lambda n: -n["weight"])]
        for r in rows:
            out.append(Example(query, r["passage_id"], label=1.0, weight=r["weight"], source="feedback", negatives=negs))
    unusable += sum(len(v) for q, v in neg.items() if q not in pos)  # a negative needs a positive beside it
    return out, unusable


def sample_by_weight(examples: list[Example], n: int, rng: random.Random) -> list[Example]:
    """At most n examples, drawn without replacement with probability proportional to weight."""
    if len(examples) <= n:
        return list(examples)
    keyed = sorted(examples, key=lambda e: rng.random() ** (1.0 / max(e.weight, 1e-6)), reverse=True)
    return keyed[:n]
