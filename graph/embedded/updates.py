"""The embedded store's ingestion path: property updates applied to the in-memory documents.

The loop is ``graph.updateloop``'s (shared with the Neo4j store), reading each twin's
state straight from its networkx node; what is embedded here is the commit: the changed
values and their packed metadata go to the journal as deltas, the new documents into
memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graph import batch, core, updateloop
from graph.base import ItemResult, PropertyUpdate
from graph.errors import GraphError
from graph.layout import NX_META, NX_MODEL, NX_PROPS

if TYPE_CHECKING:
    from graph.embedded.store import EmbeddedGraph

__all__ = ["Document", "apply_updates"]

# A twin's new state as the store puts it in memory: id, properties, packed metadata, ETag.
Document = tuple[str, Mapping[str, Any], Mapping[str, str], str]


def apply_updates(store: EmbeddedGraph, updates: Sequence[PropertyUpdate]) -> list[ItemResult]:
    # Under the write lock memory only changes in our own commit, so its dicts are read
    # without the memory lock; they are replaced, never mutated (copy on write).
    nodes = store._graph._node

    def lookup(twin_id: str) -> updateloop.State | None:
        node = nodes.get(twin_id)
        if node is None:
            return None
        return node[NX_MODEL], node[NX_PROPS], node[NX_META]

    with store._write_lock, core.paused_gc():
        results, changed, events = updateloop.run(store, updates, lookup)
        if changed:
            documents: list[Document] = []
            deltas = []
            for twin_id, c in changed.items():
                documents.append((twin_id, c.properties(), c.metadata(), c.etag))
                deltas.append((twin_id, c.etag, c.values, c.stamps))
            try:
                store._commit_updates(deltas, documents)
            except GraphError as exc:
                return batch.all_failed(results, exc)
            store._hub.publish(events)
        return results
