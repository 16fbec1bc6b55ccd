"""Relationships: create, get, patch, delete, list out/in, validation, multiplicity."""

from __future__ import annotations

import pytest
from graph_test_models import DEVICE, ROOM, SPACE

from graph import (
    ConflictError,
    InvalidPatchError,
    NotFoundError,
    PreconditionFailedError,
    TwinGraph,
    ValidationError,
)


@pytest.fixture
def twins(loaded: TwinGraph) -> TwinGraph:
    loaded.create_twin("site", SPACE, {"name": "site"})
    loaded.create_twin("room", ROOM, {})
    loaded.create_twin("room2", ROOM, {})
    for d in ("d1", "d2", "d3"):
        loaded.create_twin(d, DEVICE, {})
    return loaded


def test_create_get_list(twins: TwinGraph) -> None:
    rel = twins.create_relationship("room", "r1", "hasDevice", "d1", {"since": "2026"})
    twins.create_relationship("site", "c1", "contains", "room")  # inherited target: Room is a Space
    twins.create_relationship("room", "c2", "contains", "room2")  # inherited relationship
    got = twins.get_relationship("room", "r1")
    assert (got.source, got.target, got.name, dict(got.properties)) == (
        "room",
        "d1",
        "hasDevice",
        {"since": "2026"},
    )
    assert got.etag == rel.etag
    assert sorted(r.id for r in twins.list_relationships("room")) == ["c2", "r1"]
    assert [r.id for r in twins.list_relationships("room", "hasDevice")] == ["r1"]
    assert [r.id for r in twins.list_incoming("room")] == ["c1"]
    assert [r.source for r in twins.list_incoming("d1", "hasDevice")] == ["room"]
    assert twins.list_incoming("d1", "contains") == []


def test_validation(twins: TwinGraph) -> None:
    with pytest.raises(ValidationError) as err:
        twins.create_relationship("room", "x", "nosuch", "d1")
    assert err.value.problems[0].path == "/$relationshipName"
    with pytest.raises(ValidationError) as err:
        twins.create_relationship("room", "x", "hasDevice", "site")  # Space is not a Device
    assert err.value.problems[0].path == "/$targetId"
    with pytest.raises(ValidationError) as err:
        twins.create_relationship("room", "x", "hasDevice", "ghost")
    with pytest.raises(NotFoundError):
        twins.create_relationship("ghost", "x", "hasDevice", "d1")
    with pytest.raises(ValidationError) as err:
        twins.create_relationship("room", "x", "hasDevice", "d1", {"since": 5})
    assert err.value.problems[0].path == "/since"
    with pytest.raises(ValidationError):
        twins.create_relationship("d1", "x", "contains", "room")  # Device has no relationships
    assert twins.list_relationships("room") == []


def test_max_multiplicity_enforced(twins: TwinGraph) -> None:
    twins.create_relationship("room", "a", "hasDevice", "d1")
    twins.create_relationship("room", "b", "hasDevice", "d2")
    with pytest.raises(ValidationError) as err:
        twins.create_relationship("room", "c", "hasDevice", "d3")
    assert "maxMultiplicity" in str(err.value) and err.value.problems[0].code == "MULTIPLICITY"
    twins.create_relationship(
        "room", "a", "hasDevice", "d1", {"since": "x"}, replace=True
    )  # not a new one
    twins.create_relationship("room2", "c", "hasDevice", "d3")  # per source


def test_conflicts_and_etags(twins: TwinGraph) -> None:
    rel = twins.create_relationship("room", "r1", "hasDevice", "d1")
    with pytest.raises(ConflictError):
        twins.create_relationship("room", "r1", "hasDevice", "d1")
    with pytest.raises(PreconditionFailedError):
        twins.create_relationship(
            "room", "r1", "hasDevice", "d1", {}, replace=True, if_match='W/"x"'
        )
    new = twins.create_relationship(
        "room", "r1", "hasDevice", "d1", {"since": "y"}, if_match=rel.etag
    )
    assert new.etag != rel.etag and twins.get_relationship("room", "r1").properties == {
        "since": "y"
    }
    with pytest.raises(PreconditionFailedError):
        twins.delete_relationship("room", "r1", if_match=rel.etag)


def test_patch_and_delete(twins: TwinGraph) -> None:
    rel = twins.create_relationship("room", "r1", "hasDevice", "d1")
    patched = twins.patch_relationship(
        "room", "r1", [{"op": "add", "path": "/since", "value": "now"}], if_match=rel.etag
    )
    assert patched.properties == {"since": "now"}
    assert twins.get_relationship("room", "r1").properties == {"since": "now"}
    with pytest.raises(ValidationError):
        twins.patch_relationship("room", "r1", [{"op": "replace", "path": "/since", "value": 1}])
    with pytest.raises(InvalidPatchError):
        twins.patch_relationship("room", "r1", [{"op": "remove", "path": "/nothing"}])
    with pytest.raises(PreconditionFailedError):
        twins.patch_relationship(
            "room", "r1", [{"op": "remove", "path": "/since"}], if_match=rel.etag
        )
    twins.delete_relationship("room", "r1", if_match=patched.etag)
    with pytest.raises(NotFoundError):
        twins.get_relationship("room", "r1")
    with pytest.raises(NotFoundError):
        twins.delete_relationship("room", "r1")
    assert twins.list_incoming("d1") == []
    twins.delete_twin("d1")  # nothing holds it any more
