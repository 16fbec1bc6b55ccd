"""Generated Python for the object selections of compiled plans (server.graphql.compiled).

A long answer (a building's 2,010 descendants) is mostly the same small object
completed again and again: ``{ depth twin { id model } }``.  With one closure
per field that is a Python call per value; here one function per selection
set is generated from source instead, reading every field of its object
inline, passing plain values (strings for String and ID, 32-bit ints for Int,
booleans) through without a call, and calling a completer only for other
values, nested objects and resolvers.  It answers exactly as the closures do,
and gives up (``fallback``) where they would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import CodeType
from typing import Any

__all__ = ["FieldCode", "is_mapping", "object_completer"]

# Whether a source type is a Mapping (read by key), remembered: the ABC check is slow.
_IS_MAPPING: dict[type, bool] = {dict: True}


def is_mapping(kind: type) -> bool:
    found = _IS_MAPPING.get(kind)
    if found is None:
        found = _IS_MAPPING[kind] = issubclass(kind, Mapping)
    return found


_CODE: dict[str, CodeType] = {}  # compiled completer source, by its text


@dataclass(frozen=True, slots=True)
class FieldCode:
    """One response key: read ``attr`` from the source (graphql-core's default
    resolver) and complete it with ``complete``; or, with ``attr`` None, call
    ``complete(source, run, path)`` for the whole field (resolvers, __typename)."""

    key: str
    attr: str | None
    complete: Callable[..., Any]
    plain: tuple[type, ...] = ()  # value types handed back unchanged


def _plain_test(var: str, plain: tuple[type, ...]) -> str | None:
    """A Python condition true when ``var`` passes through unchanged."""
    tests = []
    for kind in plain:
        if kind is int:
            tests.append(f"(type({var}) is int and -2147483648 <= {var} <= 2147483647)")
        else:
            tests.append(f"type({var}) is {kind.__name__}")
    return " or ".join(tests) or None


def object_completer(fields: list[FieldCode], *, root: bool, non_null: bool,
                     fallback: type[Exception]) -> Callable[..., Any]:
    """``complete(source, run, path) -> dict`` for one selection set."""
    env: dict[str, Any] = {"Fallback": fallback, "_mapping": is_mapping, "callable": callable}
    lines = ["def complete(source, run, path):"]
    if not root:
        lines += ["    if source is None:",
                  "        raise Fallback" if non_null else "        return None"]
    reads = [(i, f) for i, f in enumerate(fields) if f.attr is not None]
    if reads:
        lines.append("    if type(source) is dict or _mapping(type(source)):")
        lines += [f"        v{i} = source.get({f.attr!r})" for i, f in reads]
        lines.append("    else:")
        lines += [f"        v{i} = getattr(source, {f.attr!r}, None)" for i, f in reads]
    for i, f in enumerate(fields):
        env[f"c{i}"] = f.complete
        if f.attr is None:
            lines.append(f"    v{i} = c{i}(source, run, path)")
            continue
        test = _plain_test(f"v{i}", f.plain)
        indent = "    "
        if test is not None:
            lines.append(f"    if not ({test}):")
            indent = "        "
        # graphql-core would call a callable attribute with info and arguments
        lines += [f"{indent}if callable(v{i}):", f"{indent}    raise Fallback",
                  f"{indent}v{i} = c{i}(v{i}, run, None)"]
    pairs = ", ".join(f"{f.key!r}: v{i}" for i, f in enumerate(fields))
    lines.append(f"    return {{{pairs}}}")
    # The source is ours: names are GraphQL names (letters, digits, _), quoted by repr.
    # Compiling it is the costly part, and many selections share one shape.
    source = "\n".join(lines)
    code = _CODE.get(source)
    if code is None:
        if len(_CODE) >= 1024:
            _CODE.clear()
        code = _CODE[source] = compile(source, "<graphql plan>", "exec")
    exec(code, env)
    complete: Callable[..., Any] = env["complete"]
    return complete
