"""Fixtures of the store contract suite: the test models and a store of each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graph_test_models import MODELS

from graph import TwinGraph, open_graph


@pytest.fixture
def neo4j_store_uri(neo4j_clean: str) -> str:
    """A wiped Neo4j (the shared fixture), for tests of what only the Neo4j backend does."""
    return neo4j_clean


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"embedded:{tmp_path / 'store'}"
    return str(request.getfixturevalue("neo4j_clean"))


@pytest.fixture
def store(store_uri: str) -> Iterator[TwinGraph]:
    with open_graph(store_uri) as graph:
        yield graph


@pytest.fixture
def loaded(store: TwinGraph) -> TwinGraph:
    """A store holding the test models."""
    store.add_models(MODELS)
    return store
