"""The embedded MQTT broker (amqtt) for a server started without ``--mqtt``.

It runs on its own asyncio loop in a daemon thread, so it neither slows nor
depends on uvicorn's loop, and listens on 127.0.0.1:1883 by default so that
``mosquitto_pub -t twins/<id>/telemetry -m '{...}'`` works against the demo
as is.  amqtt speaks MQTT 3.1.1 (no shared subscriptions); production
deployments point ``--mqtt`` at Mosquitto or another broker instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["BrokerStartError", "EmbeddedBroker"]

log = logging.getLogger("graphtwin.broker")


class BrokerStartError(RuntimeError):
    pass


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.running = False

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            # Only anonymous auth: amqtt's default packet/event loggers cost a lot per message.
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }

    def start(self, timeout: float = 10.0) -> None:
        # Checked first: amqtt logs a failed bind as dozens of lines of tracebacks
        # before we could say, in one line, what is wrong.
        self.check_port()
        self._thread = threading.Thread(target=self._main, name="graphtwin-broker", daemon=True)
        self._thread.start()
        with _quiet_amqtt():  # a bind lost to a race since the check: our line only
            ready = self._ready.wait(timeout)
        if not ready:
            raise BrokerStartError(
                f"embedded MQTT broker did not start on {self.host}:{self.port} in {timeout}s"
            )
        if self._error is not None:
            raise BrokerStartError(self._cannot_listen_message(self._error)) from self._error

    def check_port(self) -> None:
        """``BrokerStartError`` now if the port cannot be listened on (e.g. in use)."""
        problem = _cannot_listen(self.host, self.port)
        if problem is not None:
            raise BrokerStartError(self._cannot_listen_message(problem))

    def _cannot_listen_message(self, problem: object) -> str:
        return (
            f"embedded MQTT broker cannot listen on {self.host}:{self.port}: {problem} "
            "(is another broker running? use --mqtt-port or --mqtt mqtt://host:port)"
        )

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start() through _error
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        from amqtt.broker import Broker  # imported here: it is only needed without --mqtt

        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        broker = Broker(self.config())
        try:
            await broker.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self.running = True
        self._ready.set()
        log.info("embedded MQTT broker listening on %s", self.url)
        await self._stopped.wait()
        try:
            await broker.shutdown()
        finally:
            self.running = False

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stopped is not None and self.running:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def health(self) -> dict[str, Any]:
        return {"ok": self.running, "embedded": True, "url": self.url}


def _cannot_listen(host: str, port: int) -> OSError | None:
    """Why a listener cannot bind ``host:port`` now, or None.  SO_REUSEADDR as asyncio
    sets it, so a port left in TIME_WAIT by our own last run does not count as taken."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return exc
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                return exc
    return None


@contextlib.contextmanager
def _quiet_amqtt() -> Iterator[None]:
    logger = logging.getLogger("amqtt")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)
