"""Turn resolved elements into the ``ontology.model`` objects the rest of GraphTwin reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ontology.elements import Builtin, Element, Ref, Value
from ontology.extensions import PREDEFINED_ENUMS
from ontology.model import (
    ArraySchema,
    Command,
    CommandPayload,
    Component,
    Content,
    EnumSchema,
    EnumValue,
    Field,
    Interface,
    MapSchema,
    ObjectSchema,
    PrimitiveSchema,
    Property,
    Relationship,
    Schema,
    SourceLocation,
    Telemetry,
)
from ontology.resolver import Resolver

__all__ = ["Builder"]

class Builder:
    def __init__(self, resolver: Resolver, known: Mapping[str, Interface]) -> None:
        self.resolver = resolver
        self.known_schemas: dict[str, Schema] = {
            s.id: s for i in known.values() for s in i.schemas if s.id
        }
        self._schemas: dict[int, Schema] = {}
        self._building: set[int] = set()
        self._interfaces: dict[int, Interface] = {}

    @staticmethod
    def location(el: Element | Ref) -> SourceLocation:
        return el.source.location(el.pointer)

    # ------------------------------------------------------------------ interfaces

    def interface(self, el: Element, known: Mapping[str, Interface]) -> Interface:
        cached = self._interfaces.get(id(el))
        if cached is not None:
            return cached
        contents: dict[str, Content] = {}
        bases: list[str] = []
        for v in el.children.get("extends", ()):
            t = self.resolver.target(v)
            if isinstance(t, Element):
                bases.append(t.id or "")
                if t is not el:
                    self._interfaces[id(el)] = _placeholder(el)  # guards against cycles
                    for name, c in self.interface(t, known).contents.items():
                        contents.setdefault(name, c)
            elif isinstance(t, Ref):
                bases.append(t.target)
                base = known.get(t.target)
                if base is not None:
                    for name, c in base.contents.items():
                        contents.setdefault(name, c)
        owner = el.id or ""
        for v in el.children.get("contents", ()):
            t = self.resolver.target(v)
            if isinstance(t, Element):
                content = self.content(t, owner)
                if content is not None:
                    contents.setdefault(content.name, content)
        iface = Interface(
            id=owner,
            dtdl_version=el.version,
            extends=tuple(bases),
            contents=contents,
            schemas=tuple(self.schema(v) for v in el.children.get("schemas", ())),
            display_name=dict(el.literals.get("displayName", {})),
            description=dict(el.literals.get("description", {})),
            comment=el.literals.get("comment"),
            types=el.cotypes,
            location=self.location(el),
            source_document=el.raw,
        )
        self._interfaces[id(el)] = iface
        return iface

    # ------------------------------------------------------------------ contents

    def _common(self, el: Element, owner: str) -> dict[str, Any]:
        return {
            "id": el.id,
            "display_name": dict(el.literals.get("displayName", {})),
            "description": dict(el.literals.get("description", {})),
            "comment": el.literals.get("comment"),
            "types": el.cotypes,
            "semantic_types": el.semantic_types,
            "unit": el.unit,
            "location": self.location(el),
            "extensions": dict(el.extensions),
        }

    def content(self, el: Element, owner: str) -> Content | None:
        name = el.literals.get("name")
        if not isinstance(name, str):
            return None
        common = self._common(el, owner)
        if el.cls == "Property":
            return Property(name, owner, schema=self.schema(el.one("schema")),
                            writable=bool(el.literals.get("writable", False)), **common)
        if el.cls == "Telemetry":
            return Telemetry(name, owner, schema=self.schema(el.one("schema")), **common)
        if el.cls == "Command":
            return Command(name, owner, request=self._payload(el.one("request")),
                           response=self._payload(el.one("response")), **common)
        if el.cls == "Relationship":
            props = []
            for v in el.children.get("properties", ()):
                t = self.resolver.target(v)
                if isinstance(t, Element):
                    p = self.content(t, owner)
                    if isinstance(p, Property):
                        props.append(p)
            return Relationship(name, owner, target=el.literals.get("target"),
                                min_multiplicity=el.literals.get("minMultiplicity"),
                                max_multiplicity=el.literals.get("maxMultiplicity"),
                                writable=bool(el.literals.get("writable", False)),
                                properties=tuple(props), **common)
        if el.cls == "Component":
            target = self.resolver.target(el.one("schema"))
            schema = (target.id if isinstance(target, Element) else
                      target.target if isinstance(target, Ref) else "") or ""
            return Component(name, owner, schema=schema, **common)
        return None

    def _payload(self, value: Value | None) -> CommandPayload | None:
        t = self.resolver.target(value)
        if not isinstance(t, Element):
            return None
        return CommandPayload(str(t.literals.get("name", "")), self.schema(t.one("schema")),
                              bool(t.literals.get("nullable", False)))

    # ------------------------------------------------------------------ schemas

    def schema(self, value: Value | None) -> Schema:
        t = self.resolver.target(value)
        if isinstance(t, Builtin):
            if t.iri in PREDEFINED_ENUMS:  # e.g. TemperatureUnit: its units are the values
                values = tuple(EnumValue(v, v) for v in PREDEFINED_ENUMS[t.iri])
                return EnumSchema("string", values, id=t.iri)
            return PrimitiveSchema(t.term)
        if isinstance(t, Ref):
            return self.known_schemas.get(t.target) or Schema(id=t.target)
        if t is None:
            return Schema()
        key = id(t)
        if key in self._schemas:
            return self._schemas[key]
        if key in self._building:  # recursive schema (DTDL v4): refer to it by id
            return Schema(id=t.id, location=self.location(t))
        self._building.add(key)
        try:
            built = self._build_schema(t)
        finally:
            self._building.discard(key)
        self._schemas[key] = built
        return built

    def _build_schema(self, el: Element) -> Schema:
        common: dict[str, Any] = {"id": el.id, "location": self.location(el)}
        if el.cls == "Array":
            return ArraySchema(self.schema(el.one("elementSchema")), **common)
        if el.cls == "Enum":
            vs = el.one("valueSchema")
            values = tuple(
                EnumValue(str(v.literals.get("name", "")), v.literals.get("enumValue", ""),
                          dict(v.literals.get("displayName", {})))
                for v in el.children.get("enumValues", ()) if isinstance(v, Element)
            )
            return EnumSchema(vs.term if isinstance(vs, Builtin) else "string", values, **common)
        if el.cls == "Object":
            fields = []
            for v in el.children.get("fields", ()):
                f = self.resolver.target(v)
                if isinstance(f, Element):
                    fields.append(Field(str(f.literals.get("name", "")),
                                        self.schema(f.one("schema"))))
            return ObjectSchema(tuple(fields), **common)
        if el.cls == "Map":
            key = self.resolver.target(el.one("mapKey"))
            val = self.resolver.target(el.one("mapValue"))
            return MapSchema(
                str(key.literals.get("name", "")) if isinstance(key, Element) else "key",
                PrimitiveSchema("string"),
                str(val.literals.get("name", "")) if isinstance(val, Element) else "value",
                self.schema(val.one("schema")) if isinstance(val, Element) else Schema(),
                **common,
            )
        return PrimitiveSchema(el.cls[0].lower() + el.cls[1:], **common)


def _placeholder(el: Element) -> Interface:
    return Interface(id=el.id or "", dtdl_version=el.version, extends=(), contents={})
