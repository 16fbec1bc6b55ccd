"""The embedded store's on-disk state: SQLite in WAL mode, one transaction per write set.

The journal keeps the current document of every model, twin and relationship,
plus a short log of property updates (ingestion's path) not yet folded into
those documents.  Each write set (one API call, or one whole ingestion or
import batch) is a single transaction: a batch of thousands of property updates
costs one commit, which is the group commit ingestion relies on.

Property updates are the hot path, and rewriting each changed twin's whole
document (encode it, replace its B-tree row) cost more than everything else on
it.  So an ingestion batch is journalled as **one** ``updates`` row holding just
the changed values of all its twins (one orjson blob), and twin documents are
rewritten later, a few per commit (``fold``): a twin updated a hundred times
between folds is written once.  Every twin document carries ``s``, the last
log sequence number it includes; on startup a logged change is replayed onto a
twin only if it is newer than the twin's document (so a replaced or deleted and
recreated twin never gets an older logged change back).

``sync="normal"`` (default) survives the process being killed at any moment
(WAL frames reach the OS before commit returns); ``sync="full"`` also fsyncs
each commit, which survives power loss at a large cost per commit.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

from graph.base import ModelInfo, Relationship, Twin
from graph.errors import StoreUnavailableError
from graph.meta import MetaView, pack, packed_meta

__all__ = ["Delta", "Journal", "apply_delta"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS twins (id TEXT PRIMARY KEY, doc BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rels (source TEXT NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL,
                                 PRIMARY KEY (source, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS updates (seq INTEGER PRIMARY KEY, doc BLOB NOT NULL);
"""

# One logged twin change: id, new ETag, changed values, their packed metadata
# (``graph.meta``; rows written before it hold [time, source] pairs).
Delta = tuple[str, str, dict[str, Any], dict[str, str]]


def encode_twin(t: Twin, seq: int = 0) -> bytes:
    # Metadata as the packed strings memory holds: nothing to convert per write.
    meta = packed_meta(t.metadata)
    return orjson.dumps({"m": t.model, "p": t.properties, "e": t.etag, "t": meta, "s": seq})


def _packed(m: Any) -> str:
    """Stored metadata of one name in any form it was ever written in: packed string,
    ``[time, source]``, or ``{"last_update_time": ..., "source": ...}``."""
    if type(m) is str:
        return m
    if isinstance(m, dict):
        return pack(m["last_update_time"], m["source"])
    return pack(m[0], m[1])


def decode_twin(twin_id: str, doc: bytes) -> tuple[Twin, int]:
    """The twin and the last update log sequence number its document includes."""
    d = orjson.loads(doc)
    meta: dict[str, Any] = d["t"]
    if not all(type(m) is str for m in meta.values()):  # written by an earlier version
        meta = {k: _packed(m) for k, m in meta.items()}
    return Twin(twin_id, d["m"], d["p"], d["e"], MetaView(meta)), d.get("s", 0)


def encode_rel(r: Relationship) -> bytes:
    return orjson.dumps({"n": r.name, "t": r.target, "p": r.properties, "e": r.etag})


def decode_rel(source: str, rel_id: str, doc: bytes) -> Relationship:
    d = orjson.loads(doc)
    return Relationship(rel_id, source, d["t"], d["n"], d["p"], d["e"])


def apply_delta(twin: Twin, delta: Delta) -> Twin:
    """``twin`` with one logged change applied (new dicts: stored ones are never mutated)."""
    _, etag, values, meta = delta
    new_meta = {**packed_meta(twin.metadata), **{k: _packed(m) for k, m in meta.items()}}
    return Twin(twin.id, twin.model, {**twin.properties, **values}, etag, MetaView(new_meta))


class Journal:
    """SQLite journal.  ``max_logged``: how many logged twin changes may wait for their
    fold (bounds the replay at startup); ``fold_cap``: at most this many twin documents
    rewritten per commit (bounds what a fold adds to one commit's latency)."""

    def __init__(
        self,
        directory: Path,
        sync: Literal["normal", "full"] = "normal",
        *,
        max_logged: int = 500_000,
        fold_cap: int = 5_000,
    ) -> None:
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
        self.closed = False
        self.max_logged, self.fold_cap = max_logged, fold_cap
        self.seq = 0  # the last update log sequence number written
        self._log: deque[tuple[int, int]] = deque()  # log rows kept: (seq, changes in it)
        self._logged = 0  # changes in those rows
        # Twins whose document lacks logged changes -> the first such change's seq.  In
        # insertion order, which is seq order, so the oldest comes first.
        self._unfolded: dict[str, int] = {}
        # Removed from ``_unfolded`` since it was last rebuilt.  A dict keeps a removed
        # entry's slot until it is rebuilt, and iterating it from the start (the oldest)
        # walks over every such slot: after a fold of thousands of twins, each commit
        # spent milliseconds there.  Rebuilt once removals outnumber the entries left.
        self._removed = 0

    # ------------------------------------------------------------ writing
    def due_for_fold(self) -> list[str]:
        """Twins to rewrite with the next commit so the log keeps under ``max_logged``."""
        excess, cutoff = self._logged - self.max_logged, 0
        for seq, count in self._log:
            if excess <= 0:
                break
            excess -= count
            cutoff = seq
        if not cutoff:
            return []
        oldest_first = itertools.takewhile(lambda kv: kv[1] <= cutoff, self._unfolded.items())
        return [twin_id for twin_id, _ in itertools.islice(oldest_first, self.fold_cap)]

    def unfolded(self) -> list[str]:
        """Every twin whose document lacks logged changes (to fold all before closing)."""
        return list(self._unfolded)

    def write(
        self,
        *,
        models: Sequence[ModelInfo] = (),
        model_deletes: Sequence[str] = (),
        twins: Sequence[Twin] = (),
        twin_deletes: Sequence[str] = (),
        rels: Sequence[Relationship] = (),
        rel_deletes: Sequence[tuple[str, str]] = (),
        deltas: Sequence[Delta] = (),
        fold: Sequence[Twin] = (),
    ) -> None:
        """One transaction: all of it is durable when this returns, or none of it.

        ``twins`` are whole documents to write; ``deltas`` are property updates, logged
        as one row; ``fold`` are current documents (as of the last commit) of twins that
        :meth:`due_for_fold` named, written so that old log rows can go.
        """
        with self._lock:
            new_seq = self.seq + 1 if deltas else self.seq
            # Twins whose document this commit brings up to date, and the first seq
            # still needed in the log afterwards (every row before it can go).
            settled = {t.id for t in fold}
            settled.update(t.id for t in twins)
            settled.update(twin_deletes)
            floor = new_seq if deltas else new_seq + 1
            for twin_id, first in self._unfolded.items():
                if twin_id not in settled:
                    floor = min(floor, first)
                    break
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
                if fold:  # as of the previous commit: this one's deltas replay on top
                    cur.executemany(
                        "INSERT OR REPLACE INTO twins VALUES (?, ?)",
                        [(t.id, encode_twin(t, self.seq)) for t in fold],
                    )
                if twins:
                    cur.executemany(
                        "INSERT OR REPLACE INTO twins VALUES (?, ?)",
                        [(t.id, encode_twin(t, new_seq)) for t in twins],
                    )
                if rels:
                    cur.executemany(
                        "INSERT OR REPLACE INTO rels VALUES (?, ?, ?)",
                        [(r.source, r.id, encode_rel(r)) for r in rels],
                    )
                if deltas:
                    blob = orjson.dumps(deltas)
                    cur.execute("INSERT INTO updates VALUES (?, ?)", (new_seq, blob))
                if self._log and self._log[0][0] < floor:
                    cur.execute("DELETE FROM updates WHERE seq < ?", (floor,))
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreUnavailableError(f"journal write failed ({self.path}): {exc}") from exc
            # Committed: now the bookkeeping may follow.
            self.seq = new_seq
            unfolded = self._unfolded
            for twin_id in settled:
                self._removed += unfolded.pop(twin_id, None) is not None
            if self._removed > len(unfolded):
                self._unfolded, self._removed = dict(unfolded), 0
            if deltas:
                self._log.append((new_seq, len(deltas)))
                self._logged += len(deltas)
                for d in deltas:
                    self._unfolded.setdefault(d[0], new_seq)
            while self._log and self._log[0][0] < floor:
                self._logged -= self._log.popleft()[1]

    # ------------------------------------------------------------ loading
    def load_models(self) -> list[ModelInfo]:
        infos = []
        for dtmi, doc in self._db.execute("SELECT id, doc FROM models ORDER BY rowid"):
            d: dict[str, Any] = orjson.loads(doc)
            infos.append(ModelInfo(dtmi, d["d"], d["u"], d["x"]))
        return infos

    def load_twins(self) -> Iterator[Twin]:
        """Every twin, with the logged changes its document lacks replayed in order."""
        pending: dict[str, list[tuple[int, Delta]]] = {}
        for seq, doc in self._db.execute("SELECT seq, doc FROM updates ORDER BY seq"):
            entries = orjson.loads(doc)
            self._log.append((seq, len(entries)))
            self._logged += len(entries)
            self.seq = seq
            for d in entries:
                pending.setdefault(d[0], []).append((seq, d))
        first: dict[str, int] = {}
        for twin_id, doc in self._db.execute("SELECT id, doc FROM twins"):
            twin, included = decode_twin(twin_id, doc)
            self.seq = max(self.seq, included)
            for seq, delta in pending.get(twin_id, ()):
                if seq > included:
                    twin = apply_delta(twin, delta)
                    first.setdefault(twin_id, seq)
            yield twin
        self._unfolded = dict(sorted(first.items(), key=lambda kv: kv[1]))

    def load_rels(self) -> Iterator[Relationship]:
        for source, rel_id, doc in self._db.execute("SELECT source, id, doc FROM rels"):
            yield decode_rel(source, rel_id, doc)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._db.close()
