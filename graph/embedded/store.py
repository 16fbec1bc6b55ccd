"""The embedded backend: a networkx MultiDiGraph in memory, journalled to SQLite.

Reads never touch disk.  A write is journalled first and applied to memory
after the journal committed, so memory never shows a change that a crash
would lose.  Stored property dicts are replaced, never mutated, by writes
(copy on write), so a :class:`Twin` handed to a caller stays as it was.
Callers must not mutate what they get back.

Layout of nodes and edges: ``graph.layout``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from graph.base import ItemResult, PropertyUpdate, Relationship, Twin
from graph.deadletters import SqliteDeadLetterLog
from graph.embedded.journal import Delta, Journal
from graph.embedded.updates import Document, apply_updates
from graph.engine import StoreBase, WriteSet
from graph.layout import NX_ETAG, NX_META, NX_MODEL, NX_NAME, NX_PROPS
from graph.meta import MetaView, packed_meta, packed_twin

__all__ = ["EmbeddedGraph"]


class _ReadView:
    """``EmbeddedGraph.read_view()``: the memory lock held while a block reads the graph.
    A class, not ``@contextmanager``: a generator per use cost about 1 us, 4% of a
    small query's time; this holds no per-use state, so one serves every thread."""

    __slots__ = ("_graph", "_lock")

    def __init__(self, lock: threading.RLock, graph: nx.MultiDiGraph) -> None:
        self._lock, self._graph = lock, graph

    def __enter__(self) -> nx.MultiDiGraph:
        self._lock.acquire()
        return self._graph

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class EmbeddedGraph(StoreBase):
    """``log_limit`` and ``fold_cap``: see :class:`graph.embedded.journal.Journal`."""

    def __init__(
        self,
        directory: str | Path,
        *,
        sync: Literal["normal", "full"] = "normal",
        uri: str | None = None,
        log_limit: int = 500_000,
        fold_cap: int = 5_000,
    ) -> None:
        self.directory = Path(directory)
        super().__init__(uri or f"embedded:{self.directory}")
        self._journal = Journal(self.directory, sync, max_logged=log_limit, fold_cap=fold_cap)
        self._dead_letters: SqliteDeadLetterLog | None = None
        self._dead_letters_lock = threading.Lock()
        self._graph = nx.MultiDiGraph()
        self._rel_targets: dict[tuple[str, str], str] = {}  # (source, rel id) -> target
        # Guards the networkx graph between readers and the writer.
        self._mem_lock = threading.RLock()
        self._read_view = _ReadView(self._mem_lock, self._graph)
        self._load_models(self._journal.load_models())
        for twin in self._journal.load_twins():
            self._put_twin(twin)
        for rel in self._journal.load_rels():
            self._put_rel(rel)

    # ------------------------------------------------------------ read access for queries/
    def read_view(self) -> AbstractContextManager[nx.MultiDiGraph]:
        """The live graph, with writers held off until the block ends; do not mutate it."""
        return self._read_view

    # ------------------------------------------------------------ memory
    def _put_twin(self, t: Twin) -> None:
        self._graph.add_node(
            t.id,
            **{
                NX_MODEL: t.model,
                NX_PROPS: t.properties,
                NX_ETAG: t.etag,
                NX_META: packed_meta(t.metadata),
            },
        )

    def _put_rel(self, r: Relationship) -> None:
        self._graph.add_edge(
            r.source,
            r.target,
            key=r.id,
            **{NX_NAME: r.name, NX_PROPS: r.properties, NX_ETAG: r.etag},
        )
        self._rel_targets[(r.source, r.id)] = r.target

    @staticmethod
    def _twin(twin_id: str, d: dict[str, Any]) -> Twin:
        return Twin(twin_id, d[NX_MODEL], d[NX_PROPS], d[NX_ETAG], MetaView(d[NX_META]))

    @staticmethod
    def _rel(source: str, target: str, rel_id: str, d: dict[str, Any]) -> Relationship:
        return Relationship(rel_id, source, target, d[NX_NAME], d[NX_PROPS], d[NX_ETAG])

    # ------------------------------------------------------------ primitives
    def _read_twins(self, twin_ids: Sequence[str]) -> dict[str, Twin]:
        nodes = self._graph._node  # networkx's node dict: the view's lookup costs 3x more
        with self._mem_lock:
            return {i: self._twin(i, nodes[i]) for i in twin_ids if i in nodes}

    def _twin_models(self, ids: Iterable[str]) -> dict[str, str]:
        nodes = self._graph._node
        with self._mem_lock:
            return {i: nodes[i][NX_MODEL] for i in ids if i in nodes}

    def _read_rels(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Relationship]:
        out = {}
        with self._mem_lock:
            for source, rel_id in keys:
                target = self._rel_targets.get((source, rel_id))
                if target is not None:
                    out[(source, rel_id)] = self._rel(
                        source, target, rel_id, self._graph.edges[source, target, rel_id]
                    )
        return out

    def _read_out(self, source: str, name: str | None) -> list[Relationship]:
        with self._mem_lock:
            if source not in self._graph:
                return []
            return [
                self._rel(source, t, k, d)
                for _, t, k, d in self._graph.out_edges(source, keys=True, data=True)
                if name is None or d[NX_NAME] == name
            ]

    def _read_in(self, target: str, name: str | None) -> list[Relationship]:
        with self._mem_lock:
            if target not in self._graph:
                return []
            return [
                self._rel(s, target, k, d)
                for s, _, k, d in self._graph.in_edges(target, keys=True, data=True)
                if name is None or d[NX_NAME] == name
            ]

    def _models_in_use(self, dtmis: Sequence[str]) -> dict[str, int]:
        wanted = set(dtmis)
        counts: dict[str, int] = {}
        with self._mem_lock:
            for _, model in self._graph.nodes(data=NX_MODEL):
                if model in wanted:
                    counts[model] = counts.get(model, 0) + 1
        return counts

    def _commit(self, ws: WriteSet) -> None:
        # Ingestion's updates (their changed names known) are logged as changes; other
        # twin writes as whole documents.
        twins = [packed_twin(t) for t in ws.twins]
        twin_updates = [packed_twin(t) for t in ws.twin_updates]
        full, deltas = list(twins), []
        for t in twin_updates:
            names = ws.changed_names.get(t.id)
            if names is None:
                full.append(t)
                continue
            meta = packed_meta(t.metadata)
            deltas.append(
                (t.id, t.etag, {k: t.properties[k] for k in names}, {k: meta[k] for k in names})
            )
        self._journal.write(
            models=ws.models,
            model_deletes=ws.model_deletes,
            twins=full,
            twin_deletes=ws.twin_deletes,
            rels=ws.rels,
            rel_deletes=[(r.source, r.id) for r in ws.rel_deletes],
            deltas=deltas,
            fold=self._current(self._journal.due_for_fold()),
        )
        with self._mem_lock:
            graph = self._graph
            for r in ws.rel_deletes:
                if self._rel_targets.pop((r.source, r.id), None) is not None:
                    graph.remove_edge(r.source, r.target, key=r.id)
            for twin_id in ws.twin_deletes:
                for key in [(s, k) for s, _, k in graph.in_edges(twin_id, keys=True)]:
                    self._rel_targets.pop(key, None)
                for key in [(twin_id, k) for _, _, k in graph.out_edges(twin_id, keys=True)]:
                    self._rel_targets.pop(key, None)
                graph.remove_node(twin_id)
            for t in twins:
                self._put_twin(t)
            self._set_documents(
                (t.id, t.properties, packed_meta(t.metadata), t.etag) for t in twin_updates
            )
            for r in ws.rels:
                self._put_rel(r)

    def _commit_updates(self, deltas: list[Delta], documents: list[Document]) -> None:
        """Commit property updates (``graph.embedded.updates``): log ``deltas``, then put
        the twins' new ``documents`` in memory."""
        self._journal.write(deltas=deltas, fold=self._current(self._journal.due_for_fold()))
        with self._mem_lock:
            self._set_documents(documents)

    def _set_documents(self, documents: Iterable[Document]) -> None:
        """New properties, packed metadata and ETag of existing twins, in place (the
        networkx node keeps its identity)."""
        nodes = self._graph._node
        for twin_id, props, meta, etag in documents:
            node = nodes[twin_id]
            node[NX_PROPS], node[NX_META], node[NX_ETAG] = props, meta, etag

    def apply_property_updates(self, updates: Sequence[PropertyUpdate]) -> list[ItemResult]:
        """Newest timestamp wins per property; one commit for the whole batch (the rules of
        ``graph.batch``, applied to memory's dicts directly: ``graph.embedded.updates``)."""
        return apply_updates(self, updates)

    # ------------------------------------------------------------ the rest of TwinGraph
    def iter_twins(self, model: str | None = None) -> Iterator[Twin]:
        wanted = None if model is None else {model, *self.registry.descendants(model)}
        with self._mem_lock:
            twins = [
                self._twin(i, d)
                for i, d in self._graph.nodes(data=True)
                if wanted is None or d[NX_MODEL] in wanted
            ]
        yield from twins

    def count_twins(self) -> int:
        return int(self._graph.number_of_nodes())

    def health(self) -> dict[str, Any]:
        return {
            "ok": True,
            "backend": "embedded",
            "directory": str(self.directory),
            "twins": self.count_twins(),
            "relationships": len(self._rel_targets),
            "models": len(self._models),
        }

    @property
    def dead_letters(self) -> SqliteDeadLetterLog:
        with self._dead_letters_lock:  # opened on first use: most stores never need it
            if self._dead_letters is None:
                self._dead_letters = SqliteDeadLetterLog(self._journal.path)
            return self._dead_letters

    def _current(self, twin_ids: list[str]) -> list[Twin]:
        """Twins as memory holds them, which under the write lock is as last committed."""
        return list(self._read_twins(twin_ids).values()) if twin_ids else []

    def close(self) -> None:
        if self._dead_letters is not None:
            self._dead_letters.close()
        with self._write_lock:
            if self._journal.closed:
                return
            try:  # fold every logged change, so that the next start replays nothing
                self._journal.write(fold=self._current(self._journal.unfolded()))
            finally:
                self._journal.close()
