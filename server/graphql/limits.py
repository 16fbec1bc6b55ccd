"""Query limits, checked before a GraphQL operation runs.

Depth and cost are computed from the parsed document and the schema during
validation, so an over-limit query is refused without touching the store; the
error message names the limit (``max_depth``, ``max_cost``) and its value.

Cost model (deliberately simple and documented in docs/graphql.md): every
field costs 1; a field returning a list multiplies the cost of its selection
by its ``first``/``limit`` argument when given as a literal, else by
``list_size_estimate`` (variables are not known at validation time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

__all__ = ["Limits", "limits_rule"]


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 15  # nesting of selection sets
    max_cost: int = 50_000  # see the module docstring
    max_page_size: int = 10_000  # cap on ``first`` of every list field
    default_page_size: int = 100  # ``twins`` without ``first``; traversals default to the cap
    list_size_estimate: int = 100  # cost multiplier of a list field without a literal size
    max_traversal_depth: int = 50  # hops in neighbours/expand/path/hierarchy
    max_request_bytes: int = 1_000_000  # HTTP body size
    timeout_seconds: float = 30.0  # per operation
    max_paths: int = 10_000  # paths returned by one expansion


def _unwrap(t: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        if isinstance(t, GraphQLList):
            is_list = True
        t = t.of_type
    return t, is_list


class _Measure:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 limits: Limits) -> None:
        self.schema = schema
        self.fragments = fragments
        self.limits = limits

    def selection(self, sel: SelectionSetNode | None, parent: Any, depth: int,
                  seen: frozenset[str]) -> tuple[int, int]:
        """(max depth, cost) of a selection set under ``parent`` (a named GraphQL type)."""
        if sel is None:
            return depth, 0
        deepest, cost = depth, 0
        for node in sel.selections:
            if isinstance(node, FieldNode):
                d, c = self.field(node, parent, depth + 1, seen)
            elif isinstance(node, InlineFragmentNode):
                cond = node.type_condition
                t = self.schema.get_type(cond.name.value) if cond else parent
                d, c = self.selection(node.selection_set, t, depth, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                frag = self.fragments.get(name)
                if frag is None or name in seen:  # unknown or cyclic: other rules report it
                    continue
                t = self.schema.get_type(frag.type_condition.name.value)
                d, c = self.selection(frag.selection_set, t, depth, seen | {name})
            else:  # pragma: no cover
                continue
            deepest, cost = max(deepest, d), cost + c
        return deepest, cost

    def field(self, node: FieldNode, parent: Any, depth: int,
              seen: frozenset[str]) -> tuple[int, int]:
        field_type = None
        if isinstance(parent, GraphQLObjectType):
            fdef = parent.fields.get(node.name.value)
            field_type = fdef.type if fdef is not None else None
        named, is_list = _unwrap(field_type) if field_type is not None else (None, False)
        if named is not None:
            named = get_named_type(named)
        d, c = self.selection(node.selection_set, named, depth, seen)
        multiplier = 1
        if is_list and node.selection_set is not None:
            multiplier = self.limits.list_size_estimate
            for arg in node.arguments or ():
                if arg.name.value in ("first", "limit") and isinstance(arg.value, IntValueNode):
                    multiplier = max(1, int(arg.value.value))
        return d, 1 + multiplier * c


def limits_rule(limits: Limits) -> type[ValidationRule]:
    """A graphql-core validation rule enforcing ``limits.max_depth`` and ``max_cost``."""

    class QueryLimitsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            doc = context.document
            fragments = {d.name.value: d for d in doc.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            schema = context.schema
            measure = _Measure(schema, fragments, limits)
            for op in doc.definitions:
                if not isinstance(op, OperationDefinitionNode):
                    continue
                root = schema.get_root_type(op.operation)
                depth, cost = measure.selection(op.selection_set, root, 0, frozenset())
                name = op.name.value if op.name else "the operation"
                if depth > limits.max_depth:
                    context.report_error(GraphQLError(
                        f"{name} is {depth} levels deep; the limit max_depth is {limits.max_depth}",
                        op, extensions={"code": "QUERY_TOO_DEEP", "limit": "max_depth",
                                        "max": limits.max_depth, "actual": depth}))
                if cost > limits.max_cost:
                    context.report_error(GraphQLError(
                        f"{name} has an estimated cost of {cost}; the limit max_cost is "
                        f"{limits.max_cost}",
                        op, extensions={"code": "QUERY_TOO_COSTLY", "limit": "max_cost",
                                        "max": limits.max_cost, "actual": cost}))

    return QueryLimitsRule
