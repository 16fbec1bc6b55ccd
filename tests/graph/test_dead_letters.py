"""Dead letters kept in the store: bounded, newest first, filtered, durable, shared."""

from __future__ import annotations

import threading

import pytest

from graph import TwinGraph, open_graph
from graph.deadletters import DeadLetter


def letter(n: int, reason: str = "bad_json", twin: str | None = None) -> DeadLetter:
    return DeadLetter(
        topic=f"twins/t{n}/telemetry",
        reason=reason,
        detail=f"message {n}",
        payload_excerpt=f"{{not json {n}",
        payload_bytes=10 + n,
        twin_id=twin,
    )


def details(letters: list[DeadLetter]) -> list[str]:
    return [d.detail for d in letters]


def test_empty_log(store: TwinGraph) -> None:
    assert store.dead_letters.count() == 0
    assert store.dead_letters.list() == []


def test_newest_first_with_everything_kept(store: TwinGraph) -> None:
    log = store.dead_letters
    log.add([letter(1), letter(2, twin="t2")])
    log.add([letter(3)])
    got = log.list()
    assert details(got) == ["message 3", "message 2", "message 1"]
    assert [d.id for d in got] == sorted((d.id for d in got), reverse=True)
    second = got[1]
    assert (second.topic, second.reason, second.twin_id) == ("twins/t2/telemetry", "bad_json", "t2")
    assert (second.payload_excerpt, second.payload_bytes) == ("{not json 2", 12)
    assert second.received_at > 1.7e9  # stamped by the log: seconds since the epoch
    assert got[2].twin_id is None
    assert log.count() == 3


def test_bounded_drops_the_oldest(store: TwinGraph) -> None:
    log = store.dead_letters
    log.max_records = 5
    log.add([letter(n) for n in range(1, 4)])
    log.add([letter(n) for n in range(4, 9)])
    assert log.count() == 5
    assert details(log.list()) == [f"message {n}" for n in range(8, 3, -1)]
    log.add([letter(9)])
    assert log.count() == 5
    assert details(log.list(limit=2)) == ["message 9", "message 8"]


def test_one_batch_larger_than_the_cap_keeps_its_newest(store: TwinGraph) -> None:
    log = store.dead_letters
    log.max_records = 3
    log.add([letter(n) for n in range(10)])
    assert details(log.list()) == ["message 9", "message 8", "message 7"]


def test_bad_cap_refused(store: TwinGraph) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        store.dead_letters.max_records = 0


def test_filters_and_paging(store: TwinGraph) -> None:
    log = store.dead_letters
    log.add(
        [
            letter(1, "unknown_twin", "a"),
            letter(2, "bad_json"),
            letter(3, "unknown_twin", "b"),
            letter(4, "wrong_type", "a"),
        ]
    )
    assert details(log.list(reason="unknown_twin")) == ["message 3", "message 1"]
    assert details(log.list(twin_id="a")) == ["message 4", "message 1"]
    assert log.list(reason="no_such_reason") == []
    newest, *_, oldest = log.list()
    assert details(log.list(after=oldest.id, limit=2)) == ["message 4", "message 3"]
    assert log.list(after=newest.id) == []
    assert details(log.list(before=newest.id, reason="unknown_twin")) == [
        "message 3",
        "message 1",
    ]


def test_survives_restart(store_uri: str) -> None:
    with open_graph(store_uri) as first:
        first.dead_letters.add([letter(1), letter(2)])
    with open_graph(store_uri) as again:
        assert details(again.dead_letters.list()) == ["message 2", "message 1"]
        again.dead_letters.add([letter(3)])
        ids = [d.id for d in again.dead_letters.list()]
        assert ids == sorted(set(ids), reverse=True)  # ids go on increasing after a restart


def test_two_store_objects_see_the_same_letters(store_uri: str) -> None:
    """Two servers on one store: letters from either, unique ids, none lost."""
    with open_graph(store_uri) as one, open_graph(store_uri) as two:

        def write(log_owner: TwinGraph, base: int) -> None:
            for n in range(base, base + 20):
                log_owner.dead_letters.add([letter(n)])

        threads = [
            threading.Thread(target=write, args=(one, 0)),
            threading.Thread(target=write, args=(two, 100)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seen = two.dead_letters.list(limit=1000)
        assert len(seen) == 40 == one.dead_letters.count()
        assert len({d.id for d in seen}) == 40
        assert set(details(seen)) == {f"message {n}" for n in [*range(20), *range(100, 120)]}


def test_dead_letters_do_not_count_as_twins(loaded: TwinGraph) -> None:
    loaded.dead_letters.add([letter(1)])
    assert loaded.count_twins() == 0
    assert list(loaded.iter_twins()) == []
