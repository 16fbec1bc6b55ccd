"""Fixtures of the shared query suite: the reference graph on each store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from queries_reference import load, store_uri

from graph import TwinGraph, open_graph
from queries import QueryEngine


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwinGraph]:
    with open_graph(store_uri(request, request.param, tmp_path)) as graph:
        yield graph


@pytest.fixture
def ref(store: TwinGraph) -> TwinGraph:
    """The store loaded with the reference graph (queries_reference)."""
    return load(store)


@pytest.fixture
def engine(ref: TwinGraph) -> QueryEngine:
    return QueryEngine(ref)
