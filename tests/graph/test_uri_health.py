"""Store URIs, open_graph and health."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph import TwinGraph, open_graph
from graph.embedded import EmbeddedGraph
from graph.uri import parse_store_uri


def test_parse_uris() -> None:
    assert parse_store_uri("embedded:/var/lib/gt").path == "/var/lib/gt"
    assert parse_store_uri("embedded:///var/lib/gt").path == "/var/lib/gt"
    neo = parse_store_uri("neo4j://alice:s%40cret@db.example:7687/twins")
    assert (neo.address, neo.user, neo.password, neo.database) == (
        "neo4j://db.example:7687",
        "alice",
        "s@cret",
        "twins",
    )
    bolt = parse_store_uri("bolt+s://db.example")
    assert (bolt.address, bolt.user, bolt.database) == ("bolt+s://db.example", None, None)


@pytest.mark.parametrize("bad", ["embedded:", "http://x", "neo4j://", "/just/a/path"])
def test_bad_uris_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(ValueError, match="store URI"):
        open_graph(bad)


def test_open_graph_picks_embedded(tmp_path: Path) -> None:
    with open_graph(f"embedded:{tmp_path}") as g:
        assert isinstance(g, EmbeddedGraph)
        assert (tmp_path / "graphtwin.sqlite3").exists()


def test_health(store: TwinGraph) -> None:
    health = store.health()
    assert health["ok"] is True and health["backend"] in ("embedded", "neo4j")
