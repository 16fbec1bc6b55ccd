"""Variables and arguments for compiled plans (server.graphql.compiled).

What a plan can take without graphql-core's general machinery: variables that
are plain built-in scalars (taken as given, which is what coercion returns),
bare ``$variable`` arguments (the coerced variable is the argument), and which
selections depend on variables at all (those compute ``info.selected_fields``
per request; the others once).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLString,
    InlineFragmentNode,
    Node,
    SelectionSetNode,
    VariableNode,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "Simple",
    "Unsupported",
    "check_selections",
    "plain_input",
    "simple_variables",
    "uses_variables",
    "variable_arguments",
]

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # GraphQL Int is 32-bit


class Unsupported(Exception):
    """Raised while compiling: the document gets no plan."""


# Python types graphql-core's input coercion returns unchanged, per scalar.
_PLAIN_INPUTS: dict[Any, frozenset[type]] = {
    GraphQLString: frozenset({str}), GraphQLID: frozenset({str}),
    GraphQLBoolean: frozenset({bool}), GraphQLInt: frozenset({int}),
    GraphQLFloat: frozenset({float}),
}


def plain_input(value: Any, kinds: frozenset[type], non_null: bool) -> bool:
    """Whether input coercion would return ``value`` as it is."""
    kind = type(value)
    if value is None:
        return not non_null
    return kind in kinds and (kind is not int or INT_MIN <= value <= INT_MAX) and (
        kind is not float or math.isfinite(value))


Simple = list[tuple[str, Any, bool, frozenset[type]]]


def simple_variables(schema: Any, var_defs: Any) -> Simple | None:
    """(name, signature, non-null, plain Python types) per variable when every one is
    a built-in scalar without a default; else None (``get_variable_values`` runs)."""
    out = []
    for var_def in var_defs:
        signature = get_variable_signature(schema, var_def)
        if isinstance(signature, GraphQLError) or var_def.default_value is not None:
            return None
        var_type, non_null = signature.type, False
        if isinstance(var_type, GraphQLNonNull):
            var_type, non_null = var_type.of_type, True
        kinds = _PLAIN_INPUTS.get(var_type)
        if kinds is None:
            return None
        out.append((signature.name, signature, non_null, kinds))
    return out


# A value of each built-in scalar, standing in for a variable while the arguments
# that do not depend on variables are converted once (see variable_arguments).
_PLACEHOLDERS: dict[Any, Any] = {GraphQLString: "", GraphQLID: "", GraphQLInt: 0,
                                 GraphQLFloat: 0.0, GraphQLBoolean: False}


def variable_arguments(field_def: Any, node: FieldNode, definition: Any, registry: Any,
                        config: Any) -> tuple[dict[str, Any], list[tuple[str, str, bool]]] | None:
    """For a field whose variable arguments are all bare ``$name`` of a built-in
    scalar type (``twin(id: $id)``): the resolver's keyword arguments converted once
    with placeholders, and (Python name, variable, non-null) to put each variable's
    coerced value in at run time (input coercion already made it the argument's
    value).  None for anything else (lists, input objects, enums)."""
    placeholders: dict[str, Any] = {}
    by_variable: list[tuple[str, str, bool]] = []
    python_names = {config.name_converter.from_argument(a): a.python_name
                    for a in definition.arguments}
    for arg in node.arguments or ():
        if not uses_variables(arg.value):
            continue
        arg_def = field_def.args.get(arg.name.value)
        if not isinstance(arg.value, VariableNode) or arg_def is None:
            return None
        arg_type, non_null = arg_def.type, False
        if isinstance(arg_type, GraphQLNonNull):
            arg_type, non_null = arg_type.of_type, True
        if arg_type not in _PLACEHOLDERS or arg.name.value not in python_names:
            return None
        placeholders[arg.value.name.value] = _PLACEHOLDERS[arg_type]
        by_variable.append((python_names[arg.name.value], arg.value.name.value, non_null))
    stand_in = VariableValues({}, placeholders)
    converted = convert_arguments(get_argument_values(field_def, node, stand_in),
                                  definition.arguments, registry, config)
    return converted, by_variable


def uses_variables(node: Node) -> bool:
    """Whether an AST subtree (an argument's value) refers to a variable."""
    if isinstance(node, VariableNode):
        return True
    for key in node.keys:
        value = getattr(node, key, None)
        for child in value if isinstance(value, tuple | list) else (value,):
            if isinstance(child, Node) and uses_variables(child):
                return True
    return False


def check_selections(node: SelectionSetNode | None,
                      fragments: Mapping[str, FragmentDefinitionNode]) -> bool:
    """Whether a selection set (fragments followed) uses variables; raises
    ``Unsupported`` for directives (``@skip``, ``@include``, ``@defer``...)."""
    if node is None:
        return False
    uses = False
    for sel in node.selections:
        if sel.directives:
            raise Unsupported
        if isinstance(sel, FieldNode):
            uses = any(uses_variables(a) for a in sel.arguments or ()) or uses
            uses = check_selections(sel.selection_set, fragments) or uses
        elif isinstance(sel, InlineFragmentNode):
            uses = check_selections(sel.selection_set, fragments) or uses
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments.get(sel.name.value)
            if frag is None or frag.directives or frag.variable_definitions:
                raise Unsupported
            uses = check_selections(frag.selection_set, fragments) or uses
    return uses
