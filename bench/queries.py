"""Read latency: GraphQL vs the same question asked directly, on each store, same run.

    .venv/bin/python bench/queries.py [--backend embedded|neo4j|both] [--buildings N]
        [--iterations N] [--warmup N] [--neo4j-uri bolt://127.0.0.1:7687]

A generated building portfolio (default 50 buildings: about 100,000 twins):
sites of 10 buildings, each building 10 floors of 20 rooms, each room one
piece of equipment and 8 sensors (isLocatedIn the room).  For each typical
question, p50/p99 over ``--iterations`` random targets of:

- ``http``: the GraphQL request over HTTP (in-process ASGI through FastAPI's
  TestClient, whose thread hand-off alone costs a few ms on a loaded machine);
- ``graphql``: the same operation through the schema's ``execute``, awaited in a
  running event loop as the router awaits it, with a fresh request context each
  time: a compiled plan for a query seen before (server/graphql/compiled.py), else
  parsing, validation, limits and resolvers; without the HTTP client;
- ``direct``: the same question asked directly, returning what the GraphQL query
  selects (ids, depths and models for the walks; whole twin documents where
  properties are selected): on the embedded store, a breadth-first walk over the
  networkx graph (plus ``get_twins`` for documents); on Neo4j, one hand-written
  Cypher query through the driver;
- ``layer``: the query layer called directly with the operations and store reads
  the resolvers make (no GraphQL), to tell GraphQL's share from the query layer's;
- the ratio graphql p50 / direct p50 (target: at most 1.5), and http p50 / direct p50;
- CPU time (``time.process_time``) p50 of graphql and direct, and their ratio: on a
  shared, loaded machine wall-clock figures move by up to 2x between runs.

Every column runs ``--warmup`` times (default 10, on random targets) before it is
timed, as a server has answered a repeated question before: a query is compiled at
its second sighting (about 1 ms, once: it was each GraphQL p99), and Python
specialises new code over its first runs (in process, the first 10 to 20 GraphQL
runs of a small answer took up to twice the steady time; the direct answers warm up
too).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI
from fastapi.testclient import TestClient
from strawberry.types.graphql import OperationType

from graph import RelationshipUpsert, TwinGraph, TwinUpsert, open_graph
from queries import (
    Ancestors,
    Descendants,
    NeighborRows,
    Neighbors,
    Predicate,
    QueryEngine,
    Search,
    TwinFilter,
    make_steps,
)
from server.app import settle_gc
from server.auth import Authenticator
from server.graphql import Limits, create_graphql_router
from server.graphql.context import GraphQLContext
from server.graphql.schema import LiveSchema

NS = "dtmi:bench:q:"
SPACE, SITE, BUILDING, FLOOR, ROOM = (f"{NS}{n};1" for n in ("Space", "Site", "Building",
                                                                "Floor", "Room"))
EQUIPMENT, SENSOR = f"{NS}Equipment;1", f"{NS}Sensor;1"
CTX = "dtmi:dtdl:context;3"


def _prop(name: str, schema: str) -> dict[str, Any]:
    return {"@type": "Property", "name": name, "schema": schema, "writable": True}


MODELS: list[dict[str, Any]] = [
    {"@context": CTX, "@id": SPACE, "@type": "Interface",
     "contents": [_prop("name", "string"), _prop("area", "double"),
                  {"@type": "Relationship", "name": "contains", "target": SPACE}]},
    *({"@context": CTX, "@id": m, "@type": "Interface", "extends": SPACE} for m in
      (SITE, BUILDING, FLOOR)),
    {"@context": CTX, "@id": ROOM, "@type": "Interface", "extends": SPACE,
     "contents": [{"@type": "Telemetry", "name": "temperature", "schema": "double"}]},
    {"@context": CTX, "@id": EQUIPMENT, "@type": "Interface",
     "contents": [_prop("name", "string"),
                  {"@type": "Relationship", "name": "isLocatedIn", "target": SPACE}]},
    {"@context": CTX, "@id": SENSOR, "@type": "Interface", "extends": EQUIPMENT,
     "contents": [{"@type": "Telemetry", "name": "value", "schema": "double"}]},
]


def portfolio(buildings: int, seed: int = 7) -> Iterator[tuple[list[TwinUpsert],
                                                              list[RelationshipUpsert]]]:
    """One batch per building (site twins ride with their first building)."""
    rnd = random.Random(seed)
    for b in range(buildings):
        twins: list[TwinUpsert] = []
        rels: list[RelationshipUpsert] = []
        site = f"site{b // 10}"
        if b % 10 == 0:
            twins.append(TwinUpsert(site, SITE, {"name": site}))
        bid = f"b{b}"
        twins.append(TwinUpsert(bid, BUILDING, {"name": bid, "area": 10000.0}))
        rels.append(RelationshipUpsert(site, f"c-{bid}", "contains", bid))
        for f in range(10):
            fid = f"{bid}-f{f}"
            twins.append(TwinUpsert(fid, FLOOR, {"name": fid, "area": 1000.0}))
            rels.append(RelationshipUpsert(bid, f"c-{fid}", "contains", fid))
            for r in range(20):
                rid = f"{fid}-r{r}"
                temp = round(rnd.uniform(18.0, 30.0), 1)
                twins.append(TwinUpsert(rid, ROOM, {"name": rid, "area": 20.0 + r,
                                                    "temperature": temp}))
                rels.append(RelationshipUpsert(fid, f"c-{rid}", "contains", rid))
                for e in range(9):
                    eid = f"{rid}-e{e}"
                    model = EQUIPMENT if e == 0 else SENSOR
                    props: dict[str, Any] = {"name": eid}
                    if model == SENSOR:
                        props["value"] = round(rnd.uniform(0, 100), 2)
                    twins.append(TwinUpsert(eid, model, props))
                    rels.append(RelationshipUpsert(eid, "loc", "isLocatedIn", rid))
        yield twins, rels


def load(store: TwinGraph, buildings: int) -> int:
    store.add_models(MODELS)
    count = 0
    for twins, rels in portfolio(buildings):
        results = store.upsert_batch(twins, rels)
        bad = [r for r in results if not r.ok]
        if bad:
            raise SystemExit(f"load failed: {bad[:3]}")
        count += len(twins)
    return count


def _summary(wall: list[float], cpu: list[float]) -> tuple[float, float, float]:
    """(wall p50, wall p99, CPU p50) in ms."""
    wall.sort()
    return (statistics.median(wall), wall[min(len(wall) - 1, int(len(wall) * 0.99))],
            statistics.median(cpu))


def timed(fn: Callable[[], Any], iterations: int,
          warmup: int = 1) -> tuple[float, float, float]:
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(iterations):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return _summary(wall, cpu)


def timed_async(loop: asyncio.AbstractEventLoop, fn: Callable[[], Awaitable[Any]],
                iterations: int, warmup: int = 1) -> tuple[float, float, float]:
    """``timed`` for a coroutine, awaited inside one running event loop as a server
    awaits it (not paying for starting and stopping the loop around each call)."""
    async def run() -> tuple[float, float, float]:
        for _ in range(warmup):
            await fn()
        wall, cpu = [], []
        for _ in range(iterations):
            t0, c0 = time.perf_counter(), time.process_time()
            await fn()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - t0) * 1000)
        return _summary(wall, cpu)

    return loop.run_until_complete(run())


# ----------------------------------------------------------------- the questions

GQL_DESCENDANTS = """query($id: String!) { twin(id: $id) {
    descendants(first: 5000) { depth twin { id model } } } }"""
GQL_WARM_ROOMS = """query($id: String!, $room: String!) { twin(id: $id) {
    descendants(model: $room, where: [{property: "temperature", op: GT, value: 26}], first: 1000)
    { twin { id properties } } } }"""
GQL_IN_ROOM = """query($id: String!) { twin(id: $id) {
    neighbors(names: ["isLocatedIn"], direction: IN) { twin { id model properties } } } }"""
GQL_ANCESTORS = """query($id: String!) {
    twin(id: $id) { ancestors { depth twin { id model } } } }"""
GQL_SEARCH = """query($room: String!) { twins(filter: {model: $room,
    where: [{property: "temperature", op: GE, value: 29.5}]}, first: 100) { nodes { id } } }"""


def nx_bfs(g: Any, start: str, down: bool = True) -> list[tuple[str, int]]:
    """The raw networkx walk the direct embedded baseline uses (contains out, isLocatedIn in)."""
    out, frontier, seen, depth = [], [start], {start}, 0
    while frontier:
        depth += 1
        nxt = []
        for n in frontier:
            edges = ([(v, d) for _, v, d in g.out_edges(n, data="name") if d == "contains"] +
                     [(u, d) for u, _, d in g.in_edges(n, data="name") if d == "isLocatedIn"]
                     ) if down else (
                     [(u, d) for u, _, d in g.in_edges(n, data="name") if d == "contains"] +
                     [(v, d) for _, v, d in g.out_edges(n, data="name") if d == "isLocatedIn"])
            for other, _ in edges:
                if other not in seen:
                    seen.add(other)
                    out.append((other, depth))
                    nxt.append(other)
        frontier = nxt
    return out


def direct_embedded(store: Any) -> dict[str, Callable[[str], Any]]:
    # Each direct answer carries what the GraphQL query selects: ids, depths and
    # models for the walks (read from the graph), whole documents where properties
    # are asked for (``get_twins``).
    def descendants(bid: str) -> Any:
        with store.read_view() as g:
            nodes = g.nodes
            return [(t, d, nodes[t]["model"]) for t, d in nx_bfs(g, bid)]

    def warm_rooms(bid: str) -> Any:
        with store.read_view() as g:
            nodes = g.nodes
            ids = [t for t, _ in nx_bfs(g, bid)
                   if nodes[t]["model"] == ROOM and nodes[t]["props"].get("temperature", 0) > 26]
        return store.get_twins(ids)

    def in_room(rid: str) -> Any:
        with store.read_view() as g:
            ids = [u for u, _, d in g.in_edges(rid, data="name") if d == "isLocatedIn"]
        return store.get_twins(ids)

    def ancestors(sid: str) -> Any:
        with store.read_view() as g:
            nodes = g.nodes
            return [(t, d, nodes[t]["model"]) for t, d in nx_bfs(g, sid, down=False)]

    def search(_: str) -> Any:
        with store.read_view() as g:
            ids = sorted(t for t, a in g.nodes(data=True)
                         if a["model"] == ROOM and a["props"].get("temperature", 0) >= 29.5)[:100]
        return ids

    return {"descendants": descendants, "warm_rooms": warm_rooms, "in_room": in_room,
            "ancestors": ancestors, "search": search}


def direct_neo4j(uri: str) -> dict[str, Callable[[str], Any]]:
    from neo4j import GraphDatabase

    driver = GraphDatabase.driver(uri, auth=None)

    def q(text: str, **params: Any) -> Callable[[str], Any]:
        def run(target: str) -> Any:
            return driver.execute_query(text, id=target, **params, routing_="r").records
        return run

    # What a Neo4j user would write for this portfolio's two conventions (contains
    # downward, isLocatedIn upward): pruned variable-length expansions.
    return {
        "descendants": q("MATCH p = (x:Twin {`$dtId`: $id})-[:contains*0..50]->(s:Twin) "
                         "WITH DISTINCT s, length(p) AS depth "
                         "OPTIONAL MATCH (s)<-[:isLocatedIn]-(e:Twin) "
                         "RETURN s.`$dtId`, s.`$model`, depth, "
                         "collect([e.`$dtId`, e.`$model`]) AS located"),
        "warm_rooms": q("MATCH (x:Twin {`$dtId`: $id})-[:contains*1..50]->(d:Twin) "
                        "WHERE d.`$model` = $room AND d.temperature > 26 RETURN DISTINCT d",
                        room=ROOM),
        "in_room": q("MATCH (x:Twin {`$dtId`: $id})<-[:isLocatedIn]-(d) RETURN d"),
        "ancestors": q("MATCH (x:Twin {`$dtId`: $id})-[:isLocatedIn*0..1]->(r:Twin)"
                       "<-[:contains*0..50]-(a:Twin) WHERE a <> x "
                       "RETURN DISTINCT a.`$dtId`, a.`$model`"),
        "search": q("MATCH (n:Twin) WHERE n.`$model` = $room AND n.temperature >= 29.5 "
                    "RETURN n.`$dtId` AS id ORDER BY id LIMIT 100", room=ROOM),
    }


def query_layer(store: TwinGraph, engine: QueryEngine) -> dict[str, Callable[[str], Any]]:
    """The query layer called directly with the operations and store reads the
    GraphQL resolvers make for each question (no GraphQL): the ``layer`` column,
    which says how much of ``graphql`` is the query layer and how much GraphQL."""
    inline = hasattr(store, "read_view")  # in memory: documents come from get_twins
    warm = TwinFilter(model=ROOM, where=[Predicate("temperature", ">", 26)])
    hot = TwinFilter(model=ROOM, where=[Predicate("temperature", ">=", 29.5)])
    located_in = make_steps(["isLocatedIn"], "in")

    def documents(found: Any) -> Any:
        return store.get_twins([r.twin_id for r in found]) if inline else found

    def in_room(t: str) -> Any:
        # In memory the resolver reads the twins' plain fields in the walk (NeighborRows);
        # on Neo4j, Neighbors reads their documents in its own query.
        if inline:
            return engine.run(NeighborRows(t, located_in, TwinFilter()))
        return engine.run(Neighbors(t, located_in, TwinFilter(), True))

    return {
        "descendants": lambda t: engine.run(Descendants(t)),
        "warm_rooms": lambda t: documents(engine.run(
            Descendants(t, None, warm, documents=not inline))),
        "in_room": in_room,
        "ancestors": lambda t: engine.run(Ancestors(t)),
        "search": lambda _: engine.run(Search(hot, first=100)),
    }


def bench_store(label: str, store: TwinGraph, direct: dict[str, Callable[[str], Any]],
                buildings: int, iterations: int, warmup: int) -> list[tuple[Any, ...]]:
    app = FastAPI()
    app.include_router(create_graphql_router(store, auth=Authenticator.open_mode(),
                                             limits=Limits(max_cost=10_000_000)),
                       prefix="/graphql")
    client = TestClient(app)
    rnd = random.Random(1)
    limits = Limits(max_cost=10_000_000)
    schema = LiveSchema(store, limits)
    auth = Authenticator.open_mode()
    engine = QueryEngine(store)
    loop = asyncio.new_event_loop()

    async def execute(query: str, **variables: Any) -> Any:
        # What the router does per request: a context, then the schema's execute
        # (a plan for a query seen before, else strawberry and graphql-core).
        ctx = GraphQLContext(store=store, engine=engine, auth=auth, limits=limits,
                             principal=auth.authenticate(None))
        result = await schema.execute(query, variable_values=variables, context_value=ctx,
                                      allowed_operation_types=OperationType.from_http("POST"))
        if result.errors:
            raise SystemExit(f"GraphQL error: {result.errors}")
        return result.data

    def pick_building() -> str:
        return f"b{rnd.randrange(buildings)}"

    def pick_room() -> str:
        return f"b{rnd.randrange(buildings)}-f{rnd.randrange(10)}-r{rnd.randrange(20)}"

    def pick_sensor() -> str:
        return f"{pick_room()}-e{rnd.randrange(1, 9)}"

    def http(query: str, **variables: Any) -> Any:
        resp = client.post("/graphql", json={"query": query, "variables": variables})
        body = resp.json()
        if "errors" in body:
            raise SystemExit(f"GraphQL error: {body['errors']}")
        return body

    questions = [
        ("descendants of a building", "descendants", pick_building, GQL_DESCENDANTS,
         lambda t: {"id": t}),
        ("rooms of a building warmer than 26 C", "warm_rooms", pick_building, GQL_WARM_ROOMS,
         lambda t: {"id": t, "room": ROOM}),
        ("what is located in a room", "in_room", pick_room, GQL_IN_ROOM, lambda t: {"id": t}),
        ("ancestors of a sensor", "ancestors", pick_sensor, GQL_ANCESTORS, lambda t: {"id": t}),
        ("search: rooms >= 29.5 C (first 100)", "search", pick_room, GQL_SEARCH,
         lambda _: {"room": ROOM}),
    ]
    rows = []
    layer = query_layer(store, engine)
    collections: list[list[int]] = []  # cyclic GC runs by generation, per graphql timing
    print(f"{'store':9} {'question':38} {'graphql p50/p99 ms':>19} {'http p50/p99 ms':>17} "
          f"{'direct p50/p99 ms':>19} {'gql/dir':>7} {'http/dir':>8} {'layer p50':>9} "
          f"{'CPU p50 ms: gql':>15} {'direct':>7} {'layer':>7} {'gql/dir':>7}")
    for title, key, pick, query, variables in questions:
        before = [g["collections"] for g in gc.get_stats()]
        g50, g99, gc_cpu = timed_async(
            loop, lambda q=query, p=pick, v=variables: execute(q, **v(p())), iterations, warmup)
        collections.append([g["collections"] - b for g, b in zip(gc.get_stats(), before,
                                                                  strict=True)])
        h50, h99, _ = timed(lambda q=query, p=pick, v=variables: http(q, **v(p())), iterations,
                            warmup)
        d50, d99, dc = timed(lambda pick=pick, key=key: direct[key](pick()), iterations, warmup)
        l50, _, lc = timed(lambda pick=pick, key=key: layer[key](pick()), iterations, warmup)
        rows.append((title, g50, g99, h50, h99, d50, d99, gc_cpu, dc, l50, lc))
        print(f"{label:9} {title:38} {g50:9.2f}/{g99:9.2f} {h50:8.2f}/{h99:8.2f} "
              f"{d50:9.2f}/{d99:9.2f} {g50 / d50:7.2f} {h50 / d50:8.2f} {l50:9.2f} "
              f"{gc_cpu:15.3f} {dc:7.3f} {lc:7.3f} {gc_cpu / max(dc, 1e-6):7.2f}", flush=True)
    loop.close()
    # What could make one run's graphql figures an outlier: collections of the older
    # generations inside its timings, or plans that gave the query to graphql-core.
    plans = schema.current().plans
    print(f"{label:9} graphql timings: GC runs (gen 0/1/2) per question "
          f"{' '.join('/'.join(map(str, c)) for c in collections)}; plans answered "
          f"{plans.answered}, gave up {plans.fell_back}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["embedded", "neo4j", "both"], default="embedded")
    ap.add_argument("--buildings", type=int, default=50)
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10,
                    help="untimed runs of each column and question first (default 10)")
    ap.add_argument("--neo4j-uri", default=os.environ.get("GRAPHTWIN_TEST_NEO4J_URI"))
    ap.add_argument("--reuse-neo4j", action="store_true",
                    help="skip wiping and loading Neo4j (a previous run loaded the same portfolio)")
    args = ap.parse_args()

    if args.backend in ("embedded", "both"):
        with tempfile.TemporaryDirectory() as tmp, open_graph(f"embedded:{tmp}/s") as store:
            t0 = time.perf_counter()
            n = load(store, args.buildings)
            print(f"embedded: loaded {n} twins in {time.perf_counter() - t0:.1f} s", flush=True)
            settle_gc()  # as `graphtwin serve` does after loading
            bench_store("embedded", store, direct_embedded(store), args.buildings, args.iterations,
                        args.warmup)
            # The query layer alone (no GraphQL, no hydration), for reference.
            engine = QueryEngine(store)
            d50, _, _ = timed(lambda: engine.run(Descendants("b0")), args.iterations)
            print(f"embedded  queries.Descendants alone (ids+depth): p50 {d50:.2f} ms")
    if args.backend in ("neo4j", "both"):
        if not args.neo4j_uri:
            raise SystemExit("--neo4j-uri or GRAPHTWIN_TEST_NEO4J_URI is needed for Neo4j")
        from neo4j import GraphDatabase

        if not args.reuse_neo4j:
            with GraphDatabase.driver(args.neo4j_uri, auth=None) as driver, driver.session() as s:
                s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS").consume()
        with open_graph(args.neo4j_uri) as store:
            t0 = time.perf_counter()
            n = store.count_twins() if args.reuse_neo4j else load(store, args.buildings)
            print(f"neo4j: {n} twins ready in {time.perf_counter() - t0:.1f} s", flush=True)
            settle_gc()  # as `graphtwin serve` does after loading, either store
            bench_store("neo4j", store, direct_neo4j(args.neo4j_uri), args.buildings,
                        args.iterations, args.warmup)


if __name__ == "__main__":
    main()
