"""The embedded store's ingestion path: property updates applied to the in-memory documents.

The rules are those of the general path, ``graph.batch.apply_property_updates`` (which
the Neo4j store runs): per update, the twin must exist, the time must parse, the values
must fit the model (``telemetry_checker``), and per property the newest time wins; one
commit for the whole batch; one change event per update that changed something.  The
per-update decisions are ``graph.batch``'s own functions; what differs is only the data
this loop works on.  The general path reads a ``Twin`` per twin and builds a new one per
update, which the store then takes apart again; here the loop reads the networkx node's
dicts and keeps, per changed twin, just its new properties, packed metadata
(``graph.embedded.meta``) and ETag: the ``Twin`` objects, ``PropertyMeta`` objects and
write set were about a third of the path's time.  ``tests/graph/test_fast_updates.py``
runs both paths on the same batches and compares results, documents and events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graph import batch, core
from graph.base import ChangeEvent, ItemResult, PropertyUpdate, Twin
from graph.embedded.meta import MetaView
from graph.errors import GraphError
from graph.layout import NX_META, NX_MODEL, NX_PROPS

if TYPE_CHECKING:
    from graph.embedded.store import EmbeddedGraph

__all__ = ["Document", "apply_updates"]

# A twin's new state as the store puts it in memory: id, properties, packed metadata, ETag.
Document = tuple[str, Mapping[str, Any], dict[str, str], str]


def apply_updates(store: EmbeddedGraph, updates: Sequence[PropertyUpdate]) -> list[ItemResult]:
    with store._write_lock, core.paused_gc():
        return _apply(store, updates)


def _apply(store: EmbeddedGraph, updates: Sequence[PropertyUpdate]) -> list[ItemResult]:
    # Under the write lock memory only changes in our own commit, so its dicts are read
    # without the memory lock; they are replaced, never mutated (copy on write).
    nodes = store._graph._node
    check = core.telemetry_checker(store._registry)
    emit = store._hub.active
    normalize, new_etag = core.normalize_timestamp, core.new_etag
    results: list[ItemResult] = []
    events: list[ChangeEvent] = []
    # Twins changed so far: id -> [model, properties, packed metadata, ETag, the values
    # changed and their packed metadata (the journal's delta), properties before the
    # batch (what change events' patches are against)].
    changed: dict[str, list[Any]] = {}
    for up in updates:
        twin_id = up.twin_id
        state = changed.get(twin_id)
        if state is not None:
            model, props, meta = state[0], state[1], state[2]
        else:
            node = nodes.get(twin_id)
            if node is None:
                results.append(batch.missing_twin(twin_id))
                continue
            model, props, meta = node[NX_MODEL], node[NX_PROPS], node[NX_META]
        try:
            ts = normalize(up.timestamp)
        except (ValueError, TypeError) as exc:
            results.append(batch.bad_timestamp(up, exc))
            continue
        values = up.values
        problems = check(model, values)
        if problems:
            results.append(batch.refusal(up, problems))
            continue
        # Newer than the stored time (the part of the packed string before its last space).
        newer = {
            k: v
            for k, v in values.items()
            if (m := meta.get(k)) is None or m.rpartition(" ")[0] < ts
        }
        if newer:
            stamped = dict.fromkeys(newer, f"{ts} {up.source}")
            before = props if state is None else state[6]
            props = {**props, **newer}
            meta = {**meta, **stamped}
            etag = new_etag()
            if state is None:  # this batch's first change of the twin: its dicts are ours
                changed[twin_id] = [model, props, meta, etag, newer, stamped, before]
            else:
                state[1], state[2], state[3] = props, meta, etag
                state[4].update(newer)
                state[5].update(stamped)
            if emit:
                data = Twin(twin_id, model, props, etag, MetaView(meta))
                patch = batch.update_patch(before, newer)
                events.append(
                    store._event("twin.updated", twin_id, ts, model=model, patch=patch, data=data)
                )
        results.append(ItemResult(twin_id, True))
    if changed:
        documents: list[Document] = []
        deltas = []
        for twin_id, (_, props, meta, etag, values, stamps, _) in changed.items():
            documents.append((twin_id, props, meta, etag))
            deltas.append((twin_id, etag, values, stamps))
        try:
            store._commit_updates(deltas, documents)
        except GraphError as exc:
            return batch.all_failed(results, exc)
        store._hub.publish(events)
    return results
