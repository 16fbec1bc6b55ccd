"""MQTT ingestion, end to end, next to a raw paho subscriber measured in the same run.

    .venv/bin/python bench/ingest.py [--messages N] [--twins N] [--qos 0|1] [--rate R]
        [--stores embedded,neo4j] [--neo4j-uri bolt://127.0.0.1:7687]

A private Mosquitto starts on a free port (unlimited queue and in-flight
window, so the broker itself never drops or throttles).  For each contender a
publisher in a separate process pushes ``--messages`` telemetry messages
``{"temperature": x, "seq": i, "ts": <publish time>}`` round-robin over
``--twins`` twins, as fast as it can (``--rate 0``) or paced at ``--rate``
messages per second; it starts once the contender is subscribed.

- raw: a paho subscriber (MQTT 5, same QoS) whose callback only parses the JSON;
  "done" is the moment it has parsed the message.
- embedded / neo4j: GraphTwin's ingestion (``server.ingest.IngestService``):
  decode, batch, coalesce, validate and commit through
  ``apply_property_updates``, acknowledge QoS 1 after commit; "done" is the
  commit (a message superseded in its batch counts as done at that commit).

Rate = messages / (last done - first publish).  Latency = done - publish
timestamp, p50 and p99 over every message (raw) or every committed reading.
The ratio is contender rate / raw rate.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
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


def _publisher(
    port: int, twins: list[str], count: int, qos: int, rate: float, start_at: Any
) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    topics = [f"twins/{t}/telemetry" for t in twins]
    dumps = orjson.dumps
    start = time.time()
    start_at.value = start
    last = None
    for i in range(count):
        if rate:
            delay = start + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        body = dumps({"temperature": 20.0 + (i % 100) / 10, "seq": i, "ts": time.time()})
        last = client.publish(topics[i % len(topics)], body, qos=qos)
        if qos and i % 500 == 499:
            last.wait_for_publish(30)  # keep paho's own queue short
    if last is not None:
        last.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def run_publisher(
    port: int, twins: list[str], count: int, qos: int, rate: float
) -> tuple[mp.Process, Any]:
    ctx = mp.get_context("spawn")
    start_at = ctx.Value("d", 0.0)
    proc = ctx.Process(
        target=_publisher, args=(port, twins, count, qos, rate, start_at), daemon=True
    )
    proc.start()
    return proc, start_at


# ----------------------------------------------------------------------------- contenders


class Result:
    def __init__(
        self,
        name: str,
        count: int,
        first_publish: float,
        last_done: float,
        lags: list[float],
        note: str = "",
    ) -> None:
        self.name, self.count, self.note = name, count, note
        self.seconds = max(last_done - first_publish, 1e-9)
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
    pub, start_at = run_publisher(port, twins, args.messages, args.qos, rate)
    ok = done.wait(args.timeout)
    pub.join(30)
    client.disconnect()
    client.loop_stop()
    if not ok:
        raise SystemExit(f"raw: only {state['n']} of {args.messages} messages in {args.timeout}s")
    return Result("raw paho (parse only)", args.messages, start_at.value, state["last"], lags)


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
    pub, start_at = run_publisher(port, twins, args.messages, args.qos, rate)

    def handled() -> int:
        snap = metrics.snapshot()
        return snap["applied_messages"] + int(metrics.coalesced._value.get()) + snap["deadletters"]

    deadline = time.monotonic() + args.timeout
    while handled() < args.messages and time.monotonic() < deadline:
        time.sleep(0.01)
    pub.join(30)
    service.stop()
    n = handled()
    if n < args.messages:
        raise SystemExit(f"{name}: only {n} of {args.messages} messages handled in {args.timeout}s")
    snap = metrics.snapshot()
    coalesced = int(metrics.coalesced._value.get())
    note = f"coalesced {coalesced}, dead letters {snap['deadletters']}"
    return Result(f"GraphTwin -> {name}", args.messages, start_at.value, state["last"], lags, note)


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
                    f"{'contender':28} {'msg/s':>9} {'ratio':>6} {'p50 ms':>8} {'p99 ms':>8}  note"
                )
                for r in results:
                    print(
                        f"{r.name:28} {r.rate:9.0f} {r.rate / raw.rate:6.2f}"
                        f" {r.p50:8.1f} {r.p99:8.1f}  {r.note}"
                    )
        finally:
            for store in stores.values():
                store.close()
            broker.terminate()
            broker.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
