"""Batch upserts of items that already exist, on both stores: a re-import replaces and
updates, never duplicates.  On Neo4j a batch first assumes its items are new and skips
its reads (``graph.batch.upsert_batch``); these are the batches where that guess is
wrong, and what users see must be as if it had read first."""

from __future__ import annotations

import pytest
from graph_test_models import DEVICE, MODELS, ROOM, SPACE

from graph import (
    ChangeEvent,
    ConflictError,
    RelationshipUpsert,
    TwinGraph,
    TwinUpsert,
    open_graph,
)


def _import(g: TwinGraph, area: float) -> list[tuple[str, bool]]:
    results = g.upsert_batch(
        [
            TwinUpsert("s", SPACE, {"name": "site"}),
            TwinUpsert("r", ROOM, {"area": area, "name": "room"}),
            TwinUpsert("d", DEVICE, {}),
        ],
        [
            RelationshipUpsert("s", "c1", "contains", "r"),
            RelationshipUpsert("r", "h1", "hasDevice", "d", {"since": f"t{area}"}),
        ],
    )
    return [(r.key, r.ok) for r in results]


def test_reimporting_replaces_and_updates_without_duplicates(loaded: TwinGraph) -> None:
    events: list[ChangeEvent] = []
    assert all(ok for _, ok in _import(loaded, 1.0))
    first = loaded.get_twin("r")
    loaded.subscribe(events.append)
    for area in (2.0, 3.0):  # again and again: each time every item exists
        assert _import(loaded, area) == [
            ("s", True),
            ("r", True),
            ("d", True),
            ("s/c1", True),
            ("r/h1", True),
        ]
    room = loaded.get_twin("r")
    assert room.properties == {"area": 3.0, "name": "room"}
    assert room.etag != first.etag
    # The unchanged name keeps when it was written; the changed one is newer.
    assert room.metadata["name"] == first.metadata["name"]
    assert room.metadata["area"].last_update_time > first.metadata["area"].last_update_time
    assert [(r.id, r.target) for r in loaded.list_relationships("s")] == [("c1", "r")]
    assert [(r.id, r.properties) for r in loaded.list_relationships("r")] == [
        ("h1", {"since": "t3.0"})
    ]
    kinds = [(e.kind, e.id) for e in events]
    assert kinds.count(("twin.updated", "r")) == 2 and ("twin.created", "r") not in kinds
    assert kinds.count(("relationship.updated", "h1")) == 2
    assert not any(k == "relationship.created" for k, _ in kinds)


def test_a_batch_of_new_and_existing_items(loaded: TwinGraph) -> None:
    _import(loaded, 1.0)
    results = loaded.upsert_batch(
        [TwinUpsert("r2", ROOM, {"area": 5.0}), TwinUpsert("r", ROOM, {"area": 6.0})],
        [
            RelationshipUpsert("s", "c2", "contains", "r2"),  # new
            RelationshipUpsert("s", "c1", "contains", "r2"),  # exists, to another target
        ],
    )
    assert [(r.key, r.ok) for r in results] == [
        ("r2", True),
        ("r", True),
        ("s/c2", True),
        ("s/c1", False),
    ]
    assert isinstance(results[3].error, ConflictError)
    assert "exists with target 'r'" in str(results[3].error)
    assert loaded.get_twin("r").properties["area"] == 6.0
    assert sorted((r.id, r.target) for r in loaded.list_relationships("s")) == [
        ("c1", "r"),
        ("c2", "r2"),
    ]
    # And the next batch of only new items is written as such.
    assert [r.ok for r in loaded.upsert_batch([TwinUpsert("r3", ROOM, {})])] == [True]
    assert loaded.get_twin("r3").model == ROOM


def test_relationships_alone_that_exist_are_updated_not_duplicated(loaded: TwinGraph) -> None:
    loaded.create_twin("s", SPACE, {})
    loaded.create_twin("r", ROOM, {})
    loaded.create_twin("r2", ROOM, {})
    loaded.create_relationship("s", "c1", "contains", "r")
    results = loaded.upsert_batch(
        (),
        [
            RelationshipUpsert("s", "c0", "contains", "r2"),  # new, beside existing ones
            RelationshipUpsert("s", "c1", "contains", "r"),
        ],
    )
    assert [(r.key, r.ok) for r in results] == [("s/c0", True), ("s/c1", True)]
    again = loaded.upsert_batch((), [RelationshipUpsert("s", "c1", "contains", "r2")])
    assert isinstance(again[0].error, ConflictError)
    assert sorted((r.id, r.target) for r in loaded.list_relationships("s")) == [
        ("c0", "r2"),
        ("c1", "r"),
    ]
    assert [r.id for r in loaded.list_incoming("r")] == ["c1"]


def test_a_batch_replaces_twins_of_a_decommissioned_model_but_creates_none(
    loaded: TwinGraph,
) -> None:
    # Whether the twin exists decides the outcome: a batch that assumed it new must not
    # refuse the replacement.
    loaded.create_twin("r1", ROOM, {"area": 1.0})
    loaded.decommission_model(ROOM)
    results = loaded.upsert_batch(
        [TwinUpsert("r1", ROOM, {"area": 2.0}), TwinUpsert("r2", ROOM, {"area": 1.0})]
    )
    assert [(r.key, r.ok) for r in results] == [("r1", True), ("r2", False)]
    assert "decommissioned" in str(results[1].error)
    assert loaded.get_twin("r1").properties == {"area": 2.0}


@pytest.mark.neo4j
def test_row_form_guard_on_neo4j(neo4j_store_uri: str) -> None:
    # With no column shapes allowed every statement takes the row form, so the guarded
    # relationship CREATE of a batch assumed new is the row statement's.
    with open_graph(neo4j_store_uri) as g:
        g.add_models(MODELS)
        for twin_id, model in (("s", SPACE), ("r", ROOM), ("r2", ROOM)):
            g.create_twin(twin_id, model, {})
        g.create_relationship("s", "c1", "contains", "r")
    with open_graph(neo4j_store_uri, column_groups=0) as g:  # its first batch assumes new
        results = g.upsert_batch(
            (),
            [
                RelationshipUpsert("s", "c0", "contains", "r2"),
                RelationshipUpsert("s", "c1", "contains", "r", {}),
            ],
        )
        assert [(r.key, r.ok) for r in results] == [("s/c0", True), ("s/c1", True)]
        assert sorted((r.id, r.target) for r in g.list_relationships("s")) == [
            ("c0", "r2"),
            ("c1", "r"),
        ]
