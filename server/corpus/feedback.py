"""The feedback store: verdicts of users and agents on (query, passage) pairs, in SQLite (WAL).

Each verdict becomes a training pair with a weight (its strength): an expert who deletes a
misleading citation is a strong negative, a skip a weak one."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from server.errors import UsageError
from server.limits import check_text, shown

__all__ = ["FeedbackStore", "Feedback", "VERDICTS"]

# verdict -> (label for training, weight = strength of the signal)
VERDICTS: dict[str, tuple[float, float]] = {
    "relevant": (1.0, 1.0),
    "irrelevant": (0.0, 0.6),
    "misleading": (0.0, 1.0),  # the expert removed it: a strong negative
    "skipped": (0.0, 0.2),  # seen and passed over: weak
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    client TEXT NOT NULL,
    query TEXT NOT NULL,
    passage_id TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('relevant', 'irrelevant', 'misleading', 'skipped')),
    note TEXT
);
CREATE INDEX IF NOT EXISTS feedback_query ON feedback (query);
"""


@dataclass(frozen=True)
class Feedback:
    id: int
    time: float
    client: str
    query: str
    passage_id: str
    verdict: str
    note: str | None

    @property
    def label(self) -> float:
        return VERDICTS[self.verdict][0]

    @property
    def weight(self) -> float:
        return VERDICTS[self.verdict][1]


def validate(query: str, passage_id: str, verdict: str, note: str | None, client: str) -> None:
    if verdict not in VERDICTS:
        raise UsageError(f"verdict must be one of {', '.join(VERDICTS)}, got {shown(verdict)}")
    check_text("query", query)
    check_text("passage_id", passage_id, "id")
    check_text("note", note or "", "note", required=False)
    check_text("client", client, "id")


class FeedbackStore:
    """One SQLite file; safe for threads (a connection per thread) and processes (WAL, busy timeout)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def add(self, query: str, passage_id: str, verdict: str, note: str | None = None, client: str = "cli") -> int:
        """Store one verdict; returns its row id once committed."""
        validate(query, passage_id, verdict, note, client)
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "INSERT INTO feedback (time, client, query, passage_id, verdict, note) VALUES (?, ?, ?, ?, ?, ?)",
                (time.time(), client, query.strip(), passage_id, verdict, note),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(cur.lastrowid)

    def all(self) -> list[Feedback]:
        rows = self._conn().execute(
            "SELECT id, time, client, query, passage_id, verdict, note FROM feedback ORDER BY id").fetchall()
        return [Feedback(*r) for r in rows]

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def pairs(self) -> list[dict]:
        """Training pairs: the latest verdict per (query, passage) wins."""
        latest: dict[tuple[str, str], Feedback] = {}
        for f in self.all():
            latest[(f.query, f.passage_id)] = f
        return [{"query": f.query, "passage_id": f.passage_id, "label": f.label, "weight": f.weight,
                 "verdict": f.verdict} for f in latest.values()]

    def export(self, out: Path | str) -> int:
        pairs = self.pairs()
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as f:
            for p in pairs:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
        return len(pairs)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def as_dicts(self) -> list[dict]:
        return [asdict(f) for f in self.all()]
