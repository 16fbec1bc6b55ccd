"""Ingestion's bulk MQTT path (``server.ingest.client``) against stock paho, on a real broker.

The batching client must hand over exactly what paho's own per-message path
does (topics, payloads, QoS, order) for MQTT 3.1.1 and 5, for messages split
across socket reads, and acknowledge exactly the messages it is told to.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt
import pytest
from _harness import wait_until
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import server.ingest.mqtt as ingest_mqtt
from server.config import MqttConfig, parse_mqtt_url
from server.ingest import Inbound, MqttSource
from server.ingest.client import BatchingClient, puback_packets

pytestmark = pytest.mark.mqtt


class Collector:
    """Records what the source hands over; with ``auto_ack``, acknowledges it at once (as
    the pipeline does after commit) so the broker's in-flight window keeps moving."""

    def __init__(self, auto_ack: bool) -> None:
        self.messages: list[Inbound] = []
        self.lock = threading.Lock()
        self.auto_ack = auto_ack
        self.source: MqttSource | None = None

    def __call__(self, batch: list[Inbound]) -> None:
        with self.lock:
            self.messages.extend(batch)
        if self.auto_ack and self.source is not None:
            self.source.ack(batch)


@contextmanager
def _source(
    mqtt_url: str, client_id: str, topic: str, qos: int, protocol: str, auto_ack: bool = False
) -> Iterator[tuple[MqttSource, Collector]]:
    host, port, _, _ = parse_mqtt_url(mqtt_url)
    got = Collector(auto_ack)
    config = MqttConfig(client_id=client_id, qos=qos, protocol=protocol, session_expiry=60)
    source = got.source = MqttSource(host, port, config, got, [topic])
    source.start()
    try:
        assert source.connected_event.wait(10), "did not connect"
        yield source, got
    finally:
        source.stop()


def _publish(mqtt_url: str, messages: list[tuple[str, bytes]], qos: int) -> None:
    """Publish in order (MQTT 5, each message with a user property) and wait for the broker."""
    host, port, _, _ = parse_mqtt_url(mqtt_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(100)
    client.connect(host, port)
    client.loop_start()
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = ("source", "test")
    props.MessageExpiryInterval = 3600
    infos = [client.publish(t, p, qos=qos, properties=props) for t, p in messages]
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()


def _stream(prefix: str) -> list[tuple[str, bytes]]:
    """Small and large payloads (300 KB spans several socket reads), an empty one, deep topics."""
    small = [(f"{prefix}/dev{i}/telemetry", b'{"seq": %d}' % i) for i in range(1500)]
    return [
        *small[:700],
        (f"{prefix}/big/telemetry", b"x" * 300_000),
        (f"{prefix}/empty/telemetry", b""),
        (f"{prefix}/a/b/c/d/e/f/telemetry", "ünïcode ✓".encode()),
        *small[700:],
    ]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
@pytest.mark.parametrize("qos", [0, 1])
def test_batching_client_hands_over_what_paho_would(
    mqtt_url: str, monkeypatch: pytest.MonkeyPatch, protocol: str, qos: int
) -> None:
    received = {}
    for batching in (True, False):
        monkeypatch.setattr(ingest_mqtt, "SUPPORTED", batching)
        prefix = f"bc{uuid.uuid4().hex[:8]}"
        stream = _stream(prefix)
        subscriber = _source(mqtt_url, f"t-{prefix}", f"{prefix}/#", qos, protocol, auto_ack=True)
        with subscriber as (source, got):
            assert isinstance(source.client, BatchingClient) is batching
            _publish(mqtt_url, stream, qos)
            wait_until(lambda: len(got.messages) >= len(stream), timeout=30)  # noqa: B023
        # Topics relative to the run's prefix, so both runs compare equal.
        received[batching] = [
            (m.topic.removeprefix(prefix), m.payload, m.qos) for m in got.messages
        ]
        assert [(t, p) for t, p, _ in received[batching]] == [
            (t.removeprefix(prefix), p) for t, p in stream
        ]
        assert {q for _, _, q in received[batching]} == {qos}
    assert received[True] == received[False]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_only_acknowledged_messages_are_settled(mqtt_url: str, protocol: str) -> None:
    """Acknowledge the even messages only: after a reconnect the broker resends the odd ones."""
    prefix = f"ack{uuid.uuid4().hex[:8]}"
    client_id = f"t-{prefix}"
    stream = [(f"{prefix}/d{i}/telemetry", b"%d" % i) for i in range(400)]  # < the window
    with _source(mqtt_url, client_id, f"{prefix}/#", 1, protocol) as (source, got):
        _publish(mqtt_url, stream, 1)
        wait_until(lambda: len(got.messages) >= len(stream), timeout=30)
        source.ack(got.messages[0::2])
    # Mosquitto may read a new CONNECT for this client id before the old connection's
    # last packets (the acks, DISCONNECT), and then drops those: let it finish first.
    time.sleep(1)
    with _source(mqtt_url, client_id, f"{prefix}/#", 1, protocol) as (source, again):
        wait_until(lambda: len(again.messages) >= len(stream) // 2, timeout=30)
        source.ack(again.messages)
        assert sorted(int(m.payload) for m in again.messages) == list(range(1, 400, 2))
    time.sleep(1)
    with _source(mqtt_url, client_id, f"{prefix}/#", 1, protocol) as (source, last):
        _publish(mqtt_url, [(f"{prefix}/end/telemetry", b"end")], 1)
        wait_until(lambda: last.messages, timeout=10)
        assert [m.payload for m in last.messages] == [b"end"]  # nothing else was pending


def _publish_packet(topic: bytes, payload: bytes, qos: int, mid: int, v5: bool) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += mid.to_bytes(2, "big")
    if v5:
        body += b"\x00"  # no properties
    body += payload
    length, header = len(body), bytearray([0x30 | qos << 1])
    while True:
        length, digit = divmod(length, 128)
        header.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(header) + body


@pytest.mark.parametrize("v5", [True, False])
def test_packets_cut_anywhere_come_out_whole(v5: bool) -> None:
    """Packets arriving a byte at a time, or in odd pieces, give the same messages."""
    expected = [
        (b"a/b", b"x" * size, qos, mid)
        for mid, (size, qos) in enumerate(
            [(0, 1), (1, 0), (126, 1), (127, 1), (16_400, 1), (3, 0)], start=1
        )
    ]
    stream = b"".join(_publish_packet(t, p, q, m if q else 0, v5) for t, p, q, m in expected)
    expected = [(t, p, q, m if q else 0) for t, p, q, m in expected]
    for piece in (1, 2, 7, 1000, len(stream)):
        calls: list[list[tuple[bytes, bytes, int, int]]] = []
        client = BatchingClient(
            CallbackAPIVersion.VERSION2,
            on_publishes=calls.append,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        )
        buf = bytearray()
        for start in range(0, len(stream), piece):
            buf += stream[start : start + piece]
            rc, used = client._handle_buffer(buf)
            assert rc == 0
            del buf[:used]
        assert not buf
        assert [p for call in calls for p in call] == expected
    assert len(calls) == 1  # what one read brings is handed over at once


def test_a_malformed_packet_is_a_protocol_error() -> None:
    client = BatchingClient(CallbackAPIVersion.VERSION2, on_publishes=lambda _: None)
    rc, _ = client._handle_buffer(bytearray(b"\x32\xff\xff\xff\xff\x01"))  # 5-byte length
    assert rc == mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL
    rc, _ = client._handle_buffer(bytearray(b"\x32\x03\x00\x09a"))  # topic longer than packet
    assert rc == mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL


def test_pubacks_are_mqtt_pubacks() -> None:
    assert puback_packets([1, 258, 65535]) == b"\x40\x02\x00\x01\x40\x02\x01\x02\x40\x02\xff\xff"
