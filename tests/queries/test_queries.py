"""The shared query suite: every operation, known answers, run on both stores.

The same assertions run against the embedded form and the Cypher form (the
``store`` fixture is parametrised), which is what proves the two agree.
"""

from __future__ import annotations

from typing import Any

import pytest
from queries_reference import BUILDING, DEVICE, FLOOR, MODELS, ROOM, SENSOR, SITE, SPACE

from graph import NotFoundError, RelationshipUpsert, TwinGraph, TwinUpsert
from queries import (
    Aggregate,
    Ancestors,
    Containment,
    Descendants,
    Group,
    NearestAncestor,
    Neighbors,
    Paths,
    Predicate,
    QueryEngine,
    QueryError,
    Reach,
    Reached,
    Search,
    ShortestPath,
    Siblings,
    TwinFilter,
    make_steps,
)
from queries.base import Operation
from queries.hierarchy import down_steps
from queries.steps import reached


def ids(found: list[Reached]) -> list[tuple[str, int]]:
    return [(r.twin_id, r.depth) for r in found]


def path_ids(path: object) -> list[str] | None:
    return None if path is None else list(path.nodes)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ neighbours


def test_neighbors_out_includes_self_relationship(engine: QueryEngine) -> None:
    found = engine.run(Neighbors("sens2", make_steps("feeds", "out")))
    assert [(n.twin_id, n.hop.id) for n in found] == [("sens2", "f-self"), ("sens3", "f")]


def test_neighbors_both_counts_self_relationship_once(engine: QueryEngine) -> None:
    found = engine.run(Neighbors("sens2", make_steps("feeds", "both")))
    assert [(n.twin_id, n.hop.source, n.hop.id) for n in found] == [
        ("sens1", "sens1", "f"), ("sens2", "sens2", "f-self"), ("sens3", "sens2", "f"),
    ]


def test_neighbors_in_by_name(engine: QueryEngine) -> None:
    found = engine.run(Neighbors("room1", make_steps("isLocatedIn", "in")))
    assert [(n.twin_id, n.hop.name, n.hop.target) for n in found] == [
        ("sens1", "isLocatedIn", "room1"), ("sens2", "isLocatedIn", "room1"),
    ]


def test_neighbors_parallel_relationships_each_listed(engine: QueryEngine) -> None:
    found = engine.run(Neighbors("bldg1", make_steps(None, "out")))
    assert [(n.twin_id, n.hop.id) for n in found] == [
        ("floor1", "c-f1"), ("floor1", "p-f1"), ("floor2", "c-f2"),
    ]


def test_neighbors_filter_on_far_twin_model_and_property(engine: QueryEngine) -> None:
    steps = make_steps(["contains", "hasPart"], "out")
    big = TwinFilter(model=ROOM, where=[Predicate("area", ">", 25)])
    assert [n.twin_id for n in engine.run(Neighbors("floor1", steps, big))] == ["room2"]
    assert engine.run(Neighbors("floor1", steps, TwinFilter(model=DEVICE))) == []
    devices = engine.run(Neighbors("room1", make_steps(None, "in"), TwinFilter(model=DEVICE)))
    assert [n.twin_id for n in devices] == ["sens1", "sens2"]  # Sensor extends Device


def test_neighbors_of_missing_twin(engine: QueryEngine) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        engine.run(Neighbors("nope"))


def test_neighbors_of_twin_without_relationships(engine: QueryEngine) -> None:
    assert engine.run(Neighbors("room2", make_steps(None, "out"))) == []


# ------------------------------------------------------------------ expansion


def test_reach_on_a_cycle_excludes_the_start(engine: QueryEngine) -> None:
    assert ids(engine.run(Reach("sens1", make_steps("feeds")))) == [("sens2", 1), ("sens3", 2)]


def test_reach_min_zero_includes_the_start(engine: QueryEngine) -> None:
    found = engine.run(Reach("sens1", make_steps("feeds"), min_hops=0))
    assert ids(found) == [("sens1", 0), ("sens2", 1), ("sens3", 2)]


def test_reach_k_hops_window(engine: QueryEngine) -> None:
    steps = make_steps("contains")
    assert ids(engine.run(Reach("site1", steps, min_hops=2, max_hops=2))) == [
        ("floor1", 2), ("floor2", 2), ("floor3", 2),
    ]
    assert ids(engine.run(Reach("site1", steps, max_hops=1))) == [("bldg1", 1), ("bldg2", 1)]


def test_reach_both_directions(engine: QueryEngine) -> None:
    found = engine.run(Reach("room1", make_steps("isLocatedIn", "both")))
    assert ids(found) == [("sens1", 1), ("sens2", 1)]


def test_paths_enumerate_trails(engine: QueryEngine) -> None:
    found = engine.run(Paths("sens1", make_steps("feeds"), 1, 3))
    assert [list(p.nodes) for p in found] == [
        ["sens1", "sens2"],
        ["sens1", "sens2", "sens2"],
        ["sens1", "sens2", "sens2", "sens3"],
        ["sens1", "sens2", "sens3"],
        ["sens1", "sens2", "sens3", "sens1"],
    ]
    assert [h.id for h in found[2].hops] == ["f", "f-self", "f"]


def test_paths_filtered_on_end_twin_and_limited(engine: QueryEngine) -> None:
    flt = TwinFilter(where=[Predicate("firmware", "startsWith", "1.9")])
    found = engine.run(Paths("sens1", make_steps("feeds"), 1, 3, flt))
    assert [list(p.nodes) for p in found] == [
        ["sens1", "sens2", "sens2", "sens3"], ["sens1", "sens2", "sens3"],
    ]
    assert len(engine.run(Paths("sens1", make_steps("feeds"), 1, 3, limit=2))) == 2


def test_expansion_beyond_cap_refused(engine: QueryEngine) -> None:
    with pytest.raises(QueryError, match="max_depth=50"):
        engine.run(Reach("site1", make_steps("contains"), max_hops=51))
    with pytest.raises(QueryError, match="min"):
        engine.run(Paths("site1", make_steps("contains"), 3, 2))




def test_relationship_name_is_validated(engine: QueryEngine) -> None:
    with pytest.raises(QueryError, match="DTDL name"):
        make_steps("contains`]->(x) DETACH DELETE x //", "out")


# ------------------------------------------------------------------ shortest path


def test_shortest_path_around_a_cycle(engine: QueryEngine) -> None:
    assert path_ids(engine.run(ShortestPath("sens1", "sens3", make_steps("feeds")))) == [
        "sens1", "sens2", "sens3",
    ]
    assert path_ids(engine.run(ShortestPath("sens3", "sens2", make_steps("feeds")))) == [
        "sens3", "sens1", "sens2",
    ]


def test_shortest_path_none_and_trivial(engine: QueryEngine) -> None:
    assert engine.run(ShortestPath("room1", "site1", make_steps("contains"))) is None
    assert path_ids(engine.run(ShortestPath("room1", "room1"))) == ["room1"]
    up = make_steps("contains", "in")
    assert path_ids(engine.run(ShortestPath("room1", "site1", up))) == [
        "room1", "floor1", "bldg1", "site1",
    ]


def test_shortest_path_respects_max_hops(engine: QueryEngine) -> None:
    assert engine.run(ShortestPath("site1", "room1", make_steps("contains"), max_hops=2)) is None


def test_shortest_path_missing_twin(engine: QueryEngine) -> None:
    with pytest.raises(NotFoundError, match="ghost"):
        engine.run(ShortestPath("site1", "ghost"))


# ------------------------------------------------------------------ hierarchy


def test_descendants_mix_both_conventions(engine: QueryEngine) -> None:
    assert ids(engine.run(Descendants("bldg1"))) == [
        ("floor1", 1), ("floor2", 1),
        ("room1", 2), ("room2", 2), ("room3", 2), ("room4", 2),
        ("sens1", 3), ("sens2", 3), ("sens3", 3),
    ]


def test_descendants_depth_and_model(engine: QueryEngine) -> None:
    assert ids(engine.run(Descendants("bldg1", max_depth=1))) == [("floor1", 1), ("floor2", 1)]
    rooms = engine.run(Descendants("site1", filter=TwinFilter(model=ROOM)))
    assert ids(rooms) == [(f"room{i}", 3) for i in range(1, 6)]


def test_descendants_filtered_to_leaves(engine: QueryEngine) -> None:
    # Sensors contain nothing (a dead end by their model): the Neo4j walk drops the
    # dead ends that fail the filter, and must still return those that pass it.
    every = engine.run(Descendants("site1"))
    sensors = engine.run(Descendants("site1", filter=TwinFilter(model=SENSOR)))
    assert sensors and sensors == [r for r in every if r.model == SENSOR]


def test_subtree_includes_root_and_self_loop_is_harmless(engine: QueryEngine) -> None:
    assert ids(engine.run(Descendants("floor3", include_self=True))) == [
        ("floor3", 0), ("room5", 1),
    ]
    assert engine.run(Descendants("room5")) == []


def test_ancestors_nearest_first(engine: QueryEngine) -> None:
    assert ids(engine.run(Ancestors("sens1"))) == [
        ("room1", 1), ("floor1", 2), ("bldg1", 3), ("site1", 4),
    ]
    assert ids(engine.run(Ancestors("room4"))) == [("floor2", 1), ("bldg1", 2), ("site1", 3)]
    assert engine.run(Ancestors("site1")) == []


def test_ancestors_depth_filter_and_self(engine: QueryEngine) -> None:
    assert ids(engine.run(Ancestors("sens1", max_depth=2))) == [("room1", 1), ("floor1", 2)]
    assert ids(engine.run(Ancestors("room4", filter=TwinFilter(model=BUILDING)))) == [("bldg1", 2)]
    assert ids(engine.run(Ancestors("room4", filter=TwinFilter(model=SPACE),
                                    include_self=True))) == [
        ("room4", 0), ("floor2", 1), ("bldg1", 2), ("site1", 3),
    ]
    assert ids(engine.run(Ancestors("sens1", filter=TwinFilter(model=BUILDING),
                                    include_self=True))) == [("bldg1", 3)]
    assert ids(engine.run(Ancestors("sens1", max_depth=0, include_self=True))) == [("sens1", 0)]


def test_nearest_ancestor_of_model(engine: QueryEngine) -> None:
    assert engine.run(NearestAncestor("sens3", BUILDING)) == Reached(3, "bldg1")
    assert engine.run(NearestAncestor("sens1", SPACE)) == Reached(1, "room1")  # Room is a Space
    assert engine.run(NearestAncestor("site1", BUILDING)) is None


def test_siblings(engine: QueryEngine) -> None:
    assert engine.run(Siblings("room1")) == ["room2"]
    assert engine.run(Siblings("room3")) == ["room4"]  # hasPart down, isPartOf up
    assert engine.run(Siblings("sens1")) == ["sens2"]
    assert engine.run(Siblings("site1")) == []
    assert engine.run(Siblings("floor1", TwinFilter(model=ROOM))) == []


def test_custom_containment(ref: object) -> None:
    engine = QueryEngine(ref, containment=Containment(down=("feeds",), up=()))  # type: ignore[arg-type]
    assert ids(engine.run(Descendants("sens1"))) == [("sens2", 1), ("sens3", 2)]
    assert ids(engine.run(Ancestors("sens1"))) == [("sens3", 1), ("sens2", 2)]


def test_hierarchy_of_missing_twin(engine: QueryEngine) -> None:
    ops: list[Operation[Any]] = [Descendants("ghost"), Ancestors("ghost"), Siblings("ghost"),
                                 NearestAncestor("ghost", SPACE)]
    for op in ops:
        with pytest.raises(NotFoundError, match="ghost"):
            engine.run(op)


# ------------------------------------------------------------------ aggregation


def test_aggregate_subtree_by_model(engine: QueryEngine) -> None:
    groups = engine.run(Aggregate(Descendants("bldg1"), "area"))
    assert groups == [
        Group(FLOOR, 2, 1, 100.0, 100.0, 100.0),
        Group(ROOM, 4, 3, 67.5, 12.0, 35.5),
        Group(SENSOR, 3, 0, 0, None, None),
        Group(None, 9, 4, 167.5, 12.0, 100.0),
    ]
    assert groups[1].avg == pytest.approx(22.5)
    assert groups[2].avg is None


def test_aggregate_over_traversal_skips_non_numbers(engine: QueryEngine) -> None:
    groups = engine.run(Aggregate(Reach("sens1", make_steps("feeds"), min_hops=0), "value"))
    assert groups == [Group(SENSOR, 3, 2, 8.0, 3.0, 5.0), Group(None, 3, 2, 8.0, 3.0, 5.0)]
    # a string property has no numeric values at all
    firm = engine.run(Aggregate(Reach("sens1", make_steps("feeds")), "firmware"))
    assert firm[-1] == Group(None, 2, 0, 0, None, None)


def test_aggregate_of_missing_twin(engine: QueryEngine) -> None:
    with pytest.raises(NotFoundError):
        engine.run(Aggregate(Descendants("ghost"), "area"))


# ------------------------------------------------------------------ search


def search_ids(engine: QueryEngine, **kw: object) -> list[str]:
    return engine.run(Search(**kw)).ids  # type: ignore[arg-type]


def test_search_by_model_includes_descendants(engine: QueryEngine) -> None:
    assert search_ids(engine, filter=TwinFilter(model=DEVICE)) == ["sens1", "sens2", "sens3"]
    assert len(search_ids(engine, filter=TwinFilter(model=SPACE))) == 11
    assert search_ids(engine, filter=TwinFilter(model=DEVICE, exact_model=True)) == []
    assert search_ids(engine, filter=TwinFilter(model="dtmi:ref:Unknown;1")) == []


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        (Predicate("area", "=", 20), ["room1"]),  # int equals double, as in Cypher
        (Predicate("area", "!=", 20.0), ["room2", "room3", "room5"]),  # missing is not !=
        (Predicate("area", "<", 20), ["room3"]),
        (Predicate("area", "<=", 20), ["room1", "room3"]),
        (Predicate("area", ">", 35.5), ["room5"]),
        (Predicate("area", ">=", 35.5), ["room2", "room5"]),
        (Predicate("area", "in", [12, 50.0, "x"]), ["room3", "room5"]),
        (Predicate("name", "contains", "oom"), ["room1", "room2", "room4"]),
        (Predicate("name", "startsWith", "Room"), ["room1", "room2"]),
        (Predicate("occupied", "exists"), ["room1", "room2"]),
        (Predicate("occupied", "=", False), ["room2"]),
        (Predicate("name", ">", 5), []),  # a string never compares with a number
        (Predicate("area", "contains", "2"), []),
    ],
)
def test_search_predicates(engine: QueryEngine, predicate: Predicate, expected: list[str]) -> None:
    assert search_ids(engine, filter=TwinFilter(model=ROOM, where=[predicate])) == expected


def test_search_id_prefix_and_combined(engine: QueryEngine) -> None:
    floors = search_ids(engine, filter=TwinFilter(id_prefix="floor"))
    assert floors == ["floor1", "floor2", "floor3"]
    both = TwinFilter(id_prefix="floor", where=[Predicate("level", "=", 0)])
    assert search_ids(engine, filter=both) == ["floor1", "floor3"]


def test_search_sort_with_missing_values_and_pages(engine: QueryEngine) -> None:
    rooms = TwinFilter(model=ROOM)
    assert search_ids(engine, filter=rooms, sort="area") == [
        "room3", "room1", "room2", "room5", "room4",  # missing last ascending
    ]
    first = engine.run(Search(rooms, sort="area", descending=True, first=2))
    assert (first.ids, first.has_next) == (["room4", "room5"], True)  # reverse: missing first
    second = engine.run(Search(rooms, "area", True, first=2, after=first.end_cursor))
    assert (second.ids, second.has_next) == (["room2", "room1"], True)
    third = engine.run(Search(rooms, "area", True, first=2, after=second.end_cursor))
    assert (third.ids, third.has_next) == (["room3"], False)


def test_search_sort_ties_broken_by_id(engine: QueryEngine) -> None:
    assert search_ids(engine, filter=TwinFilter(id_prefix="floor"), sort="level") == [
        "floor1", "floor3", "floor2",
    ]
    assert search_ids(engine, filter=TwinFilter(id_prefix="floor"), descending=True) == [
        "floor3", "floor2", "floor1",
    ]


def test_search_bad_input(engine: QueryEngine) -> None:
    with pytest.raises(QueryError, match="cursor"):
        engine.run(Search(after="!!not-a-cursor"))
    with pytest.raises(QueryError, match="needs a list"):
        Predicate("area", "in", 5)
    with pytest.raises(QueryError, match="DTDL name"):
        Predicate("$dtId", "=", "x")
    with pytest.raises(QueryError, match="unknown operator"):
        Predicate("area", "~", 1)  # type: ignore[arg-type]


# ------------------------------------------------------------------ reads see writes


def test_reads_see_committed_writes(engine: QueryEngine) -> None:
    store = engine.store
    store.create_twin("room6", ROOM, {"name": "New", "area": 99.0})
    store.create_relationship("floor1", "c-r6", "contains", "room6")
    assert ("room6", 2) in ids(engine.run(Descendants("bldg1")))
    assert search_ids(engine, filter=TwinFilter(where=[Predicate("area", ">", 90)])) == [
        "bldg1", "bldg2", "floor1", "room6",
    ]


# ------------------------------------------------------------------ depth up to the cap


def test_traversals_of_a_chain_up_to_the_cap(store: TwinGraph) -> None:
    """A 50-hop containment chain (the default cap; Azure Digital Twins stops at 10)."""
    hops = 50
    store.add_models(MODELS)
    store.upsert_batch(
        [TwinUpsert(f"c{i}", SITE if i == 0 else ROOM, {"level": i}) for i in range(hops + 1)],
        [RelationshipUpsert(f"c{i}", "down", "contains", f"c{i + 1}") for i in range(hops)],
    )
    engine = QueryEngine(store)
    chain = [f"c{i}" for i in range(hops + 1)]
    assert ids(engine.run(Descendants("c0"))) == [(c, i) for i, c in enumerate(chain)][1:]
    assert ids(engine.run(Ancestors(chain[-1]))) == [
        (c, hops - i) for i, c in enumerate(chain)][:-1][::-1]
    forty = engine.run(Reach("c0", make_steps("contains"), 40, 40))
    assert ids(forty) == [("c40", 40)]
    deep = TwinFilter(where=[Predicate("level", ">=", 45)])
    assert ids(engine.run(Reach("c0", make_steps("contains"), filter=deep))) == [
        (f"c{i}", i) for i in range(45, hops + 1)]
    [path] = engine.run(Paths("c0", make_steps("contains"), 40, 40))
    assert path_ids(path) == chain[:41]
    assert path_ids(engine.run(ShortestPath("c0", chain[-1], make_steps("contains")))) == chain
    assert engine.run(ShortestPath("c0", chain[-1], make_steps("contains"), max_hops=49)) is None
    top = engine.run(NearestAncestor(chain[-1], SITE))
    assert top is not None and (top.twin_id, top.depth) == ("c0", hops)


@pytest.mark.neo4j
def test_neo4j_walk_is_one_read_transaction(request: pytest.FixtureRequest, tmp_path) -> None:
    """A store offering ``run_read_many`` (here a wrapper around the Neo4j store; a
    ``Neo4jGraph`` itself goes through ``graph.neo4j.reads``) gets all of a walk's
    queries (one per level, plus the existence check) in one call: one transaction."""
    from queries_reference import load, store_uri

    from graph import open_graph

    with open_graph(store_uri(request, "neo4j", tmp_path)) as graph:
        load(graph)
        calls: list[str] = []

        class Counting:
            registry = graph.registry

            def run_read(self, cypher, params):
                calls.append("run_read")
                return graph.run_read(cypher, params)  # type: ignore[attr-defined]

            def run_read_many(self, work):
                calls.append("run_read_many")
                return graph.run_read_many(work)  # type: ignore[attr-defined]

        engine = QueryEngine(Counting())  # type: ignore[arg-type]
        found = engine.run(Ancestors("sens3"))
        assert ids(found) == [("room3", 1), ("floor2", 2), ("bldg1", 3), ("site1", 4)]
        assert engine.run(Descendants("sens3")) == []  # a leaf: existence checked inside
        with pytest.raises(NotFoundError):
            engine.run(Descendants("ghost"))
        assert calls == ["run_read_many"] * 3
        two = graph.run_read_many(  # type: ignore[attr-defined]
            lambda run: run("RETURN 1 AS x", {}) + run("RETURN $y AS x", {"y": 2}))
        assert two == [{"x": 1}, {"x": 2}]


def test_walks_level_by_level_give_the_one_query_answers(
        engine: QueryEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neo4j walks a few trails in one query and falls back to one query per level
    beyond ``ONE_QUERY_PATHS``; forcing the fallback must change no answer."""
    from queries import walk

    warm = TwinFilter(model=ROOM, where=[Predicate("temperature", ">", 26)])
    readings = TwinFilter(where=[Predicate("value", ">=", 3)])  # no model: nothing skipped
    ops = [Descendants("site1"), Descendants("bldg1", filter=warm, documents=True),
           Ancestors("sens3"), Reach("sens1", make_steps("feeds", "both")),
           Descendants("room5", include_self=True), Descendants("sens3"),
           Descendants("site1", filter=readings, documents=True),
           Reach("site1", down_steps(Containment()), 2, 3, TwinFilter(model=ROOM))]
    once = [engine.run(op) for op in ops]
    monkeypatch.setattr(walk, "ONE_QUERY_PATHS", 1)
    levels = [engine.run(op) for op in ops]
    assert levels == once
    assert [[(r.model, r.document) for r in found] for found in levels] == [
        [(r.model, r.document) for r in found] for found in once]
    assert ids(once[1]) == [("room2", 2), ("room3", 2)]
    assert ids(once[2]) == [("room3", 1), ("floor2", 2), ("bldg1", 3), ("site1", 4)]
    assert once[5] == []
    assert ids(once[6]) == [("sens1", 4), ("sens2", 4)]
    assert [r.model for r in once[6]] == [SENSOR, SENSOR]
    assert ids(once[7]) == [(f"room{i}", 3) for i in range(1, 6)]
    with pytest.raises(NotFoundError):
        engine.run(Descendants("ghost"))


def test_reached_built_fast_equals_the_dataclass() -> None:
    """``queries.steps.reached`` (used by the Neo4j walks) builds the same frozen value."""
    fast, plain = reached(2, "room1", ROOM, None), Reached(2, "room1", ROOM)
    assert (fast, hash(fast), fast.model, fast.document) == (plain, hash(plain), ROOM, None)
    assert fast == Reached(2, "room1") and fast < Reached(2, "room2") < Reached(3, "a")
    with pytest.raises(AttributeError):
        fast.depth = 3  # type: ignore[misc]
