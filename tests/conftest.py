"""Shared fixtures: a real Neo4j and a real Mosquitto for the whole suite, never mocks.

Fixtures (request them by name in any test under tests/):

``neo4j_uri`` (session)
    ``"bolt://127.0.0.1:PORT"``, auth off (``auth=None`` in the driver): Neo4j 5.26
    Community from tools/neo4j-test-server, built on demand and started once on a free
    port (in the background right after collection when any collected test needs it,
    so other tests run while the JVM starts); or ``$GRAPHTWIN_TEST_NEO4J_URI`` when set
    (then nothing is started).
``neo4j_clean`` (function)
    The same URI after deleting all nodes, relationships, constraints and indexes.
``neo4j_server`` (function)
    A handle (``.uri``, ``.port``, ``.stop()``, ``.start()``) for outage tests, its
    database wiped like ``neo4j_clean``; stop and start keep the port and the data.
    It is the session server (a private one when
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
import shutil
import tempfile
import threading
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


class _Neo4jPool:
    """Session-wide Neo4j servers by name, started on first use or ahead of time.

    Neo4j takes 10-30 s to start on a busy 2-core machine, so when the collected
    tests need it, the session server starts in a background thread right after
    collection and the tests that do not need it run meanwhile.
    """

    def __init__(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="graphtwin-neo4j-"))
        self._servers: dict[str, Neo4jTestServer] = {}
        self._starting: dict[str, threading.Thread] = {}
        self._errors: dict[str, Exception] = {}

    def _server(self, name: str) -> Neo4jTestServer:
        if name not in self._servers:
            self._servers[name] = Neo4jTestServer(self._root / name)
        return self._servers[name]

    def start_in_background(self, name: str) -> None:
        server = self._server(name)

        def start() -> None:
            try:
                server.start()
            except Exception as exc:  # reported to the first test that needs it
                self._errors[name] = exc

        thread = threading.Thread(target=start, name=f"neo4j-{name}-start", daemon=True)
        self._starting[name] = thread
        thread.start()

    def get(self, name: str) -> Neo4jTestServer:
        thread = self._starting.pop(name, None)
        if thread is not None:
            thread.join()
        error = self._errors.pop(name, None)
        if error is not None:
            pytest.fail(str(error), pytrace=False)
        server = self._server(name)
        if not server.is_running:
            _start_or_fail(server)
        return server

    def close(self) -> None:
        for thread in self._starting.values():
            thread.join()
        for server in self._servers.values():
            server.stop()
        shutil.rmtree(self._root, ignore_errors=True)


_POOL = pytest.StashKey[_Neo4jPool]()
_NEO4J_FIXTURES = frozenset({"neo4j_uri", "neo4j_clean", "neo4j_server"})


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_POOL] = _Neo4jPool()


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(_POOL, None)
    if pool is not None:
        pool.close()


def pytest_collection_finish(session: pytest.Session) -> None:
    if os.environ.get("GRAPHTWIN_TEST_NEO4J_URI") or session.config.option.collectonly:
        return
    # Tests marked ``neo4j`` may request the fixtures dynamically (getfixturevalue).
    if any(
        _NEO4J_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        or item.get_closest_marker("neo4j") is not None
        for item in session.items
    ):
        session.config.stash[_POOL].start_in_background("session")


@pytest.fixture(scope="session")
def _neo4j_servers(pytestconfig: pytest.Config) -> _Neo4jPool:
    return pytestconfig.stash[_POOL]


@pytest.fixture(scope="session")
def neo4j_uri(_neo4j_servers: _Neo4jPool) -> str:
    external = os.environ.get("GRAPHTWIN_TEST_NEO4J_URI")
    if external:
        return external
    return _neo4j_servers.get("session").uri


@pytest.fixture
def neo4j_clean(neo4j_uri: str) -> str:
    wipe_neo4j(neo4j_uri)
    return neo4j_uri


@pytest.fixture
def neo4j_server(_neo4j_servers: _Neo4jPool) -> Iterator[Neo4jTestServer]:
    # With an external URI we cannot stop that server, so outage tests get their own.
    name = "outage" if os.environ.get("GRAPHTWIN_TEST_NEO4J_URI") else "session"
    server = _neo4j_servers.get(name)
    wipe_neo4j(server.uri)
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
