"""Run a whole GraphTwin server in-process for tests: uvicorn in a thread, real sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import uvicorn

from server.app import create_app
from server.config import Settings

__all__ = ["InProcessServer", "free_port", "wait_until"]

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(probe: Callable[[], T], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Poll ``probe`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = probe()
    assert value, f"condition not met within {timeout}s (last value {value!r})"
    return value


class InProcessServer:
    """``with InProcessServer(settings) as srv:`` serves on ``srv.base_url`` inside the block."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.base_url = f"http://{settings.host}:{settings.port}"
        config = uvicorn.Config(
            self.app, host=settings.host, port=settings.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="test-uvicorn", daemon=True)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def __enter__(self) -> InProcessServer:
        self._thread.start()
        wait_until(lambda: self._server.started or not self._thread.is_alive(), timeout=30)
        assert self._server.started, "the server did not start (see the log above)"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.base_url + path, timeout=10, **kw)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = httpx.post(
            self.base_url + "/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=10,
        )
        r.raise_for_status()
        body = r.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def twin_properties(self, twin_id: str) -> dict[str, Any] | None:
        """The twin's properties as GraphQL shows them (None if it does not exist)."""
        data = self.graphql(
            "query($id: String!) { twin(id: $id) { id model properties } }", {"id": twin_id}
        )
        twin = data["twin"]
        return None if twin is None else dict(twin["properties"])


# ------------------------------------------------------------------ ingestion without HTTP

MACHINE_MODEL = "dtmi:test:ingest:Machine;1"
MACHINE_DOC: dict[str, Any] = {
    "@context": "dtmi:dtdl:context;3",
    "@id": MACHINE_MODEL,
    "@type": "Interface",
    "contents": [
        {"@type": "Telemetry", "name": "temperature", "schema": "double"},
        {"@type": "Telemetry", "name": "seq", "schema": "integer"},
        {
            "@type": "Property",
            "name": "state",
            "schema": {
                "@type": "Enum",
                "valueSchema": "string",
                "enumValues": [
                    {"name": "running", "enumValue": "running"},
                    {"name": "stopped", "enumValue": "stopped"},
                ],
            },
        },
        {"@type": "Property", "name": "firmware", "schema": "string", "writable": True},
    ],
}


def seed_machines(store: Any, twin_ids: list[str]) -> None:
    """The test model and one twin per id, without properties."""
    from graph.base import TwinUpsert

    if MACHINE_MODEL not in store.registry:
        store.add_models([MACHINE_DOC])
    results = store.upsert_batch([TwinUpsert(t, MACHINE_MODEL, {}) for t in twin_ids])
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]


class RunningIngest:
    """``with RunningIngest(store, mqtt_url, config) as ing:`` an IngestService with its own
    metrics, connected before the block starts; dead letters go to the store's log
    (``ing.deadletters`` is ``store.dead_letters``)."""

    def __init__(self, store: Any, mqtt_url: str, config: Any) -> None:
        from server.config import parse_mqtt_url
        from server.ingest import IngestService
        from server.metrics import IngestMetrics

        host, port, _, _ = parse_mqtt_url(mqtt_url)
        self.metrics = IngestMetrics()
        self.service = IngestService(store, config, host=host, port=port, metrics=self.metrics)
        self.deadletters = self.service.deadletters

    def __enter__(self) -> RunningIngest:
        self.service.start()
        assert self.service.source.connected_event.wait(10), "ingestion did not connect"
        time.sleep(0.2)  # let the SUBACK arrive before the test publishes
        return self

    def __exit__(self, *exc: object) -> None:
        self.service.stop()


def publish(mqtt_url: str, messages: list[tuple[str, Any]], qos: int = 1) -> None:
    """Publish (topic, payload) pairs in order and wait until the broker has them all."""
    import json

    import paho.mqtt.publish as mqtt_publish

    from server.config import parse_mqtt_url

    host, port, _, _ = parse_mqtt_url(mqtt_url)
    msgs = [
        {
            "topic": topic,
            "payload": p if isinstance(p, bytes | str) else json.dumps(p),
            "qos": qos,
        }
        for topic, p in messages
    ]
    mqtt_publish.multiple(msgs, hostname=host, port=port)
