"""Write throughput of the twin graph store, each next to a raw baseline measured in the same run.

    .venv/bin/python bench/store.py [--backend embedded|neo4j|both] [--twins N]
        [--relationships N] [--updates N] [--batch N] [--neo4j-uri bolt://127.0.0.1:7687]

The issue's full size is ``--twins 100000 --relationships 200000 --updates 1000000``.

Embedded: batch upsert of twins and relationships, then single-property updates
(``apply_property_updates``, batches of ``--batch``, newest-wins, validated and
journalled), against raw ``sqlite3`` ``executemany`` of the same JSON documents
in the same batches (one transaction per batch, WAL, synchronous=NORMAL).
Neo4j: the same, against the raw driver with the same batch size and the same
stored data (property maps, labels, constraint, index: see ``raw_neo4j_rows``),
batch by batch in turn with the store (``neo4j_interleaved``), in two forms:
"raw plain", the issue's baseline, ``UNWIND $rows ... MERGE/SET`` of maps; and
"raw lean", the store's own statement forms and encoding (columns:
``graph.neo4j.columns``) without its reads, validation and guards.  The ratio
is store rate / baseline rate; each contender's client CPU per item is printed.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph import PropertyUpdate, RelationshipUpsert, TwinGraph, TwinUpsert, open_graph
from server.app import settle_gc

SPACE = "dtmi:bench:Space;1"
ROOM = "dtmi:bench:Room;1"
MODELS = [
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": SPACE,
        "@type": "Interface",
        "contents": [
            {"@type": "Property", "name": "name", "schema": "string", "writable": True},
            {"@type": "Relationship", "name": "contains", "target": SPACE},
        ],
    },
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": ROOM,
        "@type": "Interface",
        "extends": SPACE,
        "contents": [
            {"@type": "Telemetry", "name": "temperature", "schema": "double"},
            {"@type": "Property", "name": "area", "schema": "double", "writable": True},
        ],
    },
]


def rss_mib() -> float:
    """Current resident memory of this process (Linux)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(label: str, count: int, fn: Callable[[], object]) -> float:
    """Rate by the clock; beside it, by this process's CPU time, which on a shared machine
    says more (for the embedded store and sqlite all the work is in this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    rate = count / (time.perf_counter() - start)
    cpu_rate = count / max(time.process_time() - cpu, 1e-9)
    print(f"  {label:<52} {rate:>10,.0f} /s  (per CPU second: {cpu_rate:,.0f})")
    return rate


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class Workload:
    """The same rows for every contender: twins, relationships, single-property updates."""

    twins: list[tuple[str, dict]]  # (id, properties)
    rels: list[tuple[str, str, str]]  # (source, id, target), all named "contains"
    updates: list[tuple[str, float, str]]  # (twin id, temperature, timestamp)
    batch: int

    @classmethod
    def make(cls, n: int, r: int, u: int, batch: int) -> Workload:
        return cls(
            [(f"room{i}", {"name": f"Room {i}", "area": float(i)}) for i in range(n)],
            [(f"room{i % n}", f"c{i}", f"room{(i * 7 + 1) % n}") for i in range(r)],
            [
                (
                    f"room{i % n}",
                    float(i),
                    f"2026-01-01T{i // 3_600_000 % 24:02d}:"
                    f"{i // 60_000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}000Z",
                )
                for i in range(u)
            ],
            batch,
        )


Rates = tuple[float, float, float]


def store_run(graph: TwinGraph, w: Workload) -> Rates:
    graph.add_models(MODELS)
    twins = [TwinUpsert(i, ROOM, p) for i, p in w.twins]
    rels = [RelationshipUpsert(s, i, "contains", t) for s, i, t in w.rels]

    def run(items: list, call: Callable[[list], list]) -> None:
        for part in chunks(items, w.batch):
            results = call(part)
            if not all(r.ok for r in results):
                raise SystemExit(f"store refused an item: {next(r for r in results if not r.ok)}")

    # The workload's prebuilt items (millions of objects) out of the cyclic GC's reach,
    # as `graphtwin serve` does with what it loads at startup: else every full collection
    # the store's batches trigger rescans them, a cost of this script, not of the store.
    settle_gc()
    before = rss_mib()
    t = timed("store: batch upsert, twins", len(twins), lambda: run(twins, graph.upsert_batch))
    r = timed(
        "store: batch upsert, relationships",
        len(rels),
        lambda: run(rels, lambda p: graph.upsert_batch((), p)),
    )
    grown = rss_mib() - before
    print(
        f"  {'process memory grown by the twins and relationships':<52} {grown:>10,.0f} MiB"
        f" ({grown * 2**20 / len(twins):,.0f} bytes per twin)"
    )
    ups = [PropertyUpdate(i, {"temperature": v}, ts) for i, v, ts in w.updates]
    u = timed(
        "store: apply_property_updates", len(ups), lambda: run(ups, graph.apply_property_updates)
    )
    return t, r, u


def sqlite_baseline(directory: Path, w: Workload) -> Rates:
    db = sqlite3.connect(directory / "raw.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE twins (id TEXT PRIMARY KEY, doc BLOB) WITHOUT ROWID")
    db.execute(
        "CREATE TABLE rels (source TEXT, id TEXT, doc BLOB, PRIMARY KEY (source, id)) WITHOUT ROWID"
    )

    def write(sql: str, rows: list) -> None:
        for part in chunks(rows, w.batch):
            db.execute("BEGIN")
            db.executemany(sql, part)
            db.execute("COMMIT")

    twins = [(i, orjson.dumps({"m": ROOM, "p": p})) for i, p in w.twins]
    rels = [(s, i, orjson.dumps({"n": "contains", "t": t, "p": {}})) for s, i, t in w.rels]
    ups = [(i, orjson.dumps({"m": ROOM, "p": {"temperature": v}})) for i, v, _ in w.updates]
    put_twin = "INSERT OR REPLACE INTO twins VALUES (?, ?)"
    t = timed("raw sqlite: twins", len(twins), lambda: write(put_twin, twins))
    r = timed(
        "raw sqlite: relationships",
        len(rels),
        lambda: write("INSERT OR REPLACE INTO rels VALUES (?, ?, ?)", rels),
    )
    u = timed("raw sqlite: property updates", len(ups), lambda: write(put_twin, ups))
    db.close()
    return t, r, u


def wipe_neo4j(uri: str) -> None:
    """Empty the database in batches (one big delete exceeds a small server's memory pool)."""
    from neo4j import GraphDatabase

    with GraphDatabase.driver(uri, auth=None) as driver, driver.session() as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()


# The baseline: plain UNWIND ... MERGE/SET of maps, as a driver user writes it.
RAW_TWINS = "UNWIND $rows AS row MERGE (n:Raw {`$dtId`: row.`$dtId`}) SET n = row SET n:Room:Space"
RAW_RELS = (
    "UNWIND $rows AS row MATCH (a:Raw {`$dtId`: row.s}), (b:Raw {`$dtId`: row.t}) "
    "MERGE (a)-[r:contains {`$relId`: row.p.`$relId`}]->(b) SET r = row.p"
)
RAW_UPDATES = (
    "UNWIND $rows AS row MATCH (n:Raw {`$dtId`: row.id}) "
    "SET n += row.set, n.`$etag` = row.etag, n.`$metadata` = row.meta"
)
PLAIN = (RAW_TWINS, RAW_RELS, RAW_UPDATES)
CONTENDERS = ("store", "raw plain", "raw lean")
Rows3 = tuple[list, list, list]  # twins, relationships, updates


def raw_neo4j_rows(w: Workload) -> Rows3:
    """What the store stores for the workload: the same property maps (graph.neo4j's codec:
    values, ``$etag``, ``$metadata`` JSON, ``$json``), for the raw driver to write; as
    (twin map), (source, target, relationship map), (id, changed map with the new ETag and
    metadata)."""
    from graph.base import PropertyMeta, Relationship, Twin
    from graph.layout import N_ETAG, N_METADATA
    from graph.meta import pack
    from graph.neo4j.codec import packed_metadata_json, rel_to_map, twin_to_map

    stamp = "2026-01-01T00:00:00.000000Z"
    twins = [
        twin_to_map(Twin(i, ROOM, p, f'W/"{i}"', {k: PropertyMeta(stamp, "import") for k in p}))
        for i, p in w.twins
    ]
    rels = [
        (s, t, rel_to_map(Relationship(i, s, t, "contains", {}, f'W/"{i}"'))) for s, i, t in w.rels
    ]
    meta = {k: pack(stamp, "import") for k in ("name", "area", "temperature")}
    ups = [
        (
            i,
            {
                "temperature": v,
                N_ETAG: f'W/"{ts}"',
                N_METADATA: packed_metadata_json({**meta, "temperature": pack(ts, "device")}),
            },
        )
        for i, v, ts in w.updates
    ]
    return twins, rels, ups


def plain_rows(rows: Rows3) -> Rows3:
    """The issue's baseline: one map per row."""
    twins, rels, ups = rows
    return (
        twins,
        [{"s": s, "t": t, "p": p} for s, t, p in rels],
        [
            {"id": i, "set": {"temperature": c["temperature"]}, "etag": c[ETAG], "meta": c[META]}
            for i, c in ups
        ],
    )


ETAG, META = "$etag", "$metadata"


def lean_batches(rows: Rows3, batch: int) -> tuple[list, list, list]:
    """The stricter baseline: the store's own statement forms and encoding (columns, see
    ``graph.neo4j.columns``), without its reads, validation, ETag guards and counts; twins
    and relationships CREATEd, as the store does for what it read as absent.  Per batch,
    (cypher, parameters), built before the clock starts, like the plain rows."""
    from graph.neo4j.columns import Columns, group_by_names

    def columns(maps: list[dict]) -> Columns:
        (cols,), rest = group_by_names(maps, 1)
        assert not rest, "the workload's rows share their names"
        return cols

    twins, rels, ups = rows
    out: tuple[list, list, list] = ([], [], [])
    for part in chunks(twins, batch):
        cols = columns(part)
        out[0].append(
            (
                f"UNWIND range(0, $n - 1) AS i CREATE (n:Lean:Room:Space {cols.map_text()})",
                cols.params,
            )
        )
    for part in chunks(rels, batch):
        cols = columns([p for _, _, p in part])
        cols.params.update(s=[s for s, _, _ in part], t=[t for _, t, _ in part])
        cypher = (
            "UNWIND range(0, $n - 1) AS i "
            "MATCH (a:Lean {`$dtId`: $s[i]}), (b:Lean {`$dtId`: $t[i]}) "
            f"CREATE (a)-[r:contains {cols.map_text()}]->(b)"
        )
        out[1].append((cypher, cols.params))
    for part in chunks(ups, batch):
        cols = columns([c for _, c in part])
        cols.params["ids"] = [i for i, _ in part]
        cypher = (
            "UNWIND range(0, $n - 1) AS i MATCH (n:Lean {`$dtId`: $ids[i]}) "
            f"SET {cols.set_text('n')}"
        )
        out[2].append((cypher, cols.params))
    return out


def neo4j_interleaved(uri: str, w: Workload) -> dict[str, Rates]:
    """The store and the raw driver (plain and lean), batch by batch in turn on one server,
    each timed on its own: the server's speed drifts by 2x within minutes (and the machine
    is shared), so only interleaving gives all the same conditions.  The raw contenders
    write ``Raw`` and ``Lean`` nodes with their own constraint and index, beside the store's
    ``Twin`` nodes."""
    from neo4j import GraphDatabase

    wipe_neo4j(uri)
    rows = raw_neo4j_rows(w)
    plain, lean = plain_rows(rows), lean_batches(rows, w.batch)
    twins = [TwinUpsert(i, ROOM, p) for i, p in w.twins]
    rels = [RelationshipUpsert(s, i, "contains", t) for s, i, t in w.rels]
    ups = [PropertyUpdate(i, {"temperature": v}, ts) for i, v, ts in w.updates]
    # The raw driver gets the store's driver settings (graph.neo4j.driver.connect): no
    # server notifications, no telemetry message.
    with (
        GraphDatabase.driver(
            uri, auth=None, notifications_min_severity="OFF", telemetry_disabled=True
        ) as driver,
        open_graph(uri) as graph,
    ):
        for label in ("Raw", "Lean"):
            driver.execute_query(
                f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS "
                f"FOR (n:{label}) REQUIRE n.`$dtId` IS UNIQUE"
            )
            driver.execute_query(
                f"CREATE INDEX {label.lower()}_model IF NOT EXISTS FOR (n:{label}) ON (n.`$model`)"
            )
        graph.add_models(MODELS)
        settle_gc()  # see store_run

        def race(label: str, items: list, store: Callable[[list], list], k: int) -> list[float]:
            """The store on ``items`` against the raw contenders' workload ``k`` (0 twins,
            1 relationships, 2 updates); the rates of all, store first."""

            def store_batch(part: list) -> None:
                results = store(part)
                if not all(r.ok for r in results):
                    raise SystemExit(f"store refused: {next(r for r in results if not r.ok)}")

            contenders: list[tuple[Callable[[Any], object], list]] = [
                (store_batch, chunks(items, w.batch)),
                (lambda part: driver.execute_query(PLAIN[k], rows=part), chunks(plain[k], w.batch)),
                (lambda q: driver.execute_query(q[0], q[1]), lean[k]),
            ]
            spent = [0.0] * len(contenders)  # by the clock
            cpu = [0.0] * len(contenders)  # and this process's CPU time
            parts = [batches for _, batches in contenders]
            for b in range(len(parts[0])):
                for i in range(len(contenders)):
                    who = (b + i) % len(contenders)  # rotate who goes first
                    start, start_cpu = time.perf_counter(), time.process_time()
                    contenders[who][0](parts[who][b])
                    spent[who] += time.perf_counter() - start
                    cpu[who] += time.process_time() - start_cpu
            n = len(items)
            print(f"  {label}")
            for name, wall, used in zip(CONTENDERS, spent, cpu, strict=True):
                per_item = used / n * 1e6
                print(f"    {name:<10} {n / wall:>10,.0f} /s   client CPU {per_item:5.1f} us/item")
            return [n / wall for wall in spent]

        t = race("twins (batch upsert)", twins, graph.upsert_batch, 0)
        r = race("relationships (batch upsert)", rels, lambda p: graph.upsert_batch((), p), 1)
        u = race("property updates", ups, graph.apply_property_updates, 2)
        for label in ("raw", "lean"):
            driver.execute_query(f"DROP CONSTRAINT {label}_id IF EXISTS")
            driver.execute_query(f"DROP INDEX {label}_model IF EXISTS")
    wipe_neo4j(uri)
    return {name: (t[i], r[i], u[i]) for i, name in enumerate(CONTENDERS)}


def report(store: Rates, base: Rates, what: str = "baseline") -> None:
    """Store rate / baseline rate, and its inverse: how many times the baseline's time
    the store takes (the issue's "within 1.25x")."""
    for label, s, b in zip(
        ("twins", "relationships", "property updates"), store, base, strict=True
    ):
        print(f"  {label:<40} {s / b:>10.3f} x {what} (time {b / s:.3f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("embedded", "neo4j", "both"), default="both")
    ap.add_argument("--twins", type=int, default=20_000)
    ap.add_argument("--relationships", type=int, help="default: as many as twins")
    ap.add_argument("--updates", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--neo4j-uri", default=os.environ.get("GRAPHTWIN_TEST_NEO4J_URI"))
    args = ap.parse_args()
    n, u, b = args.twins, args.updates, args.batch
    r = args.twins if args.relationships is None else args.relationships
    print(f"{n:,} twins, {r:,} relationships, {u:,} updates, batch {b:,}")
    w = Workload.make(n, r, u, b)
    if args.backend in ("embedded", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print("embedded (networkx + SQLite WAL journal)")
            base = sqlite_baseline(Path(tmp), w)
            with open_graph(f"embedded:{tmp}/store") as graph:
                got = store_run(graph, w)
            report(got, base)
    if args.backend in ("neo4j", "both"):
        if not args.neo4j_uri:
            print("neo4j: skipped (no --neo4j-uri and no GRAPHTWIN_TEST_NEO4J_URI)")
            return
        print(f"neo4j ({args.neo4j_uri}; the database is wiped)")
        rates = neo4j_interleaved(args.neo4j_uri, w)
        report(rates["store"], rates["raw plain"], "raw plain (the issue's baseline)")
        report(rates["store"], rates["raw lean"], "raw lean (the store's own statements)")


if __name__ == "__main__":
    main()
