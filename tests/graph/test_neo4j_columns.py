"""Bulk writes in columns store exactly what the row form stores, and fall back to it."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from graph_test_models import DEVICE, MODELS, ROOM

from graph import PropertyUpdate, RelationshipUpsert, TwinUpsert, open_graph
from graph.neo4j import Neo4jGraph
from graph.neo4j.columns import group_by_names

# ------------------------------------------------------------------ grouping (no database)


def test_rows_are_grouped_by_their_names_largest_groups_first() -> None:
    maps: list[dict[str, Any]] = [
        {"a": 1.0, "b": "x"},
        {"a": 2.0},
        {"a": 3.0, "b": "y"},
        {"c": True},
    ]
    groups, rest = group_by_names(maps, max_groups=2)
    assert [(g.names, g.positions) for g in groups] == [(("a", "b"), [0, 2]), (("a",), [1])]
    assert rest == [3]  # beyond max_groups: the row form
    first = groups[0]
    assert first.params == {"n": 2, "c0": [1.0, 3.0], "c1": ["x", "y"]}
    assert first.map_text() == "{`a`: $c0[i], `b`: $c1[i]}"
    assert first.set_text("n") == "n.`a` = $c0[i], n.`b` = $c1[i]"


def test_a_column_of_one_value_is_sent_once_but_only_of_one_type() -> None:
    maps = [
        {"m": "x", "j": [], "v": 1},
        {"m": "x", "j": [], "v": 1.0},
        {"m": "x", "j": [], "v": True},
    ]
    (cols,), rest = group_by_names(maps, max_groups=8)
    assert not rest
    assert cols.exprs == ("$c0", "$c1", "$c2[i]")  # 1, 1.0 and True are different values
    assert (
        cols.params["c0"] == "x" and cols.params["c1"] == [] and cols.params["c2"] == [1, 1.0, True]
    )
    lists = [{"l": [1]}, {"l": [1]}]  # non-empty lists are never folded
    assert group_by_names(lists, 8)[0][0].exprs == ("$c0[i]",)


def test_names_that_cannot_be_spliced_go_to_the_row_form() -> None:
    maps: list[dict[str, Any]] = [{"ok": 1.0}, {"not ok`": 1.0}, {"$dtId": "t"}, {"1x": 2}]
    groups, rest = group_by_names(maps, max_groups=8)
    assert sorted(g.names for g in groups) == [("$dtId",), ("ok",)]
    assert rest == [1, 3]


# ------------------------------------------------------------------ against Neo4j


def _workload(seed: int) -> tuple[list[TwinUpsert], list[RelationshipUpsert], list[PropertyUpdate]]:
    """Twins of mixed shapes (so several column groups, plus rows beyond the cap), their
    relationships with and without properties, and updates that change JSON-stored names."""
    rng = random.Random(seed)
    choices: dict[str, list[Any]] = {
        "name": ["a", "b"],
        "area": [1.5, 2.0],
        "codes": [[1, 2], []],
        "settings": [{"target": 20.0}, {"label": "x"}],
        "tags": [{"k": "v"}],
        "mode": ["eco", "comfort"],
    }
    twins = [
        TwinUpsert(
            f"r{i}",
            ROOM,
            {k: rng.choice(v) for k, v in choices.items() if rng.random() < 0.5},
        )
        for i in range(60)
    ]
    twins += [TwinUpsert(f"d{i}", DEVICE, {}) for i in range(10)]
    rels = [
        RelationshipUpsert(
            f"r{i}", f"h{i}", "hasDevice", f"d{i % 10}", {"since": "x"} if i % 2 else {}
        )
        for i in range(30)
    ]
    rels += [RelationshipUpsert(f"r{i}", f"c{i}", "contains", f"r{i + 1}") for i in range(30)]
    updates = [
        PropertyUpdate(f"r{i}", {"temperature": float(i)}, f"2026-01-01T00:00:{i % 60:02d}Z")
        for i in range(60)
    ]
    updates += [
        PropertyUpdate(f"r{i}", {"temperature": 1.0}, "2026-01-02T00:00:00Z", "device")
        for i in range(0, 60, 7)
    ]
    return twins, rels, updates


def _snapshot(g: Neo4jGraph) -> dict[str, Any]:
    """What Neo4j holds, less what differs by write time (ETags, metadata timestamps)."""

    def norm(p: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in p.items() if k not in ("$etag", "$metadata", "$json")}
        if "$json" in p:  # order aside: an absent list and an empty one differ
            out["$json"] = sorted(p["$json"])
        if "$metadata" in p:
            meta = orjson.loads(p["$metadata"])  # name -> "<time> <source>": the sources
            out["$metadata"] = {k: v.rpartition(" ")[2] for k, v in meta.items()}
        return out

    twins = g.run_read("MATCH (n:Twin) RETURN properties(n) AS p, labels(n) AS l", {})
    rels = g.run_read(
        "MATCH (a:Twin)-[r]->(b:Twin) RETURN a.`$dtId` AS s, b.`$dtId` AS t, type(r) AS n, "
        "properties(r) AS p",
        {},
    )
    return {
        "twins": sorted(
            (orjson.dumps(norm(r["p"]), option=orjson.OPT_SORT_KEYS), sorted(r["l"])) for r in twins
        ),
        "rels": sorted(
            (r["s"], r["t"], r["n"], orjson.dumps(norm(r["p"]), option=orjson.OPT_SORT_KEYS))
            for r in rels
        ),
    }


@pytest.mark.neo4j
@pytest.mark.parametrize("seed", [1, 2])
def test_columns_store_what_rows_store(neo4j_store_uri: str, seed: int) -> None:
    twins, rels, updates = _workload(seed)
    snapshots = []
    for groups in (3, 0):  # 3: columns for the largest groups, rows for the rest; 0: rows
        with open_graph(neo4j_store_uri, column_groups=groups) as g:
            assert isinstance(g, Neo4jGraph)
            g.add_models(MODELS)
            assert all(r.ok for r in g.upsert_batch(twins, rels))
            assert all(r.ok for r in g.apply_property_updates(updates))
            snapshots.append(_snapshot(g))
            g.run_write("MATCH (n) DETACH DELETE n", {})
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["twins"]) == 70 and len(snapshots[0]["rels"]) == 60


@pytest.mark.neo4j
def test_column_writes_keep_their_guards(neo4j_store_uri: str) -> None:
    """New relationships in columns still fail when an end is gone; updates in columns
    still notice a twin changed behind the cache."""
    with open_graph(neo4j_store_uri) as g:
        assert isinstance(g, Neo4jGraph)
        g.add_models(MODELS)
        g.upsert_batch([TwinUpsert("r", ROOM, {}), TwinUpsert("d", DEVICE, {})])
        g.apply_property_updates(
            [PropertyUpdate("r", {"temperature": 1.0}, "2026-01-01T00:00:01Z")]
        )
        with open_graph(neo4j_store_uri) as other:  # another process on the same database
            other.patch_twin("r", [{"op": "add", "path": "/area", "value": 9.0}])  # new ETag
            newer = PropertyUpdate("r", {"temperature": 2.0}, "2026-01-01T00:00:02Z")
            assert g.apply_property_updates([newer])[0].ok  # read again: the guard failed
            assert g.get_twin("r").properties == {"area": 9.0, "temperature": 2.0}
            other.delete_twin("d")
        result = g.upsert_batch((), [RelationshipUpsert("r", "h", "hasDevice", "d")])
        assert not result[0].ok and g.list_relationships("r") == []
