"""paho-mqtt's client with a bulk path for what ingestion does thousands of times a second.

Stock paho handles one packet per ``select()``: three ``recv`` calls (type byte,
length bytes, body), an ``MQTTMessage``, a debug-log call and two mutexes per
PUBLISH; and every acknowledgement is its own queued packet, its own wake-up of
the network thread and its own ``send``.  Profiled, that was 70-100 us of CPU per
message, more than decoding, validating and committing the reading.

:class:`BatchingClient` keeps paho for everything else (connecting, MQTT 5
properties, subscribing, keepalive, reconnecting with backoff) and changes two
things:

- reading: one ``recv`` of up to 256 KiB, then every complete packet in it.
  PUBLISH packets of QoS 0 and 1 are split here and handed over together to
  ``on_publishes(list of (topic bytes, payload, qos, mid))``; any other packet
  (CONNACK, SUBACK, PINGRESP, QoS 2 PUBLISH...) goes through paho's own handler,
  in stream order.
- acknowledging: :meth:`ack_many` queues the PUBACKs of a whole batch as one
  write.

Only paho 2.x's packet-reading internals are relied on; :data:`SUPPORTED` is
false when they are missing, and then :class:`~server.ingest.mqtt.MqttSource`
uses stock paho.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.exception import MalformedPacket

__all__ = ["SUPPORTED", "BatchingClient", "Publish", "puback_packets"]

log = logging.getLogger("graphtwin.ingest.mqtt")

# (topic as sent, payload, qos, packet id)
Publish = tuple[bytes, bytes, int, int]

_PUBLISH, _PUBACK = 0x30, 0x40
_READ_SIZE = 256 * 1024

SUPPORTED = all(
    hasattr(mqtt.Client, name)
    for name in ("_packet_read", "_packet_handle", "_packet_queue", "_sock_recv", "reconnect")
)


def puback_packets(mids: Sequence[int]) -> bytes:
    """The PUBACKs of ``mids``, concatenated (each: type, length 2, packet id).

    The same 4 bytes serve MQTT 3.1.1 and 5 (a v5 PUBACK without reason code
    means success).
    """
    return struct.pack(f"!{len(mids)}I", *[0x40020000 | mid for mid in mids])


def _in_packet(command: int = 0, body: bytes = b"") -> Any:
    """paho's state for a packet read whole (``command`` 0: none being read), the shape
    its ``_packet_read`` builds."""
    return {
        "command": command,
        "have_remaining": 1 if command else 0,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": len(body),
        "packet": bytearray(body),
        "to_process": 0,
        "pos": 0,
    }


class BatchingClient(mqtt.Client):
    def __init__(
        self, *args: Any, on_publishes: Callable[[list[Publish]], None], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.on_publishes = on_publishes
        self._rbuf = bytearray()
        self._v5 = kwargs.get("protocol") == mqtt.MQTTv5

    def reconnect(self) -> mqtt.MQTTErrorCode:
        self._rbuf = bytearray()  # bytes of the old connection mean nothing on the new one
        return super().reconnect()

    def ack_many(self, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages in one write (from any thread, like ``ack``)."""
        if mids:
            self._packet_queue(_PUBACK, puback_packets(mids), 0, 0)

    def _packet_read(self) -> mqtt.MQTTErrorCode:
        try:
            data = self._sock_recv(_READ_SIZE)
        except BlockingIOError:
            return mqtt.MQTTErrorCode.MQTT_ERR_AGAIN
        except (OSError, ConnectionError) as err:
            self._easy_log(mqtt.MQTT_LOG_ERR, "failed to receive on socket: %s", err)
            return mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
        if not data:
            return mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
        buf = self._rbuf
        buf += data
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()  # for keepalive
        rc, used = self._handle_buffer(buf)
        del buf[:used]
        # AGAIN: everything received is handled; wait in select() for more.
        return rc or mqtt.MQTTErrorCode.MQTT_ERR_AGAIN

    def _handle_buffer(self, buf: bytearray) -> tuple[mqtt.MQTTErrorCode, int]:
        """Handle the complete packets at the start of ``buf``: (error or 0, bytes used)."""
        publishes: list[Publish] = []
        pos, end = 0, len(buf)
        try:
            while pos < end:
                command = buf[pos]
                # Remaining length: 1-4 bytes of 7 bits each, low group first.
                length, shift, i, complete = 0, 0, pos + 1, False
                while i < end:
                    byte = buf[i]
                    i += 1
                    length |= (byte & 0x7F) << shift
                    if not byte & 0x80:
                        complete = True
                        break
                    shift += 7
                    if shift > 21:
                        return mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL, pos
                if not complete or i + length > end:
                    break  # the rest of this packet has not arrived yet
                body, pos = i, i + length
                qos = (command >> 1) & 3
                if command & 0xF0 == _PUBLISH and qos < 2:
                    publish = self._split_publish(buf, body, pos, qos)
                    if publish is None:
                        return mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL, pos
                    publishes.append(publish)
                    continue
                # Any other packet: paho's own handler, after the messages before it.
                self._deliver(publishes)
                publishes = []
                rc = self._paho_handle(command, bytes(buf[body:pos]))
                if rc:
                    return rc, pos
            return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS, pos
        finally:
            self._deliver(publishes)

    def _split_publish(self, buf: bytearray, start: int, end: int, qos: int) -> Publish | None:
        """(topic, payload, qos, mid) of the PUBLISH body buf[start:end]; None if malformed."""
        if end - start < 2:
            return None
        topic_end = start + 2 + (buf[start] << 8 | buf[start + 1])
        mid = 0
        cursor = topic_end
        if qos:
            mid = buf[cursor] << 8 | buf[cursor + 1] if cursor + 2 <= end else -1
            cursor += 2
        if self._v5:  # skip the properties: we asked for no topic aliases, so none matter
            props_len, shift = 0, 0
            while cursor < end:
                byte = buf[cursor]
                cursor += 1
                props_len |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
                shift += 7
            cursor += props_len
        if cursor > end or mid < 0 or (topic_end == start + 2 and not self._v5):
            return None
        return bytes(buf[start + 2 : topic_end]), bytes(buf[cursor:end]), qos, mid

    def _deliver(self, publishes: list[Publish]) -> None:
        if not publishes:
            return
        with self._in_callback_mutex:
            try:
                self.on_publishes(publishes)
            except Exception:
                # Like paho's on_message: report and keep the connection; unacknowledged
                # QoS 1 messages come back on the next connection.
                log.exception("ingestion: handing over %d messages failed", len(publishes))
                if not self.suppress_exceptions:
                    raise

    def _paho_handle(self, command: int, body: bytes) -> mqtt.MQTTErrorCode:
        self._in_packet = _in_packet(command, body)
        try:
            rc = self._packet_handle()
        except MalformedPacket as exc:
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            rc = mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL
        self._in_packet = _in_packet()
        return rc
