"""graph.neo4j.reads: the query layer's read primitive gives run_read's rows."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from graph import GraphError, open_graph
from graph.neo4j.reads import read_many
from graph.neo4j.store import Neo4jGraph

pytestmark = pytest.mark.neo4j

_VALUES = ("RETURN 1 AS n, 'a' AS s, null AS z, [1, [2.5, 'x'], null] AS l, "
           "{k: [true, {deep: 'v'}]} AS m, $p AS p")


def test_read_many_rows_equal_run_read_rows(neo4j_clean: str) -> None:
    with open_graph(neo4j_clean) as store:
        assert isinstance(store, Neo4jGraph)
        params = {"p": {"list": [1, 2], "text": "t"}}
        rows = read_many(store, lambda run: run(_VALUES, params))
        assert rows == store.run_read(_VALUES, params)
        assert rows == [{"n": 1, "s": "a", "z": None, "l": [1, [2.5, "x"], None],
                         "m": {"k": [True, {"deep": "v"}]}, "p": {"list": [1, 2], "text": "t"}}]


def test_read_many_runs_every_query_of_the_work(neo4j_clean: str) -> None:
    with open_graph(neo4j_clean) as store:
        assert isinstance(store, Neo4jGraph)
        both = read_many(store, lambda run: run("UNWIND [1, 2] AS x RETURN x", {})
                         + run("RETURN $y AS x", {"y": 3}))
        assert both == [{"x": 1}, {"x": 2}, {"x": 3}]
        assert read_many(store, lambda run: run("MATCH (n:Nothing) RETURN n.id AS id", {})) == []


def test_read_many_maps_errors(neo4j_clean: str) -> None:
    with open_graph(neo4j_clean) as store:
        assert isinstance(store, Neo4jGraph)
        with pytest.raises(GraphError, match="read queries: Neo4j error"):
            read_many(store, lambda run: run("RETURN 1 +", {}))


def test_read_many_runs_the_work_again_after_a_retryable_failure(neo4j_clean: str) -> None:
    """A lost connection in the middle of a walk (retryable): the whole work runs
    again, in a managed transaction, and its answer is the one returned."""
    from neo4j.exceptions import SessionExpired

    attempts: list[int] = []

    def work(run: Any) -> list[dict[str, Any]]:
        attempts.append(len(attempts))
        first = run("RETURN 1 AS x", {})
        if len(attempts) == 1:
            raise SessionExpired("connection lost")
        return first + run("RETURN 2 AS x", {})

    with open_graph(neo4j_clean) as store:
        assert isinstance(store, Neo4jGraph)
        assert read_many(store, work) == [{"x": 1}, {"x": 2}]
        assert attempts == [0, 1]


def test_walk_naming_unknown_relationship_types_logs_no_warning(
        neo4j_clean: str, caplog: pytest.LogCaptureFixture) -> None:
    """Containment names the database never saw (``holds``) must not make the driver
    log a server notification on every question."""
    from queries_reference import load

    from queries import Containment, Descendants, QueryEngine

    with open_graph(neo4j_clean) as store, caplog.at_level(logging.INFO):
        load(store)
        engine = QueryEngine(store, containment=Containment(down=("contains", "holds"), up=()))
        found = engine.run(Descendants("bldg1"))
        assert [r.twin_id for r in found] == ["floor1", "floor2", "room1", "room2"]
    assert not [r for r in caplog.records if r.name.startswith("neo4j")]
