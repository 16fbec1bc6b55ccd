"""Traversals: neighbours, reachable twins, path expansion, shortest path.

A traversal walks *steps*: each step is ``(names, direction)``, relationship
names (None for any) followed ``out`` (source to target), ``in`` or ``both``.
Several steps combine as alternatives at every hop, which is how the
containment hierarchy follows ``contains`` forwards and ``isPartOf`` backwards
in one walk.

Semantics shared by both stores (Cypher's):

- a relationship is used at most once per path (trail semantics); a
  self-relationship is one hop back to the same twin, and counts once even
  when walked ``both`` ways;
- reachable twins carry their shortest distance; the start twin is never its
  own result except at ``min_hops=0`` (depth 0), even on a cycle;
- a missing start twin raises ``NotFoundError``;
- results are sorted (twins by depth then id, paths by node ids then
  relationship ids), so both stores return equal lists.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.errors import NotFoundError
from graph.layout import NX_ETAG, NX_MODEL, NX_NAME, NX_PROPS, R_ID, TWIN_LABEL
from graph.neo4j.codec import twin_from_map
from queries.base import Operation, QueryContext, RunRead
from queries.spec import NODE_ID, CypherBuilder, QueryError, TwinFilter, where_clause
from queries.steps import (
    Hop,
    Neighbor,
    Path,
    Reached,
    Step,
    cypher_hop,
    cypher_segment,
    make_steps,
    neighbor,
    reached,
    start_match,
)
from queries.walk import cypher_matching, cypher_reached, onward_models

__all__ = [
    "Hop",
    "Neighbor",
    "NeighborRow",
    "NeighborRows",
    "Neighbors",
    "Path",
    "Paths",
    "Reach",
    "Reached",
    "ShortestPath",
    "Step",
    "make_steps",
    "onward_models",
]

# --------------------------------------------------------------------- embedded


def nx_edges(g: Any, node: str, steps: Sequence[Step]) -> Iterator[tuple[str, str, str, str]]:
    """``(source, rel id, name, far twin)`` of each relationship of ``node`` some step
    allows, each relationship once.

    Reads networkx's adjacency dicts (``_succ``/``_pred``) directly: the public
    edge views cost more than the walk itself on a 2,000-twin subtree.
    """
    succ, pred = g._succ, g._pred
    dedup = len(steps) > 1 or steps[0][1] == "both"
    seen: set[tuple[str, str]] = set()
    for names, direction in steps:
        if direction != "in":
            for v, keyed in succ[node].items():
                for key, data in keyed.items():
                    name = data[NX_NAME]
                    if names is None or name in names:
                        if dedup:
                            if (node, key) in seen:
                                continue
                            seen.add((node, key))
                        yield node, key, name, v
        if direction != "out":
            for u, keyed in pred[node].items():
                for key, data in keyed.items():
                    name = data[NX_NAME]
                    if names is None or name in names:
                        if dedup:
                            if (u, key) in seen:
                                continue
                            seen.add((u, key))
                        yield u, key, name, u


def nx_hops(g: Any, node: str, steps: Sequence[Step]) -> Iterator[tuple[Hop, str]]:
    """Each relationship of ``node`` that some step allows, once, with the far twin."""
    for source, key, name, other in nx_edges(g, node, steps):
        target = node if other == source and source != node else other
        yield Hop(source, key, name, target), other


def nx_require(g: Any, twin_id: str) -> None:
    try:  # ``twin_id in g`` without Graph.__contains__'s Python call
        found = twin_id in g._node
    except TypeError:  # unhashable: no such twin, as networkx answers
        found = False
    if not found:
        raise NotFoundError(f"twin {twin_id!r} does not exist")


# (far twin, relationship source, relationship id, name, target, far twin's plain
# document or None): one neighbour as NeighborRows hands it out.
NeighborRow = tuple[str, str, str, str, str, dict[str, Any] | None]


def plain_document(twin_id: str, model: str, etag: str,
                   properties: Mapping[str, Any]) -> dict[str, Any]:
    """A twin's plain fields, named as ``graph.base.Twin`` names them; ``properties``
    copied (top level), so the caller may change it without touching the store."""
    return {"id": twin_id, "model": model, "etag": etag, "properties": dict(properties)}


def nx_neighbor_rows(g: Any, twin_id: str, steps: Sequence[Step], flt: TwinFilter,
                     ctx: QueryContext, documents: bool) -> list[NeighborRow]:
    """The neighbours ``Neighbors`` finds, as sorted rows (see ``NeighborRow``); with
    ``documents``, each far twin's plain document, built once per far twin.

    Tuples sort as ``Neighbor`` does (far twin, then the hop's source, id, name and
    target) and never reach the document: a relationship is listed once, so no two
    rows share their source and id.  One direction (the usual case: a room's
    contents) reads the adjacency dict in place, without ``nx_edges``' generator.
    """
    nx_require(g, twin_id)
    match = None if flt.is_empty else flt.matcher(ctx.registry)
    nodes = g._node  # the attribute dicts, without the NodeView wrapper
    rows: list[NeighborRow] = []
    if len(steps) == 1 and steps[0][1] != "both":
        names, direction = steps[0]
        inward = direction == "in"
        append = rows.append
        for other, keyed in (g._pred if inward else g._succ)[twin_id].items():
            attrs = doc = None  # read at the first relationship a step allows
            source, target = (other, twin_id) if inward else (twin_id, other)
            for key, data in keyed.items():
                name = data[NX_NAME]
                if names is not None and name not in names:
                    continue
                if attrs is None:
                    attrs = nodes[other]
                    if match is not None and not match(other, attrs):
                        break
                    if documents:  # plain_document, written out: no call per neighbour
                        doc = {"id": other, "model": attrs[NX_MODEL], "etag": attrs[NX_ETAG],
                               "properties": attrs[NX_PROPS].copy()}  # stored: a dict
                append((other, source, key, name, target, doc))
    else:
        docs: dict[str, dict[str, Any] | None] = {}
        for hop, other in nx_hops(g, twin_id, steps):
            if other not in docs:
                attrs = nodes[other]
                if match is not None and not match(other, attrs):
                    continue
                docs[other] = plain_document(other, attrs[NX_MODEL], attrs[NX_ETAG],
                                             attrs[NX_PROPS]) if documents else None
            rows.append((other, hop.source, hop.id, hop.name, hop.target, docs[other]))
    rows.sort()
    return rows


def nx_distances(g: Any, start: str, steps: Sequence[Step], max_hops: int) -> dict[str, int]:
    """Breadth-first shortest distances from ``start`` (excluded) up to ``max_hops``.

    Distances only need each neighbour once, not each relationship (``nx_edges``):
    reading the adjacency dicts in place, a neighbour already reached is skipped
    before its relationships are looked at, which halves a building's walk (5 ->
    2.2 ms; a site's 20,110 twins 71 -> 44 ms).
    """
    succ, pred = g._succ, g._pred
    plan = [(names, adj) for names, d in steps
            for adj in ((succ,) if d == "out" else (pred,) if d == "in" else (succ, pred))]
    dist = {start: 0}
    frontier = [start]
    depth = 0
    while frontier and depth < max_hops:
        depth += 1
        nxt: list[str] = []
        for node in frontier:
            for names, adj in plan:
                for other, keyed in adj[node].items():
                    if other in dist:
                        continue
                    if names is not None:  # some relationship to ``other`` has a wanted name
                        for data in keyed.values():
                            if data[NX_NAME] in names:
                                break
                        else:
                            continue
                    dist[other] = depth
                    nxt.append(other)
        frontier = nxt
    del dist[start]
    return dist


# ------------------------------------------------------------------------ cypher


HOPS_EXPR = (
    f"[r IN relationships(p) | [startNode(r).{NODE_ID}, r.`{R_ID}`, type(r), endNode(r).{NODE_ID}]]"
)
NODES_EXPR = f"[n IN nodes(p) | n.{NODE_ID}]"


def path_from_row(nodes: Sequence[str], hops: Sequence[Sequence[str]]) -> Path:
    return Path(tuple(nodes), tuple(Hop(*h) for h in hops))


def check_hops(lo: int, hi: int, ctx: QueryContext, what: str = "hops") -> None:
    if lo < 0 or hi < lo:
        raise QueryError(f"{what}: need 0 <= min ({lo}) <= max ({hi})")
    if hi > ctx.max_depth:
        raise QueryError(f"{what}: max {hi} is beyond the traversal cap max_depth={ctx.max_depth}")


# ---------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Neighbors(Operation[list[Neighbor]]):
    """Twins one relationship away, with the relationship; filter on the far twin."""

    twin_id: str
    steps: tuple[Step, ...] = ((None, "out"),)
    filter: TwinFilter = field(default_factory=TwinFilter)
    documents: bool = False  # Neo4j: read the far twins' documents in the same query

    def embedded(self, g: Any, ctx: QueryContext) -> list[Neighbor]:
        rows = nx_neighbor_rows(g, self.twin_id, self.steps, self.filter, ctx, False)
        return [neighbor(t, s, rid, name, target) for t, s, rid, name, target, _ in rows]

    def cypher(self, ctx: QueryContext) -> tuple[str, dict[str, Any]]:
        q = CypherBuilder()
        hop, cond = cypher_hop(self.steps, q, "r", "x")
        conds = ([cond] if cond else []) + self.filter.cypher("y", q, ctx.registry)
        # One row (the count says whether the start exists): the driver costs about
        # 20 us per record, a list entry a fraction of that.
        text = (
            f"{start_match(q, self.twin_id)}\n"
            f"OPTIONAL MATCH (x){hop}(y:{TWIN_LABEL}) {where_clause(conds)}\n"
            f"RETURN count(*) AS n, collect(CASE WHEN y IS NOT NULL THEN [y.{NODE_ID}, "
            f"startNode(r).{NODE_ID}, r.`{R_ID}`, type(r), endNode(r).{NODE_ID}"
            + (", properties(y)" if self.documents else "") + "] END) AS found"
        )
        return text, q.params

    def from_rows(self, rows: Sequence[Mapping[str, Any]], ctx: QueryContext) -> list[Neighbor]:
        if not rows or not rows[0]["n"]:
            raise NotFoundError(f"twin {self.twin_id!r} does not exist")
        docs = self.documents
        found = {
            (s, rid): Neighbor(y, Hop(s, rid, name, t), twin_from_map(more[0]) if docs else None)
            for y, s, rid, name, t, *more in rows[0]["found"]
        }
        return sorted(found.values())


@dataclass(frozen=True)
class NeighborRows(Operation[list[NeighborRow]]):
    """``Neighbors`` with each far twin's plain document, as rows: ``(far twin,
    source, relationship id, name, target, {"id", "model", "etag", "properties"})``
    in the same order.

    For a caller that wants only those fields (a GraphQL ``neighbors { twin { id
    model properties } }``): on the embedded store they are read in the walk's own
    read view, without building a ``graph.base.Twin`` per neighbour and without a
    second read; on Neo4j it is ``Neighbors(documents=True)``.  ``properties`` is
    the caller's own (top-level) copy.
    """

    twin_id: str
    steps: tuple[Step, ...] = ((None, "out"),)
    filter: TwinFilter = field(default_factory=TwinFilter)

    def embedded(self, g: Any, ctx: QueryContext) -> list[NeighborRow]:
        return nx_neighbor_rows(g, self.twin_id, self.steps, self.filter, ctx, True)

    def cypher(self, ctx: QueryContext) -> tuple[str, dict[str, Any]]:
        return Neighbors(self.twin_id, self.steps, self.filter, True).cypher(ctx)

    def from_rows(self, rows: Sequence[Mapping[str, Any]],
                  ctx: QueryContext) -> list[NeighborRow]:
        found = Neighbors(self.twin_id, self.steps, self.filter, True).from_rows(rows, ctx)
        return [(n.twin_id, n.hop.source, n.hop.id, n.hop.name, n.hop.target,
                 plain_document(n.twin_id, n.document.model, n.document.etag,
                                n.document.properties)) for n in found]


@dataclass(frozen=True)
class Reach(Operation[list[Reached]]):
    """Distinct twins ``min_hops..max_hops`` away (shortest distance), filtered."""

    twin_id: str
    steps: tuple[Step, ...] = ((None, "out"),)
    min_hops: int = 1
    max_hops: int | None = None  # None: the cap
    filter: TwinFilter = field(default_factory=TwinFilter)
    # Read the found twins' documents in the walk's own queries, where that saves a
    # read (Neo4j); the embedded store's documents are a dictionary away.
    documents: bool = False

    def hi(self, ctx: QueryContext) -> int:
        return ctx.max_depth if self.max_hops is None else self.max_hops

    def check(self, ctx: QueryContext) -> None:
        check_hops(self.min_hops, self.hi(ctx), ctx)

    def embedded(self, g: Any, ctx: QueryContext) -> list[Reached]:
        nx_require(g, self.twin_id)
        dist = nx_distances(g, self.twin_id, self.steps, self.hi(ctx))
        if self.min_hops == 0:
            dist[self.twin_id] = 0
        nodes = g._node  # the attribute dicts, without the NodeView wrapper
        lo = self.min_hops
        if self.filter.is_empty:  # no call per twin (a building's subtree: 2,010)
            found = sorted((d, t) for t, d in dist.items() if d >= lo)
        else:
            match = self.filter.matcher(ctx.registry)
            found = sorted((d, t) for t, d in dist.items() if d >= lo and match(t, nodes[t]))
        return [reached(d, t, nodes[t][NX_MODEL]) for d, t in found]

    def run_cypher(self, run_read: RunRead, ctx: QueryContext) -> list[Reached]:
        flt = None if self.filter.is_empty else self.filter
        found = cypher_reached(run_read, self.twin_id, self.steps, self.hi(ctx), flt, ctx,
                               self.documents)
        if self.min_hops > 1:
            found = [r for r in found if r.depth >= self.min_hops]
        if self.min_hops == 0 and (flt is None or cypher_matching(
                run_read, [self.twin_id], flt, ctx)):
            found.insert(0, Reached(0, self.twin_id))  # depth 0 sorts first
        return found


@dataclass(frozen=True)
class Paths(Operation[list[Path]]):
    """Every path (trail) of ``min_hops..max_hops`` from a twin, ending on a matching twin.

    At most ``limit`` (capped by ``max_paths``) are returned; when more exist, the
    first ``limit`` in sorted order are only guaranteed on the embedded store.
    """

    twin_id: str
    steps: tuple[Step, ...] = ((None, "out"),)
    min_hops: int = 1
    max_hops: int = 3
    filter: TwinFilter = field(default_factory=TwinFilter)
    limit: int | None = None

    def check(self, ctx: QueryContext) -> None:
        check_hops(self.min_hops, self.max_hops, ctx)

    def cap(self, ctx: QueryContext) -> int:
        return ctx.max_paths if self.limit is None else min(self.limit, ctx.max_paths)

    def embedded(self, g: Any, ctx: QueryContext) -> list[Path]:
        nx_require(g, self.twin_id)
        match = self.filter.matcher(ctx.registry)
        nodes_attr = g.nodes
        out: list[Path] = []
        nodes: list[str] = [self.twin_id]
        hops: list[Hop] = []
        used: set[tuple[str, str]] = set()

        def walk(node: str) -> None:
            if len(hops) >= self.min_hops and match(node, nodes_attr[node]):
                out.append(Path(tuple(nodes), tuple(hops)))
            if len(hops) == self.max_hops:
                return
            for hop, other in nx_hops(g, node, self.steps):
                if (hop.source, hop.id) in used:
                    continue
                used.add((hop.source, hop.id))
                nodes.append(other)
                hops.append(hop)
                walk(other)
                hops.pop()
                nodes.pop()
                used.discard((hop.source, hop.id))

        walk(self.twin_id)
        out.sort()
        return out[: self.cap(ctx)]

    def cypher(self, ctx: QueryContext) -> tuple[str, dict[str, Any]]:
        q = CypherBuilder()
        seg = cypher_segment(self.steps, q, self.min_hops, self.max_hops)
        conds = self.filter.cypher("d", q, ctx.registry)
        text = (
            f"{start_match(q, self.twin_id)}\n"
            f"OPTIONAL MATCH p = (x){seg}(d:{TWIN_LABEL}) {where_clause(conds)}\n"
            f"WITH p LIMIT {q.param(self.cap(ctx))}\n"
            f"RETURN count(*) AS n, collect(CASE WHEN p IS NOT NULL "
            f"THEN [{NODES_EXPR}, {HOPS_EXPR}] END) AS found"  # one row: see Neighbors
        )
        return text, q.params

    def from_rows(self, rows: Sequence[Mapping[str, Any]], ctx: QueryContext) -> list[Path]:
        if not rows or not rows[0]["n"]:
            raise NotFoundError(f"twin {self.twin_id!r} does not exist")
        paths = sorted(path_from_row(nodes, hops) for nodes, hops in rows[0]["found"])
        return paths[: self.cap(ctx)]


@dataclass(frozen=True)
class ShortestPath(Operation[Path | None]):
    """One shortest path between two twins, or None.  Among equally short paths
    the embedded store picks deterministically (breadth first, neighbours by id)
    and Neo4j picks any, so only the length is comparable across stores."""

    source: str
    target: str
    steps: tuple[Step, ...] = ((None, "out"),)
    max_hops: int | None = None

    def hi(self, ctx: QueryContext) -> int:
        return ctx.max_depth if self.max_hops is None else self.max_hops

    def check(self, ctx: QueryContext) -> None:
        check_hops(1, self.hi(ctx), ctx)

    def embedded(self, g: Any, ctx: QueryContext) -> Path | None:
        nx_require(g, self.source)
        nx_require(g, self.target)
        if self.source == self.target:
            return Path((self.source,), ())
        parent: dict[str, tuple[Hop, str] | None] = {self.source: None}
        frontier = deque([(self.source, 0)])
        while frontier:
            node, depth = frontier.popleft()
            if depth >= self.hi(ctx):
                continue
            for hop, other in sorted(nx_hops(g, node, self.steps), key=lambda h: (h[1], h[0])):
                if other in parent:
                    continue
                parent[other] = (hop, node)
                if other == self.target:
                    return _unwind(parent, other)
                frontier.append((other, depth + 1))
        return None

    def cypher(self, ctx: QueryContext) -> tuple[str, dict[str, Any]]:
        q = CypherBuilder()
        seg = cypher_segment(self.steps, q, 1, self.hi(ctx))
        text = (
            f"OPTIONAL MATCH (a:{TWIN_LABEL} {{{NODE_ID}: {q.param(self.source)}}})\n"
            f"OPTIONAL MATCH (b:{TWIN_LABEL} {{{NODE_ID}: {q.param(self.target)}}})\n"
            f"OPTIONAL MATCH p = SHORTEST 1 (a){seg}(b)\n"
            f"RETURN a IS NOT NULL AS has_a, b IS NOT NULL AS has_b, p IS NOT NULL AS found, "
            f"{NODES_EXPR} AS nodes, {HOPS_EXPR} AS hops LIMIT 1"
        )
        return text, q.params

    def from_rows(self, rows: Sequence[Mapping[str, Any]], ctx: QueryContext) -> Path | None:
        row = rows[0]
        for present, twin in ((row["has_a"], self.source), (row["has_b"], self.target)):
            if not present:
                raise NotFoundError(f"twin {twin!r} does not exist")
        if self.source == self.target:
            return Path((self.source,), ())
        return path_from_row(row["nodes"], row["hops"]) if row["found"] else None


def _unwind(parent: Mapping[str, tuple[Hop, str] | None], end: str) -> Path:
    nodes, hops = [end], []
    link = parent[end]
    while link is not None:
        hop, prev = link
        hops.append(hop)
        nodes.append(prev)
        link = parent[prev]
    return Path(tuple(reversed(nodes)), tuple(reversed(hops)))
