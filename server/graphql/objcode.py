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
    ``complete(source, run, path)`` for the whole field (resolvers, __typename).
    ``inner``: the fields of the object ``complete`` completes, read in the same
    generated function when the value is a plain dict (no call per object)."""

    key: str
    attr: str | None
    complete: Callable[..., Any]
    plain: tuple[type, ...] = ()  # value types handed back unchanged
    inner: tuple[FieldCode, ...] | None = None


def _plain_test(var: str, plain: tuple[type, ...]) -> str | None:
    """A Python condition true when ``var`` passes through unchanged."""
    tests = []
    for kind in plain:
        if kind is int:
            tests.append(f"(type({var}) is int and -2147483648 <= {var} <= 2147483647)")
        else:
            tests.append(f"type({var}) is {kind.__name__}")
    return " or ".join(tests) or None


def _emit(fields: tuple[FieldCode, ...] | list[FieldCode], src: str, indent: str,
          lines: list[str], env: dict[str, Any], *, known_dict: bool, path: str) -> str:
    """Lines completing ``fields`` of the object in variable ``src`` (named after it,
    so nested objects' names never clash); returns the answer's dict expression."""
    reads = [(i, f) for i, f in enumerate(fields) if f.attr is not None]
    if reads and known_dict:
        lines += [f"{indent}{src}_{i} = {src}.get({f.attr!r})" for i, f in reads]
    elif reads:
        lines.append(f"{indent}if type({src}) is dict or _mapping(type({src})):")
        lines += [f"{indent}    {src}_{i} = {src}.get({f.attr!r})" for i, f in reads]
        lines.append(f"{indent}else:")
        lines += [f"{indent}    {src}_{i} = getattr({src}, {f.attr!r}, None)" for i, f in reads]
    for i, f in enumerate(fields):
        var = f"{src}_{i}"
        env[f"c_{var}"] = f.complete
        if f.attr is None:
            lines.append(f"{indent}{var} = c_{var}({src}, run, {path})")
            continue
        test = _plain_test(var, f.plain)
        at = indent
        if test is not None:
            lines.append(f"{at}if not ({test}):")
            at += "    "
        if f.inner is not None:  # an object: a plain dict is read right here
            lines.append(f"{at}if type({var}) is dict:")
            answer = _emit(f.inner, var, at + "    ", lines, env, known_dict=True, path="None")
            lines += [f"{at}    {var} = {answer}", f"{at}else:"]
            at += "    "
        # graphql-core would call a callable attribute with info and arguments
        lines += [f"{at}if callable({var}):", f"{at}    raise Fallback",
                  f"{at}{var} = c_{var}({var}, run, None)"]
    pairs = ", ".join(f"{f.key!r}: {src}_{i}" for i, f in enumerate(fields))
    return f"{{{pairs}}}"


def object_completer(fields: list[FieldCode], *, root: bool, non_null: bool,
                     fallback: type[Exception]) -> Callable[..., Any]:
    """``complete(source, run, path) -> dict`` for one selection set."""
    env: dict[str, Any] = {"Fallback": fallback, "_mapping": is_mapping, "callable": callable}
    lines = ["def complete(source, run, path):"]
    if not root:
        lines += ["    if source is None:",
                  "        raise Fallback" if non_null else "        return None"]
    answer = _emit(fields, "source", "    ", lines, env, known_dict=False, path="path")
    lines.append(f"    return {answer}")
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
