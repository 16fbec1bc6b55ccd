"""The reference graph every query test runs on, on both stores, and its models.

    site1 -contains-> bldg1, bldg2
    bldg1 -contains-> floor1, floor2        bldg1 -hasPart-> floor1 (a parallel edge)
    floor1 -contains-> room1, room2         (and a second, parallel floor1 -contains-> room1)
    floor2 -hasPart-> room3                 room4 -isPartOf-> floor2   (upward convention)
    bldg2 -contains-> floor3 -contains-> room5
    sens1, sens2 -isLocatedIn-> room1       sens3 -isLocatedIn-> room3
    sens1 -feeds-> sens2 -feeds-> sens3 -feeds-> sens1   (a cycle)
    sens2 -feeds-> sens2                                 (a self-relationship)
    room5 -contains-> room5                              (a containment self-loop)
"""

from __future__ import annotations

from typing import Any

import pytest

from graph import RelationshipUpsert, TwinGraph, TwinUpsert

__all__ = [
    "BUILDING", "DEVICE", "FLOOR", "MODELS", "ROOM", "SENSOR", "SITE", "SPACE", "load",
    "store_uri",
]

SPACE = "dtmi:ref:Space;1"
SITE = "dtmi:ref:Site;1"
BUILDING = "dtmi:ref:Building;1"
FLOOR = "dtmi:ref:Floor;1"
ROOM = "dtmi:ref:Room;1"
DEVICE = "dtmi:ref:Device;1"
SENSOR = "dtmi:ref:Sensor;1"

_CTX = "dtmi:dtdl:context;3"


def _iface(dtmi: str, contents: list[dict[str, Any]], extends: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": _CTX, "@id": dtmi, "@type": "Interface",
                           "contents": contents}
    if extends:
        doc["extends"] = extends
    return doc


def _prop(name: str, schema: str) -> dict[str, Any]:
    return {"@type": "Property", "name": name, "schema": schema, "writable": True}


def _rel(name: str, target: str | None = None) -> dict[str, Any]:
    rel: dict[str, Any] = {"@type": "Relationship", "name": name}
    if target:
        rel["target"] = target
    return rel


MODELS: list[dict[str, Any]] = [
    _iface(SPACE, [_prop("name", "string"), _prop("area", "double"), _prop("level", "integer"),
                   _rel("contains", SPACE), _rel("hasPart", SPACE), _rel("isPartOf", SPACE)]),
    _iface(SITE, [], SPACE),
    _iface(BUILDING, [], SPACE),
    _iface(FLOOR, [], SPACE),
    _iface(ROOM, [{"@type": "Telemetry", "name": "temperature", "schema": "double"},
                  _prop("occupied", "boolean")], SPACE),
    _iface(DEVICE, [_prop("firmware", "string"), _rel("isLocatedIn", SPACE),
                    _rel("feeds", DEVICE)]),
    _iface(SENSOR, [{"@type": "Telemetry", "name": "value", "schema": "double"}], DEVICE),
]

TWINS: list[tuple[str, str, dict[str, Any]]] = [
    ("site1", SITE, {"name": "Campus"}),
    ("bldg1", BUILDING, {"name": "Main", "area": 5000.0, "level": 0}),
    ("bldg2", BUILDING, {"name": "Annex", "area": 800.0}),
    ("floor1", FLOOR, {"name": "Ground", "area": 100.0, "level": 0}),
    ("floor2", FLOOR, {"name": "First", "level": 1}),
    ("floor3", FLOOR, {"name": "Annex ground", "level": 0}),
    ("room1", ROOM, {"name": "Room 101", "area": 20.0, "temperature": 21.5, "occupied": True}),
    ("room2", ROOM, {"name": "Room 102", "area": 35.5, "temperature": 26.5, "occupied": False}),
    ("room3", ROOM, {"name": "Lab", "area": 12.0, "temperature": 27.0}),
    ("room4", ROOM, {"name": "Store room", "temperature": 19.0}),
    ("room5", ROOM, {"name": "Annex hall", "area": 50.0, "level": 2}),
    ("sens1", SENSOR, {"firmware": "1.2.0", "value": 3.0}),
    ("sens2", SENSOR, {"firmware": "2.0.1", "value": 5.0}),
    ("sens3", SENSOR, {"firmware": "1.9.9"}),
]

RELATIONSHIPS: list[tuple[str, str, str, str]] = [  # source, id, name, target
    ("site1", "c-b1", "contains", "bldg1"),
    ("site1", "c-b2", "contains", "bldg2"),
    ("bldg1", "c-f1", "contains", "floor1"),
    ("bldg1", "c-f2", "contains", "floor2"),
    ("bldg1", "p-f1", "hasPart", "floor1"),
    ("floor1", "c-r1", "contains", "room1"),
    ("floor1", "c-r1-again", "contains", "room1"),
    ("floor1", "c-r2", "contains", "room2"),
    ("floor2", "p-r3", "hasPart", "room3"),
    ("room4", "in-f2", "isPartOf", "floor2"),
    ("bldg2", "c-f3", "contains", "floor3"),
    ("floor3", "c-r5", "contains", "room5"),
    ("room5", "self", "contains", "room5"),
    ("sens1", "loc", "isLocatedIn", "room1"),
    ("sens2", "loc", "isLocatedIn", "room1"),
    ("sens3", "loc", "isLocatedIn", "room3"),
    ("sens1", "f", "feeds", "sens2"),
    ("sens2", "f", "feeds", "sens3"),
    ("sens3", "f", "feeds", "sens1"),
    ("sens2", "f-self", "feeds", "sens2"),
]


def load(store: TwinGraph) -> TwinGraph:
    store.add_models(MODELS)
    results = store.upsert_batch(
        [TwinUpsert(i, m, p) for i, m, p in TWINS],
        [RelationshipUpsert(s, i, n, t) for s, i, n, t in RELATIONSHIPS],
    )
    failed = [r for r in results if not r.ok]
    assert not failed, failed
    return store


def store_uri(request: pytest.FixtureRequest, backend: str, tmp_path: Any) -> str:
    """A fresh store of ``backend``: embedded in ``tmp_path``, or the wiped test Neo4j."""
    if backend == "embedded":
        return f"embedded:{tmp_path / 'store'}"
    return str(request.getfixturevalue("neo4j_clean"))  # tests/conftest.py: a wiped Neo4j
