"""Typed GraphQL access generated from DTDL, regenerated when models change."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "queries"))
from test_graphql import (  # the store fixture runs every test on both stores
    ADMIN,
    KEYS,
    WRITER,
    codes,
    data,
    gql,
    make_client,
    store_fixture,  # noqa: F401 - the ``store`` fixture
)

from graph import TwinGraph
from server.auth import Authenticator
from server.graphql.typed import type_names


@pytest.fixture
def client(store: TwinGraph) -> TestClient:
    return make_client(store, Authenticator.from_keys(KEYS))


def test_typed_properties_and_relationships(client: TestClient) -> None:
    got = data(
        client,
        """{
        room(id: "room1") { id model temperature area level occupied name }
        floor(id: "floor1") { name level contains { id name } }
        sensor(id: "sens1") { value firmware isLocatedIn { id } feeds { id firmware } }
    }""",
    )
    assert got["room"] == {
        "id": "room1",
        "model": "dtmi:ref:Room;1",
        "temperature": 21.5,
        "area": 20.0,
        "level": None,
        "occupied": True,
        "name": "Room 101",
    }
    # a parallel relationship to the same twin lists it once
    assert got["floor"] == {
        "name": "Ground",
        "level": 0,
        "contains": [{"id": "room1", "name": "Room 101"}, {"id": "room2", "name": "Room 102"}],
    }
    assert got["sensor"]["isLocatedIn"] == [{"id": "room1"}]
    assert got["sensor"]["feeds"] == [{"id": "sens2", "firmware": "2.0.1"}]


def test_root_field_checks_the_model(client: TestClient) -> None:
    got = data(
        client,
        """{ wrong: room(id: "sens1") { id } missing: room(id: "nope") { id }
        base: space(id: "room2") { id name } }""",
    )
    assert got == {"wrong": None, "missing": None, "base": {"id": "room2", "name": "Room 102"}}


def test_typed_twin_reaches_the_generic_view(client: TestClient) -> None:
    got = data(client, """{ room(id: "room3") { twin { ancestors(depth: 1) { twin { id } } } } }""")
    assert got["room"]["twin"]["ancestors"] == [{"twin": {"id": "floor2"}}]


def test_new_model_gets_a_type_without_restart(client: TestClient) -> None:
    q = '{ lamp(id: "lamp1") { lumens isLocatedIn { id name } } }'
    assert codes(gql(client, q)) == ["GRAPHQL_VALIDATION_FAILED"]
    lamp = {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:ref:Lamp;1",
        "@type": "Interface",
        "contents": [
            {"@type": "Property", "name": "lumens", "schema": "integer", "writable": True},
            {"@type": "Relationship", "name": "isLocatedIn", "target": "dtmi:ref:Room;1"},
        ],
    }
    data(client, "mutation($d: JSON!) { uploadModels(documents: $d) { id } }", ADMIN, d=lamp)
    data(
        client,
        """mutation { createTwin(id: "lamp1", model: "dtmi:ref:Lamp;1",
        properties: {lumens: 800}) { id } }""",
        WRITER,
    )
    data(
        client,
        """mutation { createRelationship(source: "lamp1", id: "at", name: "isLocatedIn",
        target: "room2") { id } }""",
        WRITER,
    )
    assert data(client, q) == {
        "lamp": {"lumens": 800, "isLocatedIn": [{"id": "room2", "name": "Room 102"}]}
    }


def test_name_clash_rules() -> None:
    names = type_names(
        [
            "dtmi:a:Room;1",
            "dtmi:b:Room;1",
            "dtmi:b:Room;2",
            "dtmi:x:Model;1",
            "dtmi:com:acme:Floor;1",
            "dtmi:x:y:Pump;1",
        ]
    )
    assert names == {
        "dtmi:a:Room;1": "a_Room",
        "dtmi:b:Room;1": "b_Room_v1",
        "dtmi:b:Room;2": "b_Room_v2",
        "dtmi:x:Model;1": "ModelTwin",
        "dtmi:com:acme:Floor;1": "Floor",
        "dtmi:x:y:Pump;1": "Pump",
    }
