"""The demo: its models parse, its twin graph fits them, its simulator publishes valid telemetry."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest

from ontology import parse_models
from ontology.instance import validate_relationship_properties, validate_telemetry, validate_twin
from ontology.model import ModelRegistry
from ontology.values import is_datetime
from server.demo import (
    HVAC_MODEL,
    ROOM_MODEL,
    SENSOR_MODEL,
    SITE_MODEL,
    build_twin_graph,
    load_models,
    telemetry_model_of,
)
from server.demo.simulator import TelemetrySimulator

TWINS, RELATIONSHIPS = build_twin_graph()
TWIN_BY_ID = {t.id: t for t in TWINS}


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    result = parse_models(load_models())
    assert [str(e) for e in result.errors] == []
    return result.registry


def test_demo_models_are_dtdl_v3_and_parse_without_errors(registry: ModelRegistry) -> None:
    documents = load_models()
    assert all("dtmi:dtdl:context;3" in json.dumps(d["@context"]) for d in documents)
    assert set(registry) == {d["@id"] for d in documents}
    assert registry.is_of_model("dtmi:com:graphtwin:demo:AirQualitySensor;1", SENSOR_MODEL)
    temperature = registry[SENSOR_MODEL].telemetry["temperature"]
    assert temperature.unit == "degreeCelsius"


def test_twin_graph_has_the_documented_shape() -> None:
    models = Counter(t.model.rsplit(":", 1)[1] for t in TWINS)
    assert models["Site;1"] == 1
    assert models["Building;1"] == 2
    assert models["Floor;1"] == 7  # 4 + 3
    assert models["Room;1"] == 7 * 12
    assert 200 <= len(TWINS) <= 400
    assert len(TWIN_BY_ID) == len(TWINS), "twin ids are unique"
    assert {"site-1", "bldg-1", "bldg-1-f2", "bldg-1-f2-r05", "bldg-1-f2-r05-temp"} <= set(
        TWIN_BY_ID
    )
    per_source = Counter((r.source, r.id) for r in RELATIONSHIPS)
    assert max(per_source.values()) == 1, "relationship ids are unique per source"


def test_twin_graph_is_deterministic_and_the_seed_changes_it() -> None:
    assert build_twin_graph() == (TWINS, RELATIONSHIPS)
    assert build_twin_graph(seed=8) != (TWINS, RELATIONSHIPS)


def test_every_room_has_one_to_three_sensors_and_hangs_under_the_site() -> None:
    sensors_in = Counter(r.target for r in RELATIONSHIPS if r.name == "isLocatedIn")
    parent = {r.target: r.source for r in RELATIONSHIPS if r.name == "contains"}
    for twin in TWINS:
        if twin.model != ROOM_MODEL:
            continue
        assert 1 <= sensors_in[twin.id] <= 3, twin.id
        chain = [twin.id]
        while chain[-1] in parent:
            chain.append(parent[chain[-1]])
        assert len(chain) == 4 and chain[-1] == "site-1", chain


def test_every_twin_validates_against_its_model(registry: ModelRegistry) -> None:
    problems = {t.id: validate_twin(registry, t.model, t.properties) for t in TWINS}
    assert {k: [str(e) for e in v] for k, v in problems.items() if v} == {}


def test_every_relationship_targets_an_existing_twin_of_the_declared_model(
    registry: ModelRegistry,
) -> None:
    outgoing: Counter[tuple[str, str]] = Counter()
    for rel in RELATIONSHIPS:
        source = TWIN_BY_ID[rel.source]
        declared = registry[source.model].relationships[rel.name]
        target = TWIN_BY_ID[rel.target]
        assert declared.target is not None
        assert registry.is_of_model(target.model, declared.target), (rel, target.model)
        assert (
            validate_relationship_properties(registry, source.model, rel.name, rel.properties) == []
        )
        outgoing[(rel.source, rel.name)] += 1
    for (source_id, name), count in outgoing.items():
        limit = registry[TWIN_BY_ID[source_id].model].relationships[name].max_multiplicity
        assert limit is None or count <= limit, (source_id, name, count)


def test_simulated_day_is_valid_plausible_and_drifts_slowly(registry: ModelRegistry) -> None:
    simulator = TelemetrySimulator("127.0.0.1", 1, [t.id for t in TWINS], seed=3)
    assert set(simulator.twin_ids) == {t.id for t in TWINS if telemetry_model_of(t.id)}
    assert "site-1" not in simulator.twin_ids
    start = datetime(2026, 6, 1, tzinfo=UTC)
    previous: dict[str, float] = {}
    noon_temps, night_temps = [], []
    for step in range(24 * 60):  # one sample a minute for a day
        now = start + timedelta(minutes=step)
        for twin_id, payload in simulator.next_payloads(now).items():
            body = dict(payload)
            assert is_datetime(body.pop("ts"))
            model = TWIN_BY_ID[twin_id].model
            assert validate_telemetry(registry, model, body) == [], (twin_id, body)
            if model == HVAC_MODEL:
                continue
            temperature = body["temperature"]
            assert 15.0 <= temperature <= 30.0
            if twin_id in previous:
                assert abs(temperature - previous[twin_id]) < 0.5, "values drift slowly"
            previous[twin_id] = temperature
            if now.hour == 15:
                noon_temps.append(temperature)
            elif now.hour == 3:
                night_temps.append(temperature)
    assert sum(noon_temps) / len(noon_temps) > sum(night_temps) / len(night_temps) + 1.0


@pytest.mark.mqtt
def test_simulator_publishes_valid_telemetry_to_mosquitto(
    registry: ModelRegistry, mqtt_url: str
) -> None:
    url = urlsplit(mqtt_url)
    host, port = url.hostname or "127.0.0.1", url.port or 1883
    sensor_ids = [t.id for t in TWINS if telemetry_model_of(t.id)]
    received: dict[str, dict[str, object]] = {}
    all_seen = threading.Event()
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        received[message.topic.split("/")[1]] = json.loads(message.payload)
        if len(received) == len(sensor_ids):
            all_seen.set()

    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscriber.on_message = on_message
    subscriber.on_subscribe = lambda *args: subscribed.set()
    subscriber.connect(host, port)
    subscriber.subscribe("twins/+/telemetry", qos=1)
    subscriber.loop_start()
    try:
        assert subscribed.wait(5)
        with TelemetrySimulator(host, port, [t.id for t in TWINS], interval=0.2) as simulator:
            assert simulator.wait_connected(5)
            assert all_seen.wait(10), f"only {len(received)} of {len(sensor_ids)} twins published"
        count_after_stop = len(received), simulator.published
        time.sleep(0.5)
        assert simulator.published == count_after_stop[1], "nothing is published after stop()"
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
    assert set(received) == set(sensor_ids)
    for twin_id, payload in received.items():
        body = dict(payload)
        assert is_datetime(str(body.pop("ts")))
        assert validate_telemetry(registry, TWIN_BY_ID[twin_id].model, body) == [], twin_id
    assert set(received["bldg-1-f2-r05-temp"]) == {"temperature", "ts"}
    assert SITE_MODEL not in {TWIN_BY_ID[t].model for t in received}


@pytest.mark.mqtt
def test_simulator_reconnects_after_a_broker_restart(mosquitto_factory: Any) -> None:
    broker = mosquitto_factory()
    twin_id = "bldg-1-f1-r01-temp"
    with TelemetrySimulator("127.0.0.1", broker.port, [twin_id], interval=0.1) as simulator:
        assert simulator.wait_connected(5)
        broker.stop()
        deadline = time.monotonic() + 5
        while simulator.wait_connected(0) and time.monotonic() < deadline:
            time.sleep(0.05)
        broker.start()
        assert simulator.wait_connected(10), "the simulator reconnects on its own"
        received = threading.Event()
        subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        subscriber.on_message = lambda *args: received.set()
        subscriber.connect("127.0.0.1", broker.port)
        subscriber.subscribe(f"twins/{twin_id}/telemetry")
        subscriber.loop_start()
        try:
            assert received.wait(5), "telemetry flows again after the restart"
        finally:
            subscriber.loop_stop()
            subscriber.disconnect()
