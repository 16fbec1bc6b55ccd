"""The DTDL metamodel of each language version, as data.

One :class:`Metamodel` per DTDL version (2, 3, 4): its element classes with their
properties (range, cardinality, length and pattern limits, allowed values), the
predefined schemas and instances, and the version's limits.  The rules in
``ontology/rules.py`` read these tables; nothing here knows how a document is
walked.  Transcribed from the DTDL v2/v3/v4 specifications.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

__all__ = [
    "ClassDef",
    "Metamodel",
    "PropDef",
    "dtmi_pattern",
    "metamodel_for",
]

# Name of a named element: letters, digits, underscores; starts with a letter, ends alphanumeric.
NAME_PATTERN = re.compile(r"^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$")
_SEGMENT = r"[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?"
# DTDL v2 needs a version on every DTMI; v3 and later allow none and a minor version.
_DTMI_V2 = re.compile(rf"^dtmi:{_SEGMENT}(?::{_SEGMENT})*;[1-9][0-9]{{0,8}}$")
_DTMI_V3 = re.compile(
    rf"^dtmi:{_SEGMENT}(?::{_SEGMENT})*(?:;[1-9][0-9]{{0,8}}(?:\.[1-9][0-9]{{0,5}})?)?$"
)


def dtmi_pattern(version: int) -> re.Pattern[str]:
    return _DTMI_V2 if version == 2 else _DTMI_V3


@dataclass(frozen=True, slots=True)
class PropDef:
    """One property of an element class in one DTDL version.

    ``kind`` is the value's datatype: ``string``, ``langString``, ``boolean``,
    ``integer``, ``literal`` (an enum value: integer or string), ``dtmi`` (an
    identifier), or ``element`` (a nested element or a reference to one whose
    class is ``range``).
    """

    name: str
    kind: str
    range: str | None = None
    min_count: int = 0
    max_count: int | None = None  # None: unbounded; plural properties have no default bound
    plural: bool = False
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_desc: str = ""
    min_value: int | None = None
    max_value: int | None = None
    values: tuple[str, ...] = ()  # for references restricted to named instances
    id_required: bool = False  # inline values must carry an @id
    unique_by: tuple[str, ...] = ()  # properties that must be unique among the values
    # Element values may be written in an older DTDL version (nested @context), unless
    # the property needs the same version as its owner.
    same_version: bool = False


@dataclass(frozen=True, slots=True)
class ClassDef:
    name: str
    parent: str | None
    abstract: bool = False
    props: dict[str, PropDef] = field(default_factory=dict)  # own and inherited
    type_optional: bool = False  # @type may be omitted where this class is expected
    id_required: bool = False


@dataclass(frozen=True, slots=True)
class Metamodel:
    """Everything the rules need to know about one DTDL version."""

    version: int
    classes: dict[str, ClassDef]
    subclasses: dict[str, frozenset[str]]  # class -> its concrete subclasses (incl. itself)
    primitive_schemas: dict[str, str]  # term -> class name ("double" -> "Double")
    standard_schemas: dict[str, str]  # predefined complex schemas: term -> DTMI
    instances: dict[str, str]  # other predefined instance terms (commandType values) -> class
    terms: frozenset[str]  # every term the version's context defines
    id_pattern: re.Pattern[str]
    max_id_length: int = 2048
    max_interface_id_length: int = 128
    max_extends_depth: int = 10
    max_schema_depth: int = 5
    max_extends_total: int | None = None  # interfaces reachable through extends
    max_elements: int | None = None  # elements in one interface's hierarchy
    recursive_schemas: bool = False  # v4 lets a complex schema contain itself
    property_array_allowed: bool = True  # v2 forbids Array in a Property's schema
    semantic_cotype_of: frozenset[str] = frozenset()
    # Extension contexts usable with this version: context DTMI -> kind.
    reserved_prefixes: tuple[str, ...] = ("dtmi:dtdl:", "dtmi:standard:")

    def is_a(self, cls: str, base: str) -> bool:
        return cls in self.subclasses.get(base, frozenset())

    def class_iri(self, cls: str) -> str:
        return f"dtmi:dtdl:class:{cls};{self.version}"

    def property_iri(self, prop: str) -> str:
        return f"dtmi:dtdl:property:{prop};{self.version}"


_LANG = "langString"


def _entity_props(version: int) -> list[PropDef]:
    return [
        PropDef("comment", "string", max_count=1, max_length=512),
        PropDef("description", _LANG, max_length=512),
        PropDef("displayName", _LANG, max_length=64 if version == 2 else 512),
    ]


def _name_prop(version: int) -> PropDef:
    return PropDef(
        "name",
        "string",
        min_count=1,
        max_count=1,
        max_length=64 if version == 2 else 512,
        pattern=NAME_PATTERN,
        pattern_desc="letters, digits and underscores, starting with a letter and "
        "not ending with an underscore",
    )


def _schema(name: str = "schema") -> PropDef:
    return PropDef(name, "element", "Schema", min_count=1, max_count=1)


_PRIMITIVES_V2 = ("boolean", "date", "dateTime", "double", "duration", "float", "integer",
                  "long", "string", "time")
_PRIMITIVES_V4 = (*_PRIMITIVES_V2, "byte", "bytes", "decimal", "short", "unsignedByte",
                  "unsignedInteger", "unsignedLong", "unsignedShort", "uuid")
_NUMERIC_V2 = ("Double", "Float", "Integer", "Long")
_NUMERIC_V4 = (*_NUMERIC_V2, "Byte", "Decimal", "Short", "UnsignedByte", "UnsignedInteger",
               "UnsignedLong", "UnsignedShort")
_TEMPORAL = ("Date", "DateTime", "Duration", "Time")
_GEOSPATIAL = ("point", "multiPoint", "lineString", "multiLineString", "polygon", "multiPolygon")


def _cap(term: str) -> str:
    return term[0].upper() + term[1:]


def _build(version: int) -> Metamodel:
    v2 = version == 2
    ent = _entity_props(version)
    name = _name_prop(version)
    payload_classes = ("CommandPayload",) if v2 else ("CommandRequest", "CommandResponse")
    dtmi_re = dtmi_pattern(version)
    # (name, parent, abstract, own props, type_optional, id_required)
    table: list[tuple[str, str | None, bool, list[PropDef], bool, bool]] = [
        ("Entity", None, True, ent, False, False),
        ("NamedEntity", "Entity", True, [name], False, False),
        ("Interface", "Entity", False, [
            PropDef("contents", "element", "Content", plural=True,
                    max_count=300 if v2 else None, unique_by=("name",)),
            PropDef("extends", "element", "Interface", plural=True,
                    max_count=2 if v2 else None, id_required=True),
            PropDef("schemas", "element", "ComplexSchema", plural=True, id_required=True,
                    same_version=True),
        ], False, True),
        ("Content", "NamedEntity", True, [], False, False),
        ("Telemetry", "Content", False, [_schema()], False, False),
        ("Property", "Content", False, [_schema(), PropDef("writable", "boolean", max_count=1)],
         False, False),
        ("Command", "Content", False, [
            PropDef("commandType", "element", "CommandType", max_count=1,
                    values=("asynchronous", "synchronous"), id_required=True),
            PropDef("request", "element", payload_classes[0], max_count=1, same_version=True),
            PropDef("response", "element", payload_classes[-1], max_count=1, same_version=True),
        ], False, False),
        ("CommandType", "Entity", False, [], False, True),
        ("SchemaField", "NamedEntity", True, [_schema()], False, False),
        ("CommandPayload", "SchemaField", not v2,
         [] if version < 4 else [PropDef("nullable", "boolean", max_count=1)], v2, False),
        ("Relationship", "Content", False, [
            PropDef("maxMultiplicity", "integer", max_count=1, min_value=1,
                    max_value=500 if v2 else None),
            PropDef("minMultiplicity", "integer", max_count=1, min_value=0, max_value=0),
            PropDef("properties", "element", "Property", plural=True,
                    max_count=300 if v2 else None, unique_by=("name",)),
            PropDef("target", "dtmi", max_count=1, max_length=2048, pattern=dtmi_re),
            PropDef("writable", "boolean", max_count=1),
        ], False, False),
        ("Component", "Content", False, [
            PropDef("schema", "element", "Interface", min_count=1, max_count=1, id_required=True),
        ], False, False),
        ("Schema", "Entity", True, [], False, False),
        ("ComplexSchema", "Schema", True, [], False, True),
        ("PrimitiveSchema", "Schema", True, [], False, True),
        ("NumericSchema", "PrimitiveSchema", True, [], False, False),
        ("TemporalSchema", "PrimitiveSchema", True, [], False, False),
        ("Array", "ComplexSchema", False, [_schema("elementSchema")], False, False),
        ("Enum", "ComplexSchema", False, [
            PropDef("enumValues", "element", "EnumValue", plural=True,
                    min_count=1 if v2 else 0, max_count=100 if v2 else None,
                    unique_by=("name", "enumValue"), same_version=True),
            PropDef("valueSchema", "element", "PrimitiveSchema", min_count=1, max_count=1,
                    values=("integer", "string"), id_required=True),
        ], False, False),
        ("EnumValue", "NamedEntity", False, [
            PropDef("enumValue", "literal", min_count=1, max_count=1),
        ], True, False),
        ("Map", "ComplexSchema", False, [
            PropDef("mapKey", "element", "MapKey", min_count=1, max_count=1, same_version=True),
            PropDef("mapValue", "element", "MapValue", min_count=1, max_count=1,
                    same_version=True),
        ], False, False),
        ("MapKey", "NamedEntity", False, [
            PropDef("schema", "element", "String", min_count=1, max_count=1,
                    values=("string",), id_required=True),
        ], True, False),
        ("MapValue", "SchemaField", False, [], True, False),
        ("Object", "ComplexSchema", False, [
            PropDef("fields", "element", "Field", plural=True, min_count=1 if v2 else 0,
                    max_count=30 if v2 else None, unique_by=("name",), same_version=True),
        ], False, False),
        ("Field", "SchemaField", False, [], True, False),
    ]
    if v2:
        # Units written inline (the value of a semantic type's 'unit', a unit's 'baseUnit'):
        # a Unit is typed by its unit type (TemperatureUnit), a UnitAttribute by its prefix
        # class (DecimalPrefix); those co-types are in ontology/extensions.py (V2_UNIT_CLASSES).
        table += [
            ("Unit", "Entity", False, [PropDef("symbol", "string", max_count=1)], False, False),
            ("UnitAttribute", "NamedEntity", False, [], False, False),
        ]
    else:
        table += [
            ("CommandRequest", "CommandPayload", False, [], True, False),
            ("CommandResponse", "CommandPayload", False, [], True, False),
        ]
    primitives = _PRIMITIVES_V4 if version >= 4 else _PRIMITIVES_V2
    numeric = _NUMERIC_V4 if version >= 4 else _NUMERIC_V2
    for term in primitives:
        cls = _cap(term)
        parent = ("NumericSchema" if cls in numeric else
                  "TemporalSchema" if cls in _TEMPORAL else "PrimitiveSchema")
        table.append((cls, parent, False, [], False, False))

    raw = {row[0]: row for row in table}
    classes: dict[str, ClassDef] = {}

    def resolve(cls: str) -> ClassDef:
        if cls in classes:
            return classes[cls]
        _, parent, abstract, own, type_optional, id_required = raw[cls]
        props = dict(resolve(parent).props) if parent else {}
        for p in own:
            props[p.name] = p
        classes[cls] = ClassDef(cls, parent, abstract, props, type_optional, id_required)
        return classes[cls]

    for cls in raw:
        resolve(cls)
    subclasses: dict[str, set[str]] = {c: set() for c in classes}
    for cls, cdef in classes.items():
        if cdef.abstract:
            continue
        walk: str | None = cls
        while walk:
            subclasses[walk].add(cls)
            walk = classes[walk].parent
    standard = {g: f"dtmi:standard:schema:geospatial:{g};{version}" for g in _GEOSPATIAL}
    if version >= 4:
        standard["scaledDecimal"] = "dtmi:standard:schema:scaledDecimal;4"
    prop_names = {p for c in classes.values() for p in c.props}
    terms = frozenset(
        set(classes) | prop_names | set(primitives) | set(standard)
        | {"asynchronous", "synchronous", "languageMajorVersion"}
        | ({"SemanticType", "SemanticUnit", "unit", "baseUnit", "bottomUnit", "exponent",
            "prefix", "topUnit"} if v2 else
           {"AdjunctType", "Alias", "aliasFor", "LatentType", "NamedLatentType", "SemanticType",
            "SemanticUnit", "Unit", "UnitAttribute", "symbol", "exponent", "DtdlExtension",
            "metamodel", "model"})
    )
    semantic_cotypes = (
        {"Property", "Relationship", "Telemetry"} if v2 else
        {"CommandRequest", "CommandResponse", "Field", "MapValue", "Property", "Relationship",
         "Telemetry"} | ({"CommandPayload"} if version >= 4 else set())
    )
    return Metamodel(
        version=version,
        classes=classes,
        subclasses={c: frozenset(s) for c, s in subclasses.items()},
        primitive_schemas={t: _cap(t) for t in primitives},
        standard_schemas=standard,
        instances={"asynchronous": "CommandType", "synchronous": "CommandType"},
        terms=terms,
        id_pattern=dtmi_re,
        max_extends_depth=12 if version >= 4 else 10,
        max_schema_depth=8 if version >= 4 else 5,
        max_extends_total=None if v2 else 1024,
        max_elements=None if v2 else 100000,
        recursive_schemas=version >= 4,
        property_array_allowed=not v2,
        semantic_cotype_of=frozenset(semantic_cotypes),
    )


_METAMODELS: dict[int, Metamodel] = {}


def metamodel_for(version: int) -> Metamodel:
    mm = _METAMODELS.get(version)
    if mm is None:
        mm = _METAMODELS[version] = _build(version)
    return mm


def with_limits(mm: Metamodel, **limits: int) -> Metamodel:
    """A copy of ``mm`` with some limits raised (limit extensions such as onvif)."""
    return replace(mm, **limits)  # type: ignore[arg-type]
