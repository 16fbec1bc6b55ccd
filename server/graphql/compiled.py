"""Compiled execution plans for read-only GraphQL queries (the idea of graphql-jit).

For a small answer most of a query's time is the general machinery around the
resolvers: strawberry's extension hooks and argument conversion per field,
graphql-core's resolve info, awaitable checks and error paths per value.  A
query document comes again and again from an app, so after validation the
operation is turned once into a tree of closures, one per selected field,
that calls the same resolvers (with the same ``Info``) and builds exactly the
dict graphql-core would.  ``PlanCache`` keeps them by (document, operation
name); ``LiveSchema.execute`` runs a cached plan before strawberry, and the
``CompiledExecution`` extension compiles and runs it the first time (so every
query, the tests' included, goes through a plan when it can).

Read-only is what makes this safe: whatever the plan does not handle at
compile time (mutations, subscriptions, introspection, directives, abstract
types, fragment variables) gets no plan, and anything unusual at run time (a
resolver raising, a null for a non-null field, a value a scalar refuses,
variables that do not coerce, a resolver that must wait on the event loop when
the plan runs synchronously) raises ``Fallback``: the caller then runs the
whole query the normal way, which gives the standard result and errors.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, TypeVar, cast

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    Undefined,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_argument_values,
    get_variable_values,
)
from graphql.pyutils import Path
from strawberry.scalars import JSON
from strawberry.schema.schema import _OperationContextAwareGraphQLResolveInfo as RawInfo
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.arguments import convert_arguments
from strawberry.types.nodes import convert_selections

from graph.core import paused_gc
from server.graphql.objcode import FieldCode, is_mapping, object_completer
from server.graphql.planvars import (
    INT_MAX,
    INT_MIN,
    Unsupported,
    check_selections,
    plain_input,
    simple_variables,
    uses_variables,
    variable_arguments,
)

__all__ = ["Fallback", "Plan", "PlanCache", "may_wait", "run_now"]


log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


class Fallback(Exception):
    """This plan cannot answer this execution: run the query the normal way."""


class PlanTimeout(Exception):
    """The plan ran past ``limits.timeout_seconds`` (checked before each resolver)."""


# A compiled value completer: (value, run, path) -> answer, or an awaitable of it.
_Completer = Callable[[Any, "_Run", Path | None], Any]
_NO_VARIABLES = VariableValues({}, {})


async def _gather(values: Any) -> list[Any]:
    return list(await asyncio.gather(*values))


def _no_track(_values: Any) -> None:
    raise Fallback  # work outliving its resolver: let graphql-core track it


_HELPERS = GraphQLResolveInfoHelpers(_gather, _no_track)
_tuple_new = tuple.__new__


@dataclass(slots=True)
class _Run:
    """One execution's state, shared by every closure of the plan."""

    variables: VariableValues
    context: Any
    root_value: Any
    operation_extensions: Any
    deadline: float
    concurrent: bool  # sibling resolvers wait together (store calls in worker threads)


@dataclass(slots=True, frozen=True)
class _Node:
    """A compiled completer and what it needs."""

    fn: _Completer
    is_async: bool  # returns an awaitable
    needs_path: bool  # a resolver below reads ``info`` (so the response path is built)
    plain: tuple[type, ...] = ()  # a leaf's Python types it hands back unchanged
    # A field read from its parent's attribute (or key) ``attr`` and completed by
    # ``value``: generated object code reads it inline (server.graphql.objcode).
    attr: str | None = None
    value: _Node | None = None
    # An object completed by generated code: its fields, for a parent's code to read
    # a plain dict inline (server.graphql.objcode).
    fields: tuple[FieldCode, ...] | None = None


def may_wait(resolver: F) -> F:
    """Marks a plain-function resolver that answers at once when it can (the
    in-memory store) and hands back an awaitable when it must wait (a database
    call in a worker thread): plans await it on such stores, and in memory call it
    without any coroutine.  Give its field ``graphql_type``, as the annotation
    cannot say "a value or an awaitable of it"."""
    resolver.may_wait = True  # type: ignore[attr-defined]
    return resolver


def run_now(awaitable: Awaitable[Any]) -> Any:
    """The result of a coroutine that finishes without waiting on the event loop
    (resolvers calling the in-memory store inline); ``Fallback`` if it would wait."""
    coro = awaitable.__await__()
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()  # read-only: abandoning it half way changes nothing
    raise Fallback


class Plan:
    """One operation of one document, compiled against one schema."""

    def __init__(self, strawberry_schema: Any, document: DocumentNode,
                 operation: OperationDefinitionNode) -> None:
        self._root = _Compiler(strawberry_schema, document, operation).root()
        self._inline_root = _Compiler(strawberry_schema, document, operation,
                                      inline=True).root()
        self.is_async = self._root.is_async
        self._schema = strawberry_schema._schema
        self._var_defs = operation.variable_definitions or ()
        self._simple = simple_variables(self._schema, self._var_defs)

    def _variables(self, inputs: Mapping[str, Any]) -> VariableValues:
        """graphql-core's coerced variables.  Plain scalar values of the right Python
        type (an id string, a depth) are what coercion would return, so they are
        taken as they are; anything else goes through ``get_variable_values``."""
        simple = self._simple
        if simple is not None:
            sources, coerced = {}, {}
            for name, signature, non_null, kinds in simple:
                value = inputs.get(name, Undefined)
                if value is Undefined:
                    if non_null:
                        break
                    sources[name] = VariableValueSource(signature)
                    continue
                if not plain_input(value, kinds, non_null):
                    break
                sources[name] = VariableValueSource(signature, value)
                coerced[name] = value
            else:
                return VariableValues(sources, coerced)
        values = get_variable_values(self._schema, self._var_defs, dict(inputs), max_errors=50)
        if isinstance(values, list):  # refused variables: the normal path reports them
            raise Fallback
        return values

    async def execute(self, variables: Mapping[str, Any] | None, context: Any,
                      root_value: Any = None, operation_extensions: Any = None,
                      timeout: float = 30.0) -> dict[str, Any]:
        """The ``data`` of a successful execution; raises ``Fallback`` (run the
        query the normal way) or ``PlanTimeout``."""
        if getattr(context, "inline_store", True):
            return self.execute_now(variables, context, root_value, operation_extensions,
                                    timeout)
        run = _Run(self._variables(variables or {}), context, root_value, operation_extensions,
                   time.monotonic() + timeout, True)
        try:
            result = self._root.fn(root_value, run, None)
            return await result if self._root.is_async else result
        except (Fallback, PlanTimeout):
            raise
        except Exception as exc:  # a resolver's error: the normal path reports it
            raise Fallback from exc

    def execute_now(self, variables: Mapping[str, Any] | None, context: Any,
                    root_value: Any = None, operation_extensions: Any = None,
                    timeout: float = 30.0) -> dict[str, Any]:
        """``execute`` for a store called inline (in memory), through the plan compiled
        for it: synchronous from start to end."""
        run = _Run(self._variables(variables or {}), context, root_value, operation_extensions,
                   time.monotonic() + timeout, False)
        try:
            result: dict[str, Any] = self._inline_root.fn(root_value, run, None)
        except (Fallback, PlanTimeout):
            raise
        except Exception as exc:  # a resolver's error: the normal path reports it
            raise Fallback from exc
        return result


class PlanCache:
    """Plans by (document text, operation name); None for a document without one.

    A document is compiled the second time it comes (compiling costs about as much
    as running it the normal way, so a document with its values written in, seen
    once, never pays for a plan); ``compile_after=1`` compiles at first sight."""

    def __init__(self, strawberry_schema: Any, *, enabled: bool = True,
                 maxsize: int = 256, compile_after: int = 2) -> None:
        self._schema = strawberry_schema
        self._maxsize = maxsize
        self._plans: dict[tuple[str, str | None], Plan | None] = {}
        self._seen: dict[tuple[str, str | None], int] = {}  # sightings before compiling
        self._compile_after = compile_after
        self.answered = 0  # executions a plan answered
        self.fell_back = 0  # executions a plan gave to graphql-core
        # graphql-core middleware (strawberry extensions with a ``resolve`` hook) or
        # exception handlers would wrap every resolver: no plans then.
        converter = strawberry_schema.schema_converter
        self.enabled = enabled and not getattr(converter, "_exception_handler_specs", None) \
            and not any(ext._implements_resolve() for ext in strawberry_schema.get_extensions())

    def get(self, query: str, operation_name: str | None) -> Plan | None:
        return self._plans.get((query, operation_name))

    def compile(self, query: str | None, operation_name: str | None,
                document: DocumentNode) -> Plan | None:
        """The plan of a validated ``document`` (built once per query text)."""
        key = (query or "", operation_name)
        if query is not None and key in self._plans:
            return self._plans[key]
        if query is not None and self._compile_after > 1:
            seen = self._seen.get(key, 0) + 1
            if seen < self._compile_after:
                if len(self._seen) >= 4 * self._maxsize:
                    self._seen.clear()
                self._seen[key] = seen
                return None
            self._seen.pop(key, None)
        plan = None
        if self.enabled:
            operation = _operation(document, operation_name)
            if operation is not None:
                try:
                    plan = Plan(self._schema, document, operation)
                except Unsupported:
                    plan = None
                except Exception:  # a bug here must not cost the query: no plan
                    log.exception("could not compile a GraphQL query; it runs uncompiled")
                    plan = None
        if query is not None:
            if len(self._plans) >= self._maxsize:
                self._plans.pop(next(iter(self._plans)))
            self._plans[key] = plan
        return plan


def _operation(document: DocumentNode,
               operation_name: str | None) -> OperationDefinitionNode | None:
    """The query operation graphql-core would run, or None (not a query, ambiguous)."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        op = ops[0] if len(ops) == 1 else None
    else:
        op = next((d for d in reversed(ops) if d.name and d.name.value == operation_name), None)
    if op is None or op.operation is not OperationType.QUERY:
        return None
    return op


async def _concurrently(fields: list[tuple[str, _Node]], source: Any, run: _Run,
                        path: Path | None) -> dict[str, Any]:
    """An object's fields with their waits overlapping, as graphql-core runs sibling
    fields (two twins asked of a database at once); the answer in field order."""
    started: list[tuple[str, Any, bool]] = []
    try:
        for key, f in fields:
            started.append((key, f.fn(source, run, path), f.is_async))
    except BaseException:
        for _, value, is_async in started:
            if is_async:
                value.close()  # never started: no "never awaited" warning
        raise
    waits = [value for _, value, is_async in started if is_async]
    done = iter(await asyncio.gather(*waits, return_exceptions=True))
    out = {}
    for key, value, is_async in started:
        out[key] = next(done) if is_async else value
        if isinstance(out[key], BaseException):
            raise out[key]
    return out


class _Compiler:
    """``inline``: for a context whose store is called inline (in memory), where no
    resolver waits: every field completes synchronously (an awaitable a resolver
    hands back is run to its end on the spot, ``Fallback`` if it would wait), so a
    resolver that answers at once (``may_wait``) costs no coroutine at all."""

    def __init__(self, strawberry_schema: Any, document: DocumentNode,
                 operation: OperationDefinitionNode, *, inline: bool = False) -> None:
        self.inline = inline
        self.sschema = strawberry_schema
        self.schema = strawberry_schema._schema
        self.operation = operation
        self.fragment_defs = {d.name.value: d for d in document.definitions
                              if isinstance(d, FragmentDefinitionNode)}
        self.fragments = {n: FragmentDetails(d) for n, d in self.fragment_defs.items()}
        if operation.directives:
            raise Unsupported
        check_selections(operation.selection_set, self.fragment_defs)
        self.info_class = strawberry_schema.config.info_class

    def root(self) -> _Node:
        root_type = self.schema.query_type
        collected = collect_fields(self.schema, self.fragments, _NO_VARIABLES, root_type,
                                   self.operation)
        return self._object(root_type, collected.grouped_field_set, collected.new_defer_usages,
                            root=True)

    def _object(self, obj_type: GraphQLObjectType, grouped: Mapping[str, list[FieldDetails]],
                defers: list[Any], root: bool = False, non_null: bool = False) -> _Node:
        """An object's selection set; a null (not the root value) completes as null."""
        if defers or obj_type.is_type_of is not None or obj_type.interfaces:
            raise Unsupported
        fields = [(key, self._field(obj_type, key, details)) for key, details in grouped.items()]
        needs_path = any(f.needs_path for _, f in fields)
        if not any(f.is_async for _, f in fields):
            code = [FieldCode(k, f.attr, f.value.fn, f.value.plain, f.value.fields)
                    if f.value is not None else FieldCode(k, None, f.fn) for k, f in fields]
            complete = object_completer(code, root=root, non_null=non_null, fallback=Fallback)
            return _Node(complete, False, needs_path, fields=tuple(code))

        async def complete_async(source: Any, run: _Run, path: Path | None) -> Any:
            if source is None and not root:
                if non_null:
                    raise Fallback
                return None
            if run.concurrent and several_async:
                return await _concurrently(fields, source, run, path)
            out = {}
            for key, f in fields:
                value = f.fn(source, run, path)
                out[key] = await value if f.is_async else value
            return out

        several_async = sum(f.is_async for _, f in fields) > 1
        return _Node(complete_async, True, needs_path)

    def _field(self, parent: GraphQLObjectType, key: str, details: list[FieldDetails]) -> _Node:
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            type_name = parent.name
            return _Node(lambda _s, _r, _p: type_name, False, False)
        if name.startswith("__"):  # introspection: graphql-core answers it
            raise Unsupported
        field_def = parent.fields[name]
        sub_grouped = None
        if node.selection_set is not None:
            sub_grouped = details
        complete = self._value(field_def.type, sub_grouped)
        definition = (field_def.extensions or {}).get("strawberry-definition")
        resolve = field_def.resolve
        if resolve is None:  # graphql-core's default resolver (see _plain_attribute_fields)
            return self._attribute(name, key, parent, complete)
        if (definition is not None and definition.base_resolver is None
                and getattr(resolve, "_is_default", False)):
            return self._attribute(definition.python_name, key, parent, complete, strict=True)
        return self._resolver(parent, key, field_def, details, definition, complete)

    def _attribute(self, attr: str, key: str, parent: GraphQLObjectType, complete: _Node,
                   strict: bool = False) -> _Node:
        """A field read from its parent: graphql-core's default resolver (a dict's key,
        else the attribute; a callable would be called: not here), or with ``strict``
        strawberry's (``getattr``, for fields renamed from Python)."""
        fn, type_name, needs_path = complete.fn, parent.name, complete.needs_path

        def field(source: Any, run: _Run, path: Path | None) -> Any:
            if strict:
                value = getattr(source, attr)
            else:
                value = source.get(attr) if is_mapping(type(source)) else \
                    getattr(source, attr, None)
                if callable(value):
                    raise Fallback
            return fn(value, run, Path(path, key, type_name) if needs_path else None)

        inline = not strict and not needs_path and not complete.is_async
        return _Node(field, complete.is_async, needs_path, attr=attr if inline else None,
                     value=complete if inline else None)

    def _resolver(self, parent: GraphQLObjectType, key: str, field_def: Any,
                  details: list[FieldDetails], definition: Any, complete: _Node) -> _Node:
        node = details[0].node
        field_nodes = [d.node for d in details]
        schema, operation, fragments = self.schema, self.operation, self.fragment_defs
        info_class, sschema = self.info_class, self.sschema
        type_name, return_type, field_name = parent.name, field_def.type, node.name.value
        dynamic_args = any(uses_variables(a) for a in node.arguments or ())
        # strawberry's ``info.selected_fields``, computed once when no variable can change it
        selected = None if check_selections(node.selection_set, fragments) else \
            convert_selections(cast(Any, RawInfo(
                field_name, field_nodes, return_type, parent, Path(None, key, type_name), schema,
                fragments, None, operation, {}, None, isawaitable, None, _HELPERS, {})),
                field_nodes)
        base: Any = definition.base_resolver if definition is not None else None
        direct = (base is not None and not definition.extensions
                  and not definition.permission_classes and callable(base.wrapped_func))
        if direct:
            fn = base.wrapped_func
            self_param = base.self_parameter is not None
            info_name = base.info_parameter.name if base.info_parameter else None
            source_names = [p.name for p in (base.parent_parameter, base.root_parameter) if p]
            arguments, registry, config = (definition.arguments,
                                           sschema.schema_converter.scalar_registry,
                                           sschema.config)
            static_kwargs = (None if dynamic_args else convert_arguments(
                get_argument_values(field_def, node, None), arguments, registry, config))
            by_variable = variable_arguments(field_def, node, definition, registry, config) \
                if dynamic_args else None
            if by_variable is not None:
                static_kwargs = by_variable[0]
        static_gql_args = None if dynamic_args else get_argument_values(field_def, node, None)

        def raw_info(run: _Run, path: Path) -> Any:  # RawInfo(...) without its __new__
            return _tuple_new(RawInfo, (
                field_name, field_nodes, return_type, parent, path, schema, fragments,
                run.root_value, operation, run.variables.coerced, run.context, isawaitable,
                None, _HELPERS, run.operation_extensions))

        def call(source: Any, run: _Run, path: Path) -> Any:
            if time.monotonic() > run.deadline:
                raise PlanTimeout
            raw = raw_info(run, path)
            if not direct:  # strawberry's own resolver wrapper, as graphql-core calls it
                gql_args = static_gql_args if static_gql_args is not None else \
                    get_argument_values(field_def, node, run.variables)
                return field_def.resolve(source, raw, **gql_args)
            info = info_class(_raw_info=raw, _field=definition)
            if selected is not None:
                info.__dict__["selected_fields"] = selected
            kwargs = None if static_kwargs is None else dict(static_kwargs)
            if by_variable is not None and kwargs is not None:
                coerced = run.variables.coerced
                for python_name, variable, non_null in by_variable[1]:
                    value = coerced.get(variable, Undefined)
                    if value is Undefined or (value is None and non_null):
                        kwargs = None  # defaults and errors: graphql-core's rules below
                        break
                    kwargs[python_name] = value
            if kwargs is None:
                kwargs = convert_arguments(get_argument_values(field_def, node, run.variables),
                                           arguments, registry, config, info=info)
            for name in source_names:
                kwargs[name] = source
            if info_name is not None:
                kwargs[info_name] = info
            return fn(source, **kwargs) if self_param else fn(**kwargs)

        value_fn, inline = complete.fn, self.inline
        waits = definition is None or definition.is_async or not direct or getattr(
            base.wrapped_func, "may_wait", False)
        if inline or (not complete.is_async and not waits):
            def field(source: Any, run: _Run, parent_path: Path | None) -> Any:
                path = Path(parent_path, key, type_name)
                value = call(source, run, path)
                if isawaitable(value):
                    if not inline:  # a plain function handing back an awaitable
                        value.close() if hasattr(value, "close") else None
                        raise Fallback
                    value = run_now(value)  # in memory, it finishes at once
                return value_fn(value, run, path)

            return _Node(field, False, True)

        async def field_async(source: Any, run: _Run, parent_path: Path | None) -> Any:
            path = Path(parent_path, key, type_name)
            value = call(source, run, path)
            if isawaitable(value):
                value = await value
            if complete.is_async:
                return await value_fn(value, run, path)
            if run.concurrent and type(value) is list and len(value) > 100:
                # A long answer from a database, completed without waiting: no cyclic
                # collection meanwhile (in memory, run_plan pauses it for the whole run).
                with paused_gc():
                    return value_fn(value, run, path)
            return value_fn(value, run, path)

        return _Node(field_async, True, True)

    def _value(self, gql_type: GraphQLOutputType, details: list[FieldDetails] | None,
               non_null: bool = False) -> _Node:
        """The completer of a field's value; ``non_null``: a null makes the plan give up
        (graphql-core would report an error and null the parent)."""
        if isinstance(gql_type, GraphQLNonNull):
            return self._value(gql_type.of_type, details, True)
        if isinstance(gql_type, GraphQLList):
            return self._list(self._value(gql_type.of_type, details), non_null)
        if isinstance(gql_type, GraphQLLeafType):
            plain = _plain_outputs(gql_type)
            return _Node(_leaf(gql_type, non_null, plain), False, False, plain)
        if isinstance(gql_type, GraphQLObjectType) and details is not None:
            collected = collect_subfields(self.schema, self.fragments, _NO_VARIABLES,
                                          self.operation, gql_type, details)
            return self._object(gql_type, collected.grouped_field_set,
                                collected.new_defer_usages, non_null=non_null)
        raise Unsupported  # interfaces and unions: graphql-core resolves the type

    @staticmethod
    def _list(item: _Node, non_null: bool) -> _Node:
        fn, needs_path = item.fn, item.needs_path

        def items(value: Any) -> list[Any] | tuple[Any, ...] | None:
            if value is None:
                if non_null:
                    raise Fallback
                return None
            if not isinstance(value, list | tuple):  # other iterables: graphql-core's rules
                raise Fallback
            return value

        if item.is_async:
            async def complete_list_async(value: Any, run: _Run, path: Path | None) -> Any:
                seq = items(value)
                if seq is None:
                    return None
                return [await fn(v, run, Path(path, i, None)) for i, v in enumerate(seq)]

            return _Node(complete_list_async, True, needs_path)

        def complete_list(value: Any, run: _Run, path: Path | None) -> Any:
            seq = items(value)
            if seq is None:
                return None
            if needs_path:
                return [fn(v, run, Path(path, i, None)) for i, v in enumerate(seq)]
            return [fn(v, run, None) for v in seq]

        return _Node(complete_list, False, needs_path)


# Python types graphql-core's output coercion hands back unchanged, per scalar.
_PLAIN_OUTPUTS: dict[Any, tuple[type, ...]] = {
    GraphQLString: (str,), GraphQLID: (str,), GraphQLBoolean: (bool,),
    GraphQLInt: (int,)}  # ints within 32 bits
# strawberry's JSON scalar serializes as ``lambda v: v`` (each schema has its own
# GraphQLScalarType, all with this function): whatever JSON value it is given.
_JSON_SERIALIZE = DEFAULT_SCALAR_REGISTRY[JSON].serialize
_JSON_VALUES = (dict, list, str, float, bool)  # ints too, but the 32-bit test is Int's


def _plain_outputs(leaf: GraphQLLeafType) -> tuple[type, ...]:
    plain = _PLAIN_OUTPUTS.get(leaf)
    if plain is not None:
        return plain
    if isinstance(leaf, GraphQLScalarType) and leaf.serialize is _JSON_SERIALIZE:
        return _JSON_VALUES
    return ()


def _leaf(leaf: GraphQLLeafType, non_null: bool, passthrough: tuple[type, ...]) -> _Completer:
    """Scalar or enum output coercion, passing plain values through unchanged where
    graphql-core's coercion would return them as they are."""
    coerce = leaf.coerce_output_value
    is_int, is_float = leaf is GraphQLInt, leaf is GraphQLFloat

    def complete(value: Any, _run: _Run, _path: Path | None) -> Any:
        kind = type(value)
        if kind in passthrough or (is_int and kind is int and INT_MIN <= value <= INT_MAX) or (
                is_float and kind is float and math.isfinite(value)):
            return value
        if value is None:
            if non_null:
                raise Fallback
            return None
        try:
            out = coerce(value)
        except Exception as exc:
            raise Fallback from exc
        if out is None or out is Undefined:  # graphql-core's "non-nullable value" error
            raise Fallback
        return out

    return complete
