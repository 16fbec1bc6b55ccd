"""Write throughput of the twin graph store, each next to a raw baseline measured in the same run.

    .venv/bin/python bench/graph_write.py [--backend embedded|neo4j|both] [--twins N]
        [--updates N] [--batch N] [--neo4j-uri bolt://127.0.0.1:7687]

Embedded: batch upsert of twins and relationships, then single-property updates
(``apply_property_updates``, batches of ``--batch``, newest-wins, validated and
journalled), against raw ``sqlite3`` ``executemany`` of the same JSON documents
in the same batches (one transaction per batch, WAL, synchronous=NORMAL).
Neo4j: the same, against the raw driver running ``UNWIND $rows ... MERGE/SET``
with the same batch size.  The ratio is store rate / baseline rate.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph import PropertyUpdate, RelationshipUpsert, TwinGraph, TwinUpsert, open_graph

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
    start = time.perf_counter()
    fn()
    rate = count / (time.perf_counter() - start)
    print(f"  {label:<44} {rate:>12,.0f} /s")
    return rate


def ratio(label: str, store: float, base: float) -> None:
    print(f"  {label:<44} {store / base:>12.2f} x baseline")


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def store_run(graph: TwinGraph, n: int, updates: int, batch: int) -> tuple[float, float, float]:
    graph.add_models(MODELS)
    twins = [
        TwinUpsert(f"room{i}", ROOM, {"name": f"Room {i}", "area": float(i)}) for i in range(n)
    ]
    rels = [
        RelationshipUpsert(f"room{i}", f"c{i}", "contains", f"room{(i * 7 + 1) % n}")
        for i in range(n)
    ]

    def run(items: list, call: Callable[[list], list]) -> None:
        for part in chunks(items, batch):
            results = call(part)
            if not all(r.ok for r in results):
                raise SystemExit(f"store refused an item: {next(r for r in results if not r.ok)}")

    before = rss_mib()
    t = timed("store: batch upsert, twins", n, lambda: run(twins, lambda p: graph.upsert_batch(p)))
    r = timed(
        "store: batch upsert, relationships",
        n,
        lambda: run(rels, lambda p: graph.upsert_batch((), p)),
    )
    grown = rss_mib() - before
    label = "process memory grown by the twins and relationships"
    print(f"  {label:<52} {grown:>6,.0f} MiB ({grown * 2**20 / n:,.0f} bytes per twin)")
    ups = [
        PropertyUpdate(
            f"room{i % n}", {"temperature": float(i)}, f"2026-01-01T00:00:{i % 60:02d}.{i:06d}Z"
        )
        for i in range(updates)
    ]
    u = timed(
        "store: apply_property_updates", updates, lambda: run(ups, graph.apply_property_updates)
    )
    return t, r, u


def sqlite_baseline(
    directory: Path, n: int, updates: int, batch: int
) -> tuple[float, float, float]:
    db = sqlite3.connect(directory / "raw.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE twins (id TEXT PRIMARY KEY, doc BLOB) WITHOUT ROWID")
    db.execute(
        "CREATE TABLE rels (source TEXT, id TEXT, doc BLOB, PRIMARY KEY (source, id)) WITHOUT ROWID"
    )

    def write(sql: str, rows: list) -> None:
        for part in chunks(rows, batch):
            db.execute("BEGIN")
            db.executemany(sql, part)
            db.execute("COMMIT")

    twins = [
        (f"room{i}", orjson.dumps({"m": ROOM, "p": {"name": f"Room {i}", "area": float(i)}}))
        for i in range(n)
    ]
    rels = [
        (
            f"room{i}",
            f"c{i}",
            orjson.dumps({"n": "contains", "t": f"room{(i * 7 + 1) % n}", "p": {}}),
        )
        for i in range(n)
    ]
    t = timed(
        "raw sqlite: twins", n, lambda: write("INSERT OR REPLACE INTO twins VALUES (?, ?)", twins)
    )
    r = timed(
        "raw sqlite: relationships",
        n,
        lambda: write("INSERT OR REPLACE INTO rels VALUES (?, ?, ?)", rels),
    )
    ups = [
        (f"room{i % n}", orjson.dumps({"m": ROOM, "p": {"temperature": float(i)}}))
        for i in range(updates)
    ]
    u = timed(
        "raw sqlite: property updates",
        updates,
        lambda: write("INSERT OR REPLACE INTO twins VALUES (?, ?)", ups),
    )
    db.close()
    return t, r, u


def wipe_neo4j(uri: str) -> None:
    """Empty the database in batches (one big delete exceeds a small server's memory pool)."""
    from neo4j import GraphDatabase

    with GraphDatabase.driver(uri, auth=None) as driver, driver.session() as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()


def neo4j_baseline(uri: str, n: int, updates: int, batch: int) -> tuple[float, float, float]:
    from neo4j import GraphDatabase

    wipe_neo4j(uri)
    with GraphDatabase.driver(uri, auth=None) as driver:
        driver.execute_query(
            "CREATE CONSTRAINT raw_id IF NOT EXISTS FOR (n:Raw) REQUIRE n.id IS UNIQUE"
        )

        def write(query: str, rows: list) -> None:
            for part in chunks(rows, batch):
                driver.execute_query(query, rows=part)

        twins = [{"id": f"room{i}", "name": f"Room {i}", "area": float(i)} for i in range(n)]
        rels = [{"s": f"room{i}", "t": f"room{(i * 7 + 1) % n}", "id": f"c{i}"} for i in range(n)]
        ups = [{"id": f"room{i % n}", "v": float(i)} for i in range(updates)]
        t = timed(
            "raw driver UNWIND: twins",
            n,
            lambda: write("UNWIND $rows AS row MERGE (n:Raw {id: row.id}) SET n += row", twins),
        )
        r = timed(
            "raw driver UNWIND: relationships",
            n,
            lambda: write(
                "UNWIND $rows AS row MATCH (a:Raw {id: row.s}), (b:Raw {id: row.t}) "
                "MERGE (a)-[r:contains {rid: row.id}]->(b)",
                rels,
            ),
        )
        u = timed(
            "raw driver UNWIND: property updates",
            updates,
            lambda: write(
                "UNWIND $rows AS row MATCH (n:Raw {id: row.id}) SET n.temperature = row.v", ups
            ),
        )
        driver.execute_query("DROP CONSTRAINT raw_id IF EXISTS")
    wipe_neo4j(uri)
    return t, r, u


def report(store: tuple[float, float, float], base: tuple[float, float, float]) -> None:
    for label, s, b in zip(
        ("twins", "relationships", "property updates"), store, base, strict=True
    ):
        ratio(label, s, b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("embedded", "neo4j", "both"), default="both")
    ap.add_argument("--twins", type=int, default=20_000)
    ap.add_argument("--updates", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--neo4j-uri", default=os.environ.get("GRAPHTWIN_TEST_NEO4J_URI"))
    args = ap.parse_args()
    n, u, b = args.twins, args.updates, args.batch
    print(f"{n:,} twins, {n:,} relationships, {u:,} updates, batch {b:,}")
    if args.backend in ("embedded", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print("embedded (networkx + SQLite WAL journal)")
            base = sqlite_baseline(Path(tmp), args.twins, args.updates, args.batch)
            with open_graph(f"embedded:{tmp}/store") as graph:
                got = store_run(graph, args.twins, args.updates, args.batch)
            report(got, base)
    if args.backend in ("neo4j", "both"):
        if not args.neo4j_uri:
            print("neo4j: skipped (no --neo4j-uri and no GRAPHTWIN_TEST_NEO4J_URI)")
            return
        print(f"neo4j ({args.neo4j_uri}; the database is wiped)")
        base = neo4j_baseline(args.neo4j_uri, args.twins, args.updates, args.batch)
        with open_graph(args.neo4j_uri) as graph:
            got = store_run(graph, args.twins, args.updates, args.batch)
        wipe_neo4j(args.neo4j_uri)
        report(got, base)


if __name__ == "__main__":
    main()
