"""Fixtures of the store contract suite: the test models and a store of each backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from graph_test_models import MODELS

from graph import TwinGraph, open_graph


def _neo4j_uri(request: pytest.FixtureRequest) -> str:
    """The shared ``neo4j_clean`` fixture when conftest provides it, else the dev env variable."""
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


@pytest.fixture
def neo4j_store_uri(request: pytest.FixtureRequest) -> str:
    """A wiped Neo4j, for tests of what only the Neo4j backend does."""
    return _neo4j_uri(request)


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"embedded:{tmp_path / 'store'}"
    return _neo4j_uri(request)


@pytest.fixture
def store(store_uri: str) -> Iterator[TwinGraph]:
    with open_graph(store_uri) as graph:
        yield graph


@pytest.fixture
def loaded(store: TwinGraph) -> TwinGraph:
    """A store holding the test models."""
    store.add_models(MODELS)
    return store
