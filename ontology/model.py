"""The resolved DTDL object model: what the parser produces and everything else reads.

These classes are the contract between the parser (which builds them) and the
rest of GraphTwin (the instance validator, the graph store, GraphQL type
generation).  They are plain frozen dataclasses so that a resolved registry can
be shared between threads without locks.

Names follow the DTDL specification: a ``Property`` here is a DTDL Property, a
``Relationship`` a DTDL Relationship, and so on.  ``Interface.contents`` holds
the *flattened* contents (own plus inherited through ``extends``); every
content records the interface that declared it in ``defined_in``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "ArraySchema",
    "Command",
    "CommandPayload",
    "Component",
    "Content",
    "EnumSchema",
    "EnumValue",
    "Field",
    "Interface",
    "MapSchema",
    "ModelRegistry",
    "ObjectSchema",
    "PrimitiveSchema",
    "Property",
    "Relationship",
    "Schema",
    "SourceLocation",
    "Telemetry",
]

_C = TypeVar("_C", bound="Content")


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where an element was written: file, 1-based line and column, and JSON pointer."""

    file: str | None
    line: int
    column: int
    pointer: str = ""

    def __str__(self) -> str:
        return f"{self.file or '<input>'}:{self.line}:{self.column}"


# --------------------------------------------------------------------------- schemas


@dataclass(frozen=True, slots=True)
class Schema:
    """Base of every schema.  ``id`` is the DTMI of a named (reusable) schema, else None."""

    id: str | None = field(default=None, kw_only=True)
    location: SourceLocation | None = field(default=None, kw_only=True, compare=False)


@dataclass(frozen=True, slots=True)
class PrimitiveSchema(Schema):
    """A predefined schema by its DTDL term: ``double``, ``dateTime``, ``scaledDecimal``...

    Geospatial schemas (``point``, ``lineString``, ``polygon``, ``multiPoint``,
    ``multiLineString``, ``multiPolygon``) are represented here too.
    """

    name: str


@dataclass(frozen=True, slots=True)
class EnumValue:
    name: str
    value: int | str
    display_name: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EnumSchema(Schema):
    value_schema: str  # "integer" or "string"
    values: tuple[EnumValue, ...]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    schema: Schema


@dataclass(frozen=True, slots=True)
class ObjectSchema(Schema):
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class MapSchema(Schema):
    key_name: str
    key_schema: Schema  # always the string primitive in DTDL v2-v4
    value_name: str
    value_schema: Schema


@dataclass(frozen=True, slots=True)
class ArraySchema(Schema):
    element_schema: Schema


# --------------------------------------------------------------------------- contents


@dataclass(frozen=True, slots=True)
class Content:
    """One element of an interface's ``contents``."""

    name: str
    defined_in: str  # DTMI of the interface that declared it
    id: str | None = field(default=None, kw_only=True)
    display_name: Mapping[str, str] = field(default_factory=dict, kw_only=True)
    description: Mapping[str, str] = field(default_factory=dict, kw_only=True)
    comment: str | None = field(default=None, kw_only=True)
    # Co-types other than the element class itself, e.g. ("Temperature", "Historized").
    types: tuple[str, ...] = field(default=(), kw_only=True)
    # Semantic type IRIs from quantitativeTypes, e.g. ("dtmi:dtdl:class:Temperature;3",).
    semantic_types: tuple[str, ...] = field(default=(), kw_only=True)
    unit: str | None = field(default=None, kw_only=True)
    location: SourceLocation | None = field(default=None, kw_only=True, compare=False)
    # Extension properties that the core object model has no field for (mqtt, historization...).
    extensions: Mapping[str, Any] = field(default_factory=dict, kw_only=True)


@dataclass(frozen=True, slots=True)
class Property(Content):
    schema: Schema
    writable: bool = False


@dataclass(frozen=True, slots=True)
class Telemetry(Content):
    schema: Schema


@dataclass(frozen=True, slots=True)
class CommandPayload:
    name: str
    schema: Schema
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class Command(Content):
    request: CommandPayload | None = None
    response: CommandPayload | None = None


@dataclass(frozen=True, slots=True)
class Relationship(Content):
    target: str | None = None  # DTMI of the target interface; None means any
    min_multiplicity: int | None = None
    max_multiplicity: int | None = None
    writable: bool = False
    properties: tuple[Property, ...] = ()


@dataclass(frozen=True, slots=True)
class Component(Content):
    schema: str  # DTMI of the component's interface


@dataclass(frozen=True, slots=True)
class Interface:
    id: str
    dtdl_version: int
    extends: tuple[str, ...]  # direct bases
    contents: Mapping[str, Content]  # flattened: own and inherited, by name
    schemas: tuple[Schema, ...] = ()  # reusable schemas declared in ``schemas``
    display_name: Mapping[str, str] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)
    comment: str | None = None
    types: tuple[str, ...] = ()
    location: SourceLocation | None = field(default=None, compare=False)
    # The JSON document (or array element) the interface came from, unchanged.
    source_document: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def of_kind(self, kind: type[_C]) -> dict[str, _C]:
        return {n: c for n, c in self.contents.items() if isinstance(c, kind)}

    @property
    def properties(self) -> dict[str, Property]:
        return self.of_kind(Property)

    @property
    def telemetry(self) -> dict[str, Telemetry]:
        return self.of_kind(Telemetry)

    @property
    def relationships(self) -> dict[str, Relationship]:
        return self.of_kind(Relationship)

    @property
    def components(self) -> dict[str, Component]:
        return self.of_kind(Component)

    @property
    def commands(self) -> dict[str, Command]:
        return self.of_kind(Command)


class ModelRegistry(Mapping[str, Interface]):
    """Resolved interfaces by DTMI, with inheritance queries.

    Immutable: ``merged`` returns a new registry, so readers never see a half
    applied batch.
    """

    __slots__ = ("_ancestors", "_descendants", "_interfaces")

    def __init__(self, interfaces: Mapping[str, Interface] | None = None) -> None:
        self._interfaces: dict[str, Interface] = dict(interfaces or {})
        self._ancestors: dict[str, frozenset[str]] = {}
        for dtmi in self._interfaces:
            self._ancestors[dtmi] = frozenset(self._walk_bases(dtmi))
        children: dict[str, set[str]] = {d: set() for d in self._interfaces}
        for dtmi, bases in self._ancestors.items():
            for base in bases:
                children.setdefault(base, set()).add(dtmi)
        self._descendants = {d: frozenset(c) for d, c in children.items()}

    def _walk_bases(self, dtmi: str) -> Iterator[str]:
        seen: set[str] = set()
        stack = list(self._interfaces[dtmi].extends)
        while stack:
            base = stack.pop()
            if base in seen:
                continue
            seen.add(base)
            yield base
            if base in self._interfaces:
                stack.extend(self._interfaces[base].extends)

    # Mapping protocol
    def __getitem__(self, dtmi: str) -> Interface:
        return self._interfaces[dtmi]

    def __iter__(self) -> Iterator[str]:
        return iter(self._interfaces)

    def __len__(self) -> int:
        return len(self._interfaces)

    def get(self, dtmi: str, default: Any = None) -> Any:
        # The dict's own get: Mapping.get goes through __getitem__ and an exception
        # handler, a measurable cost on the per-message validation path.
        return self._interfaces.get(dtmi, default)

    def __contains__(self, dtmi: object) -> bool:
        return dtmi in self._interfaces

    def ancestors(self, dtmi: str) -> frozenset[str]:
        """Every interface ``dtmi`` extends, directly or not (not itself)."""
        return self._ancestors.get(dtmi, frozenset())

    def descendants(self, dtmi: str) -> frozenset[str]:
        """Every interface that extends ``dtmi``, directly or not (not itself)."""
        return self._descendants.get(dtmi, frozenset())

    def is_of_model(self, dtmi: str, base: str) -> bool:
        """True when ``dtmi`` is ``base`` or extends it (DTDL IS_OF_MODEL)."""
        return dtmi == base or base in self.ancestors(dtmi)

    def merged(self, other: Mapping[str, Interface]) -> ModelRegistry:
        return ModelRegistry({**self._interfaces, **other})

    def without(self, dtmis: set[str]) -> ModelRegistry:
        return ModelRegistry({d: i for d, i in self._interfaces.items() if d not in dtmis})
