"""GraphQL types generated from the loaded DTDL interfaces, rebuilt when models change.

Every interface gets an object type with its (flattened) properties and
telemetry as typed fields and its relationships as fields returning the target
interface's type, and a root field to fetch a twin through it::

    { room(id: "room1") { temperature area isLocatedIn { id } } }
    { floor(id: "floor1") { name contains { id } } }

Naming rules (predictable, documented in docs/graphql.md):

- a type is named after the last segment of the DTMI path (``dtmi:acme:Room;2``
  -> ``Room``); when several interfaces share that segment, earlier segments
  are prepended with ``_`` until the names differ (``acme_Room``,
  ``other_Room``), then ``_v<version>`` is appended (``Room_v1``, ``Room_v2``);
- a name that clashes with a built-in type (Twin, Model, Query, ...) gets the
  suffix ``Twin`` (``Model`` -> ``ModelTwin``);
- the root field is the type name with a lower-case first letter; one that
  clashes with a built-in root field (``twin``, ``twins``, ``model``,
  ``models``) gets the suffix ``Twin``;
- a content named ``id``, ``model``, ``etag`` or ``twin`` (fields every typed
  twin has) is exposed with a trailing underscore (``id_``).

Schemas map to GraphQL scalars: boolean -> Boolean; integer -> Int; double,
float, long -> Float (long exceeds GraphQL's 32-bit Int); string, date,
dateTime, time, duration and enums -> String; everything else (objects, maps,
arrays, geospatial, components) -> JSON.  A relationship whose target is not
declared returns the generic ``Twin``.  The root field returns null when the
twin does not exist or is not of that model (or a model extending it).

This module deliberately does not use ``from __future__ import annotations``:
the generated resolvers carry real type objects for strawberry to read.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any, Optional

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph import base
from ontology.model import (
    Component,
    EnumSchema,
    Interface,
    ModelRegistry,
    PrimitiveSchema,
    Property,
    Relationship,
    Schema,
    Telemetry,
)
from server.graphql.types import call

__all__ = ["RESERVED_FIELDS", "RESERVED_ROOTS", "RESERVED_TYPES", "build_typed_query", "type_names"]

RESERVED_TYPES = frozenset({
    "Query", "Mutation", "Subscription", "Twin", "Model", "Relationship", "Neighbor", "Path",
    "Hop", "ReachedTwin", "AggregateGroup", "AggregateScope", "PageInfo", "TwinConnection",
    "ChangeEvent", "Direction", "FilterOp", "PropertyFilter", "TwinFilterInput", "TwinSort",
    "JSON", "String", "Int", "Float", "Boolean", "ID",
})
RESERVED_ROOTS = frozenset({"twin", "twins", "model", "models"})
RESERVED_FIELDS = frozenset({"id", "model", "etag", "twin"})

_SCALARS: Mapping[str, Any] = {
    "boolean": bool, "integer": int, "double": float, "float": float, "long": float,
    "string": str, "date": str, "dateTime": str, "time": str, "duration": str,
}


def _segments(dtmi: str) -> tuple[list[str], str]:
    path, _, version = dtmi.removeprefix("dtmi:").partition(";")
    return path.split(":"), version


def _clean(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def type_names(dtmis: list[str]) -> dict[str, str]:
    """GraphQL type name for each DTMI, by the rules in the module docstring."""
    names: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for d in sorted(dtmis):
        groups.setdefault(_segments(d)[0][-1], []).append(d)
    for members in groups.values():
        depth = 1
        while True:
            cand = {d: "_".join(_segments(d)[0][-depth:]) for d in members}
            longest = max(len(_segments(d)[0]) for d in members)
            if len(set(cand.values())) == len(members) or depth >= longest:
                break
            depth += 1
        counts: dict[str, int] = {}
        for n in cand.values():
            counts[n] = counts.get(n, 0) + 1
        for d, n in cand.items():
            if counts[n] > 1:
                n = f"{n}_v{_segments(d)[1] or '0'}"
            n = _clean(n)
            names[d] = f"{n}Twin" if n in RESERVED_TYPES else n
    return names


def _scalar(schema: Schema) -> Any:
    if isinstance(schema, PrimitiveSchema) and schema.name in _SCALARS:
        return _SCALARS[schema.name]
    if isinstance(schema, EnumSchema):
        return str if schema.value_schema == "string" else int
    return JSON


def _field_name(name: str) -> str:
    return f"{name}_" if name in RESERVED_FIELDS else name


def _prop_resolver(name: str, kind: Any) -> Callable[..., Any]:
    def resolve(self: Any) -> Any:
        value = self._twin.properties.get(name)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    resolve.__annotations__ = {"return": Optional[kind]}  # noqa: UP045 - runtime type object
    return resolve


def _rel_resolver(name: str, target: Any, wrap: Callable[[base.Twin], Any]) -> Callable[..., Any]:
    async def resolve(self: Any, info: Info) -> Any:
        store = info.context.store
        rels = await call(info, store.list_relationships, self._twin.id, name)
        targets = list(dict.fromkeys(r.target for r in rels))
        twins = {t.id: t for t in await call(info, store.get_twins, targets)}
        return [wrap(twins[t]) for t in targets if t in twins]

    resolve.__annotations__ = {"info": Info, "return": list[target]}
    return resolve


def build_typed_query(registry: ModelRegistry, query_base: type, twin_type: type,
                      wrap_twin: Callable[[base.Twin], Any]) -> type:
    """A Query type extending ``query_base`` with one typed root field per interface."""
    names = type_names(list(registry))
    classes: dict[str, type] = {
        d: type(n, (), {"__annotations__": {"_twin": strawberry.Private[base.Twin]},
                        "__module__": __name__})
        for d, n in names.items()
    }

    def wrapper(cls: type) -> Callable[[base.Twin], Any]:
        return lambda twin: cls(_twin=twin)

    for dtmi, cls in classes.items():
        iface: Interface = registry[dtmi]
        cls.__doc__ = f"A twin seen through {dtmi}"
        _add(cls, "id", lambda self: self._twin.id, str)
        _add(cls, "model", lambda self: self._twin.model, str)
        _add(cls, "etag", lambda self: self._twin.etag, str)
        _add(cls, "twin", lambda self: wrap_twin(self._twin), twin_type,
             "The generic view of this twin (traversals, metadata...)")
        for name, content in sorted(iface.contents.items()):
            if isinstance(content, Property | Telemetry):
                kind = _scalar(content.schema)
                setattr(cls, _field_name(name), strawberry.field(
                    resolver=_prop_resolver(name, kind), name=_field_name(name)))
            elif isinstance(content, Component):
                setattr(cls, _field_name(name), strawberry.field(
                    resolver=_prop_resolver(name, JSON), name=_field_name(name)))
            elif isinstance(content, Relationship):
                target_cls = classes.get(content.target or "", twin_type)
                wrap = wrapper(target_cls) if target_cls is not twin_type else wrap_twin
                setattr(cls, _field_name(name), strawberry.field(
                    resolver=_rel_resolver(name, target_cls, wrap), name=_field_name(name)))
    for cls in classes.values():
        strawberry.type(cls)

    attrs: dict[str, Any] = {"__module__": __name__}
    for dtmi, cls in classes.items():
        root = cls.__name__[0].lower() + cls.__name__[1:]
        if root in RESERVED_ROOTS:
            root += "Twin"
        attrs[root] = strawberry.field(resolver=_root_resolver(dtmi, cls), name=root)
    return strawberry.type(type("Query", (query_base,), attrs))


def _add(cls: type, name: str, fn: Callable[[Any], Any], kind: Any, doc: str | None = None) -> None:
    fn.__annotations__ = {"return": kind}
    setattr(cls, name, strawberry.field(resolver=fn, name=name, description=doc))


def _root_resolver(dtmi: str, cls: type) -> Callable[..., Any]:
    async def resolve(self: Any, info: Info, id: str) -> Any:
        found = await call(info, info.context.store.get_twins, [id])
        if not found or not info.context.store.registry.is_of_model(found[0].model, dtmi):
            return None
        return cls(_twin=found[0])

    resolve.__annotations__ = {"info": Info, "id": str, "return": Optional[cls]}  # noqa: UP045
    return resolve
