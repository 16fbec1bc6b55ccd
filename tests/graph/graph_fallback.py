"""TEMPORARY stand-ins for ``ontology.parse_models`` and ``ontology.instance``.

Installed by conftest only while the ontology helper's versions have not
landed; they handle just the DTDL the store tests use.  Delete this file once
``ontology.parse_models`` and ``ontology.instance`` exist.
"""

from __future__ import annotations

import importlib
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import ontology
from ontology import model as m

__all__ = ["install"]

_PRIMITIVE_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "integer": (int,),
    "long": (int,),
    "string": (str,),
    "dateTime": (str,),
    "date": (str,),
}


@dataclass
class _Result:
    registry: m.ModelRegistry
    errors: list[Any] = field(default_factory=list)
    unresolved: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Err:
    code: str
    message: str
    dtmi: str | None = None

    def __str__(self) -> str:
        return f"error[{self.code}]: {self.message}"


def _schema(s: Any) -> m.Schema:
    if isinstance(s, str):
        return m.PrimitiveSchema(s)
    kind = s["@type"]
    if kind == "Enum":
        values = tuple(m.EnumValue(v["name"], v["enumValue"]) for v in s["enumValues"])
        return m.EnumSchema(s["valueSchema"], values)
    if kind == "Object":
        return m.ObjectSchema(tuple(m.Field(f["name"], _schema(f["schema"])) for f in s["fields"]))
    if kind == "Map":
        return m.MapSchema(
            s["mapKey"]["name"],
            m.PrimitiveSchema("string"),
            s["mapValue"]["name"],
            _schema(s["mapValue"]["schema"]),
        )
    return m.ArraySchema(_schema(s["elementSchema"]))


def _content(c: dict[str, Any], owner: str) -> m.Content:
    kinds = c["@type"] if isinstance(c["@type"], list) else [c["@type"]]
    name = c["name"]
    if "Property" in kinds:
        return m.Property(
            name, owner, schema=_schema(c["schema"]), writable=c.get("writable", False)
        )
    if "Telemetry" in kinds:
        return m.Telemetry(name, owner, schema=_schema(c["schema"]))
    if "Component" in kinds:
        return m.Component(name, owner, schema=c["schema"])
    return m.Relationship(
        name,
        owner,
        target=c.get("target"),
        max_multiplicity=c.get("maxMultiplicity"),
        min_multiplicity=c.get("minMultiplicity"),
        properties=tuple(_content(p, owner) for p in c.get("properties", ())),  # type: ignore[misc]
    )


def parse_models(
    sources: Any, options: Any = None, *, known: m.ModelRegistry | None = None
) -> _Result:
    docs: list[dict[str, Any]] = []
    for s in sources:
        docs.extend(s if isinstance(s, list) else [s])
    known = known or m.ModelRegistry()
    raw = {d["@id"]: d for d in docs}
    own = {d: [_content(c, d) for c in doc.get("contents", ())] for d, doc in raw.items()}
    errors: list[Any] = []
    done: dict[str, m.Interface] = {}

    def build(dtmi: str) -> m.Interface | None:
        if dtmi in done:
            return done[dtmi]
        if dtmi in known:
            return known[dtmi]
        if dtmi not in raw:
            errors.append(_Err("UNRESOLVED", f"{dtmi} is not defined", dtmi))
            return None
        doc = raw[dtmi]
        ext = doc.get("extends", [])
        ext = tuple([ext] if isinstance(ext, str) else ext)
        contents: dict[str, m.Content] = {}
        for base in ext:
            b = build(base)
            if b is not None:
                contents.update(b.contents)
        contents.update({c.name: c for c in own[dtmi]})
        done[dtmi] = m.Interface(dtmi, 3, ext, contents, source_document=doc)
        return done[dtmi]

    for dtmi in raw:
        build(dtmi)
    for iface in done.values():
        for c in iface.contents.values():
            if isinstance(c, m.Component) and c.schema not in done and c.schema not in known:
                errors.append(_Err("UNRESOLVED", f"{c.schema} is not defined", iface.id))
    return _Result(m.ModelRegistry(done), errors)


@dataclass(frozen=True)
class InstanceError:
    path: str
    code: str
    message: str


def validate_value(schema: m.Schema, value: Any, path: str = "") -> list[InstanceError]:
    if isinstance(schema, m.PrimitiveSchema):
        ok = isinstance(value, _PRIMITIVE_TYPES.get(schema.name, (object,)))
        ok = ok and not (isinstance(value, bool) and schema.name != "boolean")
        return [] if ok else [InstanceError(path, "WRONG_TYPE", f"expected {schema.name}")]
    if isinstance(schema, m.EnumSchema):
        ok = value in [v.value for v in schema.values]
        return [] if ok else [InstanceError(path, "BAD_ENUM", f"{value!r} is not an enum value")]
    if isinstance(schema, m.ArraySchema):
        if not isinstance(value, list):
            return [InstanceError(path, "WRONG_TYPE", "expected array")]
        return [
            e
            for i, v in enumerate(value)
            for e in validate_value(schema.element_schema, v, f"{path}/{i}")
        ]
    if not isinstance(value, dict):
        return [InstanceError(path, "WRONG_TYPE", "expected object")]
    if isinstance(schema, m.MapSchema):
        return [
            e
            for k, v in value.items()
            for e in validate_value(schema.value_schema, v, f"{path}/{k}")
        ]
    assert isinstance(schema, m.ObjectSchema)
    fields = {f.name: f.schema for f in schema.fields}
    out: list[InstanceError] = []
    for k, v in value.items():
        if k not in fields:
            out.append(InstanceError(f"{path}/{k}", "UNKNOWN_NAME", f"no field {k}"))
        else:
            out.extend(validate_value(fields[k], v, f"{path}/{k}"))
    return out


def _check(
    iface: m.Interface,
    registry: m.ModelRegistry,
    props: dict[str, Any],
    path: str,
    allow: tuple[type, ...],
) -> list[InstanceError]:
    out: list[InstanceError] = []
    for k, v in props.items():
        if k.startswith("$"):
            continue
        c = iface.contents.get(k)
        p = f"{path}/{k}"
        if isinstance(c, m.Component):
            if not isinstance(v, dict):
                out.append(InstanceError(p, "WRONG_TYPE", "expected component object"))
            else:
                out.extend(_check(registry[c.schema], registry, v, p, allow))
        elif isinstance(c, allow):
            out.extend(validate_value(c.schema, v, p))  # type: ignore[attr-defined]
        else:
            out.append(InstanceError(p, "UNKNOWN_NAME", f"{iface.id} has no property {k}"))
    return out


def validate_twin(
    registry: m.ModelRegistry,
    model_id: str,
    properties: dict[str, Any],
    *,
    allow_telemetry: bool = False,
    allow_read_only: bool = True,
) -> list[InstanceError]:
    allow: tuple[type, ...] = (m.Property, m.Telemetry) if allow_telemetry else (m.Property,)
    return _check(registry[model_id], registry, properties, "", allow)


def validate_telemetry(
    registry: m.ModelRegistry, model_id: str, payload: dict[str, Any]
) -> list[InstanceError]:
    return _check(registry[model_id], registry, payload, "", (m.Property, m.Telemetry))


def validate_relationship_properties(
    registry: m.ModelRegistry, model_id: str, rel_name: str, props: dict[str, Any]
) -> list[InstanceError]:
    rel = registry[model_id].relationships[rel_name]
    fake = m.Interface("rel", 3, (), {p.name: p for p in rel.properties})
    return _check(fake, registry, props, "", (m.Property,))


def install() -> None:
    """Put the stand-ins where ``graph.core`` looks, unless the real ones exist."""
    if not hasattr(ontology, "parse_models"):
        ontology.parse_models = parse_models  # type: ignore[attr-defined]
    try:
        importlib.import_module("ontology.instance")
    except ModuleNotFoundError:
        mod = types.ModuleType("ontology.instance")
        for fn in (
            validate_value,
            validate_twin,
            validate_telemetry,
            validate_relationship_properties,
        ):
            setattr(mod, fn.__name__, fn)
        mod.InstanceError = InstanceError  # type: ignore[attr-defined]
        sys.modules["ontology.instance"] = mod
        ontology.instance = mod  # type: ignore[attr-defined]
