"""Dead letters: messages ingestion refused, kept in the store, bounded, for people to inspect.

Every store has one :class:`DeadLetterLog` (``TwinGraph.dead_letters``), so
every server process sharing one Neo4j sees the same dead letters, and an
embedded store keeps them in its own journal file:

- embedded: table ``dead_letter`` in the journal's SQLite file (its own
  connection; WAL lets it write beside the journal's connection);
- Neo4j: ``(:DeadLetter)`` nodes (``id`` unique, indexes on ``receivedAt`` and
  ``reason``), ids handed out by one ``(:DeadLetterSequence)`` node inside the
  writing transaction, so ids stay unique and increasing across processes.

Ids increase with arrival; the log keeps the newest ``max_records`` (set it at
any time) and drops the oldest beyond that.  ``add`` is durable when it
returns: ingestion acknowledges refused messages only after it.
"""

from __future__ import annotations

import abc
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graph.errors import GraphError, StoreUnavailableError

__all__ = [
    "DEAD_LETTER_LABEL",
    "DeadLetter",
    "DeadLetterLog",
    "Neo4jDeadLetterLog",
    "SqliteDeadLetterLog",
]

DEAD_LETTER_LABEL = "DeadLetter"
DEFAULT_MAX_RECORDS = 10_000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One refused message; ``id`` and ``received_at`` are set by the log when 0."""

    topic: str
    reason: str
    detail: str
    payload_excerpt: str
    payload_bytes: int
    twin_id: str | None = None
    received_at: float = 0.0  # seconds since the epoch
    id: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class DeadLetterLog(abc.ABC):
    """Bounded, newest-first log of dead letters; thread-safe."""

    def __init__(self, max_records: int = DEFAULT_MAX_RECORDS) -> None:
        self.max_records = max_records

    @property
    def max_records(self) -> int:
        return self._max_records

    @max_records.setter
    def max_records(self, value: int) -> None:
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"dead letter cap must be a positive integer, not {value!r}")
        self._max_records = value

    @abc.abstractmethod
    def add(self, records: Sequence[DeadLetter]) -> None:
        """Keep ``records`` (in order), then drop the oldest beyond ``max_records``."""

    @abc.abstractmethod
    def list(
        self,
        limit: int = 100,
        after: int | None = None,
        reason: str | None = None,
        *,
        before: int | None = None,
        twin_id: str | None = None,
    ) -> list[DeadLetter]:
        """Newest first, at most ``limit``; only ids above ``after`` (new since a
        letter seen before) and below ``before`` (paging backwards), only ``reason``,
        only ``twin_id`` when given."""

    @abc.abstractmethod
    def count(self) -> int:
        """How many the log holds now."""


def _stamped(records: Sequence[DeadLetter]) -> list[DeadLetter]:
    now = time.time()
    return [r if r.received_at else _with_time(r, now) for r in records]


def _with_time(r: DeadLetter, now: float) -> DeadLetter:
    return DeadLetter(
        r.topic, r.reason, r.detail, r.payload_excerpt, r.payload_bytes, r.twin_id, now
    )


_FIELDS = (
    "id",
    "received_at",
    "topic",
    "twin_id",
    "reason",
    "detail",
    "payload_excerpt",
    "payload_bytes",
)


class SqliteDeadLetterLog(DeadLetterLog):
    """The embedded store's log: a table in its journal file."""

    def __init__(self, path: str | Path, max_records: int = DEFAULT_MAX_RECORDS) -> None:
        super().__init__(max_records)
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            # timeout: wait for the journal's own write transactions rather than fail.
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS dead_letter ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL,"
                " topic TEXT NOT NULL, twin_id TEXT, reason TEXT NOT NULL, detail TEXT NOT NULL,"
                " payload_excerpt TEXT NOT NULL, payload_bytes INTEGER NOT NULL)"
            )
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS dead_letter_reason ON dead_letter(reason, id)"
            )
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"cannot open dead letters in {self.path}: {exc}") from exc

    def add(self, records: Sequence[DeadLetter]) -> None:
        if not records:
            return
        rows = [
            (
                r.received_at,
                r.topic,
                r.twin_id,
                r.reason,
                r.detail,
                r.payload_excerpt,
                r.payload_bytes,
            )
            for r in _stamped(records)
        ]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO dead_letter (received_at, topic, twin_id, reason, detail,"
                    " payload_excerpt, payload_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute(
                    "DELETE FROM dead_letter WHERE id <= (SELECT MAX(id) FROM dead_letter) - ?",
                    (self.max_records,),
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreUnavailableError(
                    f"dead letter write failed ({self.path}): {exc}"
                ) from exc

    def list(
        self,
        limit: int = 100,
        after: int | None = None,
        reason: str | None = None,
        *,
        before: int | None = None,
        twin_id: str | None = None,
    ) -> list[DeadLetter]:
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("id > ?", after),
            ("id < ?", before),
            ("reason = ?", reason),
            ("twin_id = ?", twin_id),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = (
            f"SELECT {', '.join(_FIELDS)} FROM dead_letter"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY id DESC LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, [*params, limit]).fetchall()
        return [DeadLetter(**dict(zip(_FIELDS, row, strict=True))) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


Runner = Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]

_L, _SEQ = DEAD_LETTER_LABEL, "DeadLetterSequence"
_NEO4J_SCHEMA = (
    f"CREATE CONSTRAINT graphtwin_dead_letter_id IF NOT EXISTS FOR (d:{_L}) REQUIRE d.id IS UNIQUE",
    f"CREATE CONSTRAINT graphtwin_dead_letter_seq IF NOT EXISTS FOR (s:{_SEQ}) "
    "REQUIRE s.name IS UNIQUE",
    f"CREATE INDEX graphtwin_dead_letter_time IF NOT EXISTS FOR (d:{_L}) ON (d.receivedAt)",
    f"CREATE INDEX graphtwin_dead_letter_reason IF NOT EXISTS FOR (d:{_L}) ON (d.reason)",
)
# One statement: take ids from the sequence node (its write lock serialises writers in
# every process), create the letters, and drop those that fell out of the window.
_ADD = (
    f"MERGE (s:{_SEQ} {{name: 'deadLetters'}}) "
    "SET s.next = coalesce(s.next, 0) + size($rows) "
    "WITH s.next - size($rows) AS base, s.next - $cap AS cut "
    "UNWIND range(0, size($rows) - 1) AS i "
    f"CREATE (d:{_L}) SET d = $rows[i], d.id = base + i + 1 "
    "WITH DISTINCT cut "
    f"MATCH (old:{_L}) WHERE old.id <= cut DELETE old"
)
_LIST = (
    f"MATCH (d:{_L}) WHERE ($after IS NULL OR d.id > $after) "
    "AND ($before IS NULL OR d.id < $before) AND ($reason IS NULL OR d.reason = $reason) "
    "AND ($twin IS NULL OR d.twinId = $twin) "
    "RETURN d.id AS id, d.receivedAt AS received_at, d.topic AS topic, d.twinId AS twin_id, "
    "d.reason AS reason, d.detail AS detail, d.payloadExcerpt AS payload_excerpt, "
    "d.payloadBytes AS payload_bytes ORDER BY d.id DESC LIMIT $limit"
)


class Neo4jDeadLetterLog(DeadLetterLog):
    """``(:DeadLetter)`` nodes, through the store's read and write helpers (which map
    driver errors to ``graph.errors`` and retry transient ones)."""

    def __init__(
        self, run_read: Runner, run_write: Runner, max_records: int = DEFAULT_MAX_RECORDS
    ) -> None:
        super().__init__(max_records)
        self._run_read = run_read
        self._run_write = run_write
        for statement in _NEO4J_SCHEMA:
            try:
                run_write(statement, {})
            except GraphError as exc:
                # Another process created the same rule between our IF NOT EXISTS and ours.
                if "EquivalentSchemaRuleAlreadyExists" not in str(exc):
                    raise

    def add(self, records: Sequence[DeadLetter]) -> None:
        if not records:
            return
        rows = [
            {
                "receivedAt": r.received_at,
                "topic": r.topic,
                "twinId": r.twin_id,
                "reason": r.reason,
                "detail": r.detail,
                "payloadExcerpt": r.payload_excerpt,
                "payloadBytes": r.payload_bytes,
            }
            for r in _stamped(records)
        ]
        self._run_write(_ADD, {"rows": rows, "cap": self.max_records})

    def list(
        self,
        limit: int = 100,
        after: int | None = None,
        reason: str | None = None,
        *,
        before: int | None = None,
        twin_id: str | None = None,
    ) -> list[DeadLetter]:
        params = {
            "limit": limit,
            "after": after,
            "before": before,
            "reason": reason,
            "twin": twin_id,
        }
        return [DeadLetter(**row) for row in self._run_read(_LIST, params)]

    def count(self) -> int:
        return int(self._run_read(f"MATCH (d:{_L}) RETURN count(d) AS c", {})[0]["c"])
