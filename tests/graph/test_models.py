"""Models: batch add (all or nothing), list, get, dependencies, decommission, delete, versions."""

from __future__ import annotations

import pytest
from graph_test_models import (
    DEVICE,
    MODELS,
    OTHER_ROOM_MODEL,
    ROOM,
    ROOM2,
    ROOM_V2,
    SPACE,
    THERMOSTAT,
)

from graph import ConflictError, InUseError, ModelError, NotFoundError, TwinGraph, ValidationError


def test_add_list_get(store: TwinGraph) -> None:
    added = store.add_models(MODELS)
    assert {m.id for m in added} == {SPACE, ROOM, DEVICE, THERMOSTAT}
    assert {m.id for m in store.list_models()} == {SPACE, ROOM, DEVICE, THERMOSTAT}
    room = store.get_model(ROOM)
    assert room.document["@id"] == ROOM and room.document["extends"] == SPACE
    assert not room.decommissioned
    assert store.registry.is_of_model(ROOM, SPACE)


def test_batch_is_all_or_nothing(store: TwinGraph) -> None:
    broken = {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:test:Broken;1",
        "@type": "Interface",
        "extends": "dtmi:test:Missing;1",
    }
    with pytest.raises(ModelError) as info:
        store.add_models([MODELS[0], broken])
    assert "dtmi:test:Missing;1" in str(info.value)
    assert store.list_models() == []
    with pytest.raises(NotFoundError):
        store.get_model(SPACE)


def test_duplicate_refused_new_version_beside_old(loaded: TwinGraph) -> None:
    with pytest.raises(ConflictError):
        loaded.add_models([MODELS[0]])
    loaded.add_models([ROOM_V2])  # resolves against the stored Space
    assert {ROOM, ROOM2} <= {m.id for m in loaded.list_models()}
    loaded.create_twin("old", ROOM, {"area": 1.0})
    loaded.create_twin("new", ROOM2, {"area": 2.0})
    assert loaded.get_twin("new").model == ROOM2


def test_get_with_dependencies(loaded: TwinGraph) -> None:
    deps = {m.id for m in loaded.get_model_with_dependencies(ROOM)}  # type: ignore[attr-defined]
    assert deps == {ROOM, SPACE, THERMOSTAT, DEVICE}


def test_decommission_blocks_new_twins_only(loaded: TwinGraph) -> None:
    loaded.create_twin("r1", ROOM, {"area": 1.0})
    info = loaded.decommission_model(ROOM)
    assert info.decommissioned and loaded.get_model(ROOM).decommissioned
    with pytest.raises(ValidationError) as err:
        loaded.create_twin("r2", ROOM, {})
    assert err.value.problems[0].code == "MODEL_DECOMMISSIONED"
    assert (
        loaded.patch_twin("r1", [{"op": "replace", "path": "/area", "value": 2.0}]).properties[
            "area"
        ]
        == 2.0
    )
    assert loaded.create_twin("r1", ROOM, {"area": 3.0}, replace=True).properties == {"area": 3.0}


def test_delete_refused_while_used(loaded: TwinGraph) -> None:
    with pytest.raises(InUseError) as err:
        loaded.delete_model(SPACE)
    assert ROOM in str(err.value)  # names the model that extends it
    loaded.create_twin("d1", DEVICE, {})
    with pytest.raises(InUseError) as err:
        loaded.delete_model(DEVICE)
    assert "1 twin" in str(err.value) or ROOM in str(err.value)
    loaded.add_models([OTHER_ROOM_MODEL])
    loaded.delete_model(OTHER_ROOM_MODEL["@id"])
    with pytest.raises(NotFoundError):
        loaded.get_model(OTHER_ROOM_MODEL["@id"])
    assert OTHER_ROOM_MODEL["@id"] not in loaded.registry


def test_delete_refused_by_twins(loaded: TwinGraph) -> None:
    loaded.add_models([OTHER_ROOM_MODEL])
    loaded.create_twin("o1", OTHER_ROOM_MODEL["@id"], {"name": "x"})
    with pytest.raises(InUseError) as err:
        loaded.delete_model(OTHER_ROOM_MODEL["@id"])
    assert "1 twin" in str(err.value)
    loaded.delete_twin("o1")
    loaded.delete_model(OTHER_ROOM_MODEL["@id"])


def test_models_survive_reopen(store_uri: str) -> None:
    from graph import open_graph

    with open_graph(store_uri) as g:
        g.add_models(MODELS)
        g.decommission_model(DEVICE)
    with open_graph(store_uri) as g:
        assert {m.id for m in g.list_models()} == {SPACE, ROOM, DEVICE, THERMOSTAT}
        assert g.get_model(DEVICE).decommissioned
        assert g.registry.is_of_model(ROOM, SPACE)
