"""Reachability on Neo4j: every twin a walk reaches, at its shortest depth.

Two forms, chosen per walk:

- one query (:func:`_one_query`): a quantified trail pattern from the start,
  each twin's shortest trail length, sorted by depth then id in Neo4j.  Neo4j
  enumerates trails rather than searching breadth first over mixed-direction
  patterns, so this form gives way beyond ``ONE_QUERY_PATHS`` trails;
- level by level (:func:`_level_by_level`): one query per breadth-first
  level, each expanding the frontier (a list parameter).

Filtered walks skip what cannot matter, relying on the store's validation (a
twin only has the relationships its model declares, only as a target of a
model the declaration allows): a twin whose model makes it a dead end of the
walk (:func:`onward_models`) and that fails the filter is never walked into
(a building's 1,800 sensors, on a walk for warm rooms).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from graph.errors import NotFoundError
from graph.layout import N_MODEL, TWIN_LABEL
from graph.neo4j.codec import twin_from_map
from ontology.model import ModelRegistry
from ontology.model import Relationship as RelationshipDecl
from queries.base import QueryContext, RunRead
from queries.spec import NODE_ID, CypherBuilder, TwinFilter, where_clause
from queries.steps import (
    Reached,
    Step,
    cypher_hop,
    cypher_require,
    cypher_segment,
    reached,
    start_match,
)

__all__ = ["ONE_QUERY_PATHS", "cypher_matching", "cypher_reached", "onward_models"]

# Trails the one-query walk may enumerate before giving way to the level-by-level walk:
# a building's subtree is 2,010; a site's (20,110) walks level by level, and
# enumerating 20,000 trails first cost it 200 ms more than 5,000 (loaded machine).
ONE_QUERY_PATHS = 5_000

_MODEL = f"`{N_MODEL}`"
_BY_DEPTH_AND_ID = attrgetter("depth", "twin_id")

_CACHE_SIZE = 1024  # walks' relationship names come from requests: bounded


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value


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
    _remember(_onward_cache, tuple(steps), (registry, found))
    return found


_dead_cache: dict[tuple[Step, ...], tuple[ModelRegistry, list[str]]] = {}


def _dead_ends(registry: ModelRegistry, steps: Sequence[Step]) -> list[str]:
    """The registry's models that are dead ends of the walk (sorted; see onward_models)."""
    cached = _dead_cache.get(tuple(steps))
    if cached is not None and cached[0] is registry:  # once per registry, not per query
        return cached[1]
    walkable = onward_models(registry, steps)
    dead = [] if walkable is None else sorted(m for m in registry if m not in walkable)
    _remember(_dead_cache, tuple(steps), (registry, dead))
    return dead


def _skippable(registry: ModelRegistry, steps: Sequence[Step], flt: TwinFilter | None) -> list[str]:
    """Models whose twins no filtered walk needs to enter: dead ends that fail the
    filter's model condition (none without a filter or a model in it)."""
    models = None if flt is None else flt.models(registry)
    if models is None:
        return []
    return [m for m in _dead_ends(registry, steps) if m not in models]


def _far_models(registry: ModelRegistry, name: str, direction: str) -> set[str] | None:
    """The models a twin reached over relationship ``name`` in ``direction`` can be of
    (None: any), by the declarations the store validates writes against."""
    far: set[str] = set()
    for model_id, iface in registry.items():
        decl = iface.contents.get(name)
        if not isinstance(decl, RelationshipDecl):
            continue
        if direction != "out":  # walked inward: the twin reached is the source
            far.add(model_id)
        if direction != "in":  # walked outward: the twin reached is the target
            if decl.target is None:
                return None
            far |= {decl.target} | registry.descendants(decl.target)
    return far


_useful_cache: dict[tuple[tuple[Step, ...], tuple[str, ...]], tuple[ModelRegistry, list[Step]]] = {}


def _useful_steps(registry: ModelRegistry, steps: Sequence[Step],
                  skip: Sequence[str]) -> list[Step]:
    """``steps`` without the relationship names whose far twins are all of ``skip``ped
    models, which the filtered walk never enters anyway: a walk for rooms drops
    ``isLocatedIn`` inward (it leads to sensors and equipment only), so what is left
    runs in one direction, which Neo4j expands far more cheaply than an undirected hop
    filtered by direction (rooms of a building warmer than 26 C: 6,144 -> 2,333 db hits).
    """
    if not skip:
        return list(steps)
    key = (tuple(steps), tuple(skip))
    cached = _useful_cache.get(key)
    if cached is not None and cached[0] is registry:  # once per registry, not per query
        return cached[1]
    skipped = set(skip)
    kept: list[Step] = []
    for names, direction in steps:
        if names is None:
            kept.append((names, direction))
            continue
        useful = []
        for name in names:
            far = _far_models(registry, name, direction)
            if far is None or not far <= skipped:
                useful.append(name)
        if useful:
            kept.append((tuple(useful), direction))
    _remember(_useful_cache, key, (registry, kept))
    return kept


def _ok(flt: TwinFilter | None, var: str, q: CypherBuilder, ctx: QueryContext) -> str:
    return "true" if flt is None else " AND ".join(flt.cypher(var, q, ctx.registry)) or "true"


def cypher_reached(run_read: RunRead, start: str, steps: Sequence[Step], max_hops: int,
                   flt: TwinFilter | None, ctx: QueryContext, documents: bool) -> list[Reached]:
    """Every twin reached from ``start`` within ``max_hops`` (never the start itself),
    at its shortest depth, sorted by depth then id; with ``flt``, only those passing
    it.  Each carries its model, and its document when ``documents``.  Raises
    NotFoundError for a missing start."""
    steps = _useful_steps(ctx.registry, steps, _skippable(ctx.registry, steps, flt))
    if max_hops == 0 or not steps:
        cypher_require(run_read, start)
        return []
    rows = _one_query(run_read, start, steps, max_hops, flt, ctx, documents)
    if rows is None:
        rows = _level_by_level(run_read, start, steps, max_hops, flt, ctx, documents)
    if documents:
        found = [reached(d, t, m, twin_from_map(doc)) for t, m, d, doc in rows if t != start]
    else:
        found = [reached(d, t, m) for t, m, d in rows if t != start]
    found.sort(key=_BY_DEPTH_AND_ID)  # already in this order from Neo4j: one linear pass
    return found


def _one_query(run_read: RunRead, start: str, steps: Sequence[Step], max_hops: int,
               flt: TwinFilter | None, ctx: QueryContext, documents: bool,
               ) -> list[list[Any]] | None:
    """``[id, model, depth(, document)]`` of every twin reached that passes ``flt``
    (the start too if a cycle leads back), by depth then id, in one query; None when
    the walk has ``ONE_QUERY_PATHS`` trails or more (a portfolio's site; a cyclic
    graph), where Neo4j's trail enumeration costs more than walking level by level.

    One query is one round trip: a sensor's ancestors (4 trails) or a building's
    subtree (2,010) cost about what a hand-written query does.
    """
    q = CypherBuilder()
    skip = _skippable(ctx.registry, steps, flt)
    far = f"NOT b_.{_MODEL} IN {q.param(skip)}" if skip else None
    ok = _ok(flt, "m", q, ctx)
    doc = ", properties(m)" if documents else ""
    text = (
        f"{start_match(q, start)}\n"
        f"OPTIONAL MATCH p = (x){cypher_segment(steps, q, 1, max_hops, far)}(m:{TWIN_LABEL})\n"
        f"WITH x, m, length(p) AS d LIMIT {q.param(ONE_QUERY_PATHS)}\n"
        f"WITH m, min(d) AS depth, count(*) AS trails\n"
        f"WITH m, depth, trails, ({ok}) AS ok ORDER BY depth, m.{NODE_ID}\n"
        f"RETURN sum(trails) AS trails, collect(CASE WHEN m IS NOT NULL AND ok "
        f"THEN [m.{NODE_ID}, m.{_MODEL}, depth{doc}] END) AS found"
    )
    rows = run_read(text, q.params)
    if not rows or not rows[0]["trails"]:  # no row, or null trails: no start twin
        raise NotFoundError(f"twin {start!r} does not exist")
    if rows[0]["trails"] >= ONE_QUERY_PATHS:
        return None
    found: list[list[Any]] = rows[0]["found"]
    return found


def _level_by_level(run_read: RunRead, start: str, steps: Sequence[Step], max_hops: int,
                    flt: TwinFilter | None, ctx: QueryContext, documents: bool,
                    ) -> list[list[Any]]:
    """:func:`_one_query`'s rows (unsorted), one query per breadth-first level.

    Neo4j prunes a variable-length expansion to a breadth-first search only for
    simple single-direction patterns; a mixed-direction walk written as one
    quantified pattern enumerates trails and runs out of memory on a large
    subtree.  Level by level, each query expands one frontier (a list parameter).
    """
    q = CypherBuilder()
    hop, cond = cypher_hop(steps, q, "r", "n")
    ok = _ok(flt, "m", q, ctx)
    dead_ends = _dead_ends(ctx.registry, steps)
    # One row holding a list of [id, model, ok, onward] entries: the driver decodes a
    # list far faster than as many records (a 1,800-twin level: 15-30 ms, not
    # 40-140).  ``onward``: whether the twin has any edge to walk on; the leaves
    # (a building's 1,800 sensors) leave the frontier, which spares the last level's
    # query, 1,800 index seeks that find nothing.  Twins of dead-end models are
    # leaves without looking (CASE evaluates lazily), and not returned at all when
    # they fail the filter (they matter to no answer).
    onward_hop, onward_cond = cypher_hop(steps, q, "r2", "m")
    onward = (f"EXISTS {{ MATCH (m){onward_hop}(:{TWIN_LABEL}) "
              f"{where_clause([onward_cond] if onward_cond else [])} }}")
    keep = ""
    doc = ", CASE WHEN ok THEN properties(m) END" if documents else ""
    if dead_ends:
        dead = q.param(dead_ends)
        onward = f"CASE WHEN m.{_MODEL} IN {dead} THEN false ELSE {onward} END"
        if flt is not None:
            keep = f"WHERE ok OR NOT m.{_MODEL} IN {dead}\n"
    text = (
        f"UNWIND $frontier AS fid MATCH (n:{TWIN_LABEL} {{{NODE_ID}: fid}})"
        f"{hop}(m:{TWIN_LABEL}) {where_clause([cond] if cond else [])}\n"
        f"WITH DISTINCT m, ({ok}) AS ok\n{keep}"
        f"RETURN collect([m.{NODE_ID}, m.{_MODEL}, ok, {onward}{doc}]) AS found"
    )
    seen = {start}
    rows: list[list[Any]] = []
    frontier = [start]
    depth = 0
    while frontier and depth < max_hops:
        depth += 1
        found = run_read(text, {**q.params, "frontier": frontier})[0]["found"]
        if depth == 1 and not found:  # nothing around it: does the start twin exist at all?
            cypher_require(run_read, start)
        frontier = []
        for twin_id, model, ok_, more, *stored in found:
            if twin_id in seen:
                continue
            seen.add(twin_id)
            if more:
                frontier.append(twin_id)
            if ok_:
                rows.append([twin_id, model, depth, *stored])
    return rows


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
