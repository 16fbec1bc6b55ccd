"""Dead letters: messages ingestion refused, kept (bounded) for people to inspect.

A small SQLite file, by default beside the embedded store's files (or under
``./.graphtwin/`` for a Neo4j store), so refused input survives restarts
without adding tables to the graph.  Writes happen on the ingestion thread
before the refused messages are acknowledged, so a dead letter is never lost
between refusal and acknowledgement.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["DeadLetter", "DeadLetterStore"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    reason: str
    detail: str
    payload_excerpt: str
    payload_bytes: int
    twin_id: str | None = None
    received_at: float = 0.0
    id: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class DeadLetterStore:
    """Keeps the newest ``max_records`` dead letters; thread-safe."""

    def __init__(
        self, path: str | Path, *, max_records: int = 10000, excerpt_bytes: int = 512
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_records = max_records
        self.excerpt_bytes = excerpt_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS dead_letter ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL, topic TEXT NOT NULL,"
            " twin_id TEXT, reason TEXT NOT NULL, detail TEXT NOT NULL,"
            " payload_excerpt TEXT NOT NULL, payload_bytes INTEGER NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS dead_letter_reason ON dead_letter(reason)")

    def excerpt(self, payload: bytes) -> str:
        """The payload's start as text; undecodable bytes shown as escapes, never refused."""
        cut = payload[: self.excerpt_bytes]
        text = cut.decode("utf-8", errors="backslashreplace")
        return text + ("…" if len(payload) > self.excerpt_bytes else "")

    def add_many(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        rows = [
            (
                d.received_at or time.time(),
                d.topic,
                d.twin_id,
                d.reason,
                d.detail,
                d.payload_excerpt,
                d.payload_bytes,
            )
            for d in letters
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO dead_letter (received_at, topic, twin_id, reason, detail,"
                    " payload_excerpt,"
                    " payload_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                # Bounded: drop the oldest beyond the limit.
                self._db.execute(
                    "DELETE FROM dead_letter WHERE id <= (SELECT MAX(id) FROM dead_letter) - ?",
                    (self.max_records,),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def list(
        self,
        *,
        limit: int = 100,
        reason: str | None = None,
        twin_id: str | None = None,
        before_id: int | None = None,
    ) -> list[DeadLetter]:
        """Newest first; ``before_id`` pages backwards."""
        where: list[str] = []
        params: list[str | int] = []
        for column, value in (("reason", reason), ("twin_id", twin_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        sql = (
            "SELECT id, received_at, topic, twin_id, reason, detail, payload_excerpt, payload_bytes"
            " FROM dead_letter"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY id DESC LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, [*params, limit]).fetchall()
        return [
            DeadLetter(
                id=r[0],
                received_at=r[1],
                topic=r[2],
                twin_id=r[3],
                reason=r[4],
                detail=r[5],
                payload_excerpt=r[6],
                payload_bytes=r[7],
            )
            for r in rows
        ]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
