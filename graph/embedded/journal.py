"""The embedded store's on-disk state: SQLite in WAL mode, one transaction per write set.

The journal keeps the current document of every model, twin and relationship
(not a log to replay), so startup is one scan per table and no compaction is
needed.  Each write set (one API call, or one whole ingestion or import batch)
is a single transaction: a batch of thousands of property updates costs one
commit, which is the group commit ingestion relies on.

``sync="normal"`` (default) survives the process being killed at any moment
(WAL frames reach the OS before commit returns); ``sync="full"`` also fsyncs
each commit, which survives power loss at a large cost per commit.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import orjson

from graph.base import ModelInfo, PropertyMeta, Relationship, Twin
from graph.errors import StoreUnavailableError

__all__ = ["Journal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS twins (id TEXT PRIMARY KEY, doc BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rels (source TEXT NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL,
                                 PRIMARY KEY (source, id)) WITHOUT ROWID;
"""


def encode_twin(t: Twin) -> bytes:
    # Metadata as [time, source] pairs: twice as fast to encode as orjson's own
    # dataclass support, and this runs once per changed twin per commit.
    meta = {k: (m.last_update_time, m.source) for k, m in t.metadata.items()}
    return orjson.dumps({"m": t.model, "p": t.properties, "e": t.etag, "t": meta})


def decode_twin(twin_id: str, doc: bytes) -> Twin:
    d = orjson.loads(doc)
    meta = {
        k: PropertyMeta(**v) if isinstance(v, dict) else PropertyMeta(v[0], v[1])
        for k, v in d["t"].items()
    }
    return Twin(twin_id, d["m"], d["p"], d["e"], meta)


def encode_rel(r: Relationship) -> bytes:
    return orjson.dumps({"n": r.name, "t": r.target, "p": r.properties, "e": r.etag})


def decode_rel(source: str, rel_id: str, doc: bytes) -> Relationship:
    d = orjson.loads(doc)
    return Relationship(rel_id, source, d["t"], d["n"], d["p"], d["e"])


class Journal:
    def __init__(self, directory: Path, sync: Literal["normal", "full"] = "normal") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "graphtwin.sqlite3"
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"cannot open the journal {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    def write(
        self,
        *,
        models: list[ModelInfo],
        model_deletes: list[str],
        twins: list[Twin],
        twin_deletes: list[str],
        rels: list[Relationship],
        rel_deletes: list[tuple[str, str]],
    ) -> None:
        """One transaction: all of it is durable when this returns, or none of it."""
        with self._lock:
            cur = self._db.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                if models:
                    cur.executemany(
                        "INSERT OR REPLACE INTO models VALUES (?, ?)",
                        [
                            (
                                m.id,
                                orjson.dumps(
                                    {"d": m.document, "u": m.upload_time, "x": m.decommissioned}
                                ),
                            )
                            for m in models
                        ],
                    )
                if model_deletes:
                    cur.executemany(
                        "DELETE FROM models WHERE id = ?", [(d,) for d in model_deletes]
                    )
                if rel_deletes:
                    cur.executemany("DELETE FROM rels WHERE source = ? AND id = ?", rel_deletes)
                if twin_deletes:
                    cur.executemany("DELETE FROM twins WHERE id = ?", [(t,) for t in twin_deletes])
                if twins:
                    cur.executemany(
                        "INSERT OR REPLACE INTO twins VALUES (?, ?)",
                        [(t.id, encode_twin(t)) for t in twins],
                    )
                if rels:
                    cur.executemany(
                        "INSERT OR REPLACE INTO rels VALUES (?, ?, ?)",
                        [(r.source, r.id, encode_rel(r)) for r in rels],
                    )
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreUnavailableError(f"journal write failed ({self.path}): {exc}") from exc

    def load_models(self) -> list[ModelInfo]:
        infos = []
        for dtmi, doc in self._db.execute("SELECT id, doc FROM models ORDER BY rowid"):
            d: dict[str, Any] = orjson.loads(doc)
            infos.append(ModelInfo(dtmi, d["d"], d["u"], d["x"]))
        return infos

    def load_twins(self) -> Iterator[Twin]:
        for twin_id, doc in self._db.execute("SELECT id, doc FROM twins"):
            yield decode_twin(twin_id, doc)

    def load_rels(self) -> Iterator[Relationship]:
        for source, rel_id, doc in self._db.execute("SELECT source, id, doc FROM rels"):
            yield decode_rel(source, rel_id, doc)

    def close(self) -> None:
        with self._lock:
            self._db.close()
