"""The GraphQL schema: queries, mutations and subscriptions over the twin graph.

Roles (server.auth): every operation needs ``reader``; the RoleGate extension
refuses an operation before it runs when the caller is unknown.  Twin and
relationship mutations need ``writer``, model mutations ``admin`` (checked in
the resolvers, so a mixed mutation fails field by field with FORBIDDEN).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, Iterable, Iterator
from typing import Any

import strawberry
from graphql import ExecutionResult, GraphQLError, GraphQLObjectType
from strawberry.extensions import (
    AddValidationRules,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.scalars import JSON
from strawberry.types import ExecutionResult as StrawberryResult
from strawberry.types import Info
from strawberry.types.graphql import OperationType

from graph.base import ChangeEvent as StoreEvent
from graph.base import TwinGraph
from graph.errors import NotFoundError
from ontology.model import ModelRegistry
from queries import Search
from server.auth import AuthError, Role
from server.graphql.compiled import PlanCache, may_wait
from server.graphql.context import GraphQLContext
from server.graphql.errors import ApiError, ErrorCodes, error_extensions, stamp_request_error
from server.graphql.execution import (
    PLAN_FAILED,
    CompiledExecution,
    run_plan,
    run_plan_now,
    timeout_error,
)
from server.graphql.fastlists import FastListExecutionContext
from server.graphql.limits import Limits, limits_rule
from server.graphql.subscriptions import EventFilter, stream_events
from server.graphql.typed import build_typed_query
from server.graphql.types import (
    Model,
    PageInfo,
    Relationship,
    Twin,
    TwinConnection,
    TwinFilterInput,
    call,
    ctx_of,
    id_only_twin,
    ids_only,
    page_size,
    to_filter,
    twin_of,
    unread_twin,
    walks_check_existence,
)

__all__ = ["LiveSchema", "build_schema"]

log = logging.getLogger(__name__)


@strawberry.input
class TwinSort:
    property: str | None = strawberry.field(default=None, description="null sorts by twin id")
    descending: bool = False


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Twin | None)
    @may_wait
    def twin(self, info: Info, id: str) -> Any:
        if walks_check_existence(info):  # the walks find out whether it exists
            return unread_twin(id)
        return _read_twin(info, id)

    @strawberry.field(description="Search: filter, sort and cursor pagination")
    async def twins(self, info: Info, filter: TwinFilterInput | None = None,
                    sort: TwinSort | None = None, first: int | None = None,
                    after: str | None = None) -> TwinConnection:
        ctx = ctx_of(info)
        f = filter or TwinFilterInput()
        op = Search(to_filter(f.model, f.where, f.id_prefix, f.exact_model),
                    sort.property if sort else None, bool(sort and sort.descending),
                    page_size(info, first, search=True), after)
        page = await call(info, ctx.engine.run, op)
        if ids_only(info, "nodes"):  # the search read the ids: no second round trip
            nodes = [id_only_twin(i) for i in page.ids]
        else:
            twins = {t.id: t for t in await call(info, ctx.store.get_twins, page.ids)}
            nodes = [twin_of(twins[i]) for i in page.ids if i in twins]
        return TwinConnection(nodes=nodes,
                              page_info=PageInfo(end_cursor=page.end_cursor,
                                                 has_next_page=page.has_next))

    @strawberry.field
    async def models(self, info: Info, include_decommissioned: bool = True) -> list[Model]:
        found = await call(info, ctx_of(info).store.list_models)
        return [Model(_info=m) for m in sorted(found, key=lambda m: m.id)
                if include_decommissioned or not m.decommissioned]

    @strawberry.field
    async def model(self, info: Info, id: str) -> Model | None:
        try:
            return Model(_info=await call(info, ctx_of(info).store.get_model, id))
        except NotFoundError:
            return None


async def _read_twin(info: Info, twin_id: str) -> Twin | None:
    found = await call(info, ctx_of(info).store.get_twins, [twin_id])
    return twin_of(found[0]) if found else None


def _require(info: Info, role: Role, action: str) -> GraphQLContext:
    ctx = ctx_of(info)
    ctx.require(role, action)
    return ctx


def _patch(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(op, dict) for op in value):
        raise ApiError("INVALID_PATCH", "patch must be a JSON Patch: a list of operation objects")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError("BAD_REQUEST", f"{what} must be a JSON object")
    return value


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_twin(self, info: Info, id: str, model: str, properties: JSON | None = None,
                          replace: bool = False, if_match: str | None = None) -> Twin:
        store = _require(info, "writer", "createTwin").store
        return twin_of(await call(info, store.create_twin, id, model,
                                  _object(properties, "properties"), replace=replace,
                                  if_match=if_match))

    @strawberry.mutation(description="Apply an RFC 6902 JSON Patch to the twin's properties")
    async def patch_twin(self, info: Info, id: str, patch: JSON,
                         if_match: str | None = None) -> Twin:
        store = _require(info, "writer", "patchTwin").store
        return twin_of(await call(info, store.patch_twin, id, _patch(patch), if_match=if_match))

    @strawberry.mutation
    async def delete_twin(self, info: Info, id: str, if_match: str | None = None,
                          cascade: bool = False) -> bool:
        store = _require(info, "writer", "deleteTwin").store
        await call(info, store.delete_twin, id, if_match=if_match, cascade=cascade)
        return True

    @strawberry.mutation
    async def create_relationship(self, info: Info, source: str, id: str, name: str,
                                  target: str, properties: JSON | None = None,
                                  replace: bool = False,
                                  if_match: str | None = None) -> Relationship:
        store = _require(info, "writer", "createRelationship").store
        rel = await call(info, store.create_relationship, source, id, name, target,
                         _object(properties, "properties"), replace=replace, if_match=if_match)
        return Relationship(_rel=rel)

    @strawberry.mutation
    async def patch_relationship(self, info: Info, source: str, id: str, patch: JSON,
                                 if_match: str | None = None) -> Relationship:
        store = _require(info, "writer", "patchRelationship").store
        rel = await call(info, store.patch_relationship, source, id, _patch(patch),
                         if_match=if_match)
        return Relationship(_rel=rel)

    @strawberry.mutation
    async def delete_relationship(self, info: Info, source: str, id: str,
                                  if_match: str | None = None) -> bool:
        store = _require(info, "writer", "deleteRelationship").store
        await call(info, store.delete_relationship, source, id, if_match=if_match)
        return True

    @strawberry.mutation(description="Upload DTDL documents (all or none); errors carry "
                                     "file/line/column in extensions.errors")
    async def upload_models(self, info: Info, documents: JSON,
                            names: list[str] | None = None) -> list[Model]:
        store = _require(info, "admin", "uploadModels").store
        docs = documents if isinstance(documents, list) else [documents]
        added = await call(info, store.add_models, docs, source_names=names or ())
        return [Model(_info=m) for m in added]

    @strawberry.mutation
    async def decommission_model(self, info: Info, id: str) -> Model:
        store = _require(info, "admin", "decommissionModel").store
        return Model(_info=await call(info, store.decommission_model, id))

    @strawberry.mutation
    async def delete_model(self, info: Info, id: str) -> bool:
        store = _require(info, "admin", "deleteModel").store
        await call(info, store.delete_model, id)
        return True


@strawberry.type
class ChangeEvent:
    seq: int
    kind: str
    id: str
    time: str
    model: str | None
    source_twin: str | None
    target_twin: str | None
    name: str | None
    patch: JSON
    data: JSON

    @staticmethod
    def of(ev: StoreEvent) -> ChangeEvent:
        data = ev.data
        if data is not None and hasattr(data, "properties"):
            data = {"id": getattr(data, "id", ev.id), "properties": dict(data.properties),
                    "etag": getattr(data, "etag", None)}
        return ChangeEvent(seq=ev.seq, kind=ev.kind, id=ev.id, time=ev.time, model=ev.model,
                           source_twin=ev.source_twin, target_twin=ev.target_twin, name=ev.name,
                           patch=JSON([dict(op) for op in ev.patch]), data=JSON(data))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Committed changes to twins and relationships "
                                         "(ingested telemetry included), filtered")
    async def twin_changes(self, info: Info, twin_id: str | None = None,
                           model: str | None = None, subtree: str | None = None,
                           property: str | None = None,
                           kinds: list[str] | None = None) -> AsyncGenerator[ChangeEvent, None]:
        ctx = ctx_of(info)
        ctx.require("reader", "twinChanges")
        flt = EventFilter(twin_id, model, subtree, property,
                          frozenset(kinds) if kinds is not None else None)
        async for ev in stream_events(ctx.store, ctx.engine, flt):
            if ev is None:
                raise ApiError("SUBSCRIPTION_OVERFLOW",
                               "this subscriber fell too far behind and was disconnected")
            yield ChangeEvent.of(ev)


class RoleGate(SchemaExtension):
    """Refuses every operation of an unauthenticated caller before it runs."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context.context
        if isinstance(ctx, GraphQLContext):
            try:
                ctx.require("reader", "this operation")
            except AuthError as exc:
                self.execution_context.result = ExecutionResult(
                    data=None,
                    errors=[GraphQLError(str(exc), extensions={"code": exc.code})],
                )
        yield


def build_schema(limits: Limits, registry: ModelRegistry | None = None, *,
                 fast_lists: bool = True, compiled: bool = True) -> _Schema:
    """The schema: generic types, plus the DTDL-generated ones for ``registry``.

    ``fast_lists=False`` keeps graphql-core's general list completion, and
    ``compiled=False`` runs every query through it rather than through a compiled
    plan (the tests compare them)."""
    rule = limits_rule(limits)
    query: type = Query
    if registry is not None and len(registry):
        try:
            query = build_typed_query(registry, Query, Twin, twin_of)
        except Exception:  # a model we cannot express must not take the API down
            log.exception("could not generate typed GraphQL types; serving the generic schema")
    schema = _Schema(
        execution_context_class=FastListExecutionContext if fast_lists else None,
        query=query,
        mutation=Mutation,
        subscription=Subscription,
        # Parsing and validation (limits included) are cached per query text: the
        # same few queries come again and again from an app.
        extensions=[
            RoleGate,
            CompiledExecution,
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: AddValidationRules([rule]),
            ErrorCodes,
        ],
    )
    _plain_attribute_fields(schema)
    schema.plans = PlanCache(schema, enabled=compiled)
    return schema


def _plain_attribute_fields(schema: strawberry.Schema) -> None:
    """Let graphql-core read plain attributes itself.

    Strawberry wraps even a plain dataclass attribute in its own resolver; on a
    2,000-twin ``descendants`` answer that wrapper is a third of the time.  A
    field without a resolver, extensions or renaming (GraphQL name = Python
    name) reads the same through graphql-core's default resolver.
    """
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type.name.startswith("__"):
            continue
        for name, gql_field in gql_type.fields.items():
            definition = (gql_field.extensions or {}).get("strawberry-definition")
            if (definition is not None and definition.base_resolver is None
                    and not definition.extensions and not definition.permission_classes
                    and definition.python_name == name):
                gql_field.resolve = None


class _Schema(strawberry.Schema):
    plans: PlanCache  # compiled read-only queries, per schema (set by build_schema)

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: Any = None) -> None:
        """Log only the unexpected: refusals (not found, bad input, auth) are answers."""
        unexpected = [e for e in errors if e.original_error is not None
                      and error_extensions(e.original_error) is None]
        super().process_errors(unexpected, execution_context)


class LiveSchema:
    """Stands in for a strawberry Schema; rebuilt when the store's model registry changes.

    The store's registry is immutable and replaced on every model change, so an
    identity check per request is enough to notice uploads, decommissions and
    deletions without restarting the server.
    """

    def __init__(self, store: TwinGraph, limits: Limits, *, compiled: bool = True) -> None:
        self._store = store
        self._limits = limits
        self._compiled = compiled
        self._lock = threading.Lock()
        self._registry: ModelRegistry | None = None
        self._schema = build_schema(limits, compiled=compiled)

    def current(self) -> _Schema:
        registry = self._store.registry
        if registry is not self._registry:
            with self._lock:
                if registry is not self._registry:
                    self._schema = build_schema(self._limits, registry,
                                                compiled=self._compiled)
                    self._registry = registry
        return self._schema

    async def execute(self, query: str | None, variable_values: dict[str, Any] | None = None,
                      context_value: Any = None, root_value: Any = None,
                      operation_name: str | None = None,
                      allowed_operation_types: Iterable[OperationType] | None = None,
                      operation_extensions: dict[str, Any] | None = None) -> Any:
        """Queries and mutations over HTTP, within ``limits.timeout_seconds``.

        A query seen before runs its compiled plan (server.graphql.compiled) when
        it has one; when the plan gives up, the normal path runs the query again.
        Store calls to a database run in worker threads, so the wait can end on
        time; the abandoned call finishes in its thread, its result unused.
        """
        schema = self.current()
        limit = self._limits.timeout_seconds
        plans = schema.plans
        plan = plans.get(query, operation_name) if isinstance(query, str) else None
        if plan is not None and isinstance(context_value, GraphQLContext) and (
                allowed_operation_types is None or OperationType.QUERY in allowed_operation_types):
            done = run_plan_now(plans, plan, variable_values, context_value, root_value,
                                operation_extensions) if context_value.inline_store else \
                await run_plan(plans, plan, variable_values, context_value, root_value,
                               operation_extensions)
            if done is not None:
                return StrawberryResult(data=done.data, errors=done.errors, extensions={})
        token = PLAN_FAILED.set(plan is not None)
        try:
            async with asyncio.timeout(limit):
                result = await schema.execute(
                    query, variable_values=variable_values, context_value=context_value,
                    root_value=root_value, operation_name=operation_name,
                    allowed_operation_types=allowed_operation_types,
                    operation_extensions=operation_extensions)
        except TimeoutError:
            return StrawberryResult(data=None, errors=[timeout_error(limit)])
        finally:
            PLAN_FAILED.reset(token)
        # strawberry answers a document that does not parse without running the
        # extensions' error processing (so ErrorCodes never sees syntax errors)
        for error in result.errors or ():
            if error.original_error is None:
                stamp_request_error(error)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current(), name)
