"""Property updates (ingestion's path) of values a store may hold in different forms:
read back exactly, after each update and after reopening, on both backends."""

from __future__ import annotations

from typing import Any

from graph_test_models import MODELS, ROOM

from graph import PropertyUpdate, open_graph


def _at(second: int, values: dict[str, Any]) -> PropertyUpdate:
    return PropertyUpdate("r", values, f"2030-01-01T00:00:{second:02d}Z")  # after creation


def test_updates_switching_between_native_and_json_forms_read_back(store_uri: str) -> None:
    # An empty list or an object is stored as JSON text on Neo4j, a list of integers
    # natively; a scalar update beside them must keep both readable.
    steps: list[dict[str, Any]] = [
        {"codes": []},
        {"codes": [1, 2], "area": 3.0},
        {"temperature": 20.5},
        {"settings": {"target": 21.0, "label": "x"}, "temperature": 21.5},
        {"codes": [], "temperature": 22.5},
        {"area": 4.0},
    ]
    expected: dict[str, Any] = {"area": 1.0}
    with open_graph(store_uri) as g:
        g.add_models(MODELS)
        g.create_twin("r", ROOM, dict(expected))
        for second, values in enumerate(steps, start=1):
            assert g.apply_property_updates([_at(second, values)])[0].ok
            expected.update(values)
            assert g.get_twin("r").properties == expected
    with open_graph(store_uri) as g:
        assert g.get_twin("r").properties == expected


def test_system_names_in_an_update_are_skipped_like_in_a_twin_document(store_uri: str) -> None:
    # An Azure-style payload may carry ``$metadata`` or ``$dtId`` beside its values: they
    # are not properties (Neo4j keeps its own ``$metadata`` under that name).
    with open_graph(store_uri) as g:
        g.add_models(MODELS)
        g.create_twin("r", ROOM, {"area": 1.0})
        odd = {"$metadata": {"temperature": "x"}, "$dtId": "other", "temperature": 20.5}
        assert g.apply_property_updates([_at(1, odd)])[0].ok
        twin = g.get_twin("r")
        assert twin.properties == {"area": 1.0, "temperature": 20.5}
        assert set(twin.metadata) == {"area", "temperature"}
        assert g.apply_property_updates([_at(2, {"$metadata": {}})])[0].ok  # nothing to do
        assert g.get_twin("r").etag == twin.etag
    with open_graph(store_uri) as g:
        assert g.get_twin("r").properties == {"area": 1.0, "temperature": 20.5}
