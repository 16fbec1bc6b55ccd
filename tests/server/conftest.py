"""TEMPORARY fixtures for tests/server until the shared tests/conftest.py lands.

``mqtt_url`` and ``mosquitto_factory`` follow the agreed shapes (see the
project brief): a real Mosquitto on a free port, never a mock.  Remove this
file's fixtures once tests/conftest.py provides them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_HAVE_SHARED = (Path(__file__).parents[1] / "conftest.py").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MosquittoHandle:
    """A private Mosquitto with persistence; ``stop()``/``start()`` keep the port and the data."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            pytest.fail("mosquitto is not installed: apt-get install mosquitto")
        self.binary = binary
        self.port = _free_port()
        self.workdir = workdir
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {workdir}/\n"
            "max_queued_messages 100000\nmax_inflight_messages 1000\n"
            # Run as root, mosquitto drops to user "mosquitto", which cannot write
            # its persistence file into pytest's 0700 temporary directory.
            + ("user root\n" if os.geteuid() == 0 else "")
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    pytest.fail("mosquitto did not start")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


if not _HAVE_SHARED:

    @pytest.fixture
    def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[[], MosquittoHandle]]:
        handles: list[MosquittoHandle] = []

        def make() -> MosquittoHandle:
            workdir = tmp_path / f"mosquitto-{len(handles)}"
            workdir.mkdir()
            handle = MosquittoHandle(workdir)
            handle.start()
            handles.append(handle)
            return handle

        yield make
        for h in handles:
            h.stop()

    @pytest.fixture(scope="session")
    def mqtt_url() -> Iterator[str]:
        if os.environ.get("GRAPHTWIN_TEST_MQTT_URL"):
            yield os.environ["GRAPHTWIN_TEST_MQTT_URL"]
            return
        with tempfile.TemporaryDirectory() as tmp:
            handle = MosquittoHandle(Path(tmp))
            handle.start()
            try:
                yield handle.url
            finally:
                handle.stop()


class Neo4jHandle:
    """A private Neo4j from tools/neo4j-test-server; ``stop()``/``start()`` keep port and data."""

    def __init__(self, workdir: Path) -> None:
        self.run = Path(__file__).parents[2] / "tools" / "neo4j-test-server" / "run"
        self.port = _free_port()
        self.data = workdir / "data"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(self.run), "--port", str(self.port), "--data", str(self.data)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if raw.startswith(b"NEO4J READY"):
                # Keep reading its output so a full pipe never blocks the server.
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                return
        pytest.fail(f"Neo4j test server did not start (exit {self.proc.wait()})")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None


if not _HAVE_SHARED:

    @pytest.fixture(scope="session")
    def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jHandle]:
        handle = Neo4jHandle(tmp_path_factory.mktemp("neo4j"))
        handle.start()
        try:
            yield handle
        finally:
            handle.stop()
