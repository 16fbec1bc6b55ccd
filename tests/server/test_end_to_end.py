"""The whole server in-process: publish telemetry over MQTT, read it back through GraphQL over HTTP.

One test per store against the real Mosquitto, and one with the embedded
broker (on a free port: 1883 may be in use by a running demo).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest
from _harness import MACHINE_DOC, InProcessServer, free_port, publish, seed_machines, wait_until

from graph import open_graph
from server.config import IngestConfig, MqttConfig, Settings


def _neo4j_uri(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("neo4j_clean"))


def _settings(store: str, mqtt: str | None, models: Path, **kw: object) -> Settings:
    ingest = IngestConfig(
        mqtt=MqttConfig(client_id=f"e2e-{uuid.uuid4().hex[:8]}", session_expiry=60)
    )
    return Settings(
        store=store,
        mqtt=mqtt,
        models_dir=str(models),
        port=free_port(),
        open_mode=True,
        ingest=ingest,
        **kw,  # type: ignore[arg-type]
    )


def _models_dir(tmp_path: Path) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    (models / "machine.json").write_text(json.dumps(MACHINE_DOC))
    return models


def _check_live_slice(srv: InProcessServer, mqtt_url: str, twin: str) -> None:
    assert srv.twin_properties(twin) == {}
    publish(mqtt_url, [(f"twins/{twin}/telemetry", {"temperature": 23.25, "seq": 7})])
    # Within a second of the publish, GraphQL shows the new value.
    props = wait_until(lambda: srv.twin_properties(twin) or None, timeout=1.0, interval=0.02)
    assert props == {"temperature": 23.25, "seq": 7}
    data = srv.graphql("query($id: String!) { twin(id: $id) { id model } }", {"id": twin})
    assert data["twin"] == {"id": twin, "model": MACHINE_DOC["@id"]}

    health = srv.get("/healthz")
    assert health.status_code == 200, health.text
    report = health.json()
    assert report["ok"] and report["store"]["ok"] and report["mqtt"]["connected"]
    assert report["mqtt"]["applied_messages"] >= 1
    metrics = srv.get("/metrics").text
    assert "graphtwin_ingest_applied_messages_total 1.0" in metrics
    assert "graphtwin_mqtt_connected 1.0" in metrics

    # Bad input is answered with a dead letter, readable over HTTP; QoS 0 works too.
    publish(mqtt_url, [(f"twins/{twin}/telemetry", b"21.5 degrees")], qos=0)
    letters = wait_until(lambda: srv.get("/deadletters").json()["items"], timeout=5)
    assert letters[0]["topic"] == f"twins/{twin}/telemetry"
    assert letters[0]["reason"] == "unparseable" and letters[0]["payload_excerpt"] == "21.5 degrees"
    assert srv.get("/deadletters", params={"reason": "unknown_twin"}).json()["items"] == []
    assert 'graphtwin_ingest_rejected_total{reason="unparseable"} 1.0' in srv.get("/metrics").text


@pytest.mark.mqtt
def test_embedded_store_with_mosquitto(tmp_path: Path, mqtt_url: str) -> None:
    store_dir = tmp_path / "store"
    twin = f"press-{uuid.uuid4().hex[:6]}"
    with open_graph(f"embedded:{store_dir}") as store:
        seed_machines(store, [twin])
    with InProcessServer(_settings(str(store_dir), mqtt_url, _models_dir(tmp_path))) as srv:
        _check_live_slice(srv, mqtt_url, twin)


@pytest.mark.mqtt
@pytest.mark.neo4j
def test_neo4j_store_with_mosquitto(
    tmp_path: Path, mqtt_url: str, request: pytest.FixtureRequest
) -> None:
    uri = _neo4j_uri(request)
    twin = f"press-{uuid.uuid4().hex[:6]}"
    with open_graph(uri) as store:
        seed_machines(store, [twin])
    with InProcessServer(_settings(uri, mqtt_url, _models_dir(tmp_path))) as srv:
        assert srv.get("/healthz").json()["store"]["backend"] == "neo4j"
        _check_live_slice(srv, mqtt_url, twin)


def test_embedded_store_with_embedded_broker(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    twin = "press-1"
    with open_graph(f"embedded:{store_dir}") as store:
        seed_machines(store, [twin])
    settings = _settings(str(store_dir), None, _models_dir(tmp_path), mqtt_port=free_port())
    with InProcessServer(settings) as srv:
        report = srv.get("/healthz").json()
        assert report["embedded_broker"]["ok"]
        _check_live_slice(srv, f"mqtt://127.0.0.1:{settings.mqtt_port}", twin)
        page = httpx.get(srv.base_url + "/graphql", headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200 and "graphiql" in page.text.lower()
    # The lifespan stopped the broker with the app.
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("127.0.0.1", settings.mqtt_port), timeout=1).close()


def test_demo_twins_come_alive(tmp_path: Path) -> None:
    settings = Settings(
        store=str(tmp_path / "store"),
        mqtt=None,
        mqtt_port=free_port(),
        port=free_port(),
        demo=True,
        demo_interval=0.2,
    )
    with InProcessServer(settings) as srv:
        sensor = srv.runtime.demo_twin_ids[0]
        props = wait_until(lambda: srv.twin_properties(sensor).get("temperature"), timeout=5)
        assert 10.0 < props < 35.0
        assert srv.get("/healthz").json()["store"]["twins"] > 200


def test_demo_without_simulator_and_its_quiet_twin(tmp_path: Path) -> None:
    """--demo-interval 0: the demo graph, no simulator; the README's twin is never driven."""
    from server.app import DEMO_QUIET_TWIN

    settings = Settings(
        store=str(tmp_path / "store"),
        mqtt=None,
        mqtt_port=free_port(),
        port=free_port(),
        demo=True,
        demo_interval=0,
    )
    with InProcessServer(settings) as srv:
        assert srv.runtime.simulator is None
        assert srv.runtime.demo_twin_ids and DEMO_QUIET_TWIN not in srv.runtime.demo_twin_ids
        mqtt = f"mqtt://127.0.0.1:{settings.mqtt_port}"
        publish(mqtt, [(f"twins/{DEMO_QUIET_TWIN}/telemetry", {"temperature": 23.5})])
        props = wait_until(lambda: srv.twin_properties(DEMO_QUIET_TWIN).get("temperature"))
        assert props == 23.5
        time.sleep(0.5)  # nothing else writes to it: the value stays
        assert srv.twin_properties(DEMO_QUIET_TWIN)["temperature"] == 23.5
