"""Ingestion's property updates over twins kept as plain dicts: the loop both stores run.

The rules are those of the general path, ``graph.batch.apply_property_updates``: per
update, the twin must exist, the time must parse, the values must fit the model
(``telemetry_checker``), and per property the newest time wins; one change event per
update that changed something.  The per-update decisions are ``graph.batch``'s own
functions; what differs is only the data.  The general path reads a ``Twin`` per twin
and builds a new one per update, which the store then takes apart again; this loop
reads each twin's :data:`State` (the embedded store's networkx node, the Neo4j store's
cache) and keeps, per changed twin, just its new properties, packed metadata
(``graph.meta``) and ETag.  ``Twin`` and ``PropertyMeta`` objects and the write set
were about a third of the embedded path, and the long-lived tracked objects they left
in the Neo4j cache made the cyclic GC rescan it.  The store commits what :func:`run`
returns its own way and publishes the events after its commit.
``tests/graph/test_fast_updates.py`` runs this loop and the general path on the same
batches, on both stores, and compares results, documents and events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graph import batch, core
from graph.base import ChangeEvent, ItemResult, PropertyUpdate, Twin
from graph.meta import MetaView

if TYPE_CHECKING:
    from graph.engine import StoreBase

__all__ = ["Changed", "Lookup", "State", "run"]

# A twin as the loop reads it: model, properties, packed metadata, ETag.  The dicts are
# the store's own and are never mutated here: a change makes new ones (copy on write).
State = tuple[str, Mapping[str, Any], Mapping[str, str], str]
Lookup = Callable[[str], "State | None"]


@dataclass(slots=True)
class Changed:
    """One twin changed by the batch: its new state, the values the batch changed and
    their packed metadata (what a store writes: only those), and the twin before."""

    model: str
    properties: Mapping[str, Any]
    metadata: Mapping[str, str]
    etag: str
    values: dict[str, Any]
    stamps: dict[str, str]
    before: State

    def state(self) -> State:
        return (self.model, self.properties, self.metadata, self.etag)


def run(
    store: StoreBase, updates: Sequence[PropertyUpdate], lookup: Lookup
) -> tuple[list[ItemResult], dict[str, Changed], list[ChangeEvent]]:
    """The batch's results, the twins it changed (in the order first changed), and the
    change events to publish once the store has committed those."""
    check = core.telemetry_checker(store._registry)
    emit = store._hub.active
    normalize, new_etag = core.normalize_timestamp, core.new_etag
    results: list[ItemResult] = []
    events: list[ChangeEvent] = []
    changed: dict[str, Changed] = {}
    meta: Mapping[str, str]
    for up in updates:
        twin_id = up.twin_id
        seen = changed.get(twin_id)
        if seen is not None:
            model, props, meta = seen.model, seen.properties, seen.metadata
        else:
            state = lookup(twin_id)
            if state is None:
                results.append(batch.missing_twin(twin_id))
                continue
            model, props, meta = state[0], state[1], state[2]
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
        # Newer than the stored time: ``m < ts`` compares the packed "<time> <source>"
        # as its time would (a space sorts before every character of a time, so a time
        # that is a prefix of the other still sorts first), without splitting it.
        # System names (``$metadata``...) are skipped, as in a twin document.
        newer = {
            k: v
            for k, v in values.items()
            if ((m := meta.get(k)) is None or m < ts) and k[:1] != "$"
        }
        if newer:
            stamped = dict.fromkeys(newer, f"{ts} {up.source}")
            prior, props = props, {**props, **newer}
            meta = {**meta, **stamped}
            etag = new_etag()
            if seen is None:  # this batch's first change of the twin: its dicts are ours
                assert state is not None  # read above
                seen = changed[twin_id] = Changed(model, props, meta, etag, newer, stamped, state)
            else:
                seen.properties, seen.metadata, seen.etag = props, meta, etag
                seen.values.update(newer)
                seen.stamps.update(stamped)
            if emit:
                data = Twin(twin_id, model, props, etag, MetaView(meta))
                patch = batch.update_patch(prior, newer)
                events.append(
                    store._event("twin.updated", twin_id, ts, model=model, patch=patch, data=data)
                )
        results.append(ItemResult(twin_id, True))
    return results, changed, events
