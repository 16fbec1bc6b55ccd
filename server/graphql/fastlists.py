"""A faster completion of long lists of plain objects (graphql-core execution context).

graphql-core completes every field of every list item through the general
machinery (resolve info, awaitable checks, error paths): on a 2,000-twin
``descendants { depth twin { id model } }`` that is 8,000 field executions and
most of the request's time.  When every selected field of the item type is a
plain attribute (no resolver, no arguments, no ``@defer``) of a leaf or of a
nested object built the same way, the answer is a pure function of the items'
attributes, so this builds it directly.

The fast path has no side effects: at the first thing it does not handle (a
null where the schema says non-null, a value the scalar refuses, a callable
attribute...) it gives up and the list is completed the general way, which
then reports the error exactly as graphql-core would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from server.graphql.planvars import INT_MAX, INT_MIN  # GraphQL Int is 32-bit

__all__ = ["FastListExecutionContext"]

# One selected field: (response key, attribute name, non-null?, serialize or sub-plan).
_Entry = tuple[str, str, bool, Any]


_SERIALIZE_INT = GraphQLInt.serialize


class _GiveUp(Exception):
    pass


class FastListExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def complete_list_value(self, return_type: GraphQLList[Any], field_details_list: Any,
                            info: Any, path: Any, result: Any, position_context: Any) -> Any:
        if isinstance(result, list) and len(result) > 1:
            plan = self._item_plan(return_type.of_type, field_details_list)
            if plan is not None:
                non_null, entries = plan
                try:
                    return [_complete(item, non_null, entries) for item in result]
                except _GiveUp:
                    pass
        return super().complete_list_value(return_type, field_details_list, info, path,
                                           result, position_context)

    def _item_plan(self, item_type: Any,
                   field_details_list: Any) -> tuple[bool, list[_Entry]] | None:
        non_null = isinstance(item_type, GraphQLNonNull)
        if non_null:
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType):
            return None
        entries = self._object_plan(item_type, field_details_list, depth=0)
        return None if entries is None else (non_null, entries)

    def _object_plan(self, obj_type: GraphQLObjectType, field_details_list: Any,
                     depth: int) -> list[_Entry] | None:
        if depth > 3:
            return None
        collected = self.collect_subfields(obj_type, field_details_list)
        if collected.new_defer_usages:
            return None
        entries: list[_Entry] = []
        for key, details in collected.grouped_field_set.items():
            node = details[0].node
            name = node.name.value
            if name == "__typename":
                entries.append((key, name, True, obj_type.name))
                continue
            field = obj_type.fields.get(name)
            if field is None or field.resolve is not None or node.arguments:
                return None
            field_type = field.type
            non_null = isinstance(field_type, GraphQLNonNull)
            if non_null:
                field_type = field_type.of_type
            if isinstance(field_type, GraphQLLeafType):
                entries.append((key, name, non_null, field_type.serialize))
            elif isinstance(field_type, GraphQLObjectType):
                sub = self._object_plan(field_type, details, depth + 1)
                if sub is None:
                    return None
                entries.append((key, name, non_null, sub))
            else:
                return None
        return entries


# Values these scalars would hand back unchanged: answered without calling them
# (most of the values in a long list are ids, model DTMIs and depths).
_SERIALIZE_STRING, _SERIALIZE_ID = GraphQLString.serialize, GraphQLID.serialize
_SERIALIZE_BOOLEAN = GraphQLBoolean.serialize


def _complete(item: Any, non_null: bool, entries: list[_Entry]) -> Any:
    if item is None:
        if non_null:
            raise _GiveUp
        return None
    out: dict[str, Any] = {}
    for key, name, field_non_null, how in entries:
        if name == "__typename":
            out[key] = how
            continue
        value: Any = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        kind = type(value)
        if (kind is str and (how is _SERIALIZE_STRING or how is _SERIALIZE_ID)) or (
                kind is int and how is _SERIALIZE_INT and INT_MIN <= value <= INT_MAX) or (
                kind is bool and how is _SERIALIZE_BOOLEAN):
            out[key] = value
            continue
        if value is None:
            if field_non_null:
                raise _GiveUp
            out[key] = None
        elif callable(value) and not isinstance(how, list):
            raise _GiveUp
        elif isinstance(how, list):
            out[key] = _complete(value, field_non_null, how)
        else:
            out[key] = _serialize(how, value)
    return out


def _serialize(serialize: Callable[[Any], Any], value: Any) -> Any:
    try:
        result = serialize(value)
    except Exception as exc:
        raise _GiveUp from exc
    if result is None:  # graphql-core treats an unserialisable value as an error
        raise _GiveUp
    return result
