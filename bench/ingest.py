"""MQTT ingestion, end to end, next to a raw paho subscriber measured in the same run.

    .venv/bin/python bench/ingest.py [--messages N] [--twins N] [--qos 0|1] [--rate R]
        [--stores embedded,neo4j] [--neo4j-uri bolt://127.0.0.1:7687]

A private Mosquitto starts on a free port (unlimited queue and in-flight
window, so the broker itself never drops or throttles).  For each contender a
publisher in a separate process pushes ``--messages`` telemetry messages
``{"temperature": x, "seq": i, "ts": <publish time>}`` round-robin over
``--twins`` twins, as fast as it can (``--rate 0``) or paced at ``--rate``
messages per second; it starts once the contender is subscribed.  It writes
MQTT 3.1.1 PUBLISH packets to a plain socket (pre-encoded topics, at most 1,000
unacknowledged, PUBACKs read as they come), and when paced sends what is due
every half millisecond, so neither its own cost nor bursts end up in the
contenders' figures.

- raw: a paho subscriber (MQTT 5, same QoS) whose callback only parses the JSON;
  "done" is the moment it has parsed the message.
- embedded / neo4j: GraphTwin's ingestion (``server.ingest.IngestService``):
  decode, batch, coalesce, validate and commit through
  ``apply_property_updates``, acknowledge QoS 1 after commit; "done" is the
  commit (a message superseded in its batch counts as done at that commit).

Rate = messages / (last done - first publish).  Latency = done - publish
timestamp, p50 and p99 over every message (raw) or every committed reading.
The ratio is contender rate / raw rate.  "cpu us/msg" is this process's CPU
time per message while the contender ran (for Neo4j, without the database's own
work), "pub us/msg" the publisher's (from its first message): figures that the
load of a shared machine changes far less than the rates.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from graph import TwinGraph, TwinUpsert, open_graph
from server.config import BatchConfig, IngestConfig, MqttConfig
from server.ingest import IngestService, Reading
from server.metrics import IngestMetrics

MODEL = "dtmi:bench:ingest:Sensor;1"
MODEL_DOC = {
    "@context": "dtmi:dtdl:context;3",
    "@id": MODEL,
    "@type": "Interface",
    "contents": [
        {"@type": "Telemetry", "name": "temperature", "schema": "double"},
        {"@type": "Telemetry", "name": "seq", "schema": "integer"},
    ],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = _free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("mosquitto did not start") from None
            time.sleep(0.05)


# ----------------------------------------------------------------------------- publisher
#
# The publisher speaks MQTT 3.1.1 over a plain socket instead of using paho: paho's
# client costs tens of microseconds per message in Python, so it, not the contender,
# capped every contender's rate (a raw paho subscriber reached about half of what
# Mosquitto delivers).  Each PUBLISH is built from a pre-encoded topic and written in
# small groups; PUBACKs are read as they come and bound the unacknowledged window.


def _varint(n: int) -> bytes:
    """MQTT's remaining-length encoding."""
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _connect_packet(client_id: str) -> bytes:
    cid = client_id.encode()
    # Protocol "MQTT" level 4, clean session, keepalive 0 (no PINGREQ needed).
    body = b"\x00\x04MQTT\x04\x02\x00\x00" + len(cid).to_bytes(2, "big") + cid
    return b"\x10" + _varint(len(body)) + body


class _RawPublisher:
    """One MQTT connection publishing pre-encoded PUBLISH packets, QoS 0 or 1."""

    def __init__(self, port: int, qos: int, window: int) -> None:
        self.qos, self.window = qos, window
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(_connect_packet(f"bench-pub-{uuid.uuid4().hex[:6]}"))
        connack = self._recv_exactly(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise SystemExit(f"publisher: broker refused the connection ({connack.hex()})")
        self.sock.setblocking(False)
        self.sent = self.acked = 0
        self._pending = b""  # a PUBACK split across reads

    def _recv_exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise SystemExit("publisher: broker closed the connection")
            data += chunk
        return data

    def read_acks(self, block: bool = False) -> None:
        if self.qos == 0:
            return
        self.sock.setblocking(block)
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, TimeoutError):
            return
        finally:
            self.sock.setblocking(False)
        if not data:
            raise SystemExit("publisher: broker closed the connection")
        data = self._pending + data
        whole = len(data) - len(data) % 4
        if data[0:whole:4].strip(b"\x40"):  # every packet must be a 2-byte PUBACK
            raise SystemExit(f"publisher: unexpected packet from the broker ({data[:8].hex()})")
        self._pending = data[whole:]
        self.acked += whole // 4

    def send(self, packets: list[bytes]) -> None:
        view = memoryview(b"".join(packets))
        while view:
            try:
                view = view[self.sock.send(view) :]
            except BlockingIOError:
                self.read_acks()
                select.select([self.sock], [self.sock], [], 0.01)
        self.sent += len(packets)

    def room(self) -> int:
        return self.window - (self.sent - self.acked) if self.qos else self.window

    def close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.2)
        while self.qos and self.acked < self.sent and time.monotonic() < deadline:
            self.read_acks(block=True)
        self.sock.setblocking(True)
        self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        self.sock.close()


def _publisher(
    port: int, twins: list[str], count: int, qos: int, rate: float, start_at: Any, cpu: Any
) -> None:
    pub = _RawPublisher(port, qos, window=1000)
    flags = 0x30 | (qos << 1)
    heads = [
        (len(t).to_bytes(2, "big") + t) for t in (f"twins/{x}/telemetry".encode() for x in twins)
    ]
    dumps, now = orjson.dumps, time.time
    start, cpu_start = now(), time.process_time()  # CPU from here: not the start-up
    start_at.value = start
    i = 0
    while i < count:
        if rate:  # every half millisecond, what is due by now: no bursts of paced messages
            due = min(count, int((now() - start) * rate) + 1)
            if due <= i:
                pub.read_acks()
                time.sleep(0.0005)
                continue
        else:
            due = min(count, i + 200)
        due = min(due, i + max(pub.room(), 0))
        if due <= i:
            pub.read_acks(block=True)
            continue
        packets = []
        ts = now()
        for j in range(i, due):
            body = dumps({"temperature": 20.0 + (j % 100) / 10, "seq": j, "ts": ts})
            head = heads[j % len(heads)]
            mid = (j % 65535 + 1).to_bytes(2, "big") if qos else b""
            rest = head + mid + body
            packets.append(bytes((flags,)) + _varint(len(rest)) + rest)
        pub.send(packets)
        pub.read_acks()
        i = due
    pub.close(60)
    cpu.value = time.process_time() - cpu_start


class Publisher:
    """The publisher process: when it started publishing, and its CPU seconds once done."""

    def __init__(self, port: int, twins: list[str], count: int, qos: int, rate: float) -> None:
        ctx = mp.get_context("spawn")
        self.start_at, self.cpu = ctx.Value("d", 0.0), ctx.Value("d", 0.0)
        self.proc = ctx.Process(
            target=_publisher,
            args=(port, twins, count, qos, rate, self.start_at, self.cpu),
            daemon=True,
        )
        self.proc.start()

    def join(self) -> None:
        self.proc.join(60)


# ----------------------------------------------------------------------------- contenders


class Result:
    def __init__(
        self,
        name: str,
        count: int,
        pub: Publisher,
        last_done: float,
        lags: list[float],
        cpu: float,
        note: str = "",
    ) -> None:
        self.name, self.count, self.note = name, count, note
        # CPU per message, which the machine's load does not change much: this process
        # (the contender; for Neo4j without the database's own work) and the publisher.
        self.cpu_us, self.pub_cpu_us = cpu / count * 1e6, pub.cpu.value / count * 1e6
        self.seconds = max(last_done - pub.start_at.value, 1e-9)
        self.rate = count / self.seconds
        qs = statistics.quantiles(lags, n=100) if len(lags) > 1 else [lags[0]] * 99
        self.p50, self.p99 = qs[49] * 1000, qs[98] * 1000


def bench_raw(port: int, twins: list[str], args: argparse.Namespace, rate: float) -> Result:
    lags: list[float] = []
    done = threading.Event()
    state = {"n": 0, "last": 0.0}
    loads = orjson.loads

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        doc = loads(msg.payload)
        now = time.time()
        lags.append(now - doc["ts"])
        state["n"] += 1
        state["last"] = now
        if state["n"] == args.messages:
            done.set()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
        protocol=mqtt.MQTTv5,
    )
    client.on_message = on_message
    subscribed = threading.Event()
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe("twins/+/telemetry", args.qos)
    subscribed.wait(10)
    cpu0 = time.process_time()
    pub = Publisher(port, twins, args.messages, args.qos, rate)
    ok = done.wait(args.timeout)
    cpu = time.process_time() - cpu0
    pub.join()
    client.disconnect()
    client.loop_stop()
    if not ok:
        raise SystemExit(f"raw: only {state['n']} of {args.messages} messages in {args.timeout}s")
    return Result("raw paho (parse only)", args.messages, pub, state["last"], lags, cpu)


def bench_store(
    name: str,
    store: TwinGraph,
    port: int,
    twins: list[str],
    args: argparse.Namespace,
    rate: float,
    workdir: Path,
) -> Result:
    metrics = IngestMetrics()
    config = IngestConfig(
        mqtt=MqttConfig(
            client_id=f"bench-{name}-{uuid.uuid4().hex[:6]}",
            qos=args.qos,
            session_expiry=0,
            receive_maximum=65535,
        ),
        batch=BatchConfig(max_size=args.batch, max_delay_ms=args.delay_ms),
    )
    service = IngestService(store, config, host="127.0.0.1", port=port, metrics=metrics)
    lags: list[float] = []
    state = {"last": 0.0}

    def on_commit(readings: Sequence[Reading], commit_time: float) -> None:
        lags.extend(commit_time - r.epoch for r in readings)
        state["last"] = commit_time

    service.pipeline.add_commit_listener(on_commit)
    service.start()
    if not service.source.connected_event.wait(10):
        raise SystemExit(f"{name}: ingestion did not connect")
    time.sleep(0.3)  # SUBACK
    cpu0 = time.process_time()
    pub = Publisher(port, twins, args.messages, args.qos, rate)

    def handled() -> int:  # polled: plain counter reads, not the /healthz snapshot
        counters = (metrics.applied_messages, metrics.coalesced, metrics.deadletters)
        return sum(int(c._value.get()) for c in counters)

    deadline = time.monotonic() + args.timeout
    while handled() < args.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    cpu = time.process_time() - cpu0
    pub.join()
    service.stop()
    n = handled()
    if n < args.messages:
        raise SystemExit(f"{name}: only {n} of {args.messages} messages handled in {args.timeout}s")
    snap = metrics.snapshot()
    coalesced = int(metrics.coalesced._value.get())
    note = f"coalesced {coalesced}, dead letters {snap['deadletters']}"
    return Result(f"GraphTwin -> {name}", args.messages, pub, state["last"], lags, cpu, note)


def seed(store: TwinGraph, twins: list[str]) -> None:
    if MODEL not in store.registry:
        store.add_models([MODEL_DOC])
    for i in range(0, len(twins), 1000):
        store.upsert_batch([TwinUpsert(t, MODEL, {}) for t in twins[i : i + 1000]])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--messages", type=int, default=50000)
    p.add_argument("--twins", type=int, default=5000)
    p.add_argument("--qos", type=int, default=1, choices=(0, 1))
    p.add_argument(
        "--rate", type=float, default=5000, help="paced run's messages/s (latency); 0 skips it"
    )
    p.add_argument("--stores", default="embedded,neo4j")
    p.add_argument("--neo4j-uri", default=os.environ.get("GRAPHTWIN_TEST_NEO4J_URI"))
    p.add_argument("--batch", type=int, default=BatchConfig().max_size)
    p.add_argument("--delay-ms", type=float, default=BatchConfig().max_delay_ms)
    p.add_argument("--timeout", type=float, default=300)
    args = p.parse_args(argv)

    twins = [f"s{i:06d}" for i in range(args.twins)]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker, port = start_mosquitto(workdir)
        stores: dict[str, TwinGraph] = {}
        try:
            for name in args.stores.split(","):
                if name == "embedded":
                    stores[name] = open_graph(f"embedded:{workdir / 'store'}")
                elif name == "neo4j":
                    if not args.neo4j_uri:
                        print("neo4j: skipped (no --neo4j-uri / GRAPHTWIN_TEST_NEO4J_URI)")
                        continue
                    stores[name] = open_graph(args.neo4j_uri)
            for store in stores.values():
                seed(store, twins)
            print(
                f"{args.messages} messages over {args.twins} twins, QoS {args.qos}, "
                f"batch <= {args.batch} / {args.delay_ms} ms; cpus: {os.cpu_count()}"
            )
            runs = [("flat out", 0.0)] + (
                [(f"paced {args.rate:g}/s", args.rate)] if args.rate else []
            )
            for label, rate in runs:
                print(f"\n== {label}")
                raw = bench_raw(port, twins, args, rate)
                results = [raw] + [
                    bench_store(n, s, port, twins, args, rate, workdir) for n, s in stores.items()
                ]
                print(
                    f"{'contender':28} {'msg/s':>9} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8}"
                    f" {'cpu us/msg':>10} {'pub us/msg':>10}  note"
                )
                for r in results:
                    print(
                        f"{r.name:28} {r.rate:9.0f} {r.rate / raw.rate:6.2f}"
                        f" {r.p50:8.1f} {r.p99:8.1f} {r.cpu_us:10.1f} {r.pub_cpu_us:10.1f}"
                        f"  {r.note}"
                    )
        finally:
            for store in stores.values():
                store.close()
            broker.terminate()
            broker.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
