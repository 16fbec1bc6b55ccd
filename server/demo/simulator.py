"""The demo telemetry simulator: publishes plausible sensor readings to MQTT every second.

Each telemetry value is ``base + day cycle + drift``: the day cycle is a sine
over the UTC hour (warmest, busiest mid-afternoon) and the drift a mean-reverting
random walk seeded from the twin id, so two runs with the same ids and seed
drift the same way.  Twin ids that are not demo sensors or HVAC units (judged by
:func:`server.demo.twins.telemetry_model_of`) are ignored, so the caller may pass
every twin id of the demo graph.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from server.demo.twins import (
    AIR_QUALITY_SENSOR_MODEL,
    HVAC_MODEL,
    OCCUPANCY_SENSOR_MODEL,
    SENSOR_MODEL,
    telemetry_model_of,
)

__all__ = ["TelemetrySimulator", "rfc3339_now"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Signal:
    """How one telemetry value moves: ``base + amplitude * day_cycle + drift``, clamped."""

    name: str
    base: float
    amplitude: float
    step: float  # standard deviation of one random-walk step
    low: float
    high: float
    integer: bool = False


_TEMPERATURE = _Signal("temperature", 21.5, 1.5, 0.05, 15.0, 30.0)
_SIGNALS: dict[str, tuple[_Signal, ...]] = {
    SENSOR_MODEL: (_TEMPERATURE,),
    AIR_QUALITY_SENSOR_MODEL: (
        _TEMPERATURE,
        _Signal("humidity", 42.0, -6.0, 0.2, 15.0, 80.0),
        _Signal("co2", 650.0, 250.0, 8.0, 400.0, 2000.0),
    ),
    OCCUPANCY_SENSOR_MODEL: (_TEMPERATURE, _Signal("occupancy", 3.0, 4.0, 0.3, 0.0, 12.0, True)),
    HVAC_MODEL: (
        _Signal("supplyAirTemperature", 18.0, -2.0, 0.05, 12.0, 28.0),
        _Signal("power", 9.0, 4.0, 0.2, 0.0, 25.0),
    ),
}


def rfc3339_now() -> str:
    """Now in UTC as RFC 3339 with milliseconds, e.g. ``2026-11-21T21:00:00.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _TwinStream:
    """The values of one twin, advancing one random-walk step per sample."""

    def __init__(self, twin_id: str, signals: tuple[_Signal, ...], seed: int) -> None:
        self.signals = signals
        self.rng = random.Random(zlib.crc32(twin_id.encode()) ^ seed)
        # Start each twin somewhere different so the rooms do not move in lockstep.
        self.drift = [self.rng.gauss(0.0, s.step * 10) for s in signals]

    def sample(self, day_cycle: float) -> dict[str, float | int | bool]:
        payload: dict[str, float | int | bool] = {}
        for i, s in enumerate(self.signals):
            self.drift[i] = 0.98 * self.drift[i] + self.rng.gauss(0.0, s.step)
            value = min(s.high, max(s.low, s.base + s.amplitude * day_cycle + self.drift[i]))
            payload[s.name] = round(value) if s.integer else round(value, 2)
        if "occupancy" in payload:
            payload["occupied"] = payload["occupancy"] > 0
        return payload


class TelemetrySimulator:
    """Publishes each demo sensor's telemetry to ``twins/{twinId}/telemetry`` every ``interval``.

    ``start()`` returns at once; the client connects (and reconnects) in the
    background, so the broker may come up after the simulator.
    """

    def __init__(
        self,
        host: str,
        port: int,
        twin_ids: Iterable[str],
        interval: float = 1.0,
        *,
        seed: int = 0,
        qos: int = 0,
        topic_template: str = "twins/{twin_id}/telemetry",
    ) -> None:
        self.host = host
        self.port = port
        self.interval = interval
        self.qos = qos
        self.topic_template = topic_template
        self._streams: dict[str, _TwinStream] = {}
        for twin_id in twin_ids:
            model = telemetry_model_of(twin_id)
            if model is not None:
                self._streams[twin_id] = _TwinStream(twin_id, _SIGNALS[model], seed)
        self.published = 0  # messages handed to the client since start()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: mqtt.Client | None = None

    @property
    def twin_ids(self) -> list[str]:
        """The ids this simulator publishes for."""
        return list(self._streams)

    def next_payloads(self, now: datetime | None = None) -> dict[str, dict[str, object]]:
        """One message body per twin for time ``now`` (advances every twin's random walk)."""
        now = now or datetime.now(UTC)
        hours = now.hour + now.minute / 60 + now.second / 3600
        day_cycle = math.sin(2 * math.pi * (hours - 9.0) / 24.0)  # peaks at 15:00
        ts = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            twin_id: {**stream.sample(day_cycle), "ts": ts}
            for twin_id, stream in self._streams.items()
        }

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the telemetry simulator is already running")
        # A random client id: two demo servers on one broker must not take over each
        # other's session (the broker disconnects the older holder of an id).
        client_id = f"graphtwin-demo-sim-{uuid.uuid4().hex[:12]}"
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.connect_async(self.host, self.port, keepalive=30)
        client.loop_start()
        self._client = client
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="demo-telemetry", daemon=True)
        self._thread.start()
        log.info("demo telemetry: %d twins to %s:%d", len(self._streams), self.host, self.port)

    def wait_connected(self, timeout: float) -> bool:
        """True once connected to the broker, False if ``timeout`` seconds pass first."""
        return self._connected.wait(timeout)

    def stop(self) -> None:
        """Stop publishing and disconnect; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        self._connected.clear()

    def __enter__(self) -> TelemetrySimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------- internals
    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object,
    ) -> None:
        if not getattr(reason, "is_failure", False):
            self._connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        reason: object,
        properties: object,
    ) -> None:
        self._connected.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._connected.is_set():
                self._publish_once()
            self._stop.wait(self.interval)

    def _publish_once(self) -> None:
        client = self._client
        if client is None:
            return
        for twin_id, payload in self.next_payloads().items():
            info = client.publish(
                self.topic_template.format(twin_id=twin_id), json.dumps(payload), qos=self.qos
            )
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                log.debug("demo telemetry: publish to %s failed (rc=%s)", twin_id, info.rc)
                return  # disconnected: try again next tick
            self.published += 1
