"""The relationship upsert's per-batch memo of model checks (``StoreBase._check_rel``'s
``checked``) against no memo: the same relationships upserted as one batch, where the memo
answers for every repeated (source model, name, target model), and one per batch, where
it never does, give the same results and the same stored relationships.  Run on both
stores (the check is shared); the memo was made for Neo4j imports."""

from __future__ import annotations

import random
from typing import Any

from graph_test_models import DEVICE, ROOM, SPACE

from graph import RelationshipUpsert, TwinGraph, TwinUpsert

TWINS = [("r1", ROOM), ("r2", ROOM), ("r3", ROOM), ("s1", SPACE), ("s2", SPACE), ("d1", DEVICE)]


def _upserts(rng: random.Random, world: str) -> list[RelationshipUpsert]:
    names = ["contains", "contains", "hasDevice", "nosuch"]
    props: list[Any] = [{}, {}, {}, {"since": "2030"}, {"since": 5}, None, {"$etag": "x"}]
    ids = [*(t for t, _ in TWINS), "ghost"]
    out = []
    for n in range(120):
        source, target = rng.choice(ids), rng.choice(ids)
        out.append(
            RelationshipUpsert(
                f"{world}{source}",
                f"rel{n % 40}",  # repeats: later items update earlier ones
                rng.choice(names),
                f"{world}{target}",
                rng.choice(props),
            )
        )
    return out


def _result(r: Any, world: str) -> tuple[Any, ...]:
    return (r.key.replace(world, ""), r.ok, type(r.error), str(r.error).replace(world, ""))


def _stored(g: TwinGraph, world: str) -> list[tuple[Any, ...]]:
    return sorted(
        (
            rel.source.replace(world, ""),
            rel.id,
            rel.name,
            rel.target.replace(world, ""),
            tuple(sorted(rel.properties.items())),
        )
        for twin_id, _ in TWINS
        for rel in g.list_relationships(f"{world}{twin_id}")
    )


def test_checks_remembered_in_a_batch_give_the_results_of_checks_one_by_one(
    loaded: TwinGraph,
) -> None:
    for world in ("one.", "each."):
        loaded.upsert_batch([TwinUpsert(f"{world}{t}", m, {}) for t, m in TWINS])
    for seed in range(3):
        together = _upserts(random.Random(seed), "one.")
        alone = _upserts(random.Random(seed), "each.")
        got = loaded.upsert_batch((), together)
        want = [r for up in alone for r in loaded.upsert_batch((), [up])]
        assert [_result(r, "one.") for r in got] == [_result(r, "each.") for r in want]
        assert _stored(loaded, "one.") == _stored(loaded, "each.")
        outcomes = {(r.ok, type(r.error)) for r in got}
        assert len(outcomes) >= 4  # accepted, and refused in several ways


def test_a_relationship_written_twice_in_one_batch_is_stored_once(loaded: TwinGraph) -> None:
    # Neo4j used to CREATE it twice: both items were read as absent before the batch.
    loaded.upsert_batch([TwinUpsert(t, m, {}) for t, m in TWINS])
    first = RelationshipUpsert("r1", "x", "hasDevice", "d1", {"since": "2029"})
    again = RelationshipUpsert("r1", "x", "hasDevice", "d1", {"since": "2030"})
    other = RelationshipUpsert("r1", "x", "hasDevice", "s1")  # another target: refused
    results = loaded.upsert_batch((), [first, again, other])
    assert [r.ok for r in results] == [True, True, False]
    (stored,) = loaded.list_relationships("r1")
    assert (stored.id, stored.target, stored.properties) == ("x", "d1", {"since": "2030"})
