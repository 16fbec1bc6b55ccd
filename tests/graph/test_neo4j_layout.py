"""What a Neo4j user sees: labels, typed relationships, JSON-stored values, the constraint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from graph_test_models import DEVICE, MODELS, OTHER_ROOM, OTHER_ROOM_MODEL, ROOM, ROOM2, ROOM_V2

from graph import (
    ConflictError,
    PropertyUpdate,
    RelationshipUpsert,
    StoreUnavailableError,
    open_graph,
)
from graph.neo4j import Neo4jGraph

pytestmark = pytest.mark.neo4j


@pytest.fixture
def neo(neo4j_store_uri: str) -> Iterator[Neo4jGraph]:
    with open_graph(neo4j_store_uri) as g:
        assert isinstance(g, Neo4jGraph)
        g.add_models(MODELS)
        yield g


def test_labels_readable_and_collision_free(neo: Neo4jGraph) -> None:
    neo.add_models([OTHER_ROOM_MODEL, ROOM_V2])
    neo.create_twin("r", ROOM, {})
    neo.create_twin("o", OTHER_ROOM, {})
    neo.create_twin("v2", ROOM2, {})
    rows = neo.run_read("MATCH (n:Twin) RETURN n.`$dtId` AS id, labels(n) AS labels", {})
    labels = {r["id"]: set(r["labels"]) for r in rows}
    assert labels["r"] == {"Twin", "Room", "Space"}
    assert labels["o"] == {"Twin", "Other_Room"}
    assert labels["v2"] == {"Twin", "Room", "Space"}  # versions share a label
    neo.create_twin("r", OTHER_ROOM, {}, replace=True)  # labels follow a change of model
    rows = neo.run_read("MATCH (n:Twin {`$dtId`: 'r'}) RETURN labels(n) AS labels", {})
    assert set(rows[0]["labels"]) == {"Twin", "Other_Room"}


def test_layout_of_values_and_relationships(neo: Neo4jGraph) -> None:
    neo.create_twin(
        "r",
        ROOM,
        {
            "area": 2.5,
            "codes": [1, 2],
            "settings": {"target": 20.0},
            "thermostat": {"setpoint": 19.0},
        },
    )
    neo.create_twin("d", DEVICE, {})
    neo.create_relationship("r", "h", "hasDevice", "d", {"since": "now"})
    neo.apply_property_updates([PropertyUpdate("r", {"temperature": 21.0}, "2026-01-01T00:00:00Z")])
    row = neo.run_read(
        "MATCH (n:Twin {`$dtId`: $id})-[e:hasDevice]->(m) RETURN n.area AS area, n.codes AS codes, "
        "n.settings AS settings, n.`$json` AS json, n.temperature AS t, e.since AS since, "
        "e.`$relId` AS rid, m.`$dtId` AS target",
        {"id": "r"},
    )[0]
    assert row["area"] == 2.5 and row["codes"] == [1, 2] and row["t"] == 21.0
    assert row["settings"] == '{"target":20.0}'
    assert set(row["json"]) == {"settings", "thermostat"}
    assert (row["since"], row["rid"], row["target"]) == ("now", "h", "d")
    assert neo.get_twin("r").properties["settings"] == {"target": 20.0}


def test_uniqueness_constraint_on_twin_id(neo: Neo4jGraph) -> None:
    rows = neo.run_read("SHOW CONSTRAINTS YIELD labelsOrTypes, properties RETURN *", {})
    assert {"labelsOrTypes": ["Twin"], "properties": ["$dtId"]} in rows
    neo.create_twin("r", ROOM, {})
    with pytest.raises(ConflictError):
        neo.create_twin("r", ROOM, {})


def test_ingestion_cache_notices_writes_from_elsewhere(neo: Neo4jGraph) -> None:
    neo.create_twin("r", ROOM, {"area": 1.0})
    first = PropertyUpdate("r", {"temperature": 1.0}, "2026-01-01T00:00:01Z")
    neo.apply_property_updates([first])
    # another writer stores a newer temperature behind this store's back
    meta = {
        "area": ["2026-01-01T00:00:00.000000Z", "api"],
        "temperature": ["2026-01-01T00:00:05.000000Z", "device"],
    }
    from neo4j import GraphDatabase

    with GraphDatabase.driver(neo.uri, auth=None) as driver:
        driver.execute_query(
            "MATCH (n:Twin {`$dtId`: 'r'}) "
            "SET n.temperature = 5.0, n.`$metadata` = $meta, n.`$etag` = 'elsewhere'",
            meta=json.dumps(meta),
        )
    # older than what is stored now: ignored, not applied on a stale cached view
    older = PropertyUpdate("r", {"temperature": 2.0}, "2026-01-01T00:00:02Z")
    assert neo.apply_property_updates([older])[0].ok
    assert neo.get_twin("r").properties == {"area": 1.0, "temperature": 5.0}


def test_relationship_to_a_twin_deleted_elsewhere_fails(neo: Neo4jGraph) -> None:
    neo.create_twin("r", ROOM, {})
    neo.create_twin("d", DEVICE, {})
    from neo4j import GraphDatabase

    with GraphDatabase.driver(neo.uri, auth=None) as driver:
        driver.execute_query("MATCH (n:Twin {`$dtId`: 'd'}) DETACH DELETE n")
    results = neo.upsert_batch((), [RelationshipUpsert("r", "h", "hasDevice", "d")])
    assert not results[0].ok
    assert neo.list_relationships("r") == []


@pytest.mark.slow
def test_outage_maps_to_store_unavailable_and_recovers(neo4j_server: Any) -> None:
    with open_graph(neo4j_server.uri, max_retry_time=1.0) as g:
        g.add_models(MODELS)
        g.create_twin("before", ROOM, {})
        neo4j_server.stop()
        try:
            with pytest.raises(StoreUnavailableError):
                g.create_twin("during", ROOM, {})
            assert g.health()["ok"] is False
        finally:
            neo4j_server.start()
        g.create_twin("after", ROOM, {})
        assert [t.id for t in g.get_twins(["before", "during", "after"])] == ["before", "after"]
        assert g.health()["ok"] is True


def test_write_on_a_stale_read_is_refused_not_lost(neo: Neo4jGraph) -> None:
    """Two stores on one database: B's write lands between A's read and A's write."""
    from dataclasses import replace

    from graph.engine import WriteSet

    seen_by_a = neo.create_twin("r", ROOM, {"area": 1.0})
    with open_graph(neo.uri) as b:
        b.patch_twin("r", [{"op": "replace", "path": "/area", "value": 2.0}])
    late = replace(seen_by_a, properties={"area": 3.0}, etag='W/"a"')
    with pytest.raises(ConflictError, match="another writer"):
        neo._commit_and_publish(
            WriteSet(twin_updates=[late], expected_etags={"r": seen_by_a.etag}), []
        )
    assert neo.get_twin("r").properties == {"area": 2.0}
