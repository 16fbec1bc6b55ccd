"""Tables for the DTDL language extensions: contexts, adjunct types and their properties.

Transcribed from the extension specifications (annotation, historization,
overriding, mqtt, requirement, quantitativeTypes) and the limit extensions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ontology.metamodel import PropDef
from ontology.quantities import SEMANTIC_TYPES, UNIT_PREFIXES, UNITS

__all__ = [
    "AFFILIATE_VERSIONS",
    "KNOWN_CONTEXTS",
    "LIMIT_CONTEXTS",
    "PREDEFINED_ENUMS",
    "V2_UNIT_CLASSES",
    "V2_UNIT_INSTANCES",
    "V2_UNIT_KINDS",
    "AdjunctType",
    "ExtensionContext",
    "core_context_version",
    "v2_unit_type",
]

_TOPIC = re.compile(
    r"^(?:(?:[!%-*,-.0-z|~][!$-*,-.0-z|~]*)|(?:\{(?:[A-Za-z]+:)?[A-Za-z]+\}))"
    r"(?:/(?:(?:[!$-*,-.0-z|~]+)|(?:\{(?:[A-Za-z]+:)?[A-Za-z]+\})))*$"
)
_GROUP = re.compile(r"^[!$-*,-.0-z|~]+$")
_DURATION = re.compile(
    r"^P(?!$)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?!$)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$"
)


@dataclass(frozen=True, slots=True)
class AdjunctType:
    """A co-type an extension adds (``Historized``, ``ValueAnnotation``, ``Mqtt``...)."""

    name: str
    cotypes: frozenset[str]  # material classes it may be combined with
    props: tuple[PropDef, ...] = ()
    schema_classes: frozenset[str] = frozenset()  # the element's schema must be one of these
    schema_terms: frozenset[str] = frozenset()  # ... or one of these predefined schemas
    requires: frozenset[str] = frozenset()  # adjunct types that must co-type the element too
    # The element class an element typed only with this co-type has (DTDL v2's unit types:
    # {"@type": "TemperatureUnit"} is a Unit).  None: the co-type implies no class.
    material: str | None = None
    # Element-valued properties whose value must carry a given co-type, e.g. a DecimalUnit's
    # 'prefix' must be a DecimalPrefix: property -> co-type term.
    value_kinds: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ExtensionContext:
    dtmi: str
    versions: frozenset[int]  # DTDL versions it may be used with
    adjuncts: dict[str, AdjunctType]
    semantic_types: dict[str, str]  # semantic type term -> unit type term
    units: dict[str, tuple[str, ...]]  # unit type term -> unit terms
    schemas: dict[str, str] = field(default_factory=dict)  # predefined schemas: term -> IRI
    reserved_prefixes: tuple[str, ...] = ()  # identifier prefixes the context keeps for itself
    # Other predefined elements: term -> (class, IRI), e.g. the unit-type Enums and their
    # unit EnumValues of quantitativeTypes (``TemperatureUnit``, ``kelvin``, ``kilo``).
    instances: dict[str, tuple[str, str]] = field(default_factory=dict)
    defined_in: int = 0  # the DTDL version the extension itself is written in (0: unknown)
    # DTDL versions of the elements its co-types may go on (empty: any the context allows).
    cotype_versions: frozenset[int] = frozenset()

    @property
    def iri_base(self) -> str:
        """``dtmi:dtdl:extension:quantitativeTypes;1`` -> ``...:quantitativeTypes:v1:``."""
        name, _, version = self.dtmi.partition(";")
        return f"{name}:v{version}:"

    def adjunct_term(self, text: str) -> str:
        """An adjunct type's term from its identifier (``...:historization:v1:Historized``)."""
        if text.startswith(self.iri_base):
            return text[len(self.iri_base):]
        name, _, version = self.dtmi.partition(";")  # partners: dtmi:iotcentral:class:X;2
        partner = name.rsplit(":", 1)[0] + ":class:"
        if text.startswith(partner) and text.endswith(f";{version}"):
            return text[len(partner):-len(version) - 1]
        return text


def _adj(name: str, cotypes: str, *props: PropDef, schemas: str = "",
         terms: str = "", requires: str = "") -> AdjunctType:
    return AdjunctType(name, frozenset(cotypes.split()), props,
                       frozenset(schemas.split()), frozenset(terms.split()),
                       frozenset(requires.split()))


def _mqtt(version: int) -> dict[str, AdjunctType]:
    topic = {"kind": "string", "max_count": 1, "pattern": _TOPIC}
    mqtt_props = [
        PropDef("telemetryTopic", **topic),  # type: ignore[arg-type]
        PropDef("commandTopic", **topic),  # type: ignore[arg-type]
        PropDef("payloadFormat", "string", min_count=1, max_count=1),
    ]
    if version >= 2:
        mqtt_props += [
            PropDef("telemServiceGroupId", "string", max_count=1, pattern=_GROUP),
            PropDef("cmdServiceGroupId", "string", max_count=1, pattern=_GROUP),
        ]
    if version >= 4:
        mqtt_props.append(PropDef("propertyTopic", **topic))  # type: ignore[arg-type]
    index_on = "EnumValue Field Property Telemetry" if version >= 4 else "EnumValue Field Telemetry"
    table = [
        _adj("Mqtt", "Interface", *mqtt_props),
        _adj("Idempotent", "Command"),
        _adj("Cacheable", "Command",
             PropDef("ttl", "string", min_count=1, max_count=1, pattern=_DURATION,
                     pattern_desc="an ISO 8601 duration")),
        _adj("Indexed", index_on, PropDef("index", "integer", min_count=1, max_count=1,
                                          min_value=1)),
    ]
    if version >= 2:
        table.append(_adj("Transparent", "CommandRequest CommandResponse", schemas="Object"))
    if version >= 3:
        table += [
            _adj("Result", "Object"),
            _adj("Error", "Object"),
            _adj("NormalResult", "Field"),
            _adj("ErrorResult", "Field"),
            _adj("ErrorMessage", "Field", schemas="String"),
        ]
    if version >= 4:
        table += [
            _adj("ErrorCode", "Field", schemas="Enum"),
            _adj("ErrorInfo", "Field", schemas="Object"),
            _adj("Fragmented", "Property", schemas="Map"),
            _adj("Indirect", "Field"),
            _adj("PropertyResult", "Object"),
            _adj("PropertyValue", "Field"),
            _adj("ReadError", "Field"),
            _adj("WriteError", "Field"),
        ]
    return {a.name: a for a in table}


def _iotcentral() -> ExtensionContext:
    units = UNITS["dtmi:dtdl:context;2"]

    def unit(unit_type: str) -> PropDef:
        return PropDef("unit", "string", max_count=1, values=units[unit_type])

    on = "Property Telemetry"
    adjuncts = [
        _adj("State", on, schemas="Enum"),
        _adj("Event", on, terms="double float integer long string"),
        _adj("Location", on, terms="point multiPoint lineString multiLineString polygon "
                                   "multiPolygon geopoint"),
        _adj("VelocityVector", on, unit("VelocityUnit"), terms="vector"),
        _adj("AccelerationVector", on, unit("AccelerationUnit"), terms="vector"),
    ]
    ctx = replace(_ctx("dtmi:iotcentral:context;2", "2", adjuncts),
                  reserved_prefixes=("dtmi:iotcentral:",))
    ctx.schemas.update({"geopoint": "dtmi:iotcentral:schema:geopoint;2",
                        "vector": "dtmi:iotcentral:schema:vector;2"})
    return ctx


def _ctx(dtmi: str, versions: str, adjuncts: list[AdjunctType] | dict[str, AdjunctType],
         quantities: str | None = None, defined_in: int = 0,
         cotypes_on: str = "") -> ExtensionContext:
    table = adjuncts if isinstance(adjuncts, dict) else {a.name: a for a in adjuncts}
    ctx = ExtensionContext(
        dtmi, frozenset(int(v) for v in versions.split()), table,
        dict(SEMANTIC_TYPES[quantities]) if quantities else {},
        dict(UNITS[quantities]) if quantities else {},
        defined_in=defined_in,
        cotype_versions=frozenset(int(v) for v in cotypes_on.split()),
    )
    if quantities:
        ctx.adjuncts.update({a.name: a for a in _unit_adjuncts()})
        ctx.instances.update(_unit_instances(ctx))
    return ctx


# quantitativeTypes: the adjunct types that describe units, so that a model can define its
# own units as EnumValues of its own Enums (the extension's unit types are built that way).
# A unit-valued property takes a unit or prefix term, or the DTMI of an EnumValue.
# The reference parser's metamodel lets BinaryUnit co-type any material class.
_ANY_CLASS = ("Array Boolean Byte Bytes Command CommandPayload CommandRequest CommandResponse "
              "CommandType Component Date DateTime Decimal Double Duration Enum EnumValue Field "
              "Float Integer Interface LatentType Long Map MapKey MapValue NamedLatentType Object "
              "Property Relationship Short String Telemetry Time Unit UnitAttribute UnsignedByte "
              "UnsignedInteger UnsignedLong UnsignedShort Uuid")


def _unit_ref(name: str, required: bool = False) -> PropDef:
    return PropDef(name, "element", range="EnumValue", min_count=int(required), max_count=1)


def _unit_adjuncts() -> list[AdjunctType]:
    symbol = PropDef("symbol", "string", min_count=1, max_count=1)
    base, prefix = _unit_ref("baseUnit", required=True), _unit_ref("prefix")
    return [
        _adj("UnitPrefix", "EnumValue", symbol,
             PropDef("exponent", "integer", min_count=1, max_count=1)),
        _adj("SymbolicUnit", "EnumValue", symbol),
        _adj("DecimalUnit", "EnumValue", base, prefix),
        _adj("BinaryUnit", _ANY_CLASS, base, prefix),
        _adj("RatioUnit", "EnumValue", _unit_ref("topUnit", required=True),
             _unit_ref("bottomUnit", required=True)),
    ]


def _unit_instances(ctx: ExtensionContext) -> dict[str, tuple[str, str]]:
    """The unit-type and prefix Enums and their EnumValues, by term."""
    base = ctx.iri_base
    found: dict[str, tuple[str, str]] = {}
    for enum, values, kind in [*((t, u, "unit") for t, u in ctx.units.items()),
                               *((t, p, "unitprefix") for t, p in UNIT_PREFIXES.items())]:
        found[enum] = ("Enum", f"{base}enum:{enum}")
        for value in values:
            found[value] = ("EnumValue", f"{base}{kind}:{value}")
    return found


_ANNOTATES = PropDef("annotates", "string", min_count=1, max_count=1)
_OVERRIDES = PropDef("overrides", "string", min_count=1, max_count=1)
_EXT = "dtmi:dtdl:extension:"

KNOWN_CONTEXTS: dict[str, ExtensionContext] = {
    c.dtmi: c
    for c in [
        # defined_in: the DTDL version each extension is itself written in (the Overriding
        # extension's version constraint compares it with the model's); cotypes_on: the
        # DTDL versions of the elements its co-types may go on (a context may be usable in
        # a newer model, e.g. inside a nested @context, without its co-types being).
        _ctx(f"{_EXT}annotation;1", "3 4", [_adj("ValueAnnotation", "Property Telemetry",
                                               _ANNOTATES)], defined_in=3, cotypes_on="3"),
        _ctx(f"{_EXT}annotation;2", "3 4", [_adj("ValueAnnotation", "Property Telemetry",
                                                 _ANNOTATES)], defined_in=4),
        _ctx(f"{_EXT}historization;1", "3 4", [_adj("Historized", "Property Telemetry")],
             defined_in=3, cotypes_on="3"),
        _ctx(f"{_EXT}historization;2", "3 4", [_adj("Historized", "Property Telemetry")],
             defined_in=4),
        _ctx(f"{_EXT}overriding;1", "3 4", [_adj("Override", "Property", _OVERRIDES,
                                               requires="ValueAnnotation")],
             defined_in=3, cotypes_on="3"),
        _ctx(f"{_EXT}overriding;2", "3 4", [_adj("Override", "Property", _OVERRIDES,
                                               requires="ValueAnnotation")], defined_in=4),
        _ctx(f"{_EXT}requirement;1", "3 4", [_adj("Required", "Field")], defined_in=4),
        _ctx(f"{_EXT}requirement;2", "3 4", [_adj("Required", "Field Property")],
             defined_in=4),
        _ctx(f"{_EXT}mqtt;1", "3 4", _mqtt(1), defined_in=3, cotypes_on="3"),
        _ctx(f"{_EXT}mqtt;2", "3 4", _mqtt(2), defined_in=4),
        _ctx(f"{_EXT}mqtt;3", "3 4", _mqtt(3), defined_in=4),
        _ctx(f"{_EXT}mqtt;4", "3 4", _mqtt(4), defined_in=4),
        _ctx(f"{_EXT}quantitativeTypes;1", "3 4", [], f"{_EXT}quantitativeTypes;1",
             defined_in=3, cotypes_on="3"),
        _ctx(f"{_EXT}quantitativeTypes;2", "3 4", [], f"{_EXT}quantitativeTypes;2",
             defined_in=4, cotypes_on="4"),
        _ctx(f"{_EXT}quantitativeTypes;3", "3 4", [], f"{_EXT}quantitativeTypes;3",
             defined_in=4, cotypes_on="4"),
        # IoT Central's v2 partner context: adjunct types and two predefined schemas.
        _iotcentral(),
    ]
}

# Enums the extensions predefine (quantitativeTypes' unit types and prefixes), by IRI ->
# the names of their values, so a schema such as ``TemperatureUnit`` can check instances.
PREDEFINED_ENUMS: dict[str, tuple[str, ...]] = {
    f"{c.iri_base}enum:{enum}": values
    for c in KNOWN_CONTEXTS.values() if c.instances
    for enum, values in [*c.units.items(), *UNIT_PREFIXES.items()]
}


def _v2_units() -> dict[str, AdjunctType]:
    """DTDL v2's unit classes (core context, ``dtmi:standard:class:X;2``).

    The unit types (``TemperatureUnit``...) type an element of the class Unit, the prefixes
    (``DecimalPrefix``, ``BinaryPrefix``) one of the class UnitAttribute; the semantic units
    (``DecimalUnit``, ``BinaryUnit``, ``RatioUnit``) are co-types of a Unit and say how it is
    derived.  As in the reference metamodel, none of them goes on a content element.
    """
    symbol = PropDef("symbol", "string", min_count=1, max_count=1)
    exponent = PropDef("exponent", "integer", min_count=1, max_count=1)

    def unit_ref(name: str, required: bool = True, range_: str = "Unit") -> PropDef:
        return PropDef(name, "element", range=range_, min_count=int(required), max_count=1)

    table = [AdjunctType(t, frozenset({"Unit"}), material="Unit")
             for t in UNITS["dtmi:dtdl:context;2"]]
    table += [AdjunctType(p, frozenset({"UnitAttribute"}), (symbol, exponent),
                          material="UnitAttribute") for p in V2_UNIT_PREFIXES]
    for unit, prefix in (("DecimalUnit", "DecimalPrefix"), ("BinaryUnit", "BinaryPrefix")):
        table.append(AdjunctType(unit, frozenset({"Unit"}),
                                 (unit_ref("baseUnit"), unit_ref("prefix", False, "UnitAttribute")),
                                 value_kinds=(("prefix", prefix),)))
    table.append(AdjunctType("RatioUnit", frozenset({"Unit"}),
                             (unit_ref("topUnit"), unit_ref("bottomUnit"))))
    return {a.name: a for a in table}


# DTDL v2 spells the prefix for ten 'deka' (quantitativeTypes: 'deca').
V2_UNIT_PREFIXES: dict[str, tuple[str, ...]] = {
    "DecimalPrefix": tuple("deka" if p == "deca" else p for p in UNIT_PREFIXES["DecimalPrefix"]),
    "BinaryPrefix": UNIT_PREFIXES["BinaryPrefix"],
}
V2_UNIT_CLASSES: dict[str, AdjunctType] = _v2_units()
# The predefined units and prefixes of DTDL v2: term -> its unit type or prefix class.
V2_UNIT_KINDS: dict[str, str] = {
    term: kind for kind, terms in [*UNITS["dtmi:dtdl:context;2"].items(),
                                   *V2_UNIT_PREFIXES.items()] for term in terms
}


def v2_unit_type(term: str) -> str | None:
    """The DTDL v2 unit type a co-type names (``TemperatureUnit`` or its IRI), else None."""
    name = term[20:-2] if term.startswith("dtmi:standard:class:") and term.endswith(";2") \
        else term
    unit_class = V2_UNIT_CLASSES.get(name)
    return name if unit_class is not None and unit_class.material == "Unit" else None


# ... as predefined elements, by term and by IRI -> (term, class, IRI), the form
# ``Scope.extension_instances`` gives, so 'baseUnit': 'metre' resolves like any term.
V2_UNIT_INSTANCES: dict[str, tuple[str, str, str]] = {
    key: (term, cls, iri)
    for term, kind in V2_UNIT_KINDS.items()
    for cls, iri in [("UnitAttribute", f"dtmi:standard:unitprefix:{term};2")
                     if kind in V2_UNIT_PREFIXES else ("Unit", f"dtmi:standard:unit:{term};2")]
    for key in (term, iri)
}

# Partner contexts that imply a DTDL version even when listed before the DTDL context.
AFFILIATE_VERSIONS: dict[str, int] = {"dtmi:iotcentral:context;2": 2}

# Semantic types built into the DTDL v2 core context.
V2_CORE_QUANTITIES = ("dtmi:dtdl:context;2", SEMANTIC_TYPES["dtmi:dtdl:context;2"],
                      UNITS["dtmi:dtdl:context;2"])

# Limit extensions: context -> (DTDL version, raised limits).
LIMIT_CONTEXTS: dict[str, tuple[int, dict[str, int]]] = {
    "dtmi:dtdl:limits:onvif;1": (4, {"max_schema_depth": 24, "max_interface_id_length": 256,
                                     "max_id_length": 512}),
    "dtmi:dtdl:limits:aio;1": (4, {"max_schema_depth": 12, "max_interface_id_length": 256,
                                   "max_id_length": 512}),
}

_CORE = re.compile(r"^dtmi:dtdl:context;([0-9]+)(?:#(limitless|limits))?$")


def core_context_version(context: str) -> tuple[int, str] | None:
    """(version, fragment) of a core context: ``dtmi:dtdl:context;4#limitless`` -> (4, ...)."""
    m = _CORE.match(context)
    return (int(m.group(1)), m.group(2) or "") if m else None
