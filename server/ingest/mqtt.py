"""The MQTT side of ingestion: one paho-mqtt 2.x client with a persistent session.

QoS 1 messages are acknowledged manually (``manual_ack_set(True)``) by the
pipeline after commit.  The session is persistent (clean start off, a fixed
client id, a session expiry for MQTT 5) so the broker keeps our
subscriptions and queues messages while the server is down.  paho's network
thread reconnects on its own with exponential backoff; each connection gets
a new generation number, because message ids from a previous connection
must not be acknowledged on the next one (the broker redelivers them).

Messages are received and acknowledged in bulk (``server.ingest.client``):
each read of the socket hands every message in it to ``deliver`` at once, and
a committed batch's PUBACKs leave in one write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from graph.core import paused_gc
from server.config import MqttConfig
from server.ingest.client import SUPPORTED, BatchingClient, Publish
from server.ingest.inbox import Inbound

__all__ = ["MqttSource"]

log = logging.getLogger("graphtwin.ingest.mqtt")


class MqttSource:
    def __init__(
        self,
        host: str,
        port: int,
        config: MqttConfig,
        deliver: Callable[[list[Inbound]], None],
        filters: Iterable[str],
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.config = host, port, config
        self._deliver = deliver
        self._filters = list(filters)
        self.generation = 0
        self.connected = False
        self.last_error: str | None = None
        self.connected_event = threading.Event()
        self._lock = threading.Lock()
        self.v5 = config.protocol == "5"
        options: dict[str, Any] = {
            "client_id": config.client_id or "graphtwin-ingest",
            "protocol": mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
            "clean_session": None if self.v5 else False,
        }
        self.batching = SUPPORTED
        if self.batching:
            self.client: mqtt.Client = BatchingClient(
                CallbackAPIVersion.VERSION2, on_publishes=self._on_publishes, **options
            )
        else:  # a paho whose internals differ: its own one-message-at-a-time path
            self.client = mqtt.Client(CallbackAPIVersion.VERSION2, **options)
        self.client.manual_ack_set(True)
        user = username or config.username
        if user:
            self.client.username_pw_set(user, password or config.password)
        self.client.reconnect_delay_set(config.reconnect_min_delay, config.reconnect_max_delay)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def subscription_topics(self, filters: Iterable[str] | None = None) -> list[str]:
        group = self.config.shared_group
        return [
            f"$share/{group}/{f}" if group else f
            for f in (self._filters if filters is None else filters)
        ]

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.config.session_expiry
            props.ReceiveMaximum = self.config.receive_maximum
            kwargs = {"clean_start": False, "properties": props}
        self.client.connect_async(self.host, self.port, self.config.keepalive, **kwargs)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.connected = False

    def add_filters(self, filters: Iterable[str]) -> None:
        new = [f for f in filters if f not in self._filters]
        if not new:
            return
        self._filters.extend(new)
        if self.connected:
            self.client.subscribe([(t, self.config.qos) for t in self.subscription_topics(new)])

    def ack(self, messages: Sequence[Inbound]) -> None:
        """Acknowledge the QoS 1 messages among ``messages`` (after their commit)."""
        generation = self.generation
        if not self.connected:
            return
        # An id from an earlier connection means nothing now: that message is redelivered.
        mids = [m.mid for m in messages if m.qos > 0 and m.generation == generation]
        if isinstance(self.client, BatchingClient):
            self.client.ack_many(mids)
        else:
            for mid in mids:
                self.client.ack(mid, 1)

    # ------------------------------------------------------------- callbacks
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self.last_error = f"connection refused: {reason}"
            log.warning("mqtt %s: %s", self.url, self.last_error)
            return
        self.generation += 1
        self.connected = True
        self.last_error = None
        topics = self.subscription_topics()
        if topics:
            client.subscribe([(t, self.config.qos) for t in topics])
        log.info(
            "mqtt %s: connected (session present: %s), subscribed to %s",
            self.url,
            getattr(flags, "session_present", None),
            ", ".join(topics),
        )
        self.connected_event.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.connected = False
        self.connected_event.clear()
        if reason.is_failure:
            self.last_error = f"disconnected: {reason}"
            log.warning("mqtt %s: %s; reconnecting with backoff", self.url, self.last_error)

    def _on_publishes(self, publishes: list[Publish]) -> None:
        generation, now = self.generation, time.time()
        with paused_gc():  # as in the pipeline: objects without cycles, thousands per read
            messages = [
                Inbound(_topic_text(topic), payload, qos, mid, generation, now)
                for topic, payload, qos, mid in publishes
            ]
        self._deliver(messages)  # not paused: it may wait for room (back-pressure)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._on_publishes([(message._topic, bytes(message.payload), message.qos, message.mid)])


def _topic_text(topic: bytes) -> str:
    try:
        return topic.decode()
    except UnicodeDecodeError:  # still recorded (as a dead letter), never fatal
        return topic.decode("utf-8", errors="backslashreplace")
