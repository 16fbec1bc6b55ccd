"""MQTT telemetry ingestion: topics -> decoded readings -> batched store writes -> acks.

:class:`IngestService` wires the pieces: the topic router (config rules, DTDL
Mqtt-extension topics, the default ``twins/{twinId}/...`` convention), the
pipeline (batching, coalescing, dead letters, acknowledgement after commit)
and the paho client.  See docs/ingestion.md.
"""

from __future__ import annotations

import logging
from typing import Any

from graph.base import ChangeEvent, Subscription, TwinGraph
from server.config import IngestConfig, TopicRule
from server.ingest.deadletters import DeadLetter, DeadLetterLog
from server.ingest.decode import DecodeError, Reading, decode_payload
from server.ingest.inbox import Inbound
from server.ingest.mqtt import MqttSource
from server.ingest.pipeline import IngestPipeline
from server.ingest.topics import DEFAULT_RULES, Route, TopicRouter, model_topic_rules
from server.metrics import IngestMetrics

__all__ = [
    "DEFAULT_RULES",
    "DeadLetter",
    "DeadLetterLog",
    "DecodeError",
    "Inbound",
    "IngestPipeline",
    "IngestService",
    "MqttSource",
    "Reading",
    "Route",
    "TopicRouter",
    "decode_payload",
    "model_topic_rules",
]

log = logging.getLogger("graphtwin.ingest")


class IngestService:
    """Ingestion for one server: start it after the store is open, stop it before closing."""

    def __init__(
        self,
        store: TwinGraph,
        config: IngestConfig,
        *,
        host: str,
        port: int,
        metrics: IngestMetrics,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics
        # Kept in the store, so every server sharing it sees the same ones; the cap is
        # the store's, set from this server's ingestion config.
        self.deadletters: DeadLetterLog = store.dead_letters
        self.deadletters.max_records = config.deadletters.max_records
        self.router = TopicRouter(self._rules())
        self.pipeline = IngestPipeline(store, self.router, config, metrics)
        self.source = MqttSource(
            host,
            port,
            config.mqtt,
            self.pipeline.submit,
            self.router.filters,
            username=username,
            password=password,
        )
        self.pipeline.acknowledger = self.source
        self._subscription: Subscription | None = None

    def _rules(self) -> list[TopicRule]:
        rules = list(self.config.rules)
        if self.config.model_topics:
            rules += model_topic_rules(self.store.registry)
        if self.config.default_topics:
            rules += DEFAULT_RULES
        return rules

    def start(self) -> None:
        self.metrics.store_up.set(1)
        if self.config.model_topics:
            self._subscription = self.store.subscribe(self._on_change)
        self.pipeline.start()
        self.source.start()

    def stop(self, drain_timeout: float = 10.0) -> None:
        """Apply and acknowledge what was received, then disconnect.

        The subscriptions stay in the broker's persistent session (no
        unsubscribe), so what is published while the server is down waits for
        it; anything that arrives after the drain is left unacknowledged and
        comes back on the next connection.
        """
        if self._subscription is not None:
            self._subscription.close()
        self.pipeline.stop(drain_timeout)
        self.source.stop()
        if self.pipeline.pending:
            log.info(
                "ingestion: %d late messages left for the broker to redeliver",
                self.pipeline.pending,
            )
        self.metrics.broker_connected.set(0)

    def _on_change(self, event: ChangeEvent) -> None:
        # New models may declare Mqtt-extension topics: route and subscribe them.
        if event.kind != "model.added":
            return
        router = TopicRouter(self._rules())
        self.router = self.pipeline.router = router
        self.source.add_filters(router.filters)

    def health(self) -> dict[str, Any]:
        self.metrics.broker_connected.set(1 if self.source.connected else 0)
        return {
            "ok": self.source.connected and self.pipeline.store_ok,
            "broker": self.source.url,
            "connected": self.source.connected,
            "error": self.source.last_error,
            "subscriptions": self.source.subscription_topics(),
            "store_writes_ok": self.pipeline.store_ok,
            "store_error": None if self.pipeline.store_ok else self.pipeline.last_store_error,
            **self.metrics.snapshot(),
        }
