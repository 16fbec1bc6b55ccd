"""The GraphTwin server: one FastAPI app and everything that runs beside it.

``create_app(settings)`` opens the store, loads ``--models`` and the demo
(so the GraphQL schema sees them), and mounts GraphQL, REST, ``/healthz``,
``/metrics`` and ``/deadletters``.  The app's lifespan starts and stops, in
order, the embedded broker, MQTT ingestion and the demo simulator, so a test
can run the whole server in-process and everything ends with it.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline

import graph
from graph.base import TwinGraph
from graph.uri import store_uri_from_arg
from server.broker import EmbeddedBroker
from server.config import ConfigError, Settings, default_client_id, parse_mqtt_url
from server.health import health_router
from server.ingest import IngestService
from server.metrics import CONTENT_TYPE_LATEST, IngestMetrics

__all__ = [
    "DEMO_QUIET_TWIN",
    "ServerRuntime",
    "create_app",
    "load_model_dir",
    "settle_gc",
]

log = logging.getLogger("graphtwin.server")

# The demo sensor the simulator never drives, so a value a user publishes to it by
# hand (the README's mosquitto_pub example) stays until they send another.
DEMO_QUIET_TWIN = "bldg-1-f2-r03-temp"


class ServerRuntime:
    """What one server owns besides the HTTP app: store, broker, ingestion, simulator."""

    def __init__(self, settings: Settings, store: TwinGraph) -> None:
        self.settings = settings
        self.store = store
        self.metrics = IngestMetrics()
        self.broker: EmbeddedBroker | None = None
        self.ingest: IngestService | None = None
        self.simulator: Any = None
        self.demo_twin_ids: list[str] = []

    @property
    def mqtt_endpoint(self) -> tuple[str, int]:
        if self.settings.mqtt:
            host, port, _, _ = parse_mqtt_url(self.settings.mqtt)
            return host, port
        return "127.0.0.1", self.settings.mqtt_port

    def start(self) -> None:
        s = self.settings
        host, port = self.mqtt_endpoint
        user = password = None
        ingest_cfg = s.ingest
        if ingest_cfg.mqtt.client_id is None:
            mqtt_cfg = replace(ingest_cfg.mqtt, client_id=default_client_id(s.store))
            ingest_cfg = replace(ingest_cfg, mqtt=mqtt_cfg)
        if s.mqtt:
            _, _, user, password = parse_mqtt_url(s.mqtt)
        else:
            self.broker = EmbeddedBroker(host, port)
            self.broker.start()
            if ingest_cfg.mqtt.protocol != "3.1.1" or ingest_cfg.mqtt.shared_group:
                # amqtt speaks MQTT 3.1.1 only, without shared subscriptions.
                ingest_cfg = replace(
                    ingest_cfg, mqtt=replace(ingest_cfg.mqtt, protocol="3.1.1", shared_group=None)
                )
        self.ingest = IngestService(
            self.store,
            ingest_cfg,
            host=host,
            port=port,
            metrics=self.metrics,
            username=user,
            password=password,
        )
        self.ingest.start()
        if not self.ingest.source.connected_event.wait(5.0):
            log.warning(
                "MQTT broker %s not reachable yet; ingestion keeps retrying", self.ingest.source.url
            )
        if s.demo and self.demo_twin_ids and s.demo_interval > 0:
            from server.demo.simulator import TelemetrySimulator

            self.simulator = TelemetrySimulator(
                host, port, self.demo_twin_ids, interval=s.demo_interval
            )
            self.simulator.start()

    def stop(self) -> None:
        """Stop in reverse order of start; a step that fails does not skip the others."""
        steps = [
            self.simulator.stop if self.simulator is not None else None,
            self.ingest.stop if self.ingest is not None else None,
            self.broker.stop if self.broker is not None else None,
            self.store.close,
        ]
        for step in steps:
            if step is None:
                continue
            try:
                step()
            except Exception:
                log.exception("shutdown: %s failed", getattr(step, "__qualname__", step))


def open_store(settings: Settings) -> TwinGraph:
    kwargs: dict[str, Any] = {}
    if settings.neo4j_user is not None:
        kwargs["user"] = settings.neo4j_user
    if settings.neo4j_password is not None:
        kwargs["password"] = settings.neo4j_password
    return graph.open_graph(store_uri_from_arg(settings.store), **kwargs)


def load_model_dir(store: TwinGraph, directory: str | Path) -> int:
    """Add the DTDL files under ``directory`` whose interfaces the store lacks; returns how many."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"--models {directory}: not a directory")
    documents: list[Any] = []
    names: list[str] = []
    for path in sorted(directory.rglob("*.json")):
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a readable JSON file: {exc}") from exc
        for doc in value if isinstance(value, list) else [value]:
            documents.append(doc)
            names.append(str(path))
    return _add_missing_models(store, documents, names)


def _add_missing_models(store: TwinGraph, documents: list[Any], names: list[str]) -> int:
    known = set(store.registry)
    keep = [
        (d, n)
        for d, n in zip(documents, names, strict=True)
        if not (isinstance(d, dict) and d.get("@id") in known)
    ]
    if keep:
        store.add_models([d for d, _ in keep], source_names=[n for _, n in keep])
    return len(keep)


def _load_demo(store: TwinGraph) -> list[str]:
    """Load the demo models and twins when absent; the ids of the twins the simulator
    drives (those with telemetry, except :data:`DEMO_QUIET_TWIN`)."""
    from server import demo

    docs = demo.load_models()
    _add_missing_models(store, docs, ["demo"] * len(docs))
    twins, relationships = demo.build_twin_graph()
    if store.count_twins() == 0:
        store.upsert_batch(twins, relationships, source="import")
    registry = store.registry
    return [
        t.id
        for t in twins
        if t.model in registry and registry[t.model].telemetry and t.id != DEMO_QUIET_TWIN
    ]


def _authenticator(settings: Settings) -> Any:
    try:
        from server.auth import Authenticator
    except ModuleNotFoundError:
        return None
    if settings.auth_file:
        try:
            return Authenticator.from_file(settings.auth_file)
        except ValueError as exc:  # a malformed keys file: already names the file and entry
            raise ConfigError(f"--auth: {exc}") from exc
    if not (settings.open_mode or settings.demo) and not _is_loopback(settings.host):
        raise ConfigError(
            f"--host {settings.host} is reachable from other machines: give --auth FILE, or --open"
        )
    if settings.demo or not settings.open_mode:
        log.warning(
            "open mode: the API accepts requests without credentials"
            " (use --auth FILE to require them)"
        )
    return Authenticator.open_mode()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _mount_api(app: FastAPI, store: TwinGraph, auth: Any) -> None:
    # GraphQL and REST are built beside this module; until they exist the server still runs.
    try:
        from server.graphql import create_graphql_router
    except ModuleNotFoundError as exc:
        log.warning("GraphQL not available (%s)", exc)
    else:
        app.include_router(create_graphql_router(store, auth=auth), prefix="/graphql")
    try:
        from server.rest import create_rest_router
    except ModuleNotFoundError as exc:
        log.warning("REST API not available (%s)", exc)
    else:
        app.include_router(create_rest_router(store, auth=auth))


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/metrics")
    def metrics(request: Request) -> Response:
        return Response(request.app.state.runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/deadletters")
    def deadletters(
        request: Request,
        limit: int = Query(100, ge=1, le=1000),
        reason: str | None = None,
        twin: str | None = None,
        before: int | None = Query(None, description="page backwards: ids below this one"),
        after: int | None = Query(None, description="only newer: ids above this one"),
    ) -> dict[str, Any]:
        log = request.app.state.store.dead_letters
        items = log.list(limit, after, reason, before=before, twin_id=twin)
        return {"items": [d.to_json() for d in items], "total": log.count()}

    return router


def settle_gc() -> None:
    """Set the cyclic garbage collector up for a long-running server, once, after startup.

    Two things, process-wide, so `graphtwin serve` calls it once, after ``create_app``
    loaded everything; neither the store nor the app does:

    - Take what startup loaded out of the collector's generations (``gc.freeze``).  The
      embedded store holds every twin in memory for the life of the process, and each
      full collection rescans all of it: a pause that grows with the graph (about a
      third of a 2,000-twin answer's time when one fell inside it) and sets the p99 of
      queries and ingestion.  Frozen objects are still freed by reference counting (what
      the store replaces or deletes holds no cycles); only cyclic garbage among them
      would never be collected, and what startup builds (the graph, the model registry,
      the schema) lives until shutdown.
    - Collect the youngest generation every 50,000 allocations, not 700.  Ingestion
      batches allocate thousands of short-lived containers, nearly all freed by
      reference counting; at 700 a collection ran after every batch and rescanned the
      batch's results and the store's new cache entries: 0.6-1.8 us of the Neo4j
      store's 9-17 us of client CPU per update, 4-8% of its rate (``bench/store.py``,
      docs/benchmarks.md).  The cyclic garbage this lets wait (the driver's and
      asyncio's) is a few megabytes at most.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def create_app(settings: Settings) -> FastAPI:
    store = open_store(settings)
    try:
        if settings.models_dir:
            added = load_model_dir(store, settings.models_dir)
            log.info("loaded %d model documents from %s", added, settings.models_dir)
        runtime = ServerRuntime(settings, store)
        if not settings.mqtt:
            # Before the HTTP server starts: a failure inside its lifespan comes with
            # uvicorn's traceback around the one line that says what is wrong.
            EmbeddedBroker(*runtime.mqtt_endpoint).check_port()
        if settings.demo:
            runtime.demo_twin_ids = _load_demo(store)
        auth = _authenticator(settings)
    except BaseException:
        store.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(runtime.start)
        except BaseException:
            await asyncio.to_thread(runtime.stop)  # release whatever did start, and the store
            raise
        try:
            yield
        finally:
            await asyncio.to_thread(runtime.stop)

    # Offline: the docs pages must work on machines that cannot reach a CDN.
    app = FastAPIOffline(title="GraphTwin", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.store = store
    _mount_api(app, store, auth)
    app.include_router(health_router())
    app.include_router(_operations_router())
    return app
