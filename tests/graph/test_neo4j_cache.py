"""The Neo4j store's cache of the twins ingestion updates (``Neo4jGraph._cache``): it
saves a read per batch, and must never change an answer, whatever it holds or lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graph_test_models import MODELS, ROOM

from graph import PropertyUpdate, StoreUnavailableError, TwinUpsert, open_graph
from graph.neo4j import Neo4jGraph
from graph.neo4j import store as neo4j_store

pytestmark = pytest.mark.neo4j


def _open(uri: str, cache_size: int) -> Neo4jGraph:
    g = open_graph(uri, cache_size=cache_size)
    assert isinstance(g, Neo4jGraph)
    g.add_models(MODELS)
    return g


def _at(second: int) -> str:
    return f"2030-01-01T00:00:{second:02d}Z"


@pytest.fixture
def tiny(neo4j_store_uri: str) -> Iterator[Neo4jGraph]:
    with _open(neo4j_store_uri, cache_size=2) as g:
        yield g


def test_a_cache_smaller_than_the_batch_gives_the_same_answers(tiny: Neo4jGraph) -> None:
    tiny.upsert_batch([TwinUpsert(f"r{i}", ROOM, {"area": float(i)}) for i in range(5)])
    for second in (3, 1, 2):  # the second batch is older than the first: ignored
        updates = [
            PropertyUpdate(f"r{i}", {"temperature": float(second * 10 + i)}, _at(second))
            for i in range(5)
        ]
        assert all(r.ok for r in tiny.apply_property_updates(updates))
    for i in range(5):
        twin = tiny.get_twin(f"r{i}")
        assert twin.properties == {"area": float(i), "temperature": 30.0 + i}
        assert twin.metadata["temperature"].last_update_time == "2030-01-01T00:00:03.000000Z"


def test_twins_being_updated_stay_in_the_cache(neo4j_store_uri: str) -> None:
    with _open(neo4j_store_uri, cache_size=3) as g:
        g.upsert_batch([TwinUpsert(i, ROOM, {}) for i in ("a", "b", "c")])
        g.apply_property_updates([PropertyUpdate("a", {"temperature": 1.0}, _at(1))])
        g.upsert_batch([TwinUpsert("d", ROOM, {})])  # one too many: b, least recently written
        assert set(g._cache) == {"a", "c", "d"}
        g.upsert_batch([TwinUpsert("e", ROOM, {})])  # then c
        assert set(g._cache) == {"a", "d", "e"}


@pytest.mark.parametrize(
    "failure",
    [StoreUnavailableError("injected: the write did not reach Neo4j"), RuntimeError("a bug")],
    ids=["store-error", "bug"],
)
def test_a_failed_write_leaves_no_unwritten_time_in_the_cache(
    tiny: Neo4jGraph, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    tiny.create_twin("r", ROOM, {})
    assert tiny.apply_property_updates([PropertyUpdate("r", {"temperature": 1.0}, _at(1))])[0].ok

    def fail(*args: Any) -> None:
        raise failure

    late = [PropertyUpdate("r", {"temperature": 9.0}, _at(9))]
    with monkeypatch.context() as m:
        m.setattr(neo4j_store, "run_statements", fail)
        if isinstance(failure, StoreUnavailableError):  # answered per item
            assert not tiny.apply_property_updates(late)[0].ok
        else:  # raised, for the caller's fallback (the ingestion service's)
            with pytest.raises(RuntimeError):
                tiny.apply_property_updates(late)
    # Older than the update that failed, newer than what is stored: applied.
    assert tiny.apply_property_updates([PropertyUpdate("r", {"temperature": 5.0}, _at(5))])[0].ok
    twin = tiny.get_twin("r")
    assert twin.properties == {"temperature": 5.0}
    assert twin.metadata["temperature"].last_update_time == "2030-01-01T00:00:05.000000Z"
