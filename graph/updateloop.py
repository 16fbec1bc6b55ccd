"""Ingestion's property updates over twins kept as plain dicts: the loop both stores run.

The rules are those of the general path, ``graph.batch.apply_property_updates``: per
update, the twin must exist, the time must parse, the values must fit the model
(``telemetry_checker``), and per property the newest time wins; one change event per
update that changed something.  The per-update decisions are ``graph.batch``'s own
functions; what differs is only the data.  The general path reads a ``Twin`` per twin
and builds a new one per update, which the store then takes apart again; this loop
reads each twin's :data:`State` (the embedded store's networkx node, the Neo4j store's
cache) and keeps, per changed twin, just the values the batch changed, their packed
metadata (``graph.meta``) and the new ETag.  ``Twin`` and ``PropertyMeta`` objects and the write set
were about a third of the embedded path, and the long-lived tracked objects they left
in the Neo4j cache made the cyclic GC rescan it.  The store commits what :func:`run`
returns its own way and publishes the events after its commit.
``tests/graph/test_fast_updates.py`` runs this loop and the general path on the same
batches, on both stores, and compares results, documents and events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from graph import batch, core
from graph.base import ChangeEvent, ItemResult, PropertyUpdate, Twin
from graph.meta import MetaView

if TYPE_CHECKING:
    from graph.engine import StoreBase

__all__ = ["Changed", "Lookup", "State", "run"]

# A twin as the loop reads it: model, properties, packed metadata (its ETag is the
# store's business).  The dicts are the store's own and are never mutated here; after its
# commit a store replaces them (the embedded store: its readers hold no lock) or updates
# them (the Neo4j cache).
State = tuple[str, Mapping[str, Any], Mapping[str, str]]
Lookup = Callable[[str], "State | None"]


class Changed(NamedTuple):
    """One twin changed by the batch: the values it changed, their packed metadata and
    the twin's new ETag (what a store writes: only those), and the twin before.

    The new properties and metadata are not built here: a store that replaces its
    dicts builds them (:meth:`properties`, :meth:`metadata`), one that owns its dicts
    may update them in place.  Building them for every update, and freeing the old
    ones, was a fifth of the Neo4j store's client time.  A named tuple, made with
    ``tuple.__new__`` (a twentieth of the cost of a dataclass's ``__init__``), and
    replaced, not mutated, when the batch changes the twin again."""

    model: str
    values: dict[str, Any]
    stamps: dict[str, str]
    etag: str
    before: State

    def properties(self) -> dict[str, Any]:
        return {**self.before[1], **self.values}

    def metadata(self) -> dict[str, str]:
        return {**self.before[2], **self.stamps}


def run(
    store: StoreBase, updates: Sequence[PropertyUpdate], lookup: Lookup
) -> tuple[list[ItemResult], dict[str, Changed], list[ChangeEvent]]:
    """The batch's results, the twins it changed (in the order first changed), and the
    change events to publish once the store has committed those.  ``lookup``'s states
    are read, never mutated."""
    check = core.telemetry_checker(store._registry)
    emit = store._hub.active
    normalize, new_etag = core.normalize_timestamp, core.new_etag
    # ItemResult(...) and Changed(...) without NamedTuple's Python-level ``__new__``.
    make = tuple.__new__
    # The batch's ETag, like a commit's revision: every twin the batch changes gets it
    # at its first change.  An ETag only has to differ from the twin's earlier ones, and
    # this one is newer than all of them; a twin changed again in the batch gets a fresh
    # one per further change, so no two states of one twin (events included) share one.
    # On Neo4j the new ETags then go as one constant parameter, not a column: with one
    # ETag made per batch instead of per update, 3% of the rate (bench/store.py A/B).
    batch_etag = new_etag()
    results: list[ItemResult] = []
    events: list[ChangeEvent] = []
    changed: dict[str, Changed] = {}
    for up in updates:
        twin_id = up.twin_id
        seen = changed.get(twin_id)
        if seen is None:
            state = lookup(twin_id)
            if state is None:
                results.append(batch.missing_twin(twin_id))
                continue
            meta = state[2]
        else:  # changed earlier in the batch: its times so far
            state = seen.before
            meta = {**state[2], **seen.stamps}
        model = state[0]
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
        # System names (``$metadata``...) are skipped, as in a twin document.  A loop,
        # not a comprehension: in Python 3.11 that is a function call per update.
        newer = {}
        for k, v in values.items():
            m = meta.get(k)
            if (m is None or m < ts) and k[:1] != "$":
                newer[k] = v
        if not newer:
            results.append(make(ItemResult, (twin_id, True, None)))
            continue
        stamped = dict.fromkeys(newer, f"{ts} {up.source}")
        etag = batch_etag if seen is None else new_etag()
        if seen is not None:  # all the batch changed of the twin, before it as it was
            newer_so_far: dict[str, Any] = {**seen.values, **newer}
            stamps_so_far: dict[str, str] = {**seen.stamps, **stamped}
            c = make(Changed, (model, newer_so_far, stamps_so_far, etag, state))
        else:
            c = make(Changed, (model, newer, stamped, etag, state))
        changed[twin_id] = c
        if emit:
            prior = state[1] if seen is None else seen.properties()
            data = Twin(twin_id, model, {**prior, **newer}, etag, MetaView(c.metadata()))
            patch = batch.update_patch(prior, newer)
            events.append(
                store._event("twin.updated", twin_id, ts, model=model, patch=patch, data=data)
            )
        results.append(make(ItemResult, (twin_id, True, None)))
    return results, changed, events
