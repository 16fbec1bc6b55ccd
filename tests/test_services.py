"""The real services behind the fixtures work: Neo4j over Bolt and Mosquitto over MQTT."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import ServiceUnavailable
from services import REPO_ROOT, Mosquitto, Neo4jTestServer, wipe_neo4j


def _mqtt_client(url: str, client_id: str = "", *, clean: bool = True) -> mqtt.Client:
    """A connected, looping MQTT 3.1.1 client (raises if the broker refuses)."""
    parsed = urlparse(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    connected = threading.Event()
    client.on_connect = lambda *_args: connected.set()
    client.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883, keepalive=10)
    client.loop_start()
    assert connected.wait(10), f"no CONNACK from {url}"
    return client


def _collector(client: mqtt.Client) -> queue.Queue[tuple[str, bytes, int]]:
    received: queue.Queue[tuple[str, bytes, int]] = queue.Queue()
    client.on_message = lambda _c, _u, msg: received.put((msg.topic, bytes(msg.payload), msg.qos))
    return received


def _subscribe(client: mqtt.Client, topic: str, qos: int) -> None:
    done = threading.Event()
    client.on_subscribe = lambda *_args: done.set()
    client.subscribe(topic, qos)
    assert done.wait(10), f"no SUBACK for {topic}"


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


@pytest.mark.neo4j
def test_cypher_round_trip_through_the_official_driver(neo4j_clean: str) -> None:
    with GraphDatabase.driver(neo4j_clean, auth=None) as driver:
        driver.execute_query(
            "CREATE (:Room {id: $id, temperature: $t})-[:isLocatedIn]->(:Floor {id: 'f1'})",
            id="r1",
            t=21.5,
        )
        records, _, _ = driver.execute_query(
            "MATCH (r:Room)-[:isLocatedIn]->(f:Floor) RETURN r.id AS room, r.temperature AS t, "
            "f.id AS floor"
        )
        version, _, _ = driver.execute_query(
            "CALL dbms.components() YIELD name, versions RETURN name, versions[0] AS v"
        )
    assert [r.data() for r in records] == [{"room": "r1", "t": 21.5, "floor": "f1"}]
    assert version[0]["name"] == "Neo4j Kernel"
    assert version[0]["v"].startswith("5.26.")


@pytest.mark.neo4j
def test_neo4j_clean_leaves_an_empty_database(neo4j_uri: str) -> None:
    with GraphDatabase.driver(neo4j_uri, auth=None) as driver:
        driver.execute_query(
            "CREATE CONSTRAINT leftover IF NOT EXISTS FOR (n:Leftover) REQUIRE n.id IS UNIQUE"
        )
        driver.execute_query("CREATE (:Leftover {id: 1})")
    wipe_neo4j(neo4j_uri)
    with GraphDatabase.driver(neo4j_uri, auth=None) as driver:
        nodes, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n")
        constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name")
    assert nodes[0]["n"] == 0
    assert [c["name"] for c in constraints] == []


@pytest.mark.neo4j
@pytest.mark.slow
def test_neo4j_restart_keeps_data_and_port(neo4j_server: Neo4jTestServer) -> None:
    marker = str(uuid.uuid4())
    uri_before = neo4j_server.uri
    with GraphDatabase.driver(neo4j_server.uri, auth=None) as driver:
        driver.execute_query("CREATE (:RestartMarker {id: $id})", id=marker)

    neo4j_server.stop()
    assert not neo4j_server.is_running
    with (
        GraphDatabase.driver(uri_before, auth=None, connection_timeout=2) as driver,
        pytest.raises(ServiceUnavailable),
    ):
        driver.verify_connectivity()

    neo4j_server.start()
    assert neo4j_server.uri == uri_before
    with GraphDatabase.driver(neo4j_server.uri, auth=None) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (m:RestartMarker {id: $id}) WITH m, m.id AS id DELETE m RETURN id", id=marker
        )
    assert [r["id"] for r in records] == [marker]


@pytest.mark.mqtt
def test_mqtt_publish_subscribe_round_trip(mqtt_url: str) -> None:
    topic = f"test/{uuid.uuid4()}/telemetry"
    subscriber = _mqtt_client(mqtt_url)
    received = _collector(subscriber)
    _subscribe(subscriber, topic, qos=1)
    publisher = _mqtt_client(mqtt_url)
    try:
        publisher.publish(topic, b'{"temperature": 23.5}', qos=1).wait_for_publish(10)
        assert received.get(timeout=10) == (topic, b'{"temperature": 23.5}', 1)
    finally:
        _close(publisher)
        _close(subscriber)


@pytest.mark.mqtt
@pytest.mark.slow
def test_mosquitto_restart_delivers_qos1_message_queued_for_persistent_session(
    mosquitto_factory: Callable[[], Mosquitto],
) -> None:
    broker = mosquitto_factory()
    topic = f"twins/{uuid.uuid4()}/telemetry"
    client_id = f"persistent-{uuid.uuid4()}"

    # A persistent session subscribes at QoS 1, then goes away.
    subscriber = _mqtt_client(broker.url, client_id, clean=False)
    _subscribe(subscriber, topic, qos=1)
    _close(subscriber)

    publisher = _mqtt_client(broker.url)
    publisher.publish(topic, b'{"humidity": 40}', qos=1).wait_for_publish(10)
    _close(publisher)

    port_before = broker.port
    broker.stop()
    broker.start()
    assert broker.port == port_before

    # Set the message handler before connecting: queued messages arrive right after CONNACK.
    parsed = urlparse(broker.url)
    again = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    received = _collector(again)
    session_present = threading.Event()

    def on_connect(
        _c: object, _u: object, flags: mqtt.ConnectFlags, _rc: object, _p: object
    ) -> None:
        if flags.session_present:
            session_present.set()

    again.on_connect = on_connect
    again.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883, keepalive=10)
    again.loop_start()
    try:
        assert received.get(timeout=10) == (topic, b'{"humidity": 40}', 1)
        assert session_present.is_set()
    finally:
        _close(again)


def test_missing_java_fails_neo4j_tests_with_what_to_install(tmp_path: Path) -> None:
    """Without a JDK the Neo4j tests fail (not skip), saying what to install."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHTWIN_TEST_")}
    env["PATH"] = str(tmp_path)  # an empty folder: no java, javac or mvn on it
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'inner'}",
            f"{Path(__file__)}::test_cypher_round_trip_through_the_official_driver",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout or "1 failed" in result.stdout
    assert "skipped" not in result.stdout
    assert "apt-get install -y openjdk-17-jdk-headless" in result.stdout
