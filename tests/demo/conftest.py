"""TEMPORARY: ``mqtt_url`` and ``mosquitto_factory`` until tests/conftest.py has them.

``mqtt_url`` uses ``$GRAPHTWIN_TEST_MQTT_URL`` when set, else a private Mosquitto
on a free port for the session.  Delete this file once tests/conftest.py has both.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Mosquitto:
    """A private broker on a fixed port that can be stopped and started again."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
        if binary is None:
            pytest.fail("mosquitto is not installed: apt-get install mosquitto")
        self.binary = binary
        self.port = _free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self.proc: subprocess.Popen[bytes] | None = None

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
            self.proc.wait(5)
            self.proc = None


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[[], _Mosquitto]]:
    brokers: list[_Mosquitto] = []

    def make() -> _Mosquitto:
        folder = tmp_path / f"broker{len(brokers)}"
        folder.mkdir()
        broker = _Mosquitto(folder)
        brokers.append(broker)
        broker.start()
        return broker

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    if os.environ.get("GRAPHTWIN_TEST_MQTT_URL"):
        yield os.environ["GRAPHTWIN_TEST_MQTT_URL"]
        return
    with tempfile.TemporaryDirectory() as tmp:
        broker = _Mosquitto(Path(tmp))
        broker.start()
        try:
            yield broker.url
        finally:
            broker.stop()
