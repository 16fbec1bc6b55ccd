"""Odd input from callers gets a GraphError saying what is wrong, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from graph_test_models import DEVICE, ROOM

from graph import GraphError, PropertyUpdate, RelationshipUpsert, TwinGraph, TwinUpsert

ODD: list[Any] = [None, [], "text", 5, [("a", 1)], {1: "int key"}]


@pytest.mark.parametrize("props", ODD)
def test_odd_twin_documents(loaded: TwinGraph, props: Any) -> None:
    with pytest.raises(GraphError):
        loaded.create_twin("t", ROOM, props)
    results = loaded.upsert_batch([TwinUpsert("t", ROOM, props)])
    assert not results[0].ok and isinstance(results[0].error, GraphError)


@pytest.mark.parametrize(
    "patch", [None, "x", [None], [{"op": "add"}], [{"path": "/area"}], {"op": "add"}]
)
def test_odd_patches(loaded: TwinGraph, patch: Any) -> None:
    loaded.create_twin("t", ROOM, {"area": 1.0})
    with pytest.raises(GraphError):
        loaded.patch_twin("t", patch)
    assert loaded.get_twin("t").properties == {"area": 1.0}


@pytest.mark.parametrize("values", ODD)
def test_odd_property_updates(loaded: TwinGraph, values: Any) -> None:
    loaded.create_twin("t", ROOM, {})
    results = loaded.apply_property_updates(
        [
            PropertyUpdate("t", values, "2026-01-01T00:00:00Z"),
            PropertyUpdate("t", {"temperature": 1.0}, "2026-01-01T00:00:00Z"),
            PropertyUpdate("t", {"temperature": 2.0}, None),
        ]  # type: ignore[arg-type]
    )
    assert [r.ok for r in results] == [False, True, False]
    assert loaded.get_twin("t").properties == {"temperature": 1.0}


@pytest.mark.parametrize("props", [p for p in ODD if p is not None and p != []])
def test_odd_relationship_properties(loaded: TwinGraph, props: Any) -> None:
    loaded.create_twin("r", ROOM, {})
    loaded.create_twin("d", DEVICE, {})
    with pytest.raises(GraphError):
        loaded.create_relationship("r", "h", "hasDevice", "d", props)
    results = loaded.upsert_batch((), [RelationshipUpsert("r", "h", "hasDevice", "d", props)])
    assert not results[0].ok
    assert loaded.list_relationships("r") == []


@pytest.mark.parametrize("ident", ["", None, 7])
def test_odd_ids(loaded: TwinGraph, ident: Any) -> None:
    with pytest.raises(GraphError):
        loaded.create_twin(ident, ROOM, {})


@pytest.mark.parametrize("docs", [None, "text", 5, ["not json"], [None], [[1]], [{}]])
def test_odd_model_batches(store: TwinGraph, docs: Any) -> None:
    with pytest.raises(GraphError):
        store.add_models(docs)
    assert store.list_models() == []
