"""Shared fixtures: a real Neo4j and a real Mosquitto for the whole suite, never mocks.

Fixtures (request them by name in any test under tests/):

``neo4j_uri`` (session)
    ``"bolt://127.0.0.1:PORT"``, auth off (``auth=None`` in the driver): Neo4j 5.26
    Community from tools/neo4j-test-server, built on demand and started once on a free
    port; or ``$GRAPHTWIN_TEST_NEO4J_URI`` when set (then nothing is started).
``neo4j_clean`` (function)
    The same URI after deleting all nodes, relationships, constraints and indexes.
``neo4j_server`` (function)
    A handle (``.uri``, ``.port``, ``.stop()``, ``.start()``) for outage tests: stop
    and start keep the port and the data. It is the session server (a private one when
    ``$GRAPHTWIN_TEST_NEO4J_URI`` points elsewhere) and is started again after the
    test if the test left it stopped.
``mqtt_url`` (session)
    ``"mqtt://127.0.0.1:PORT"``: one Mosquitto for the session, anonymous, or
    ``$GRAPHTWIN_TEST_MQTT_URL`` when set. Share it politely: use unique topics.
``mosquitto_factory`` (function)
    ``mosquitto_factory()`` starts a private broker and returns its handle (``.url``,
    ``.port``, ``.stop()``, ``.start()``), persistent so that a restart keeps QoS 1
    messages queued for persistent sessions. All are stopped after the test.
``shared_dir`` (session)
    Path of the shared reference files (``$GRAPHTWIN_SHARED``, default ``../shared``
    next to the repo); tests needing it are skipped, with the reason, when it is absent.

A missing JDK, Maven or mosquitto makes every test that needs it FAIL with a message
saying what to install; nothing is skipped silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from services import (
    REPO_ROOT,
    MissingPrerequisite,
    Mosquitto,
    Neo4jTestServer,
    ServiceFailed,
    wipe_neo4j,
)

__all__: list[str] = []  # fixtures are found by pytest, not imported


def _start_or_fail(service: Neo4jTestServer | Mosquitto) -> None:
    try:
        service.start()
    except (MissingPrerequisite, ServiceFailed) as exc:
        pytest.fail(str(exc), pytrace=False)


class _LazyNeo4j:
    """Session-wide Neo4j servers, started the first time a test needs one."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._servers: dict[str, Neo4jTestServer] = {}

    def get(self, name: str) -> Neo4jTestServer:
        server = self._servers.get(name)
        if server is None:
            server = Neo4jTestServer(self._factory.mktemp(f"neo4j-{name}") / "data")
            self._servers[name] = server
        if not server.is_running:
            _start_or_fail(server)
        return server

    def stop_all(self) -> None:
        for server in self._servers.values():
            server.stop()


@pytest.fixture(scope="session")
def _neo4j_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_LazyNeo4j]:
    servers = _LazyNeo4j(tmp_path_factory)
    try:
        yield servers
    finally:
        servers.stop_all()


@pytest.fixture(scope="session")
def neo4j_uri(_neo4j_servers: _LazyNeo4j) -> str:
    external = os.environ.get("GRAPHTWIN_TEST_NEO4J_URI")
    if external:
        return external
    return _neo4j_servers.get("session").uri


@pytest.fixture
def neo4j_clean(neo4j_uri: str) -> str:
    wipe_neo4j(neo4j_uri)
    return neo4j_uri


@pytest.fixture
def neo4j_server(_neo4j_servers: _LazyNeo4j) -> Iterator[Neo4jTestServer]:
    # With an external URI we cannot stop that server, so outage tests get their own.
    name = "outage" if os.environ.get("GRAPHTWIN_TEST_NEO4J_URI") else "session"
    server = _neo4j_servers.get(name)
    yield server
    if not server.is_running:  # the next test expects a live server
        _start_or_fail(server)


@pytest.fixture(scope="session")
def mqtt_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("GRAPHTWIN_TEST_MQTT_URL")
    if external:
        yield external
        return
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto-session"))
    _start_or_fail(broker)
    try:
        yield broker.url
    finally:
        broker.stop()


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[[], Mosquitto]]:
    brokers: list[Mosquitto] = []

    def make() -> Mosquitto:
        broker = Mosquitto(tmp_path / f"mosquitto-{len(brokers)}")
        brokers.append(broker)
        _start_or_fail(broker)
        return broker

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    configured = os.environ.get("GRAPHTWIN_SHARED")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared"
    if not path.is_dir():
        pytest.skip(f"shared reference files not found at {path} (set GRAPHTWIN_SHARED)")
    return path
