"""The Neo4j codec's fast paths give what the general encoding gives (no database needed)."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from graph.base import PropertyMeta, Twin
from graph.layout import N_ETAG, N_ID, N_JSON, N_METADATA
from graph.meta import MetaView, packed_twin
from graph.neo4j.codec import (
    changed_props,
    decode_props,
    encode_props,
    json_names,
    metadata_json,
    twin_from_map,
    twin_to_map,
)
from graph.neo4j.driver import Rows

# Values of every kind the codec tells apart: held natively, or stored as JSON text.
VALUES: list[Any] = [
    1.5,
    -2.0,
    "text",
    "",
    True,
    False,
    7,
    2**63,  # beyond Neo4j's integer: JSON
    [1, 2],
    [1.0, 2.5],
    ["a"],
    [True, False],
    [],  # empty list: JSON (Neo4j cannot tell its element type)
    [1, "a"],  # mixed: JSON
    [[1]],
    {"setpoint": 19.5},
    {"nested": {"a": [1, {"b": None}]}},
]
NAMES = ["a", "b", "c", "d"]


def _twin(props: dict[str, Any], etag: str) -> Twin:
    meta = {k: PropertyMeta("2026-01-01T00:00:00.000000Z", "device") for k in props}
    return Twin("t1", "dtmi:test:T;1", props, etag, meta)


def _stored(t: Twin) -> dict[str, Any]:
    """What Neo4j holds after a full write (``SET n = twin_to_map(t)``)."""
    return twin_to_map(t)


@pytest.mark.parametrize("seed", range(300))
def test_changed_props_then_merge_equals_full_write(seed: int) -> None:
    rng = random.Random(seed)
    before = {n: rng.choice(VALUES) for n in NAMES if rng.random() < 0.7}
    names = set(rng.sample(NAMES, rng.randint(1, 3)))
    after = {**before, **{n: rng.choice(VALUES) for n in names}}
    old, new = _twin(before, "e1"), _twin(after, "e2")
    stored = _stored(old)
    known_old = before if rng.random() < 0.8 else None  # the cache may not know the twin
    stored.update(changed_props(after, names, known_old))  # what SET n += does
    assert decode_props(stored) == decode_props(_stored(new)) == after
    assert sorted(stored[N_JSON]) == sorted(json_names(after))


def test_changed_props_sends_json_list_only_when_needed() -> None:
    old = {"t": 20.0, "s": {"x": 1}}
    new = {"t": 21.0, "s": {"x": 1}}
    assert changed_props(new, {"t"}, old) == {"t": 21.0}  # `$json` left as stored
    assert changed_props(new, {"t"}, None) == {"t": 21.0, N_JSON: ["s"]}  # old unknown
    became_json = {"t": [1, "a"], "s": {"x": 1}}
    assert changed_props(became_json, {"t"}, old) == {"t": '[1,"a"]', N_JSON: ["t", "s"]}
    was_json = {"t": 20.0, "s": 5.0}
    assert changed_props(was_json, {"s"}, old) == {"s": 5.0, N_JSON: []}


def test_changed_props_leaves_a_none_value_as_stored() -> None:
    old = {"t": 20.0, "u": 1.0}
    new = {"t": None, "u": 2.0}
    assert changed_props(new, {"t", "u"}, old) == {"u": 2.0, N_JSON: []}
    assert encode_props({"t": None}) == {N_JSON: []}  # like a full write


def test_metadata_json_layout() -> None:
    t = Twin(
        "t1",
        "dtmi:test:T;1",
        {"a": 1.0, "b": 2.0},
        "e",
        {
            "a": PropertyMeta("2026-01-01T00:00:00.000000Z", "device"),
            "b": PropertyMeta("2026-01-02T00:00:00.000000Z", "api"),
        },
    )
    # Readable in Neo4j Browser: name -> "<lastUpdateTime> <source>" (graph.meta's strings).
    assert orjson.loads(metadata_json(t)) == {
        "a": "2026-01-01T00:00:00.000000Z device",
        "b": "2026-01-02T00:00:00.000000Z api",
    }
    stored = twin_to_map(t)
    assert stored[N_METADATA] == metadata_json(t) and stored[N_ETAG] == "e"
    assert twin_from_map(stored) == t
    # Packed (graph.meta: the ingestion path's form), the same document.
    packed = packed_twin(t)
    assert isinstance(packed.metadata, MetaView)
    assert metadata_json(packed) == metadata_json(t)
    assert twin_from_map(twin_to_map(packed)) == t


def test_metadata_written_by_earlier_versions_still_reads() -> None:
    # Before 2026-11-22 entries were [lastUpdateTime, source] pairs.
    stored = {
        N_ID: "t1",
        "$model": "dtmi:test:T;1",
        N_ETAG: "e",
        "a": 1.0,
        N_METADATA: '{"a": ["2026-01-01T00:00:00.000000Z", "device"]}',
    }
    twin = twin_from_map(stored)
    assert twin.metadata == {"a": PropertyMeta("2026-01-01T00:00:00.000000Z", "device")}
    assert orjson.loads(metadata_json(twin)) == {"a": "2026-01-01T00:00:00.000000Z device"}


def test_rows_is_a_list_with_a_short_repr() -> None:
    rows = Rows([["t1", {"secret": 1.0}], ["t2", {}]])
    assert rows == [["t1", {"secret": 1.0}], ["t2", {}]] and isinstance(rows, list)
    assert repr(rows) == "<2 rows>"  # user values stay out of the driver's debug log
