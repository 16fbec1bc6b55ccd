"""Batch upsert, property updates (newest wins) and change events."""

from __future__ import annotations

import threading

import pytest
from graph_test_models import DEVICE, ROOM, SPACE

from graph import (
    ChangeEvent,
    NotFoundError,
    PropertyUpdate,
    RelationshipUpsert,
    TwinGraph,
    TwinUpsert,
    ValidationError,
)


def test_upsert_batch_per_item_results(loaded: TwinGraph) -> None:
    loaded.create_twin("old", ROOM, {"area": 1.0})
    results = loaded.upsert_batch(
        [
            TwinUpsert("s", SPACE, {"name": "site"}),
            TwinUpsert("r", ROOM, {"area": 2.0, "serial": "SN1"}),  # import may write read-only
            TwinUpsert("bad", ROOM, {"area": "x"}),
            TwinUpsert("old", ROOM, {"area": 3.0}),
            TwinUpsert("d", DEVICE, {}),
        ],
        [
            RelationshipUpsert("s", "c1", "contains", "r"),  # twins of the same batch
            RelationshipUpsert("s", "c2", "contains", "bad"),  # target refused above
            RelationshipUpsert("r", "h1", "hasDevice", "d", {"since": "t"}),
            RelationshipUpsert("r", "h2", "nosuch", "d"),
        ],
    )
    assert [(r.key, r.ok) for r in results] == [
        ("s", True),
        ("r", True),
        ("bad", False),
        ("old", True),
        ("d", True),
        ("s/c1", True),
        ("s/c2", False),
        ("r/h1", True),
        ("r/h2", False),
    ]
    assert isinstance(results[2].error, ValidationError)
    assert results[2].error.problems[0].path == "/area"
    assert loaded.get_twin("old").properties == {"area": 3.0}
    assert loaded.get_twin("r").properties == {"area": 2.0, "serial": "SN1"}
    assert [r.id for r in loaded.list_relationships("s")] == ["c1"]
    assert loaded.get_relationship("r", "h1").properties == {"since": "t"}
    assert loaded.count_twins() == 4


def test_upsert_batch_enforces_multiplicity_within_batch(loaded: TwinGraph) -> None:
    twins = [TwinUpsert("r", ROOM, {})] + [TwinUpsert(f"d{i}", DEVICE, {}) for i in range(3)]
    rels = [RelationshipUpsert("r", f"h{i}", "hasDevice", f"d{i}") for i in range(3)]
    results = loaded.upsert_batch(twins, rels)
    assert [r.ok for r in results[4:]] == [True, True, False]


def test_property_updates_newest_wins(loaded: TwinGraph) -> None:
    loaded.create_twin("r", ROOM, {})
    res = loaded.apply_property_updates(
        [
            PropertyUpdate("r", {"temperature": 20.0, "serial": "A"}, "2026-01-01T00:00:10Z"),
            PropertyUpdate("r", {"temperature": 19.0}, "2026-01-01T00:00:05Z"),  # older: ignored
            PropertyUpdate("r", {"temperature": 21.0}, "2026-01-01T01:00:11+01:00"),  # = 00:00:11Z
            PropertyUpdate("ghost", {"temperature": 1.0}, "2026-01-01T00:00:00Z"),
            PropertyUpdate("r", {"temperature": "hot"}, "2026-01-01T00:00:20Z"),
            PropertyUpdate("r", {"nosuch": 1}, "2026-01-01T00:00:20Z"),
            PropertyUpdate("r", {"temperature": 1.0}, "yesterday"),
        ]
    )
    assert [r.ok for r in res] == [True, True, True, False, False, False, False]
    assert isinstance(res[3].error, NotFoundError)
    assert (
        isinstance(res[4].error, ValidationError)
        and res[4].error.problems[0].path == "/temperature"
    )
    twin = loaded.get_twin("r")
    assert twin.properties == {"temperature": 21.0, "serial": "A"}
    assert twin.metadata["temperature"].last_update_time == "2026-01-01T00:00:11.000000Z"
    assert twin.metadata["temperature"].source == "device"
    # redelivery of an old message changes nothing, not even the ETag
    loaded.apply_property_updates(
        [PropertyUpdate("r", {"temperature": 20.0}, "2026-01-01T00:00:10Z")]
    )
    assert loaded.get_twin("r").properties["temperature"] == 21.0
    assert loaded.get_twin("r").etag == twin.etag


def test_events_in_commit_order_with_patches(loaded: TwinGraph) -> None:
    events: list[ChangeEvent] = []
    sub = loaded.subscribe(events.append)
    loaded.create_twin("r", ROOM, {"area": 1.0})
    loaded.create_twin("d", DEVICE, {})
    loaded.patch_twin("r", [{"op": "replace", "path": "/area", "value": 2.0}])
    loaded.create_relationship("r", "h", "hasDevice", "d", {"since": "a"})
    loaded.patch_relationship("r", "h", [{"op": "replace", "path": "/since", "value": "b"}])
    loaded.apply_property_updates(
        [PropertyUpdate("r", {"temperature": 5.0}, "2026-01-01T00:00:00Z")]
    )
    loaded.delete_twin("d", cascade=True)
    loaded.add_models(
        [{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:X;1", "@type": "Interface"}]
    )
    sub.close()
    loaded.create_twin("late", ROOM, {})
    assert [e.kind for e in events] == [
        "twin.created",
        "twin.created",
        "twin.updated",
        "relationship.created",
        "relationship.updated",
        "twin.updated",
        "relationship.deleted",
        "twin.deleted",
        "model.added",
    ]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert events[0].patch == [{"op": "add", "path": "/area", "value": 1.0}]
    assert events[2].patch == [{"op": "replace", "path": "/area", "value": 2.0}]
    assert (
        events[3].source_twin == "r"
        and events[3].target_twin == "d"
        and events[3].name == "hasDevice"
    )
    assert events[4].patch == [{"op": "replace", "path": "/since", "value": "b"}]
    assert events[5].patch == [{"op": "add", "path": "/temperature", "value": 5.0}]
    assert events[7].id == "d" and events[7].data is None
    assert events[8].id == "dtmi:test:X;1"


def test_events_from_threads_arrive_in_commit_order(loaded: TwinGraph) -> None:
    seqs: list[int] = []
    loaded.subscribe(lambda e: seqs.append(e.seq))
    threads = [
        threading.Thread(
            target=lambda i=i: [loaded.create_twin(f"t{i}_{j}", SPACE, {}) for j in range(10)]
        )
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seqs) == 40 and seqs == sorted(seqs)


def test_failing_subscriber_does_not_break_writes(loaded: TwinGraph) -> None:
    def broken(event: ChangeEvent) -> None:
        raise RuntimeError("subscriber bug")

    loaded.subscribe(broken)
    got: list[str] = []
    loaded.subscribe(lambda e: got.append(e.id))
    loaded.create_twin("r", ROOM, {})
    assert got == ["r"] and loaded.get_twin("r").id == "r"


@pytest.mark.parametrize("n", [300])
def test_large_batch(loaded: TwinGraph, n: int) -> None:
    twins = [TwinUpsert(f"room{i}", ROOM, {"area": float(i)}) for i in range(n)]
    rels = [
        RelationshipUpsert(f"room{i}", "next", "contains", f"room{(i + 1) % n}") for i in range(n)
    ]
    assert all(r.ok for r in loaded.upsert_batch(twins, rels))
    updates = [
        PropertyUpdate(f"room{i}", {"temperature": float(i)}, "2026-01-01T00:00:00Z")
        for i in range(n)
    ]
    assert all(r.ok for r in loaded.apply_property_updates(updates))
    assert loaded.get_twin("room7").properties == {"area": 7.0, "temperature": 7.0}
    assert loaded.list_incoming("room0")[0].source == f"room{n - 1}"
