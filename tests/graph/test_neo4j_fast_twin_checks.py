"""The twin upsert's batch checker (``core.validate_twin`` with a ``telemetry_checker``)
against the general validator that ``create_twin`` uses: the same documents give the same
refusals, problems and stored twins, both stores.  Also the new twin's build shortcut
(``StoreBase._build_twin`` with no old twin) against replacing one."""

from __future__ import annotations

import random
from typing import Any

from graph_test_models import DEVICE, ROOM, SPACE

from graph import GraphError, TwinGraph, TwinUpsert

CHOICES: list[tuple[str, Any]] = [
    ("name", "hall"),
    ("name", 5),  # wrong type
    ("area", 12.5),
    ("area", "big"),
    ("temperature", 21.0),  # telemetry: an import may set it
    ("temp", 3.0),  # the device's, not the room's
    ("serial", "S1"),  # read-only: an import may set it
    ("mode", "eco"),
    ("mode", "turbo"),  # not in the enum
    ("settings", {"target": 20.5, "label": "x"}),
    ("settings", {"target": "warm"}),
    ("tags", {"wing": "b"}),
    ("tags", {"wing": 3}),
    ("codes", [1, 2]),
    ("codes", [1, "x"]),
    ("thermostat", {"setpoint": 19.5}),  # a component
    ("thermostat", {"setpoint": "x"}),
    ("firmware", "1.2"),
    ("nosuch", 1),
    ("hasDevice", "d1"),  # a relationship is not a property
    ("$metadata", {}),  # system keys are dropped
]


def _documents(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    models = [ROOM, ROOM, SPACE, DEVICE]
    return [
        (rng.choice(models), dict(rng.sample(CHOICES, rng.randrange(0, 4)))) for _ in range(150)
    ]


def _outcome(g: TwinGraph, twin_id: str, error: Exception | None) -> tuple[Any, ...]:
    problems = getattr(error, "problems", None)
    text = str(error).replace(twin_id, "ID") if error else None
    stored = None
    if error is None:
        t = g.get_twin(twin_id)
        stored = (t.model, t.properties, {k: m.source for k, m in t.metadata.items()})
    return (type(error), text, problems, stored)


def test_batch_checks_give_the_general_validators_refusals(loaded: TwinGraph) -> None:
    docs = _documents(random.Random(7))
    batch = [TwinUpsert(f"b{n}", model, props) for n, (model, props) in enumerate(docs)]
    results = loaded.upsert_batch(batch)
    one_by_one = []
    for n, (model, props) in enumerate(docs):
        try:
            loaded.create_twin(f"c{n}", model, props, source="import")
            one_by_one.append(_outcome(loaded, f"c{n}", None))
        except GraphError as exc:
            one_by_one.append(_outcome(loaded, f"c{n}", exc))
    got = [_outcome(loaded, r.key, r.error) for r in results]
    assert got == one_by_one
    assert 30 < sum(r.ok for r in results) < 120  # accepted and refused, many times


def test_a_new_twin_gets_every_property_stamped_now(loaded: TwinGraph) -> None:
    (created,) = loaded.upsert_batch([TwinUpsert("r", ROOM, {"area": 1.0, "name": "a"})])
    assert created.ok
    first = loaded.get_twin("r").metadata
    assert set(first) == {"area", "name"} and first["area"] == first["name"]
    loaded.upsert_batch([TwinUpsert("r", ROOM, {"area": 1.0, "name": "b"})])
    second = loaded.get_twin("r").metadata
    assert second["area"] == first["area"]  # unchanged value: its time is kept
    assert second["name"].last_update_time > first["name"].last_update_time
