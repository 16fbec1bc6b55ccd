"""Neighbour lists: the one-direction fast path and ``NeighborRows`` against the
general path, on both stores (the reference graph, queries_reference).

``Neighbors`` reads one direction straight from the adjacency dict and several
steps (or ``both``) through ``nx_edges``; asking for the same step twice takes
the general path with the same meaning, so the two must give equal lists.
``NeighborRows`` must list what ``Neighbors`` lists, with the documents
``get_twins`` reads.
"""

from __future__ import annotations

from typing import Any

import pytest
from queries_reference import DEVICE, ROOM, SENSOR

from graph import NotFoundError, TwinGraph
from queries import NeighborRows, Neighbors, Predicate, QueryEngine, TwinFilter, make_steps

# (twin, relationship names, direction, filter): every shape the reference graph has
# (parallel relationships, a self-relationship, a cycle, no relationships, filters).
CASES: list[tuple[str, Any, str, TwinFilter]] = [
    ("room1", "isLocatedIn", "in", TwinFilter()),
    ("room1", None, "in", TwinFilter()),
    ("bldg1", None, "out", TwinFilter()),
    ("floor1", ["contains", "hasPart"], "out", TwinFilter()),
    ("sens2", "feeds", "out", TwinFilter()),
    ("sens2", "feeds", "in", TwinFilter()),
    ("sens2", "feeds", "both", TwinFilter()),
    ("room5", "contains", "both", TwinFilter()),
    ("room5", "contains", "in", TwinFilter()),
    ("floor1", ["contains"], "out", TwinFilter(model=ROOM, where=[Predicate("area", ">", 25)])),
    ("room1", None, "in", TwinFilter(model=DEVICE)),
    ("room1", None, "in", TwinFilter(model=SENSOR, exact_model=True, id_prefix="sens2")),
    ("room2", None, "out", TwinFilter()),
]


def _documents(store: TwinGraph, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {t.id: {"id": t.id, "model": t.model, "etag": t.etag,
                   "properties": dict(t.properties)} for t in store.get_twins(ids)}


@pytest.mark.parametrize(("twin", "names", "direction", "flt"), CASES)
def test_one_direction_lists_what_the_general_path_lists(
        engine: QueryEngine, twin: str, names: Any, direction: str, flt: TwinFilter) -> None:
    steps = make_steps(names, direction)
    fast = engine.run(Neighbors(twin, steps, flt))
    general = engine.run(Neighbors(twin, steps * 2, flt))  # same meaning, through nx_edges
    assert fast == general
    assert [(n.twin_id, n.hop) for n in fast] == sorted((n.twin_id, n.hop) for n in fast)


@pytest.mark.parametrize(("twin", "names", "direction", "flt"), CASES)
def test_rows_are_the_neighbours_with_their_documents(
        ref: TwinGraph, engine: QueryEngine, twin: str, names: Any, direction: str,
        flt: TwinFilter) -> None:
    steps = make_steps(names, direction)
    expected = engine.run(Neighbors(twin, steps, flt))
    docs = _documents(ref, [n.twin_id for n in expected])
    rows = engine.run(NeighborRows(twin, steps, flt))
    assert rows == [(n.twin_id, n.hop.source, n.hop.id, n.hop.name, n.hop.target,
                     docs[n.twin_id]) for n in expected]
    twice = engine.run(NeighborRows(twin, steps * 2, flt))  # the general path's rows
    assert twice == rows


def test_rows_of_a_missing_twin(engine: QueryEngine) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        engine.run(NeighborRows("nope", make_steps("isLocatedIn", "in")))


def test_rows_hand_out_properties_the_caller_may_change(ref: TwinGraph,
                                                       engine: QueryEngine) -> None:
    rows = engine.run(NeighborRows("room1", make_steps("isLocatedIn", "in")))
    assert [r[0] for r in rows] == ["sens1", "sens2"]
    doc = rows[0][5]
    assert doc is not None
    doc["properties"]["firmware"] = "changed"
    doc["properties"]["extra"] = 1
    again = engine.run(NeighborRows("room1", make_steps("isLocatedIn", "in")))
    assert again[0][5] == {"id": "sens1", "model": SENSOR, "etag": doc["etag"],
                           "properties": {"firmware": "1.2.0", "value": 3.0}}
    assert dict(ref.get_twins(["sens1"])[0].properties) == {"firmware": "1.2.0", "value": 3.0}
