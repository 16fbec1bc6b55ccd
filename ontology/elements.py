"""The parser's intermediate form: elements as read, before resolution and flattening.

The walker turns JSON into :class:`Element` trees whose references to other
elements are :class:`Ref` objects; the resolver links them; the builder turns the
linked elements into ``ontology.model`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ontology.locations import SourceText
from ontology.metamodel import PropDef

__all__ = ["Builtin", "Element", "Ref", "Value"]


@dataclass(slots=True, eq=False)
class Element:
    cls: str  # the material class, e.g. "Property"
    id: str | None  # @id as written (None when absent)
    version: int
    source: SourceText
    pointer: str
    cotypes: tuple[str, ...] = ()  # every co-type term as written, except the class
    semantic_types: tuple[str, ...] = ()  # semantic type IRIs (full identifiers)
    unit: str | None = None
    literals: dict[str, Any] = field(default_factory=dict)  # name, writable, displayName...
    children: dict[str, list[Value]] = field(default_factory=dict)  # element-valued properties
    extensions: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    parent: Element | None = None
    parent_prop: str | None = None
    synthetic_id: str | None = None  # id the parser assigns when none is written
    # Extension property -> the DTDL version its extension is written in (for Overriding).
    extension_versions: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.id or self.synthetic_id or f"{self.source.name}#{self.pointer}"

    def one(self, prop: str) -> Value | None:
        values = self.children.get(prop)
        return values[0] if values else None


@dataclass(slots=True, eq=False)
class Ref:
    """A reference by DTMI to an element defined elsewhere (or not at all)."""

    target: str
    source: SourceText
    pointer: str
    expected: str  # the class the property's range requires
    owner: Element | None = None
    prop: PropDef | None = None  # the property holding the reference


@dataclass(slots=True, eq=False)
class Builtin:
    """A predefined instance named by term: ``double``, ``point``, ``synchronous``."""

    term: str
    cls: str  # "Double", "Object" for geospatial, "CommandType"...
    iri: str


Value = Element | Ref | Builtin
