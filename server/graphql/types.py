"""The generic GraphQL types: Twin, Relationship, Model, and traversal results.

List fields hydrate their twins with one ``store.get_twins`` call, never one
call per twin; on Neo4j, walks and neighbours whose answer selects documents
read them in their own queries instead (``walk_documents``).  Traversal
arguments map one to one onto ``queries`` operations; relationship names are
validated there (DTDL name pattern).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from graph import base
from graph.errors import NotFoundError
from queries import (
    Aggregate,
    Ancestors,
    Descendants,
    NearestAncestor,
    NeighborRows,
    Neighbors,
    Paths,
    Predicate,
    Reach,
    ShortestPath,
    Siblings,
    TwinFilter,
    make_steps,
)
from queries import Path as QPath
from queries import Reached as QReached
from queries.base import Operation
from server.graphql.compiled import may_wait
from server.graphql.context import GraphQLContext
from server.graphql.errors import ApiError, UnreadTwinMissing

__all__ = [
    "AggregateGroup",
    "Direction",
    "FilterOp",
    "Model",
    "Neighbor",
    "PageInfo",
    "Path",
    "PropertyFilter",
    "ReachedTwin",
    "Relationship",
    "Twin",
    "TwinConnection",
    "TwinFilterInput",
    "hydrate",
    "id_only_twin",
    "ids_only",
    "page_size",
    "to_filter",
    "twin_of",
    "unread_twin",
    "walk_now",
    "walks_check_existence",
]


T = TypeVar("T")


def ctx_of(info: Info) -> GraphQLContext:
    return info.context


@strawberry.enum
class Direction(enum.Enum):
    OUT = "out"
    IN = "in"
    BOTH = "both"


@strawberry.enum
class FilterOp(enum.Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    CONTAINS = "contains"
    STARTS_WITH = "startsWith"
    EXISTS = "exists"


@strawberry.input(description="One predicate on a twin's top-level property.")
class PropertyFilter:
    property: str
    op: FilterOp
    value: JSON | None = None


@strawberry.input
class TwinFilterInput:
    model: str | None = strawberry.field(
        default=None, description="DTMI; matches its descendants too unless exactModel")
    exact_model: bool = False
    where: list[PropertyFilter] | None = None
    id_prefix: str | None = None


_NO_FILTER = TwinFilter()  # frozen: one instance serves every walk without a filter


def to_filter(model: str | None = None, where: Sequence[PropertyFilter] | None = None,
              id_prefix: str | None = None, exact_model: bool = False) -> TwinFilter:
    if model is None and not where and id_prefix is None and not exact_model:
        return _NO_FILTER
    preds = [Predicate(p.property, p.op.value, p.value) for p in where or ()]
    return TwinFilter(model=model, exact_model=exact_model, where=preds, id_prefix=id_prefix)


_STEPS: dict[tuple[tuple[str, ...] | None, Direction], tuple[Any, ...]] = {}


def _steps_of(names: Sequence[str] | None, direction: Direction) -> tuple[Any, ...]:
    """``make_steps``, remembered per (names, direction): checking the names is most
    of a small walk's set-up, and an app asks the same few again and again."""
    key = (None if names is None else tuple(names), direction)
    steps = _STEPS.get(key)
    if steps is None:
        steps = make_steps(names, direction.value)  # raises for a bad name: not remembered
        if len(_STEPS) >= 1024:
            _STEPS.clear()
        _STEPS[key] = steps
    return steps


async def call(info: Info, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store call: inline for the in-memory store, in a worker thread otherwise,
    so a slow database never blocks the event loop (and the timeout can fire)."""
    if ctx_of(info).inline_store:
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


async def run(info: Info, op: Operation[Any]) -> Any:
    return await call(info, ctx_of(info).engine.run, op)


# Twin fields whose walk raises NotFoundError for a missing start and is a non-null
# list (so the null reaches ``twin``): see ``walks_check_existence``.
_EXISTENCE_CHECKING_WALKS = frozenset({"ancestors", "descendants", "neighbors", "expand",
                                       "siblings"})


# Answers about a field's selections, by the selection list they were worked out
# from: a compiled plan hands every execution of a field the same list (computed
# once, server.graphql.compiled), so a plan's answers are worked out once; the
# fresh lists of uncompiled executions only fill it until it is cleared.
_ANSWERS: dict[tuple[Any, int, Any], tuple[list[Any], bool]] = {}


def _about_selections(info: Info, test: Callable[[list[Any], Any], bool],
                      arg: Any = None) -> bool:
    """``test(info.selected_fields, arg)``, remembered (see ``_ANSWERS``)."""
    selected = info.selected_fields
    key = (test, id(selected), arg)
    found = _ANSWERS.get(key)
    if found is not None and found[0] is selected:  # the same list, not a reused id
        return found[1]
    answer = test(selected, arg)
    if len(_ANSWERS) >= 4096:
        _ANSWERS.clear()
    _ANSWERS[key] = (selected, answer)
    return answer


def walks_check_existence(info: Info) -> bool:
    """Whether this ``twin(id)`` selects only its id and walks that check the twin
    exists (in their own transaction): then reading it first is a round trip for
    nothing on Neo4j (about 2 ms).  Fragments and directives count as more."""
    return _about_selections(info, _walks_only)


def _walks_only(selected: list[Any], _: Any) -> bool:
    for field in selected:
        names: set[str] = set()
        for sel in field.selections:
            if not isinstance(sel, SelectedField) or sel.directives:
                return False
            names.add(sel.name)
        if not names & _EXISTENCE_CHECKING_WALKS or not names <= (
                _EXISTENCE_CHECKING_WALKS | {"id", "__typename"}):
            return False
    return True


# What an unread twin holds instead of its document: its walks read only its ``id``.
_UNREAD = base.Twin("", "", {}, "")


def unread_twin(twin_id: str) -> Twin:
    """A Twin not read from the store, for ``walks_check_existence`` selections: its
    walks (which take ``Twin.id``) raise UnreadTwinMissing when it turns out not to
    exist; nothing else is selected of it."""
    return Twin(id=twin_id, model="", etag="", properties=JSON({}), _twin=_UNREAD,
                _verified=False)


async def run_walk(info: Info, start: Twin, op: Operation[T]) -> T:
    """``run`` for a walk from ``start``; a start that was never read and turns out
    missing makes ``twin(id)`` null (UnreadTwinMissing) rather than an error."""
    ctx = ctx_of(info)
    if ctx.inline_store:
        return walk_now(info, start, op)
    try:  # ``run``, without two coroutines around it (small walks: a tenth of their time)
        return await asyncio.to_thread(ctx.engine.run, op)
    except NotFoundError as exc:
        _walk_failed(start, exc)


def walk_now(info: Info, start: Twin, op: Operation[T]) -> T:
    """``run_walk`` on a store called inline (in memory), without a coroutine."""
    try:
        return ctx_of(info).engine.run(op)
    except NotFoundError as exc:
        _walk_failed(start, exc)


def _walk_failed(start: Twin, exc: NotFoundError) -> NoReturn:
    if start._verified:
        raise exc
    raise UnreadTwinMissing(str(exc)) from exc


def twin_of(t: base.Twin) -> Twin:
    # The store never mutates a document it handed out (copy on write): no copy here.
    props = t.properties if isinstance(t.properties, dict) else dict(t.properties)
    return Twin(id=t.id, model=t.model, etag=t.etag, properties=JSON(props), _twin=t)


def _reached_ids_and_models(found: Sequence[QReached]) -> list[ReachedTwin]:
    """ReachedTwins carrying only what the caller selected (depth, twin id and model);
    see ``_reached``.  Plain dicts stand in for the objects: neither type has
    ``is_type_of`` or a resolver on these fields, so graphql-core, fastlists and
    compiled plans read dicts the same way, and a building's 2,000 of them cost a
    third as much (built in one comprehension: no call per twin)."""
    return cast(list[ReachedTwin], [
        {"depth": r.depth, "twin": {"id": r.twin_id, "model": r.model or ""}} for r in found])


async def hydrate(info: Info, ids: Sequence[str]) -> dict[str, Twin]:
    """Twins by id, in one store call."""
    found = await call(info, ctx_of(info).store.get_twins, list(dict.fromkeys(ids)))
    return {t.id: twin_of(t) for t in found}


def walk_documents(info: Info) -> bool:
    """Whether a walk should read its answer's documents itself: on Neo4j, when the
    caller selects more than ids and models (one read fewer); see ``_reached``."""
    return not ctx_of(info).inline_store and _twin_documents_needed(info)


def page_size(info: Info, first: int | None, *, search: bool = False) -> int:
    """``first`` checked against max_page_size; when absent, the search page size for
    ``twins`` and the cap itself for traversals (which are bounded by their depth)."""
    limits = ctx_of(info).limits
    default = limits.default_page_size if search else limits.max_page_size
    size = default if first is None else first
    if size < 0 or size > limits.max_page_size:
        raise ApiError("PAGE_TOO_LARGE",
                       f"first={size} is outside 0..{limits.max_page_size} (the limit "
                       f"max_page_size={limits.max_page_size})",
                       limit="max_page_size", max=limits.max_page_size)
    return size


_ID_AND_MODEL = frozenset({"id", "model", "__typename"})
# Twin's fields read from its attributes (no resolver): a plain dict answers them too.
_PLAIN_TWIN_FIELDS = frozenset({"id", "model", "etag", "properties", "__typename"})


def _twin_selects_only(info: Info, fields: frozenset[str]) -> bool:
    """Whether the ``twin`` below this list field selects nothing outside ``fields``
    (fragments and directives count as more: only plain, fully known selections)."""
    return _about_selections(info, _selects_within, ("twin", fields))


def _selects_within(selected: list[Any], where: tuple[str, frozenset[str]]) -> bool:
    """Whether the items of this field select nothing but plain fields and, below the
    field named ``where[0]``, nothing outside ``where[1]``."""
    list_field, fields = where
    for field in selected:
        for sel in field.selections:
            if not isinstance(sel, SelectedField):
                return False
            if sel.name == list_field and any(
                not isinstance(sub, SelectedField) or sub.name not in fields
                or sub.directives for sub in sel.selections
            ):
                return False
    return True


def _selects(info: Info, name: str) -> bool:
    """Whether the items of this list field select field ``name`` (aliased or not,
    whatever its directives say; fragments are not looked into)."""
    return _about_selections(info, _names_field, name)


def _names_field(selected: list[Any], name: str) -> bool:
    return any(isinstance(sel, SelectedField) and sel.name == name
               for field in selected for sel in field.selections)


def _twin_documents_needed(info: Info) -> bool:
    """Whether the ``twin`` below this list field asks for more than its id and model
    (then a walk's answer needs the twins' documents)."""
    return not _twin_selects_only(info, _ID_AND_MODEL)


_ID = frozenset({"id", "__typename"})


def ids_only(info: Info, list_field: str) -> bool:
    """Whether the items of ``list_field`` (e.g. ``nodes`` of ``twins``) below this
    field select nothing but ``id`` (fragments and directives count as more)."""
    return _about_selections(info, _selects_within, (list_field, _ID))


def id_only_twin(twin_id: str) -> Twin:
    """A Twin carrying only its id, for a caller that selected nothing else: a plain
    dict reads the same through graphql-core and fastlists (Twin has no
    ``is_type_of``, and ``id`` no resolver)."""
    return cast(Twin, {"id": twin_id})


async def _reached(info: Info, found: Sequence[QReached],
                   first: int | None) -> list[ReachedTwin]:
    found = found[: page_size(info, first)]
    if all(r.model is not None for r in found) and not _twin_documents_needed(info):
        # The walk already knows each twin's model: reading 2,000 documents back
        # just to print ids and models is most of a subtree query on Neo4j.
        return _reached_ids_and_models(found)
    if all(r.document is not None for r in found):  # the walk read them (walk_documents)
        return [ReachedTwin(depth=r.depth, twin=twin_of(r.document)) for r in found]
    twins = await hydrate(info, [r.twin_id for r in found])
    return [ReachedTwin(depth=r.depth, twin=twins[r.twin_id])
            for r in found if r.twin_id in twins]


@strawberry.type
class Hop:
    id: str
    name: str
    source: str
    target: str


@strawberry.type
class Relationship:
    _rel: strawberry.Private[base.Relationship]

    @strawberry.field
    def id(self) -> str:
        return self._rel.id

    @strawberry.field
    def name(self) -> str:
        return self._rel.name

    @strawberry.field
    def source(self) -> str:
        return self._rel.source

    @strawberry.field
    def target(self) -> str:
        return self._rel.target

    @strawberry.field
    def etag(self) -> str:
        return self._rel.etag

    @strawberry.field
    def properties(self) -> JSON:
        return JSON(dict(self._rel.properties))

    @strawberry.field
    async def source_twin(self, info: Info) -> Twin | None:
        return (await hydrate(info, [self._rel.source])).get(self._rel.source)

    @strawberry.field
    async def target_twin(self, info: Info) -> Twin | None:
        return (await hydrate(info, [self._rel.target])).get(self._rel.target)


@strawberry.type
class ReachedTwin:
    depth: int
    twin: Twin


@strawberry.type
class Neighbor:
    twin: Twin
    relationship: Hop


@strawberry.type
class Path:
    length: int
    ids: list[str]
    relationships: list[Hop]
    _twins: strawberry.Private[dict[str, Twin]]

    @strawberry.field
    def twins(self) -> list[Twin]:
        return [self._twins[i] for i in self.ids if i in self._twins]


async def _path(info: Info, path: QPath) -> Path:
    hops = [Hop(id=h.id, name=h.name, source=h.source, target=h.target) for h in path.hops]
    return Path(length=path.length, ids=list(path.nodes), relationships=hops,
                _twins=await hydrate(info, path.nodes))


@strawberry.type
class AggregateGroup:
    model: str | None = strawberry.field(description="null: the total over every model")
    count: int
    values: int = strawberry.field(description="how many twins had a numeric value")
    sum: float
    min: float | None
    max: float | None
    avg: float | None


@strawberry.enum
class AggregateScope(enum.Enum):
    DESCENDANTS = "descendants"
    SUBTREE = "subtree"
    TRAVERSAL = "traversal"


@strawberry.type
class Model:
    _info: strawberry.Private[base.ModelInfo]

    @strawberry.field
    def id(self) -> str:
        return self._info.id

    @strawberry.field
    def upload_time(self) -> str:
        return self._info.upload_time

    @strawberry.field
    def decommissioned(self) -> bool:
        return self._info.decommissioned

    @strawberry.field
    def document(self) -> JSON:
        return JSON(dict(self._info.document))

    @strawberry.field(description="Localised names by language; null when the model has none")
    def display_name(self) -> JSON | None:
        name = self._info.document.get("displayName")
        return JSON({"en": name} if isinstance(name, str) else name)

    @strawberry.field(description="Every interface this one extends, directly or not")
    def extends(self, info: Info) -> list[str]:
        return sorted(ctx_of(info).store.registry.ancestors(self._info.id))

    @strawberry.field(description="Flattened contents (own and inherited) by kind")
    def contents(self, info: Info) -> JSON:
        iface = ctx_of(info).store.registry.get(self._info.id)
        if iface is None:
            return JSON([])
        return JSON([{"name": n, "kind": type(c).__name__, "definedIn": c.defined_in}
                     for n, c in sorted(iface.contents.items())])


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class TwinConnection:
    nodes: list[Twin]
    page_info: PageInfo


@strawberry.type(description="A digital twin: the generic view, whatever its model")
class Twin:
    # Plain fields rather than resolvers: list results hold thousands of twins, and
    # graphql-core resolves a plain attribute several times faster than a method.
    id: str
    model: str = strawberry.field(description="The twin's model DTMI")
    etag: str
    properties: JSON = strawberry.field(
        description="Property values and last-known telemetry, components nested")
    _twin: strawberry.Private[base.Twin]
    _verified: strawberry.Private[bool] = True  # False: see unread_twin

    @strawberry.field
    def property(self, name: str) -> JSON | None:
        return self._twin.properties.get(name)

    @strawberry.field(description="Per top-level name: lastUpdateTime and source")
    def metadata(self) -> JSON:
        return JSON({n: {"lastUpdateTime": m.last_update_time, "source": m.source}
                     for n, m in self._twin.metadata.items()})

    @strawberry.field(description="The twin's model")
    async def model_info(self, info: Info) -> Model | None:
        try:
            found = await call(info, ctx_of(info).store.get_model, self._twin.model)
            return Model(_info=found)
        except NotFoundError:  # a model deleted under a twin: show the twin anyway
            return None

    @strawberry.field
    async def relationships(self, info: Info, name: str | None = None,
                      direction: Direction = Direction.OUT) -> list[Relationship]:
        store = ctx_of(info).store
        rels: list[base.Relationship] = []
        if direction in (Direction.OUT, Direction.BOTH):
            rels += await call(info, store.list_relationships, self._twin.id, name)
        if direction in (Direction.IN, Direction.BOTH):
            rels += [r for r in await call(info, store.list_incoming, self._twin.id, name)
                     if direction is Direction.IN or r.source != r.target]
        return [Relationship(_rel=r) for r in sorted(rels, key=lambda r: (r.source, r.id))]

    @strawberry.field(graphql_type=list[Neighbor])
    @may_wait
    def neighbors(self, info: Info, names: list[str] | None = None,
                  direction: Direction = Direction.OUT, model: str | None = None,
                  where: list[PropertyFilter] | None = None,
                  first: int | None = None) -> Any:
        steps, flt = _steps_of(names, direction), to_filter(model, where)
        if info.context.inline_store and _twin_selects_only(info, _PLAIN_TWIN_FIELDS):
            # The twins' plain fields, read in the walk's own read view: no Twin
            # objects, no second read (the answer is the same: test_graphql), and in
            # memory no coroutine either (may_wait).
            rows = walk_now(info, self, NeighborRows(self.id, steps, flt))
            rows = rows[: page_size(info, first)]
            if not _selects(info, "relationship"):
                return [{"twin": row[5]} for row in rows]
            return [{"twin": doc, "relationship": {
                "id": rid, "name": name, "source": source, "target": target}}
                for _, source, rid, name, target, doc in rows]
        return self._neighbors(info, steps, flt, first)

    async def _neighbors(self, info: Info, steps: tuple[Any, ...], flt: TwinFilter,
                         first: int | None) -> list[Neighbor]:
        op = Neighbors(self.id, steps, flt, walk_documents(info))
        found = (await run_walk(info, self, op))[: page_size(info, first)]
        if all(n.document is not None for n in found):  # the query read them
            twins = {n.twin_id: twin_of(n.document) for n in found}
        else:
            twins = await hydrate(info, [n.twin_id for n in found])
        # Plain dicts stand in for Neighbor and Hop (no resolvers, no is_type_of: read
        # the same way by graphql-core, fastlists and compiled plans), as in _reached.
        return [cast(Neighbor, {"twin": twins[n.twin_id], "relationship": {
                    "id": n.hop.id, "name": n.hop.name, "source": n.hop.source,
                    "target": n.hop.target}})
                for n in found if n.twin_id in twins]

    @strawberry.field(description="Containers, nearest first")
    async def ancestors(self, info: Info, depth: int | None = None, model: str | None = None,
                  first: int | None = None) -> list[ReachedTwin]:
        found = await run_walk(info, self, Ancestors(self.id, depth, to_filter(model),
                                                      documents=walk_documents(info)))
        return await _reached(info, found, first)

    @strawberry.field(description="What this twin contains, directly or not, by depth")
    async def descendants(self, info: Info, depth: int | None = None, model: str | None = None,
                    where: list[PropertyFilter] | None = None, include_self: bool = False,
                    first: int | None = None) -> list[ReachedTwin]:
        op = Descendants(self.id, depth, to_filter(model, where), include_self,
                         documents=walk_documents(info))
        found: list[QReached] = await run_walk(info, self, op)
        return await _reached(info, found, first)

    @strawberry.field
    async def nearest_ancestor(self, info: Info, model: str) -> ReachedTwin | None:
        found = await run(info, NearestAncestor(self.id, model))
        reached = await _reached(info, [found] if found else [], None)
        return reached[0] if reached else None

    @strawberry.field
    async def siblings(self, info: Info, model: str | None = None,
                 first: int | None = None) -> list[Twin]:
        size = page_size(info, first)
        found = (await run_walk(info, self, Siblings(self.id, to_filter(model))))[:size]
        twins = await hydrate(info, found)
        return [twins[t] for t in found if t in twins]

    @strawberry.field(description="Distinct twins minHops..maxHops away, with their distance")
    async def expand(self, info: Info, names: list[str] | None = None,
               direction: Direction = Direction.OUT, min_hops: int = 1,
               max_hops: int | None = None, model: str | None = None,
               where: list[PropertyFilter] | None = None,
               first: int | None = None) -> list[ReachedTwin]:
        op = Reach(self.id, _steps_of(names, direction), min_hops, max_hops,
                   to_filter(model, where), walk_documents(info))
        found: list[QReached] = await run_walk(info, self, op)
        return await _reached(info, found, first)

    @strawberry.field(description="Every path (no relationship twice) of minHops..maxHops")
    async def paths(self, info: Info, names: list[str] | None = None,
              direction: Direction = Direction.OUT, min_hops: int = 1, max_hops: int = 3,
              model: str | None = None, where: list[PropertyFilter] | None = None,
              first: int | None = None) -> list[Path]:
        op = Paths(self.id, _steps_of(names, direction), min_hops, max_hops,
                   to_filter(model, where), page_size(info, first))
        return [await _path(info, p) for p in await run(info, op)]

    @strawberry.field(description="A shortest path to another twin over the given names")
    async def path(self, info: Info, to: str, via: list[str] | None = None,
             direction: Direction = Direction.OUT, max_hops: int | None = None) -> Path | None:
        found = await run(info, ShortestPath(self.id, to, _steps_of(via, direction),
                                       max_hops))
        return None if found is None else await _path(info, found)

    @strawberry.field(description="count/sum/min/max/avg of a numeric property, by model")
    async def aggregate(self, info: Info, property: str,
                  scope: AggregateScope = AggregateScope.DESCENDANTS,
                  depth: int | None = None, names: list[str] | None = None,
                  direction: Direction = Direction.OUT) -> list[AggregateGroup]:
        if scope is AggregateScope.TRAVERSAL:
            over: Reach | Descendants = Reach(self.id, _steps_of(names, direction),
                                              1, depth)
        else:
            over = Descendants(self.id, depth,
                               include_self=scope is AggregateScope.SUBTREE)
        groups = await run(info, Aggregate(over, property))
        return [AggregateGroup(model=g.model, count=g.count, values=g.values, sum=g.sum,
                               min=g.min, max=g.max, avg=g.avg) for g in groups]

