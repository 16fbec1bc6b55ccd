"""Batch writes: upsert of many twins and relationships, and ingestion's property updates.

Functions over a :class:`graph.engine.StoreBase` (its methods delegate here), kept
apart because they are the throughput paths: each batch is validated item by item,
gives one result per item, and is committed as one write set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graph import core
from graph.base import (
    ChangeEvent,
    ChangeKind,
    ItemResult,
    PropertyMeta,
    PropertyUpdate,
    Relationship,
    RelationshipUpsert,
    Twin,
    TwinUpsert,
    WriteSource,
)
from graph.errors import (
    ConflictError,
    GraphError,
    NotFoundError,
    ValidationError,
    ValidationProblem,
)
from graph.writeset import StaleReadError, WriteSet

if TYPE_CHECKING:
    from graph.engine import StoreBase

__all__ = [
    "all_failed",
    "apply_property_updates",
    "bad_timestamp",
    "missing_twin",
    "refusal",
    "update_patch",
    "upsert_batch",
]


def upsert_batch(
    store: StoreBase,
    twins: Sequence[TwinUpsert] = (),
    relationships: Sequence[RelationshipUpsert] = (),
    *,
    source: WriteSource = "import",
) -> list[ItemResult]:
    """Each twin created or replaced, then each relationship; one commit for the batch.

    A batch first reads which of its twins and relationships exist.  A store whose reads
    cost a round trip (Neo4j) may have the batch assume none exist instead
    (``StoreBase._guess_new``): the commit then refuses to overwrite anything
    (``WriteSet.assumed_new``) and, if something did exist, raises ``StaleReadError``
    and the batch runs again with the reads; so does a batch with any item refused,
    since a refusal may depend on what exists (a replaced twin of a decommissioned
    model is allowed, a new one is not).  An import of new, valid items, the common
    case, skips two queries per batch.
    """
    with store._write_lock, core.paused_gc():
        if store._guess_new():
            try:
                return _upsert(store, twins, relationships, source, assume_new=True)
            except StaleReadError:
                store._guessed_wrong()
        return _upsert(store, twins, relationships, source, assume_new=False)


def _upsert(
    store: StoreBase,
    twins: Sequence[TwinUpsert],
    relationships: Sequence[RelationshipUpsert],
    source: WriteSource,
    assume_new: bool,
) -> list[ItemResult]:
    results: list[ItemResult] = []
    now = core.now_rfc3339()
    ws, events = WriteSet(assumed_new=assume_new), []
    olds = store._read_twins([t.id for t in twins]) if twins and not assume_new else {}
    models: dict[str, str] = {}  # twins as they will be after this batch
    check = core.telemetry_checker(store._registry)  # see core.validate_twin
    for up in twins:
        try:
            old = olds.get(up.id)
            props = core.user_properties(up.properties)
            store._check_new_twin(up.id, up.model, props, old, source, check)
            twin = store._build_twin(up.id, up.model, props, old, source, now)
        except GraphError as exc:
            if assume_new:  # the refusal may depend on what exists: read it
                raise StaleReadError(f"twin {up.id!r} refused: {exc}") from exc
            results.append(ItemResult(up.id, False, exc))
            continue
        store._add_twin(ws, old, twin)
        olds[up.id] = twin
        models[up.id] = up.model
        if store._hub.active:
            events.append(store._twin_event(old, twin, now))
        results.append(ItemResult(up.id, True))
    if relationships:
        wanted = {r.source for r in relationships} | {r.target for r in relationships}
        models.update(store._twin_models(wanted - models.keys()))
        keys = [(r.source, r.id) for r in relationships]
        old_rels = {} if assume_new else store._read_rels(keys)
        added: dict[tuple[str, str], int] = {}
        counts: dict[tuple[str, str], int] = {}
        checked: dict[tuple[str, str, str], int | None] = {}  # see StoreBase._check_rel
        # Where each relationship of this batch is in ws.rels: one written twice in a
        # batch is written once, as it is last (Neo4j would CREATE a new one twice).
        written: dict[tuple[str, str], int] = {}

        def out_count(src: str, name: str) -> int:
            if (src, name) not in counts:
                counts[(src, name)] = len(store._read_out(src, name))
            return counts[(src, name)] + added.get((src, name), 0)

        for rup in relationships:
            key = f"{rup.source}/{rup.id}"
            try:
                old_rel = old_rels.get((rup.source, rup.id))
                if old_rel is not None and old_rel.target != rup.target:
                    raise ConflictError(
                        f"relationship {rup.id!r} exists with target {old_rel.target!r}"
                    )
                store._check_rel(rup, models, old_rel, out_count, checked)
            except GraphError as exc:
                if assume_new:
                    raise StaleReadError(f"relationship {key!r} refused: {exc}") from exc
                results.append(ItemResult(key, False, exc))
                continue
            rel = Relationship(
                rup.id,
                rup.source,
                rup.target,
                rup.name,
                dict(rup.properties),
                core.new_etag(),
            )
            if old_rel is None:
                added[(rup.source, rup.name)] = added.get((rup.source, rup.name), 0) + 1
                ws.new_rels.add((rup.source, rup.id))
            old_rels[(rup.source, rup.id)] = rel
            at = written.get((rup.source, rup.id))
            if at is None:
                written[(rup.source, rup.id)] = len(ws.rels)
                ws.rels.append(rel)
            else:
                ws.rels[at] = rel
            if store._hub.active:
                kind: ChangeKind = (
                    "relationship.created" if old_rel is None else "relationship.updated"
                )
                events.append(
                    store._rel_event(kind, rel, now, old=old_rel.properties if old_rel else None)
                )
            results.append(ItemResult(key, True))
    if ws.twins or ws.twin_updates or ws.rels:
        try:
            if assume_new:  # a StaleReadError goes up: upsert_batch reads and retries
                store._commit(ws)
                store._hub.publish(events)
            else:
                store._commit_and_publish(ws, events)
        except GraphError as exc:
            return all_failed(results, exc)
    return results


def apply_property_updates(store: StoreBase, updates: Sequence[PropertyUpdate]) -> list[ItemResult]:
    """Newest timestamp wins per property; one commit for the whole batch."""
    ids = list({u.twin_id: None for u in updates})
    with store._write_lock, core.paused_gc():
        try:
            return _apply_updates(store, updates, store._read_twins_for_update(ids))
        except StaleReadError:  # a cached twin changed behind our back: read afresh, once
            pass
        try:
            return _apply_updates(store, updates, store._read_twins(ids))
        except StaleReadError as exc:  # another process keeps writing these twins
            err = ConflictError(f"twins changed while being updated: {exc}")
            return [ItemResult(u.twin_id, False, err) for u in updates]


# ------------------------------------------------------------------ one update's rules
# Shared with the embedded store's own loop (``graph.embedded.updates``), which applies
# the same rules to its in-memory documents directly.


def missing_twin(twin_id: str) -> ItemResult:
    return ItemResult(twin_id, False, NotFoundError(f"twin {twin_id!r} does not exist"))


def bad_timestamp(up: PropertyUpdate, exc: Exception) -> ItemResult:
    """The refusal of an update whose time ``core.normalize_timestamp`` refused with ``exc``."""
    err = ValidationError(
        f"bad timestamp {up.timestamp!r}: {exc}",
        [ValidationProblem("/timestamp", str(exc), "INVALID_TIMESTAMP")],
    )
    return ItemResult(up.twin_id, False, err)


def refusal(up: PropertyUpdate, problems: Sequence[object]) -> ItemResult:
    """The refusal of an update whose values do not fit the twin's model."""
    try:
        core.raise_problems(f"update of twin {up.twin_id!r}", problems)
    except ValidationError as exc:
        return ItemResult(up.twin_id, False, exc)
    raise AssertionError("refusal() needs problems")  # pragma: no cover


def update_patch(old_props: Mapping[str, Any], newer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An update's change event's JSON Patch: its newer values against the twin just
    before it (earlier updates of the batch applied), so that a subscriber applying the
    patches in order gets each state."""
    return [
        {"op": "replace" if k in old_props else "add", "path": f"/{k}", "value": v}
        for k, v in newer.items()
    ]


def all_failed(results: Sequence[ItemResult], exc: GraphError) -> list[ItemResult]:
    """Every item failed, because the batch's commit did (items refused before keep their error)."""
    return [ItemResult(r.key, False, r.error or exc) for r in results]


def _apply_updates(
    store: StoreBase, updates: Sequence[PropertyUpdate], current: dict[str, Twin]
) -> list[ItemResult]:
    results: list[ItemResult] = []
    ws = WriteSet()
    changed: dict[str, Twin] = {}
    events: list[ChangeEvent] = []
    emit = store._hub.active
    check = core.telemetry_checker(store._registry)  # one per batch: this loop is the hot path
    normalize, new_etag = core.normalize_timestamp, core.new_etag
    for up in updates:
        twin = changed.get(up.twin_id) or current.get(up.twin_id)
        if twin is None:
            results.append(missing_twin(up.twin_id))
            continue
        try:
            ts = normalize(up.timestamp)
        except (ValueError, TypeError) as exc:
            results.append(bad_timestamp(up, exc))
            continue
        problems = check(twin.model, up.values)
        if problems:
            results.append(refusal(up, problems))
            continue
        meta = twin.metadata
        # System names (``$metadata``...) are skipped, as in a twin document.
        newer = {
            k: v
            for k, v in up.values.items()
            if (k not in meta or meta[k].last_update_time < ts) and k[:1] != "$"
        }
        if newer:
            before = twin
            stamp = PropertyMeta(ts, up.source)
            new_meta = {**meta, **dict.fromkeys(newer, stamp)}
            twin = Twin(twin.id, twin.model, {**twin.properties, **newer}, new_etag(), new_meta)
            if twin.id not in changed:
                ws.expected_etags[twin.id] = current[twin.id].etag
            changed[twin.id] = twin
            names = ws.changed_names.get(twin.id)
            if names is None:
                ws.changed_names[twin.id] = set(newer)
            else:
                names.update(newer)
            if emit:
                patch = update_patch(before.properties, newer)
                events.append(
                    store._event(
                        "twin.updated", twin.id, ts, model=twin.model, patch=patch, data=twin
                    )
                )
        results.append(ItemResult(up.twin_id, True))
    if changed:
        ws.twin_updates = list(changed.values())
        try:
            store._commit(ws)  # StaleReadError goes up: apply_property_updates reads again
        except GraphError as exc:
            return all_failed(results, exc)
        store._hub.publish(events)
    return results
