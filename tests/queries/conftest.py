"""Fixtures of the shared query suite: the reference graph on each store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from queries_reference import load

from graph import TwinGraph, open_graph
from queries import QueryEngine


def _neo4j_uri(request: pytest.FixtureRequest) -> str:
    try:
        return str(request.getfixturevalue("neo4j_clean"))
    except pytest.FixtureLookupError:
        uri = os.environ.get("GRAPHTWIN_TEST_NEO4J_URI")
        if not uri:
            pytest.skip("no Neo4j: neither the neo4j_clean fixture nor GRAPHTWIN_TEST_NEO4J_URI")
        from neo4j import GraphDatabase

        with GraphDatabase.driver(uri, auth=None) as driver:
            driver.execute_query("MATCH (n) DETACH DELETE n")
        return uri


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwinGraph]:
    if request.param == "embedded":
        uri = f"embedded:{tmp_path / 'store'}"
    else:
        pytest.importorskip("graph.neo4j.store", reason="the Neo4j backend has not landed")
        uri = _neo4j_uri(request)
    with open_graph(uri) as graph:
        yield graph


@pytest.fixture
def ref(store: TwinGraph) -> TwinGraph:
    """The store loaded with the reference graph (queries_reference)."""
    return load(store)


@pytest.fixture
def engine(ref: TwinGraph) -> QueryEngine:
    return QueryEngine(ref)
