"""MQTT ingestion against a real Mosquitto and each store: what a device owner would see.

Each test runs an IngestService with its own client id (a persistent session
per test) on the session Mosquitto, publishes with paho, and reads the twins
back from the store.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from _harness import RunningIngest, publish, seed_machines, wait_until

from graph import TwinGraph, open_graph
from server.config import IngestConfig, MqttConfig, PayloadConfig, TopicRule

pytestmark = pytest.mark.mqtt


def _neo4j_uri(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("neo4j_clean"))


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwinGraph]:
    uri = f"embedded:{tmp_path / 'store'}" if request.param == "embedded" else _neo4j_uri(request)
    graph = open_graph(uri)
    try:
        yield graph
    finally:
        graph.close()


def _config(**changes: Any) -> IngestConfig:
    # A fresh client id per test: persistent sessions must not leak between tests.
    mqtt = MqttConfig(client_id=f"test-{uuid.uuid4().hex[:10]}", session_expiry=60)
    return replace(
        IngestConfig(mqtt=mqtt, batch=replace(IngestConfig().batch, max_delay_ms=5)), **changes
    )


def _ids(n: int) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [f"m{tag}-{i}" for i in range(n)]


def _seeded(store: TwinGraph, n: int) -> list[str]:
    """``n`` new machine twins in ``store``, and the stream that gives twin i ``{"seq": i}``."""
    twins = _ids(n)
    seed_machines(store, twins)
    return twins


def _seq_stream(twins: list[str]) -> list[tuple[str, Any]]:
    return [(f"twins/{t}/telemetry", {"seq": i}) for i, t in enumerate(twins)]


def _props(store: TwinGraph, twin_id: str) -> dict[str, Any]:
    return dict(store.get_twin(twin_id).properties)


def test_telemetry_and_reported_properties_update_the_twin(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    (a,) = _ids(1)
    seed_machines(store, [a])
    with RunningIngest(store, mqtt_url, _config()) as ing:
        publish(
            mqtt_url,
            [(f"twins/{a}/telemetry", {"temperature": 21.5, "ts": "2026-11-21T10:00:00Z"})],
        )
        publish(mqtt_url, [(f"twins/{a}/properties", {"state": "running"})])
        wait_until(lambda: _props(store, a) == {"temperature": 21.5, "state": "running"})
        twin = store.get_twin(a)
        assert twin.metadata["temperature"].last_update_time == "2026-11-21T10:00:00.000000Z"
        assert twin.metadata["temperature"].source == "device"
        assert ing.metrics.snapshot()["applied_messages"] == 2


def test_configured_topic_mapping(store: TwinGraph, mqtt_url: str, tmp_path: Path) -> None:
    line = uuid.uuid4().hex[:6]
    seed_machines(store, [f"{line}-press4"])
    rules = (
        TopicRule(
            topic="plant/{line}/{machine}/temp", twin="{line}-{machine}", property="temperature"
        ),
        TopicRule(
            topic="plant/{line}/{machine}/state",
            twin="{line}-{machine}",
            property="state",
            value_field="v",
            kind="properties",
        ),
    )
    with RunningIngest(store, mqtt_url, _config(rules=rules)):
        publish(
            mqtt_url,
            [
                (f"plant/{line}/press4/temp", "71.25"),
                (f"plant/{line}/press4/state", {"v": "stopped", "ts": 1_800_000_000}),
            ],
        )
        wait_until(
            lambda: _props(store, f"{line}-press4") == {"temperature": 71.25, "state": "stopped"}
        )


def test_bad_input_becomes_dead_letters_and_ingestion_goes_on(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    (a,) = _ids(1)
    seed_machines(store, [a])
    cfg = _config(payload=PayloadConfig(max_bytes=200))
    bad = [
        (f"twins/{a}/telemetry", b"{not json"),
        (f"twins/nobody-{a}/telemetry", {"temperature": 1.0}),
        (f"twins/{a}/telemetry", {"pressure": 3.0}),
        (f"twins/{a}/telemetry", {"temperature": "hot"}),
        (f"twins/{a}/properties", {"state": "exploded"}),
        (f"twins/{a}/telemetry", {"temperature": 1.0, "pad": "x" * 300}),
    ]
    with RunningIngest(store, mqtt_url, cfg) as ing:
        publish(mqtt_url, [*bad, (f"twins/{a}/telemetry", {"temperature": 5.5})])
        wait_until(lambda: _props(store, a) == {"temperature": 5.5})
        letters = wait_until(
            lambda: (lambda d: d if len(d) == len(bad) else None)(ing.deadletters.list())
        )
        by_topic_payload = {(d.topic, d.payload_excerpt[:12]): d for d in letters}
        assert by_topic_payload[(f"twins/{a}/telemetry", "{not json")].reason == "unparseable"
        assert (
            by_topic_payload[(f"twins/nobody-{a}/telemetry", '{"temperatur')].reason
            == "unknown_twin"
        )
        assert letters[-1].reason == "unparseable"  # newest first
        reasons = sorted(d.reason for d in letters)
        assert reasons.count("oversized") == 1
        # The model refuses the unknown name, the wrong type and the bad enum value.
        refused = [
            d for d in letters if d.twin_id == a and d.reason not in ("unparseable", "oversized")
        ]
        assert len(refused) == 3
        assert any("pressure" in d.detail for d in refused)
        assert any("exploded" in d.detail or "/state" in d.detail for d in refused)
        rejected = ing.metrics.snapshot()["rejected"]
        assert sum(rejected.values()) == len(bad)
        assert rejected["unparseable"] == 1 and rejected["unknown_twin"] == 1


def test_mixed_payload_rejected_whole_unless_configured(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    a, b = _ids(2)
    seed_machines(store, [a, b])
    mixed = {"temperature": 30.0, "seq": "not a number"}
    with RunningIngest(store, mqtt_url, _config()) as ing:
        publish(mqtt_url, [(f"twins/{a}/telemetry", mixed), (f"twins/{a}/telemetry", {"seq": 1})])
        wait_until(lambda: _props(store, a) == {"seq": 1})
        # Recorded just after the batch's store write: wait for it, then nothing more.
        (letter,) = wait_until(lambda: ing.deadletters.list(twin_id=a))
        assert "seq" in letter.detail
    partial = _config(payload=PayloadConfig(accept_partial=True))
    with RunningIngest(store, mqtt_url, partial) as ing:
        publish(mqtt_url, [(f"twins/{b}/telemetry", mixed)])
        wait_until(lambda: _props(store, b) == {"temperature": 30.0})
        (letter,) = wait_until(lambda: ing.deadletters.list(twin_id=b))
        assert "seq" in letter.detail


def test_newest_timestamp_wins_whatever_the_arrival_order(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    twins = _ids(3)
    seed_machines(store, twins)
    # Each twin gets 40 readings whose timestamps arrive shuffled; one batch or several.
    order = [17, 3, 39, 0, 25, 8, 31, 12, 38, 1, 22, 5, 36, 14, 29, 9, 33, 2, 19, 27]
    order += [i for i in range(40) if i not in order]
    messages = [
        (f"twins/{t}/telemetry", {"seq": i, "ts": 1_800_000_000 + i}) for i in order for t in twins
    ]
    with RunningIngest(store, mqtt_url, _config()) as ing:
        publish(mqtt_url, messages)
        wait_until(lambda: ing.metrics.snapshot()["received"] == len(messages))
        wait_until(lambda: ing.service.pipeline.pending == 0)
        # Redelivering an old reading (a duplicate) changes nothing either.
        publish(mqtt_url, [(f"twins/{twins[0]}/telemetry", {"seq": 39, "ts": 1_800_000_039})])
        publish(mqtt_url, [(f"twins/{twins[0]}/telemetry", {"seq": 7, "ts": 1_800_000_007})])
        wait_until(lambda: ing.metrics.snapshot()["received"] == len(messages) + 2)
        wait_until(lambda: ing.service.pipeline.pending == 0)
        for t in twins:
            wait_until(lambda t=t: _props(store, t) == {"seq": 39})
            assert (
                store.get_twin(t).metadata["seq"].last_update_time == "2027-01-15T08:00:39.000000Z"
            )


def test_array_of_readings_keeps_the_newest(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    (a,) = _ids(1)
    seed_machines(store, [a])
    readings = [{"temperature": float(i), "ts": 1_800_000_000 + i} for i in (3, 9, 1)]
    with RunningIngest(store, mqtt_url, _config()):
        publish(mqtt_url, [(f"twins/{a}/telemetry", readings)])
        wait_until(lambda: _props(store, a) == {"temperature": 9.0})


def test_shared_subscription_splits_the_load(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    twins = _ids(50)
    seed_machines(store, twins)
    group = f"g{uuid.uuid4().hex[:6]}"
    one = _config(mqtt=MqttConfig(client_id=f"{group}-1", shared_group=group, session_expiry=60))
    two = _config(mqtt=MqttConfig(client_id=f"{group}-2", shared_group=group, session_expiry=60))
    with (
        RunningIngest(store, mqtt_url, one) as first,
        RunningIngest(store, mqtt_url, two) as second,
    ):
        publish(mqtt_url, [(f"twins/{t}/telemetry", {"seq": 1}) for t in twins])
        wait_until(lambda: all(_props(store, t) == {"seq": 1} for t in twins))
        got = (first.metrics.snapshot()["received"], second.metrics.snapshot()["received"])
        assert sum(got) == len(twins), got  # each message to exactly one member of the group
        assert min(got) > 0, got


def test_clean_shutdown_applies_everything_received(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    twins = _ids(300)
    seed_machines(store, twins)
    cfg = _config(batch=replace(IngestConfig().batch, max_size=50, max_delay_ms=50))
    ing = RunningIngest(store, mqtt_url, cfg)
    with ing:
        publish(mqtt_url, [(f"twins/{t}/telemetry", {"seq": i}) for i, t in enumerate(twins)])
        wait_until(lambda: ing.metrics.snapshot()["received"] > 0)
    snap = ing.metrics.snapshot()
    late = (
        ing.service.pipeline.pending
    )  # arrived after the drain: unacknowledged, redelivered later
    assert snap["received"] > 0 and snap["applied_messages"] == snap["received"] - late, snap
    applied = [t for t in twins if "seq" in _props(store, t)]
    assert len(applied) == snap["applied_messages"]


def _meter_model(n: int) -> dict[str, Any]:
    return {
        "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:mqtt;1"],
        "@id": f"dtmi:test:ingest:Meter{n};1",
        "@type": ["Interface", "Mqtt"],
        "telemetryTopic": f"meters{n}/{{modelId}}/{{senderId}}/telemetry",
        "payloadFormat": "Json/ecma/404",
        "contents": [{"@type": "Telemetry", "name": "power", "schema": "double"}],
    }


def test_topics_declared_with_the_dtdl_mqtt_extension(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    from graph.base import TwinUpsert

    tag = uuid.uuid4().hex[:6]
    store.add_models([_meter_model(1)])
    store.upsert_batch([TwinUpsert(f"meter1-{tag}", "dtmi:test:ingest:Meter1;1", {})])
    with RunningIngest(store, mqtt_url, _config()) as ing:
        assert "meters1/+/+/telemetry" in ing.service.source.subscription_topics()
        publish(mqtt_url, [(f"meters1/m/meter1-{tag}/telemetry", {"power": 1.5})])
        wait_until(lambda: _props(store, f"meter1-{tag}") == {"power": 1.5})
        # A model added while ingestion runs brings its topics with it.
        store.add_models([_meter_model(2)])
        store.upsert_batch([TwinUpsert(f"meter2-{tag}", "dtmi:test:ingest:Meter2;1", {})])
        wait_until(lambda: "meters2/+/+/telemetry" in ing.service.source.subscription_topics())
        time.sleep(0.3)  # SUBACK
        publish(mqtt_url, [(f"meters2/m/meter2-{tag}/telemetry", {"power": 2.5})])
        wait_until(lambda: _props(store, f"meter2-{tag}") == {"power": 2.5})


class _PoisonedStore:
    """A real store whose batch write fails unexpectedly (a bug, not an outage) whenever
    the batch holds ``poison``'s update; everything else is the store's."""

    def __init__(self, store: TwinGraph, poison: str) -> None:
        self._store, self.poison = store, poison
        self.batches: list[list[str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def apply_property_updates(self, updates: Any, *args: Any, **kwargs: Any) -> Any:
        ids = [u.twin_id for u in updates]
        self.batches.append(ids)
        if self.poison in ids:
            raise RuntimeError(f"bug tripped by {self.poison}")
        return self._store.apply_property_updates(updates, *args, **kwargs)


def _redelivered(mqtt_url: str, client_id: str, wait: float = 1.0) -> list[str]:
    """Topics the broker still holds for ``client_id``'s session (unacknowledged messages)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from server.config import parse_mqtt_url

    host, port, _, _ = parse_mqtt_url(mqtt_url)
    topics: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, m: topics.append(m.topic)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0  # and end the session afterwards
    client.connect(host, port, clean_start=False, properties=props)
    client.loop_start()
    time.sleep(wait)
    client.disconnect()
    client.loop_stop()
    return topics


def _one_batch_config() -> IngestConfig:
    # A long deadline, so every message of the test lands in one batch.
    return _config(batch=replace(IngestConfig().batch, max_delay_ms=500))


def test_a_message_that_trips_a_store_bug_is_dead_lettered_alone(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    twins = _seeded(store, 20)
    poisoned = _PoisonedStore(store, twins[7])
    cfg = _one_batch_config()
    with RunningIngest(poisoned, mqtt_url, cfg) as ing:
        publish(mqtt_url, _seq_stream(twins))
        (letter,) = wait_until(lambda: ing.deadletters.list(twin_id=twins[7]))
        wait_until(lambda: ing.service.pipeline.pending == 0)
    # The batch holding it failed, then each update was written on its own.
    assert len(poisoned.batches[0]) == len(twins)
    assert [b for b in poisoned.batches[1:] if len(b) > 1] == []
    assert letter.reason == "store_error"
    assert letter.detail == f"RuntimeError: bug tripped by {twins[7]}"
    assert letter.topic == f"twins/{twins[7]}/telemetry"
    for i, t in enumerate(twins):
        assert _props(store, t) == ({} if i == 7 else {"seq": i})
    assert ing.metrics.snapshot()["rejected"] == {"store_error": 1}
    assert _redelivered(mqtt_url, cfg.mqtt.client_id or "") == []  # all acknowledged


def test_a_bug_after_the_commit_falls_back_to_one_message_at_a_time(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    twins = _seeded(store, 20)
    cfg = _one_batch_config()
    batches: list[int] = []

    def buggy_listener(readings: Any, commit_time: float) -> None:
        batches.append(len(readings))
        if any(r.twin_id == twins[3] for r in readings):
            raise KeyError("listener bug")

    with RunningIngest(store, mqtt_url, cfg) as ing:
        ing.service.pipeline.add_commit_listener(buggy_listener)
        publish(mqtt_url, _seq_stream(twins))
        (letter,) = wait_until(lambda: ing.deadletters.list(twin_id=twins[3]))
        wait_until(lambda: ing.service.pipeline.pending == 0)
    assert batches[0] == len(twins) and set(batches[1:]) == {1}
    assert letter.reason == "internal_error"
    assert letter.topic == f"twins/{twins[3]}/telemetry"
    assert letter.detail == "KeyError: 'listener bug'"
    # Written before the bug struck: committed, and the store kept the values.
    assert all(_props(store, t) == {"seq": i} for i, t in enumerate(twins))
    assert ing.metrics.snapshot()["rejected"] == {"internal_error": 1}
    assert _redelivered(mqtt_url, cfg.mqtt.client_id or "") == []


def test_a_small_in_flight_window_does_not_stall_on_the_batch_deadline(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    """The broker sends at most receive_maximum unacknowledged messages: batches stay at
    half that, so they fill (and are written) without waiting for a long deadline."""
    twins = _seeded(store, 60)
    cfg = _config(
        mqtt=MqttConfig(client_id=f"test-{uuid.uuid4().hex[:10]}", receive_maximum=10),
        batch=replace(IngestConfig().batch, max_size=2000, max_delay_ms=2000),
    )
    with RunningIngest(store, mqtt_url, cfg) as ing:
        assert ing.service.pipeline.batch_limit() == 5
        started = time.monotonic()
        publish(mqtt_url, _seq_stream(twins))
        wait_until(lambda: ing.metrics.snapshot()["applied_messages"] == len(twins), timeout=30)
        # Batches of 2,000 would each have waited 2 s for messages the broker withholds.
        assert time.monotonic() - started < 6
    assert all(_props(store, t) == {"seq": i} for i, t in enumerate(twins))


class _DownStore(_PoisonedStore):
    """A real store whose writes all fail as "unavailable" (an outage)."""

    def apply_property_updates(self, updates: Any, *args: Any, **kwargs: Any) -> Any:
        from graph.errors import StoreUnavailableError

        self.batches.append([u.twin_id for u in updates])
        raise StoreUnavailableError("store down for the test")


def test_stopping_during_a_store_outage_leaves_the_messages_to_the_broker(
    store: TwinGraph, mqtt_url: str, tmp_path: Path
) -> None:
    twins = _seeded(store, 30)
    cfg = _config()
    down = _DownStore(store, poison="")
    ing = RunningIngest(down, mqtt_url, cfg).__enter__()
    try:
        publish(mqtt_url, _seq_stream(twins))
        wait_until(lambda: ing.metrics.snapshot()["received"] == len(twins))
        wait_until(lambda: not ing.service.pipeline.store_ok)
    finally:
        started = time.monotonic()
        ing.service.stop(drain_timeout=1.0)
    assert time.monotonic() - started < 8  # gave up on the store, did not hang
    assert ing.metrics.snapshot()["applied_messages"] == 0
    assert all(_props(store, t) == {} for t in twins)
    time.sleep(1)  # the broker settles the old connection before the same client id returns
    # Nothing was acknowledged: the next run of the same session gets everything again.
    with RunningIngest(store, mqtt_url, cfg) as again:
        wait_until(lambda: all(_props(store, t) == {"seq": i} for i, t in enumerate(twins)))
        assert again.metrics.snapshot()["deadletters"] == 0
