"""Real services for the test suite: Neo4j (tools/neo4j-test-server) and Mosquitto.

The fixtures in tests/conftest.py use these; scripts and benchmarks may too::

    server = Neo4jTestServer(Path("/tmp/n4j"))     # a free port unless one is given
    server.start()                                 # builds the launcher when needed
    server.uri                                     # "bolt://127.0.0.1:PORT", auth off
    server.stop(); server.start()                  # same port, same data

    broker = Mosquitto(Path("/tmp/mq"))            # persistence in that folder
    broker.start(); broker.url                     # "mqtt://127.0.0.1:PORT"

A missing prerequisite (JDK, Maven, mosquitto) raises ``MissingPrerequisite`` whose
message says what to install; the fixtures turn it into a test failure, never a skip.

Run as a script: ``python tests/services.py build`` builds the Neo4j launcher (used by
scripts/test); ``python tests/services.py check`` reports the prerequisites.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

__all__ = [
    "NEO4J_TEST_SERVER_DIR",
    "REPO_ROOT",
    "MissingPrerequisite",
    "Mosquitto",
    "Neo4jTestServer",
    "ServiceFailed",
    "build_neo4j_test_server",
    "check_java",
    "find_mosquitto",
    "free_port",
    "mosquitto_config",
    "wait_for_mqtt",
    "wipe_neo4j",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
NEO4J_TEST_SERVER_DIR = REPO_ROOT / "tools" / "neo4j-test-server"

_JDK_HINT = "install a JDK 17+ (Debian: apt-get install -y openjdk-17-jdk-headless)"
_MAVEN_HINT = "install Maven (Debian: apt-get install -y maven)"
_MOSQUITTO_HINT = "install Mosquitto (Debian: apt-get install -y mosquitto)"


class MissingPrerequisite(RuntimeError):
    """A tool the real services need is not installed; the message says what to install."""


class ServiceFailed(RuntimeError):
    """A service did not start or answer; the message includes the end of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (callers retry on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL if it does not end in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# --------------------------------------------------------------------------- Neo4j


def check_java() -> None:
    """Raise MissingPrerequisite unless ``java`` 17+ and ``mvn`` are on PATH."""
    java = shutil.which("java")
    if java is None:
        raise MissingPrerequisite(f"Neo4j tests need Java but `java` is not on PATH: {_JDK_HINT}")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    if match is None or int(match.group(1)) < 17:
        raise MissingPrerequisite(f"Neo4j 5.26 needs Java 17+, found: {out.strip()!r}: {_JDK_HINT}")
    if shutil.which("javac") is None:
        raise MissingPrerequisite(f"building the Neo4j test server needs `javac`: {_JDK_HINT}")
    if shutil.which("mvn") is None:
        raise MissingPrerequisite(f"building the Neo4j test server needs `mvn`: {_MAVEN_HINT}")


_build_lock = threading.Lock()


def build_neo4j_test_server() -> None:
    """Build tools/neo4j-test-server if missing or stale (its ``build`` script decides)."""
    with _build_lock:
        check_java()
        result = subprocess.run(
            [str(NEO4J_TEST_SERVER_DIR / "build")], capture_output=True, text=True
        )
        if result.returncode == 3:  # the script's "prerequisite missing" status
            raise MissingPrerequisite(result.stderr.strip())
        if result.returncode != 0:
            raise ServiceFailed(f"building the Neo4j test server failed:\n{result.stderr}")


class Neo4jTestServer:
    """One Neo4j 5.26 Community process on 127.0.0.1 with auth off.

    ``stop()`` then ``start()`` keeps the port and the data directory, which is what
    outage tests need. The process exits by itself if this Python process dies
    (``--exit-on-stdin-eof``: it watches the pipe we hold open).
    """

    def __init__(self, data_dir: Path, port: int | None = None, pagecache: str = "32m") -> None:
        self.data_dir = Path(data_dir)
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self.pagecache = pagecache
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.neo4j.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.last_start_seconds: float | None = None

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 240.0) -> None:
        """Start and wait until the driver's ``verify_connectivity`` succeeds."""
        if self.is_running:
            return
        build_neo4j_test_server()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        for attempt in range(3):
            if self._launch(timeout):
                self.last_start_seconds = time.monotonic() - started
                return
            # Most likely another process took our free port between probe and bind.
            if self._fixed_port or attempt == 2:
                break
            self.port = free_port()
        raise ServiceFailed(
            f"Neo4j test server did not start on port {self.port}; "
            f"log {self.log_path}:\n{_tail(self.log_path)}"
        )

    def _launch(self, timeout: float) -> bool:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process
        offset = self._log.tell()
        self._proc = subprocess.Popen(
            [
                str(NEO4J_TEST_SERVER_DIR / "run"),
                "--port",
                str(self.port),
                "--data",
                str(self.data_dir),
                "--pagecache",
                self.pagecache,
                "--exit-on-stdin-eof",
            ],
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._close_log()
                return False
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                if b"NEO4J READY" in log.read():
                    break
            time.sleep(0.1)
        else:
            self.stop()
            raise ServiceFailed(
                f"Neo4j test server gave no ready line in {timeout:.0f} s; "
                f"log {self.log_path}:\n{_tail(self.log_path)}"
            )
        _verify_bolt(self.uri, deadline)
        return True

    def stop(self, timeout: float = 60.0) -> None:
        """Shut down cleanly (SIGTERM runs Neo4j's shutdown hook); data is kept."""
        if self._proc is not None:
            _terminate(self._proc, timeout)
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc = None
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Neo4jTestServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _verify_bolt(uri: str, deadline: float) -> None:
    from neo4j import GraphDatabase
    from neo4j.exceptions import ServiceUnavailable

    with GraphDatabase.driver(uri, auth=None) as driver:
        while True:
            try:
                driver.verify_connectivity()
                return
            except ServiceUnavailable as exc:
                if time.monotonic() > deadline:
                    raise ServiceFailed(f"Neo4j at {uri} does not answer: {exc}") from exc
                time.sleep(0.2)


def wipe_neo4j(uri: str) -> None:
    """Delete every node, relationship, constraint and index in the default database."""
    from neo4j import GraphDatabase

    with GraphDatabase.driver(uri, auth=None) as driver, driver.session() as session:
        # Batched so that a large graph left by a benchmark does not need one huge transaction.
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
        for record in list(session.run("SHOW CONSTRAINTS YIELD name")):
            session.run(f"DROP CONSTRAINT `{record['name']}` IF EXISTS").consume()
        # LOOKUP indexes are Neo4j's own token indexes; dropping them slows everything.
        for record in list(session.run("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'")):
            session.run(f"DROP INDEX `{record['name']}` IF EXISTS").consume()


# ----------------------------------------------------------------------- Mosquitto


def find_mosquitto() -> str:
    """The mosquitto binary (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise MissingPrerequisite(f"MQTT tests need the mosquitto broker: {_MOSQUITTO_HINT}")
    return found


def mosquitto_config(port: int, persistence_dir: Path, log_file: Path) -> str:
    """A broker config: anonymous on 127.0.0.1:port, persistent, generous queues."""
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        # Persistence, so a restarted broker still holds QoS 1 messages queued for
        # persistent sessions (written on clean shutdown).
        "persistence true",
        f"persistence_location {persistence_dir}/",
        # Ingestion tests queue many messages for a stopped subscriber.
        "max_queued_messages 100000",
        "max_inflight_messages 1000",
        f"log_dest file {log_file}",
        "log_type error",
        "log_type warning",
        "log_type notice",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Started as root, mosquitto switches to user "mosquitto", which cannot write
        # to our (root-owned, 0700) temporary folders.
        lines.append("user root")
    return "\n".join(lines) + "\n"


def _mqtt_connack(host: str, port: int, timeout: float) -> str | None:
    """None when an MQTT CONNECT gets a successful CONNACK, else what went wrong."""
    import paho.mqtt.client as mqtt

    accepted = threading.Event()

    def on_connect(_c: object, _u: object, _f: object, rc: object, _p: object) -> None:
        if not getattr(rc, "is_failure", True):
            accepted.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=10)
        client.loop_start()
        return None if accepted.wait(timeout) else "no successful CONNACK"
    except OSError as exc:
        return str(exc)
    finally:
        # Disconnect first: it wakes the network thread, which loop_stop() then joins
        # at once instead of after its 1 s select timeout.
        with contextlib.suppress(Exception):
            client.disconnect()
        client.loop_stop()


def wait_for_mqtt(host: str, port: int, timeout: float = 10.0) -> None:
    """Return once an MQTT CONNECT gets a successful CONNACK; ServiceFailed otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        problem = _mqtt_connack(host, port, timeout=2.0)
        if problem is None:
            return
        if time.monotonic() > deadline:
            raise ServiceFailed(f"MQTT broker at {host}:{port} does not answer: {problem}")
        time.sleep(0.05)


class Mosquitto:
    """A private Mosquitto; ``stop()`` then ``start()`` keeps the port and the persisted data."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self.conf_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        if self.is_running:
            return
        binary = find_mosquitto()
        self.workdir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            self.conf_path.write_text(mosquitto_config(self.port, self.workdir, self.log_path))
            self._proc = subprocess.Popen(
                [binary, "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for_mqtt("127.0.0.1", self.port, timeout)
                return
            except ServiceFailed:
                exited = self._proc.poll() is not None
                self.stop()
                if not exited or self._fixed_port or attempt == 2:
                    break
                self.port = free_port()  # lost a race for the port: try another
        raise ServiceFailed(
            f"mosquitto did not start on port {self.port}; log {self.log_path}:\n"
            f"{_tail(self.log_path)}"
        )

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM: mosquitto writes its persistence file and exits."""
        if self._proc is not None:
            _terminate(self._proc, timeout)
            self._proc = None

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    try:
        if command == "build":
            build_neo4j_test_server()
            return 0
        if command == "check":
            check_java()
            print(f"java, javac, mvn: ok; mosquitto: {find_mosquitto()}")
            return 0
    except (MissingPrerequisite, ServiceFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"usage: {Path(__file__).name} build|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
