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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.errors import NotFoundError
from graph.layout import N_MODEL, NX_MODEL, NX_NAME, R_ID, TWIN_LABEL
from graph.neo4j.codec import twin_from_map
from ontology.model import ModelRegistry
from ontology.model import Relationship as RelationshipDecl
from queries.base import Operation, QueryContext, RunRead
from queries.spec import (
    NODE_ID,
    CypherBuilder,
    Direction,
    QueryError,
    TwinFilter,
    check_direction,
    check_names,
    where_clause,
)

__all__ = [
    "Hop",
    "Neighbor",
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

Step = tuple[tuple[str, ...] | None, Direction]


def make_steps(names: Sequence[str] | str | None, direction: str = "out") -> tuple[Step, ...]:
    return ((check_names(names, "relationship name"), check_direction(direction)),)


@dataclass(frozen=True, slots=True, order=True)
class Hop:
    """One relationship walked: its id, name, and its own source and target."""

    source: str
    id: str
    name: str
    target: str


@dataclass(frozen=True, slots=True, order=True)
class Reached:
    depth: int
    twin_id: str
    # The twin's model, read for free during the walk (not part of equality or order).
    model: str | None = field(default=None, compare=False)
    # The twin's document (graph.base.Twin), when the walk was asked to read it.
    document: Any = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, order=True)
class Neighbor:
    twin_id: str
    hop: Hop
    # The far twin's document (graph.base.Twin), when the query was asked to read it.
    document: Any = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, order=True)
class Path:
    nodes: tuple[str, ...]
    hops: tuple[Hop, ...]

    @property
    def length(self) -> int:
        return len(self.hops)


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
    if twin_id not in g:
        raise NotFoundError(f"twin {twin_id!r} does not exist")


def nx_distances(g: Any, start: str, steps: Sequence[Step], max_hops: int) -> dict[str, int]:
    """Breadth-first shortest distances from ``start`` (excluded) up to ``max_hops``."""
    dist = {start: 0}
    frontier = [start]
    depth = 0
    while frontier and depth < max_hops:
        depth += 1
        nxt: list[str] = []
        for node in frontier:
            for *_, other in nx_edges(g, node, steps):
                if other not in dist:
                    dist[other] = depth
                    nxt.append(other)
        frontier = nxt
    del dist[start]
    return dist


# ------------------------------------------------------------------------ cypher


def _rel_types(steps: Sequence[Step]) -> str:
    if any(names is None for names, _ in steps):
        return ""
    union = dict.fromkeys(n for names, _ in steps for n in names or ())
    return ":" + "|".join(f"`{n}`" for n in union)


def _arrow(direction: Direction, inner: str) -> str:
    if direction == "out":
        return f"-[{inner}]->"
    if direction == "in":
        return f"<-[{inner}]-"
    return f"-[{inner}]-"


def _step_condition(steps: Sequence[Step], r: str, a: str, q: CypherBuilder) -> str:
    alternatives = []
    for names, direction in steps:
        parts = []
        if names is not None:
            parts.append(f"type({r}) IN {q.param(list(names))}")
        if direction == "out":
            parts.append(f"startNode({r}) = {a}")
        elif direction == "in":
            parts.append(f"endNode({r}) = {a}")
        alternatives.append("(" + (" AND ".join(parts) or "true") + ")")
    return "(" + " OR ".join(alternatives) + ")"  # parenthesised: callers AND it with more


def cypher_hop(steps: Sequence[Step], q: CypherBuilder, r: str, a: str) -> tuple[str, str | None]:
    """A single-hop pattern ``-[r...]->`` and the condition it needs (None if none)."""
    if len(steps) == 1:
        return _arrow(steps[0][1], f"{r}{_rel_types(steps)}"), None
    return _arrow("both", f"{r}{_rel_types(steps)}"), _step_condition(steps, r, a, q)


def cypher_segment(steps: Sequence[Step], q: CypherBuilder, lo: int, hi: int) -> str:
    """A quantified path segment (GQL syntax, Neo4j 5.9+) to write between two nodes."""
    quant = f"{{{int(lo)},{int(hi)}}}"
    if len(steps) == 1:
        return f"{_arrow(steps[0][1], _rel_types(steps))}{quant}"
    hop, cond = cypher_hop(steps, q, "r_", "a_")
    return f" ((a_){hop}(b_) WHERE {cond}){quant} "


def start_match(q: CypherBuilder, twin_id: str, var: str = "x") -> str:
    return f"MATCH ({var}:{TWIN_LABEL} {{{NODE_ID}: {q.param(twin_id)}}})"


def cypher_require(run_read: RunRead, twin_id: str) -> None:
    q = CypherBuilder()
    if not run_read(f"{start_match(q, twin_id)} RETURN 1 AS found", q.params):
        raise NotFoundError(f"twin {twin_id!r} does not exist")


_onward_cache: dict[tuple[Step, ...], tuple[ModelRegistry, frozenset[str] | None]] = {}


def onward_models(registry: ModelRegistry, steps: Sequence[Step]) -> frozenset[str] | None:
    """The models whose twins may have a relationship some step walks on (None: any).

    The store refuses a relationship its source's model does not declare, or whose
    target is not of the declared target model (graph.core.validate_relationship),
    so a twin of any other model is a dead end of the walk: a sensor has nothing
    ``isLocatedIn`` it and contains nothing.  Models the registry does not know
    (deleted since) are not in the set; callers treat them as walkable.
    """
    cached = _onward_cache.get(tuple(steps))
    if cached is not None and cached[0] is registry:  # registries are immutable
        return cached[1]
    out_names = {n for names, d in steps if d != "in" for n in names or ()}
    in_names = {n for names, d in steps if d != "out" for n in names or ()}
    walkable: set[str] = set()
    targets: set[str] = set()
    anything = any(names is None for names, _ in steps)  # any name: any twin may walk on
    for model_id, iface in registry.items():
        if anything:
            break
        for name in out_names | in_names:
            decl = iface.contents.get(name)
            if not isinstance(decl, RelationshipDecl):
                continue
            if name in out_names:
                walkable.add(model_id)
            if name in in_names:
                anything = anything or decl.target is None  # any twin may be its target
                if decl.target is not None:
                    targets.add(decl.target)
    for t in targets:
        walkable |= {t} | registry.descendants(t)
    found = None if anything else frozenset(walkable)
    _onward_cache[tuple(steps)] = (registry, found)
    return found


# Trails the one-query walk may enumerate before giving way to the level-by-level walk:
# a building's subtree is 2,010; a site's (20,110) walks level by level, and
# enumerating 20,000 trails first cost it 200 ms more than 5,000 (loaded machine).
ONE_QUERY_PATHS = 5_000


def _one_query_distances(run_read: RunRead, start: str, steps: Sequence[Step], max_hops: int,
                         passing: tuple[TwinFilter, QueryContext, set[str]] | None,
                         documents: bool) -> list[list[Any]] | None:
    """``[id, model, depth, ok, document]`` of every twin reached (the start only
    if a cycle leads back), in one query, or None when the walk has more than
    ``ONE_QUERY_PATHS`` trails (a portfolio's site; a cyclic graph), where Neo4j's
    path enumeration costs more than walking level by level.  Raises NotFoundError
    for a missing start.  With ``passing``, only the twins that pass come back.

    One query is one round trip: an upward walk (a sensor's 4 ancestors) or a
    building's subtree (2,010 trails) costs about what a hand-written query does.
    """
    q = CypherBuilder()
    ok = "true"
    if passing is not None:
        ok = " AND ".join(passing[0].cypher("m", q, passing[1].registry)) or "true"
    doc = ", CASE WHEN ok THEN properties(m) END" if documents else ""
    text = (
        f"{start_match(q, start)}\n"
        f"OPTIONAL MATCH p = (x){cypher_segment(steps, q, 1, max_hops)}(m:{TWIN_LABEL})\n"
        f"WITH x, m, length(p) AS d LIMIT {q.param(ONE_QUERY_PATHS)}\n"
        f"WITH m, min(d) AS depth, count(*) AS trails\n"
        f"WITH m, depth, trails, ({ok}) AS ok\n"
        f"RETURN sum(trails) AS trails, collect(CASE WHEN m IS NOT NULL"
        f"{' AND ok' if passing is not None else ''} "
        f"THEN [m.{NODE_ID}, m.`{N_MODEL}`, depth, ok{doc}] END) AS found"
    )
    rows = run_read(text, q.params)
    if not rows or rows[0]["trails"] is None or rows[0]["trails"] == 0:
        raise NotFoundError(f"twin {start!r} does not exist")
    if rows[0]["trails"] >= ONE_QUERY_PATHS:
        return None
    return list(rows[0]["found"])


def cypher_distances(run_read: RunRead, start: str, steps: Sequence[Step], max_hops: int,
                     models: dict[str, str] | None = None,
                     passing: tuple[TwinFilter, QueryContext, set[str]] | None = None,
                     registry: ModelRegistry | None = None,
                     documents: dict[str, Any] | None = None,
                     ) -> dict[str, int]:
    """Breadth-first shortest distances from ``start`` (excluded), one query per level.

    On the way, fills ``models`` (twin id -> model) and, given ``passing`` =
    (filter, context, set), adds to the set the reached twins that pass the
    filter: each level's query evaluates it, so no further query is needed.
    Given ``documents``, fills it with the documents (graph.base.Twin) of the
    twins that pass, read by the same queries (no separate read of the answer).
    Given the ``registry``, twins whose model makes them dead ends (see
    :func:`onward_models`) are not looked at for onward relationships and, when
    they fail the filter, not returned at all (they matter to no answer): a
    building's 1,800 sensors, on a walk for warm rooms.

    Neo4j prunes a variable-length expansion to a breadth-first search only for
    simple single-direction patterns; a mixed-direction walk written as one
    quantified pattern enumerates paths and runs out of memory on a building.
    Level by level, each query expands one frontier (a list parameter), so a
    2,000-twin building costs one cheap query per level.
    """
    if max_hops > 0:
        found_once = _one_query_distances(run_read, start, steps, max_hops, passing,
                                          documents is not None)
        if found_once is not None:
            return _distances_from(start, found_once, models, passing, documents)
    q = CypherBuilder()
    hop, cond = cypher_hop(steps, q, "r", "n")
    ok = "true"
    if passing is not None:
        flt, ctx, passed = passing
        ok = " AND ".join(flt.cypher("m", q, ctx.registry)) or "true"
    walkable = None if registry is None else onward_models(registry, steps)
    dead_ends = [] if walkable is None or registry is None else [
        m for m in registry if m not in walkable]
    # One row holding a list of [id, model, ok, onward] entries: the driver decodes a
    # list far faster than as many records (a 1,800-twin level: 15-30 ms, not
    # 40-140).  ``onward``: whether the twin has any edge to walk on; the leaves
    # (a building's 1,800 sensors) leave the frontier, which spares the last level's
    # query, 1,800 index seeks that find nothing.  Twins of dead-end models are
    # leaves without looking (CASE evaluates lazily).
    onward_hop, onward_cond = cypher_hop(steps, q, "r2", "m")
    onward = (f"EXISTS {{ MATCH (m){onward_hop}(:{TWIN_LABEL}) "
              f"{where_clause([onward_cond] if onward_cond else [])} }}")
    keep = ""
    doc = ", CASE WHEN ok THEN properties(m) END" if documents is not None else ""
    if dead_ends:
        dead = q.param(dead_ends)
        onward = f"CASE WHEN m.`{N_MODEL}` IN {dead} THEN false ELSE {onward} END"
        if passing is not None:
            keep = f"WHERE ok OR NOT m.`{N_MODEL}` IN {dead}\n"
    text = (
        f"UNWIND $frontier AS fid MATCH (n:{TWIN_LABEL} {{{NODE_ID}: fid}})"
        f"{hop}(m:{TWIN_LABEL}) {where_clause([cond] if cond else [])}\n"
        f"WITH DISTINCT m, ({ok}) AS ok\n{keep}"
        f"RETURN collect([m.{NODE_ID}, m.`{N_MODEL}`, ok, {onward}{doc}]) AS found"
    )
    dist = {start: 0}
    frontier = [start]
    depth = 0
    while frontier and depth < max_hops:
        depth += 1
        found = run_read(text, {**q.params, "frontier": frontier})[0]["found"]
        if depth == 1 and not found:  # nothing around it: does the start twin exist at all?
            cypher_require(run_read, start)
        frontier = []
        for twin_id, model, ok_, more, *stored in found:
            if twin_id in dist:
                continue
            if documents is not None and ok_:
                documents[twin_id] = twin_from_map(stored[0])
            dist[twin_id] = depth
            if more:
                frontier.append(twin_id)
            if models is not None:
                models[twin_id] = model
            if passing is not None and ok_:
                passed.add(twin_id)
    if max_hops == 0:
        cypher_require(run_read, start)
    del dist[start]
    return dist


def _distances_from(start: str, found: Sequence[Sequence[Any]], models: dict[str, str] | None,
                    passing: tuple[TwinFilter, QueryContext, set[str]] | None,
                    documents: dict[str, Any] | None) -> dict[str, int]:
    """``cypher_distances``'s result (and its side outputs) from one-query rows."""
    dist: dict[str, int] = {}
    for twin_id, model, depth, ok_, *stored in found:
        if twin_id == start:  # back to the start on a cycle: never its own result
            continue
        dist[twin_id] = depth
        if models is not None:
            models[twin_id] = model
        if passing is not None and ok_:
            passing[2].add(twin_id)
        if documents is not None and ok_:
            documents[twin_id] = twin_from_map(stored[0])
    return dist


def cypher_matching(run_read: RunRead, ids: Iterable[str], flt: TwinFilter,
                    ctx: QueryContext) -> list[str]:
    """Those of ``ids`` whose twins pass ``flt``."""
    q = CypherBuilder()
    conds = flt.cypher("d", q, ctx.registry)
    text = (
        f"UNWIND $ids AS did MATCH (d:{TWIN_LABEL} {{{NODE_ID}: did}}) {where_clause(conds)}\n"
        f"RETURN d.{NODE_ID} AS id"
    )
    return [r["id"] for r in run_read(text, {**q.params, "ids": list(ids)})]


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
        nx_require(g, self.twin_id)
        match = self.filter.matcher(ctx.registry)
        nodes = g.nodes
        return sorted(
            Neighbor(other, hop)
            for hop, other in nx_hops(g, self.twin_id, self.steps)
            if match(other, nodes[other])
        )

    def cypher(self, ctx: QueryContext) -> tuple[str, dict[str, Any]]:
        q = CypherBuilder()
        hop, cond = cypher_hop(self.steps, q, "r", "x")
        conds = ([cond] if cond else []) + self.filter.cypher("y", q, ctx.registry)
        text = (
            f"{start_match(q, self.twin_id)}\n"
            f"OPTIONAL MATCH (x){hop}(y:{TWIN_LABEL}) {where_clause(conds)}\n"
            f"RETURN y.{NODE_ID} AS id, startNode(r).{NODE_ID} AS s, r.`{R_ID}` AS rid, "
            f"type(r) AS name, endNode(r).{NODE_ID} AS t"
            + (", properties(y) AS doc" if self.documents else "")
        )
        return text, q.params

    def from_rows(self, rows: Sequence[Mapping[str, Any]], ctx: QueryContext) -> list[Neighbor]:
        if not rows:
            raise NotFoundError(f"twin {self.twin_id!r} does not exist")
        found = {
            (r["s"], r["rid"]): Neighbor(r["id"], Hop(r["s"], r["rid"], r["name"], r["t"]),
                                         twin_from_map(r["doc"]) if self.documents else None)
            for r in rows
            if r["id"] is not None
        }
        return sorted(found.values())


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
        match = self.filter.matcher(ctx.registry)
        nodes = g._node  # the attribute dicts, without the NodeView wrapper
        found = sorted((d, t) for t, d in dist.items() if d >= self.min_hops and match(t, nodes[t]))
        return [Reached(d, t, nodes[t][NX_MODEL]) for d, t in found]

    def run_cypher(self, run_read: RunRead, ctx: QueryContext) -> list[Reached]:
        models: dict[str, str] = {}
        passed: set[str] = set()
        docs: dict[str, Any] | None = {} if self.documents else None
        filtered = not self.filter.is_empty
        dist = cypher_distances(run_read, self.twin_id, self.steps, self.hi(ctx), models,
                                (self.filter, ctx, passed) if filtered else None, ctx.registry,
                                docs)
        if self.min_hops == 0:
            dist[self.twin_id] = 0
            if filtered:
                passed.update(cypher_matching(run_read, [self.twin_id], self.filter, ctx))
        found = {t: d for t, d in dist.items() if d >= self.min_hops}
        if filtered:
            found = {t: d for t, d in found.items() if t in passed}
        return [Reached(d, t, models.get(t), docs.get(t) if docs is not None else None)
                for d, t in sorted((d, t) for t, d in found.items())]


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
            f"RETURN p IS NOT NULL AS found, {NODES_EXPR} AS nodes, {HOPS_EXPR} AS hops"
        )
        return text, q.params

    def from_rows(self, rows: Sequence[Mapping[str, Any]], ctx: QueryContext) -> list[Path]:
        if not rows:
            raise NotFoundError(f"twin {self.twin_id!r} does not exist")
        paths = sorted(path_from_row(r["nodes"], r["hops"]) for r in rows if r["found"])
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
