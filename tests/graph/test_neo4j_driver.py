"""What the store's driver settings mean for a user: no notification noise, errors kept."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from graph_test_models import DEVICE, MODELS, ROOM

from graph import GraphError, RelationshipUpsert, open_graph
from graph.neo4j import Neo4jGraph

pytestmark = pytest.mark.neo4j


def _first_use(uri: str, **config: Any) -> None:
    """Writes and reads naming a property key no node has ever had, as the store's own
    queries do on a fresh database (`$relId` before the first relationship): Neo4j
    reports each such query with a notification."""
    never = f"never_{uuid.uuid4().hex}"
    with open_graph(uri, **config) as g:
        assert isinstance(g, Neo4jGraph)
        g.add_models(MODELS)
        g.create_twin("r", ROOM, {})
        g.create_twin("d", DEVICE, {})
        assert g.upsert_batch((), [RelationshipUpsert("r", "h", "hasDevice", "d")])[0].ok
        assert g.run_read(f"MATCH (n:Twin) WHERE n.{never} = 1 RETURN n.`$dtId` AS id", {}) == []


def _driver_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("neo4j") and r.levelno >= logging.WARNING
    ]


def test_a_fresh_database_logs_no_server_notifications(
    neo4j_store_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="neo4j")
    _first_use(neo4j_store_uri)
    assert _driver_warnings(caplog) == []


def test_notifications_can_be_turned_back_on(
    neo4j_store_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="neo4j")
    _first_use(neo4j_store_uri, notifications_min_severity="WARNING")
    assert any("property key does not exist" in m for m in _driver_warnings(caplog))


def test_errors_stay_visible(neo4j_store_uri: str) -> None:
    with open_graph(neo4j_store_uri) as g:
        assert isinstance(g, Neo4jGraph)
        with pytest.raises(GraphError, match="Neo4j error"):
            g.run_read("MATCH (n) RETURN n.x +", {})


def _operators(plan: dict[str, Any]) -> set[str]:
    ops = {plan["operatorType"].split("@")[0].removesuffix("(Locking)")}
    for child in plan.get("children", []):
        ops |= _operators(child)
    return ops


def test_every_lookup_of_a_twin_by_id_seeks_the_index(neo4j_store_uri: str) -> None:
    """Plans are cached; one made while index statistics said "empty" would scan the whole
    index per row (seconds per batch) unless the statement forces the seek."""
    from neo4j import GraphDatabase

    from graph.neo4j import cypher
    from graph.neo4j.columns import group_by_names

    (cols,), _ = group_by_names([{"$dtId": "x", "p": 1.0}], 1)
    params: dict[str, Any] = {
        "ids": [],
        "keys": [],
        "rows": [],
        "id": "x",
        "name": None,
        "s": [],
        "t": [],
    }
    statements = [
        cypher.READ_TWINS,
        cypher.READ_RELS,
        cypher.READ_OUT,
        cypher.READ_IN,
        cypher.TWIN_MODELS,
        cypher.DEL_RELS,
        cypher.DEL_TWINS,
        cypher.UPDATE_TWINS,
        cypher.MERGE_PROPS,
        cypher.put_twins(["Room"], ["Other"], create=False),
        cypher.put_rels("contains", new=True),
        cypher.put_rels("contains", new=False),
        cypher.create_rels_columns("contains", cols),
        cypher.merge_props_columns(cols),
    ]
    with open_graph(neo4j_store_uri):  # creates the constraint
        pass
    with GraphDatabase.driver(neo4j_store_uri, auth=None) as driver:
        # Twins the index statistics do not count yet: unhinted, this plans a scan.
        driver.execute_query("UNWIND range(1, 5000) AS i CREATE (:Twin {`$dtId`: 'x' + i})")
        fresh = f" /* {uuid.uuid4().hex} */"  # planned now, not taken from the plan cache
        for statement in statements:
            plan = driver.execute_query(
                "EXPLAIN " + statement + fresh, {**params, **cols.params, "expected": []}
            ).summary.plan
            assert plan is not None
            ops = _operators(plan)
            assert "NodeUniqueIndexSeek" in ops, statement
            assert not ops & {"NodeIndexScan", "NodeByLabelScan", "AllNodesScan"}, statement
