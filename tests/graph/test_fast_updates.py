"""Each store's ingestion loop (``graph.updateloop``: the embedded store over its networkx
nodes, the Neo4j store over its cache) against the general path
(``graph.batch.apply_property_updates`` on an embedded store): the same random batches
into two identical stores give the same results, documents, metadata, events and, for the
embedded store after reopening, the same journalled state."""

from __future__ import annotations

import gc
import random
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from graph_test_models import DEVICE, MODELS, ROOM, SPACE

from graph import (
    ChangeEvent,
    PreconditionFailedError,
    PropertyUpdate,
    StoreUnavailableError,
    TwinGraph,
    TwinUpsert,
    batch,
    open_graph,
)
from graph.embedded import EmbeddedGraph
from graph.layout import NX_META

IDS = [f"t{i}" for i in range(12)]


def _twins() -> list[TwinUpsert]:
    # No properties: their metadata would hold each store's own creation time.
    models = [ROOM, ROOM, ROOM, DEVICE, SPACE]
    return [TwinUpsert(i, models[n % len(models)], {}) for n, i in enumerate(IDS)]


def _values(rng: random.Random) -> dict[str, Any]:
    choices: list[tuple[str, Any]] = [
        ("temperature", rng.uniform(-10, 40)),
        ("temperature", "hot"),  # wrong type
        ("temp", rng.uniform(0, 9)),  # the device's telemetry
        ("firmware", "1.2"),
        ("area", float(rng.randrange(100))),
        ("serial", f"S{rng.randrange(9)}"),
        ("mode", rng.choice(["eco", "comfort", "turbo"])),
        ("settings", {"target": 20.5, "label": "x"}),
        ("tags", {"wing": "b"}),
        ("codes", [rng.randrange(5)]),
        ("thermostat", {"setpoint": 19.5}),  # a component: the general validator's case
        ("name", "renamed"),
        ("nosuch", 1),
        ("$metadata", {}),
        ("hasDevice", "d1"),  # a relationship is not a value
    ]
    return dict(rng.sample(choices, rng.randrange(1, 4)))


def _update(rng: random.Random, round_: int) -> PropertyUpdate:
    # Times move forward with the rounds, some a little back: newer and older both occur.
    at = max(0, round_ * 10 + rng.randrange(-30, 30))
    hour, minute, second = at // 3600, at // 60 % 60, at % 60
    stamp = f"2030-01-01T{hour:02d}:{minute:02d}:{second:02d}Z"
    if rng.random() < 0.1:
        stamp = rng.choice(
            [
                f"2030-01-01T{hour:02d}:{minute:02d}:{second:02d}.000000Z",  # normalised already
                f"2030-01-01T{hour + 1:02d}:{minute:02d}:{second:02d}+01:00",
                "yesterday",
                "2030-01-01T00:00:00",  # no time zone
            ]
        )
    twin_id = rng.choice([*IDS, "ghost"])
    return PropertyUpdate(twin_id, _values(rng), stamp, rng.choice(["device", "import"]))


def _result(r: Any) -> tuple[Any, ...]:
    error = r.error
    problems = getattr(error, "problems", None)
    return (r.key, r.ok, type(error), str(error), problems)


def _event(e: ChangeEvent) -> tuple[Any, ...]:
    data = e.data
    return (e.kind, e.id, e.time, e.model, e.patch, data.properties, dict(data.metadata))


def _documents(g: TwinGraph) -> dict[str, tuple[Any, ...]]:
    return {t.id: (t.model, t.properties, dict(t.metadata)) for t in g.iter_twins()}


def test_fast_path_matches_the_general_path(store_uri: str, tmp_path: Path) -> None:
    rng = random.Random(20261122)
    # On Neo4j, at most two statement shapes per batch go as columns, so that the
    # batches' other name sets take the map form (tested against the same answers).
    options = {} if store_uri.startswith("embedded:") else {"column_groups": 2}
    fast, general = open_graph(store_uri, **options), EmbeddedGraph(tmp_path / "general")
    fast_events: list[ChangeEvent] = []
    general_events: list[ChangeEvent] = []
    for g, events in ((fast, fast_events), (general, general_events)):
        g.add_models(MODELS)
        g.upsert_batch(_twins())
        g.subscribe(events.append)
    refused = 0
    rounds = 150 if isinstance(fast, EmbeddedGraph) else 50  # Neo4j: ~0.15 s a round
    for round_ in range(rounds):
        updates = [_update(rng, round_) for _ in range(rng.randrange(1, 25))]
        for up in rng.sample(updates, len(updates) // 4):  # the same time again: not newer
            updates.append(PropertyUpdate(up.twin_id, _values(rng), up.timestamp, up.source))
        etags_before = {t.id: t.etag for t in fast.iter_twins()}
        general_etags_before = {t.id: t.etag for t in general.iter_twins()}
        fast_results = fast.apply_property_updates(updates)
        general_results = batch.apply_property_updates(general, updates)
        refused += sum(not r.ok for r in fast_results)
        assert [_result(r) for r in fast_results] == [_result(r) for r in general_results]
        assert _documents(fast) == _documents(general), round_
        # ETags are per process and differ; whether each twin got a new one must not.
        assert {i: fast.get_twin(i).etag != e for i, e in etags_before.items()} == {
            i: general.get_twin(i).etag != e for i, e in general_etags_before.items()
        }
    assert [_event(e) for e in fast_events] == [_event(e) for e in general_events]
    assert len(fast_events) > 2 * rounds and refused > 2 * rounds  # both, many times
    state = _documents(fast)
    general._journal.close()  # no clean close: the next open replays the log
    if not isinstance(fast, EmbeddedGraph):
        fast.close()
        with open_graph(store_uri) as again:  # from Neo4j, not the cache
            assert _documents(again) == state
        return
    fast._journal.close()
    with EmbeddedGraph(tmp_path / "store") as again, EmbeddedGraph(tmp_path / "general") as other:
        assert _documents(again) == state == _documents(other)
        assert {t.id: t.etag for t in again.iter_twins()} == {
            t.id: t.etag for t in fast.iter_twins()
        }


def test_a_failed_commit_fails_every_item_and_changes_nothing(tmp_path: Path) -> None:
    g = EmbeddedGraph(tmp_path)
    g.add_models(MODELS)
    g.create_twin("r", ROOM, {"area": 1.0})
    before = g.get_twin("r")
    g._journal._db.execute("PRAGMA query_only = ON")  # every write fails from now on
    results = g.apply_property_updates(
        [
            PropertyUpdate("r", {"temperature": 20.0}, "2030-01-01T00:00:00Z"),
            PropertyUpdate("ghost", {"temperature": 20.0}, "2030-01-01T00:00:00Z"),
        ]
    )
    assert [r.ok for r in results] == [False, False]
    assert isinstance(results[0].error, StoreUnavailableError)
    assert "does not exist" in str(results[1].error)  # its own refusal is kept
    assert g.get_twin("r") == before


@pytest.mark.parametrize(
    "stored",
    [
        {"temperature": ["2030-01-01T00:00:05.000000Z", "device"]},
        {"temperature": {"last_update_time": "2030-01-01T00:00:05.000000Z", "source": "device"}},
    ],
)
def test_documents_written_by_earlier_versions_still_load(
    tmp_path: Path, stored: dict[str, Any]
) -> None:
    with EmbeddedGraph(tmp_path) as g:
        g.add_models(MODELS)
        g.create_twin("r", ROOM, {"area": 1.0})
    doc = {"m": ROOM, "p": {"temperature": 20.0}, "e": 'W/"x"', "t": stored, "s": 0}
    with sqlite3.connect(tmp_path / "graphtwin.sqlite3") as db:
        db.execute("UPDATE twins SET doc = ? WHERE id = 'r'", (orjson.dumps(doc),))
    with EmbeddedGraph(tmp_path) as g:
        meta = g.get_twin("r").metadata["temperature"]
        assert (meta.last_update_time, meta.source) == ("2030-01-01T00:00:05.000000Z", "device")
        older = PropertyUpdate("r", {"temperature": 1.0}, "2030-01-01T00:00:04Z")
        g.apply_property_updates([older])
        assert g.get_twin("r").properties["temperature"] == 20.0
        g.apply_property_updates(
            [PropertyUpdate("r", {"temperature": 2.0}, "2030-01-01T00:00:06Z")]
        )
        assert g.get_twin("r").properties["temperature"] == 2.0


def test_metadata_in_memory_gives_the_garbage_collector_nothing_to_track(tmp_path: Path) -> None:
    # Why metadata is packed (graph/meta.py): tracked metadata made full
    # collections rescan every twin every few dozen ingestion batches.
    g = EmbeddedGraph(tmp_path)
    with g:
        g.add_models(MODELS)
        g.upsert_batch([TwinUpsert("r", ROOM, {"area": 1.0, "name": "r"})])
        g.apply_property_updates(
            [PropertyUpdate("r", {"temperature": 2.0}, "2030-01-01T00:00:00Z")]
        )
        with g.read_view() as view:
            meta = view.nodes["r"][NX_META]
        assert set(meta) == {"area", "name", "temperature"}
        assert not gc.is_tracked(meta)
        assert g.get_twin("r").metadata["temperature"].source == "device"


def test_twins_and_events_handed_out_do_not_change_with_later_updates(loaded: TwinGraph) -> None:
    # The Neo4j store updates its cache's dicts in place after each ingestion commit, so
    # what it hands out (written twins, events) must not share them.
    events: list[ChangeEvent] = []
    loaded.subscribe(events.append)
    created = loaded.create_twin("r", ROOM, {"area": 1.0})
    read = loaded.get_twin("r")
    at = "2030-01-01T00:00:0{}Z"
    loaded.apply_property_updates([PropertyUpdate("r", {"temperature": 1.0}, at.format(1))])
    first = events[-1].data
    assert first is not None
    loaded.apply_property_updates(
        [PropertyUpdate("r", {"temperature": 2.0, "area": 3.0}, at.format(2))]
    )
    for twin in (created, read):
        assert twin.properties == {"area": 1.0}
        assert set(twin.metadata) == {"area"}
    assert first.properties == {"area": 1.0, "temperature": 1.0}
    assert first.metadata["temperature"].last_update_time == "2030-01-01T00:00:01.000000Z"
    assert loaded.get_twin("r").properties == {"area": 3.0, "temperature": 2.0}


def test_an_etag_never_names_two_states_of_one_twin(loaded: TwinGraph) -> None:
    # A batch gives the twins it changes once its own ETag (a commit's revision); a twin
    # changed again in the batch gets a fresh one per change, events included.
    events: list[ChangeEvent] = []
    loaded.subscribe(events.append)
    loaded.upsert_batch([TwinUpsert("x", ROOM, {}), TwinUpsert("y", ROOM, {})])
    before = {i: loaded.get_twin(i).etag for i in ("x", "y")}
    events.clear()
    at = "2030-01-01T00:00:0{}Z"
    loaded.apply_property_updates(
        [
            PropertyUpdate("x", {"temperature": 1.0}, at.format(1)),
            PropertyUpdate("y", {"temperature": 1.0}, at.format(1)),
            PropertyUpdate("x", {"temperature": 2.0}, at.format(2)),
        ]
    )
    x_first, y_only, x_second = (e.data.etag for e in events if e.data is not None)
    assert len({x_first, x_second, before["x"]}) == 3
    assert y_only != before["y"]
    assert loaded.get_twin("x").etag == x_second and loaded.get_twin("y").etag == y_only
    with pytest.raises(PreconditionFailedError):  # the first event's state is gone
        loaded.patch_twin("x", [{"op": "add", "path": "/area", "value": 1.0}], if_match=x_first)
    assert loaded.get_twin("x").properties == {"temperature": 2.0}
