"""Twins: create/replace, get, JSON Patch, delete, ETags, validation with JSON paths, metadata."""

from __future__ import annotations

import threading

import pytest
from graph_test_models import DEVICE, ROOM, SPACE

from graph import (
    ConflictError,
    InUseError,
    InvalidPatchError,
    NotFoundError,
    PreconditionFailedError,
    TwinGraph,
    TwinUpsert,
    ValidationError,
)

FULL = {
    "name": "Lab",
    "area": 42.5,
    "mode": "eco",
    "settings": {"target": 21.0, "label": "day"},
    "tags": {"wing": "east", "floor": "2"},
    "codes": [1, 2, 3],
    "thermostat": {"setpoint": 20.0},
}


def test_create_get_roundtrip_every_kind_of_value(loaded: TwinGraph) -> None:
    created = loaded.create_twin("lab", ROOM, FULL)
    got = loaded.get_twin("lab")
    assert got.properties == FULL and got.model == ROOM
    assert got.etag == created.etag and got.etag.startswith('W/"')
    assert set(got.metadata) == set(FULL) and got.metadata["area"].source == "api"
    assert loaded.count_twins() == 1
    assert [t.id for t in loaded.get_twins(["nope", "lab"])] == ["lab"]


def test_create_existing_refused_unless_replace(loaded: TwinGraph) -> None:
    first = loaded.create_twin("r", ROOM, {"area": 1.0})
    with pytest.raises(ConflictError):
        loaded.create_twin("r", ROOM, {"area": 2.0})
    with pytest.raises(PreconditionFailedError):
        loaded.create_twin("r", ROOM, {"area": 2.0}, if_match='W/"stale"')
    second = loaded.create_twin("r", ROOM, {"name": "n"}, replace=True, if_match=first.etag)
    assert loaded.get_twin("r").properties == {"name": "n"}
    assert second.etag != first.etag
    assert set(loaded.get_twin("r").metadata) == {"name"}


def test_get_missing(loaded: TwinGraph) -> None:
    with pytest.raises(NotFoundError):
        loaded.get_twin("missing")


@pytest.mark.parametrize(
    ("props", "path"),
    [
        ({"nosuch": 1}, "/nosuch"),
        ({"area": "big"}, "/area"),
        ({"mode": "turbo"}, "/mode"),
        ({"settings": {"target": "hot"}}, "/settings/target"),
        ({"tags": {"wing": 5}}, "/tags/wing"),
        ({"codes": [1, "x"]}, "/codes/1"),
        ({"thermostat": {"setpoint": "x"}}, "/thermostat/setpoint"),
        ({"temperature": 20.0}, "/temperature"),  # telemetry: devices only
        ({"serial": "abc"}, "/serial"),  # not writable by the API
    ],
)
def test_invalid_twin_refused_with_path(loaded: TwinGraph, props: dict, path: str) -> None:
    with pytest.raises(ValidationError) as err:
        loaded.create_twin("bad", ROOM, props)
    assert path in [p.path for p in err.value.problems]
    with pytest.raises(NotFoundError):
        loaded.get_twin("bad")


def test_device_and_import_sources_may_write_read_only(loaded: TwinGraph) -> None:
    loaded.create_twin("r", ROOM, {"serial": "abc", "temperature": 20.0}, source="import")
    t = loaded.get_twin("r")
    assert t.properties == {"serial": "abc", "temperature": 20.0}
    assert t.metadata["serial"].source == "import"


def test_unknown_model_refused(loaded: TwinGraph) -> None:
    with pytest.raises(ValidationError) as err:
        loaded.create_twin("x", "dtmi:test:Nope;1", {})
    assert err.value.problems[0].code == "UNKNOWN_MODEL"


def test_json_patch_add_replace_remove_nested(loaded: TwinGraph) -> None:
    before = loaded.create_twin("lab", ROOM, FULL)
    after = loaded.patch_twin(
        "lab",
        [
            {"op": "replace", "path": "/area", "value": 50.0},
            {"op": "add", "path": "/tags/room", "value": "101"},
            {"op": "remove", "path": "/tags/floor"},
            {"op": "replace", "path": "/settings/label", "value": "night"},
            {"op": "replace", "path": "/thermostat/setpoint", "value": 18.5},
            {"op": "remove", "path": "/codes"},
        ],
        if_match=before.etag,
    )
    expected = {
        **FULL,
        "area": 50.0,
        "tags": {"wing": "east", "room": "101"},
        "settings": {"target": 21.0, "label": "night"},
        "thermostat": {"setpoint": 18.5},
    }
    del expected["codes"]
    assert after.properties == expected
    assert loaded.get_twin("lab").properties == expected
    assert after.etag != before.etag
    assert "codes" not in loaded.get_twin("lab").metadata
    assert (
        loaded.get_twin("lab").metadata["area"].last_update_time
        > before.metadata["area"].last_update_time
    )
    assert loaded.get_twin("lab").metadata["name"] == before.metadata["name"]


def test_patch_errors(loaded: TwinGraph) -> None:
    loaded.create_twin("r", ROOM, {"area": 1.0})
    with pytest.raises(InvalidPatchError) as err:
        loaded.patch_twin(
            "r",
            [{"op": "replace", "path": "/area", "value": 2.0}, {"op": "remove", "path": "/name"}],
        )
    assert "operation 1" in str(err.value) and "/name" in str(err.value)
    with pytest.raises(InvalidPatchError):
        loaded.patch_twin("r", [{"op": "explode", "path": "/area"}])
    with pytest.raises(ValidationError) as verr:
        loaded.patch_twin("r", [{"op": "add", "path": "/mode", "value": "turbo"}])
    assert [p.path for p in verr.value.problems] == ["/mode"]
    with pytest.raises(ValidationError):
        loaded.patch_twin("r", [{"op": "add", "path": "/serial", "value": "s"}])
    with pytest.raises(PreconditionFailedError):
        loaded.patch_twin(
            "r", [{"op": "replace", "path": "/area", "value": 3.0}], if_match='W/"old"'
        )
    with pytest.raises(NotFoundError):
        loaded.patch_twin("ghost", [{"op": "replace", "path": "/area", "value": 3.0}])
    assert loaded.get_twin("r").properties == {"area": 1.0}  # nothing applied


def test_delete_and_if_match(loaded: TwinGraph) -> None:
    t = loaded.create_twin("r", ROOM, {})
    with pytest.raises(PreconditionFailedError):
        loaded.delete_twin("r", if_match='W/"x"')
    loaded.delete_twin("r", if_match=t.etag)
    with pytest.raises(NotFoundError):
        loaded.get_twin("r")
    with pytest.raises(NotFoundError):
        loaded.delete_twin("r")


def test_delete_refused_while_related_unless_cascade(loaded: TwinGraph) -> None:
    loaded.create_twin("room", ROOM, {})
    loaded.create_twin("dev", DEVICE, {})
    loaded.create_relationship("room", "r1", "hasDevice", "dev")
    with pytest.raises(InUseError) as err:
        loaded.delete_twin("dev")
    assert "hasDevice" in str(err.value)
    loaded.delete_twin("dev", cascade=True)
    assert loaded.list_relationships("room") == []
    with pytest.raises(NotFoundError):
        loaded.get_relationship("room", "r1")


def test_iter_twins_by_model_includes_descendants(loaded: TwinGraph) -> None:
    loaded.create_twin("s", SPACE, {})
    loaded.create_twin("r", ROOM, {})
    loaded.create_twin("d", DEVICE, {})
    assert sorted(t.id for t in loaded.iter_twins(SPACE)) == ["r", "s"]
    assert sorted(t.id for t in loaded.iter_twins()) == ["d", "r", "s"]


def test_concurrent_writers_if_match_only_one_wins(loaded: TwinGraph) -> None:
    base = loaded.create_twin("r", ROOM, {"area": 0.0})
    outcomes: list[str] = []

    def writer(i: int) -> None:
        try:
            loaded.patch_twin(
                "r", [{"op": "replace", "path": "/area", "value": float(i)}], if_match=base.etag
            )
            outcomes.append("ok")
        except PreconditionFailedError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and outcomes.count("conflict") == 7


def test_concurrent_writers_all_applied(loaded: TwinGraph) -> None:
    loaded.create_twin("r", ROOM, {"tags": {}})

    def writer(i: int) -> None:
        for j in range(10):
            loaded.patch_twin("r", [{"op": "add", "path": f"/tags/k{i}_{j}", "value": "v"}])

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loaded.get_twin("r").properties["tags"]) == 40


def test_system_keys_of_azure_style_documents_are_not_stored(loaded: TwinGraph) -> None:
    doc = {"$dtId": "r", "$metadata": {"$model": ROOM}, "area": 2.0}
    assert loaded.create_twin("r", ROOM, doc).properties == {"area": 2.0}
    assert loaded.get_twin("r").properties == {"area": 2.0}


def test_replace_with_another_model_keeps_relationships(loaded: TwinGraph) -> None:
    loaded.create_twin("site", SPACE, {})
    loaded.create_twin("x", ROOM, {"area": 1.0})
    loaded.create_relationship("site", "c", "contains", "x")
    replaced = loaded.create_twin("x", SPACE, {"name": "now a space"}, replace=True)
    assert replaced.model == SPACE and loaded.get_twin("x").model == SPACE
    assert [t.id for t in loaded.iter_twins(ROOM)] == []
    assert [r.target for r in loaded.list_relationships("site")] == ["x"]


def test_replace_with_a_model_that_disallows_its_relationships_refused(loaded: TwinGraph) -> None:
    loaded.create_twin("site", SPACE, {})
    loaded.create_twin("x", ROOM, {"area": 1.0})
    loaded.create_twin("d", DEVICE, {})
    loaded.create_relationship("site", "c", "contains", "x")
    loaded.create_relationship("x", "h", "hasDevice", "d")
    # Outgoing: a Space has no hasDevice relationship.
    with pytest.raises(ValidationError) as info:
        loaded.create_twin("x", SPACE, {}, replace=True)
    assert "cannot change to model dtmi:test:Space;1" in str(info.value)
    [problem] = info.value.problems
    assert problem.code == "RELATIONSHIP_NOT_ALLOWED"
    assert "'h' (x -hasDevice-> d)" in problem.message
    # Incoming: site's contains must target a Space, and a Device is not one.
    loaded.delete_relationship("x", "h")
    results = loaded.upsert_batch([TwinUpsert("x", DEVICE, {})])
    assert not results[0].ok and "'c' (site -contains-> x)" in str(results[0].error.problems)
    assert loaded.get_twin("x").model == ROOM  # nothing changed
    loaded.delete_relationship("site", "c")
    assert loaded.create_twin("x", DEVICE, {}, replace=True).model == DEVICE
