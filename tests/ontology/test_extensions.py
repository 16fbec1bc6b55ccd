"""The standard DTDL extensions: co-types, their properties and where they may go."""

from __future__ import annotations

from typing import Any

import pytest

from ontology import parse_models
from ontology.instance import validate_twin
from ontology.model import EnumSchema, Property, Telemetry

_EXT = "dtmi:dtdl:extension:"


def _iface(version: int, contexts: list[str], *contents: dict[str, Any]) -> dict[str, Any]:
    return {"@context": [f"dtmi:dtdl:context;{version}", *contexts],
            "@id": "dtmi:com:example:Ext;1", "@type": "Interface", "contents": list(contents)}


def _codes(doc: dict[str, Any]) -> list[str]:
    return [e.code for e in parse_models([doc]).errors]


def test_historized_goes_on_property_and_telemetry() -> None:
    ok = _iface(3, [f"{_EXT}historization;1"],
                {"@type": ["Telemetry", "Historized"], "name": "t", "schema": "double"})
    result = parse_models([ok])
    assert result.ok
    t = result.registry["dtmi:com:example:Ext;1"].contents["t"]
    assert isinstance(t, Telemetry) and t.types == ("Historized",)
    bad = _iface(3, [f"{_EXT}historization;1"],
                 {"@type": ["Command", "Historized"], "name": "c"})
    assert _codes(bad) == ["DTDL215"]


def test_extension_types_need_their_context() -> None:
    doc = _iface(3, [], {"@type": ["Telemetry", "Historized"], "name": "t", "schema": "double"})
    assert _codes(doc) == ["DTDL212"]


def test_value_annotation_names_a_sibling() -> None:
    ctx = [f"{_EXT}annotation;2"]
    temp = {"@type": "Property", "name": "temp", "schema": "double"}
    good = _iface(4, ctx, temp, {"@type": ["Property", "ValueAnnotation"], "name": "tempNote",
                                 "annotates": "temp", "schema": "string"})
    result = parse_models([good])
    assert result.ok, [str(e) for e in result.errors]
    note = result.registry["dtmi:com:example:Ext;1"].contents["tempNote"]
    assert isinstance(note, Property) and note.extensions["annotates"] == "temp"
    missing = _iface(4, ctx, temp, {"@type": ["Property", "ValueAnnotation"], "name": "n",
                                    "schema": "string"})
    assert _codes(missing) == ["DTDL300"]
    dangling = _iface(4, ctx, temp, {"@type": ["Property", "ValueAnnotation"], "name": "n",
                                     "annotates": "nothing", "schema": "string"})
    assert _codes(dangling) == ["DTDL316"]


@pytest.mark.parametrize(("unit", "codes"), [("degreeCelsius", []), ("metre", ["DTDL314"])])
def test_semantic_type_units(unit: str, codes: list[str]) -> None:
    doc = _iface(3, [f"{_EXT}quantitativeTypes;1"],
                 {"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "double",
                  "unit": unit})
    assert _codes(doc) == codes


def test_semantic_type_needs_numeric_schema_and_unit() -> None:
    no_unit = _iface(2, [], {"@type": ["Telemetry", "Temperature"], "name": "t",
                             "schema": "double"})
    assert _codes(no_unit) == ["DTDL300"]
    text = _iface(2, [], {"@type": ["Telemetry", "Temperature"], "name": "t",
                          "schema": "string", "unit": "degreeCelsius"})
    assert _codes(text) == ["DTDL215"]


def test_mqtt_and_requirement_properties() -> None:
    mqtt = {"@context": ["dtmi:dtdl:context;4", f"{_EXT}mqtt;2"],
            "@id": "dtmi:com:example:M;1", "@type": ["Interface", "Mqtt"],
            "payloadFormat": "Json/ecma/404", "telemetryTopic": "sample/{senderId}/telemetry",
            "contents": [{"@type": ["Telemetry", "Indexed"], "name": "t", "schema": "double",
                          "index": 1}]}
    assert parse_models([mqtt]).ok
    bad_index = dict(mqtt, contents=[{"@type": ["Telemetry", "Indexed"], "name": "t",
                                      "schema": "double", "index": 0}])
    assert _codes(bad_index) == ["DTDL308"]
    no_format = {k: v for k, v in mqtt.items() if k != "payloadFormat"}
    assert _codes(no_format) == ["DTDL300"]
    required = _iface(4, [f"{_EXT}requirement;1"],
                      {"@type": "Property", "name": "p", "schema": {
                          "@type": "Object", "fields": [
                              {"@type": ["Field", "Required"], "name": "f", "schema": "string"}]}})
    assert parse_models([required]).ok


@pytest.mark.parametrize(("content", "codes"), [
    ({"@type": ["Telemetry", "Location"], "name": "loc", "schema": "geopoint"}, []),
    ({"@type": ["Telemetry", "Location"], "name": "loc", "schema": "double"}, ["DTDL215"]),
    ({"@type": ["Telemetry", "VelocityVector"], "name": "v", "schema": "vector",
      "unit": "metrePerSecond"}, []),
    ({"@type": ["Telemetry", "VelocityVector"], "name": "v", "schema": "vector",
      "unit": "metre"}, ["DTDL309"]),
    ({"@type": ["Property", "State"], "name": "s", "schema": "string"}, ["DTDL215"]),
    ({"@type": ["Telemetry", "Event"], "name": "e", "schema": "string"}, []),
])
def test_iot_central_adjunct_types(content: dict[str, Any], codes: list[str]) -> None:
    assert _codes(_iface(2, ["dtmi:iotcentral:context;2"], content)) == codes


def test_iot_central_schemas_need_the_context() -> None:
    content = {"@type": "Telemetry", "name": "g", "schema": "geopoint"}
    assert _codes(_iface(2, ["dtmi:iotcentral:context;2"], content)) == []
    assert _codes(_iface(2, [], content)) == ["DTDL309"]


def test_mqtt_indexes_are_unique_among_siblings() -> None:
    doc = _iface(4, [f"{_EXT}mqtt;2"],
                 {"@type": ["Telemetry", "Indexed"], "name": "a", "schema": "double", "index": 1},
                 {"@type": ["Telemetry", "Indexed"], "name": "b", "schema": "double", "index": 1})
    result = parse_models([doc])
    assert [e.code for e in result.errors] == ["DTDL311"]
    assert len(result.errors[0].related) == 1


def test_partner_prefix_is_reserved_under_its_context() -> None:
    doc = dict(_iface(2, ["dtmi:iotcentral:context;2"]), **{"@id": "dtmi:iotcentral:Mine;1"})
    assert _codes(doc) == ["DTDL203"]
    assert _codes(dict(doc, **{"@context": "dtmi:dtdl:context;2"})) == []


def test_adjunct_types_by_identifier() -> None:
    doc = _iface(3, [f"{_EXT}historization;1"],
                 {"@type": ["Telemetry", f"{_EXT}historization:v1:Historized"], "name": "t",
                  "schema": "double"})
    assert _codes(doc) == []
    partner = _iface(2, ["dtmi:iotcentral:context;2"],
                     {"@type": ["Telemetry", "dtmi:iotcentral:class:Event;2"], "name": "e",
                      "schema": "double"})
    assert _codes(partner) == []


# ---------------------------------------------------------------------- overriding

_OVERRIDING = [f"{_EXT}quantitativeTypes;2", f"{_EXT}annotation;2", f"{_EXT}overriding;2"]
_CURRENT_TEMP = {"@type": ["Telemetry", "Temperature"], "name": "currentTemp",
                 "schema": "double", "unit": "degreeFahrenheit"}
_TEMP_UNIT = {"@type": ["Property", "ValueAnnotation", "Override"], "name": "currentTempUnit",
              "annotates": "currentTemp", "overrides": "unit", "schema": "TemperatureUnit",
              "writable": True}


def _errors(*docs: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(code, JSON pointer, message) of each error."""
    return [(e.code, e.location.pointer if e.location else "", e.message)
            for e in parse_models(list(docs)).errors]


def test_override_spec_example_and_its_instance_values() -> None:
    result = parse_models([_iface(4, _OVERRIDING, _CURRENT_TEMP, _TEMP_UNIT)])
    assert result.ok, [str(e) for e in result.errors]
    # The overriding Property's schema is the unit type: instances give one of its units.
    assert validate_twin(result.registry, "dtmi:com:example:Ext;1",
                         {"currentTempUnit": "degreeCelsius"}) == []
    [bad] = validate_twin(result.registry, "dtmi:com:example:Ext;1",
                          {"currentTempUnit": "pascal"})
    assert bad.path == "/currentTempUnit"


def test_override_of_a_sibling_inherited_through_extends() -> None:
    base = {"@context": ["dtmi:dtdl:context;4", f"{_EXT}quantitativeTypes;2",
                         f"{_EXT}overriding;2"],
            "@id": "dtmi:com:example:BaseSensor;1", "@type": "Interface",
            "contents": [_CURRENT_TEMP]}
    sensor = {**_iface(4, _OVERRIDING, _TEMP_UNIT), "extends": "dtmi:com:example:BaseSensor;1"}
    assert _errors(sensor, base) == []
    wrong = {**sensor, "contents": [{**_TEMP_UNIT, "schema": "PressureUnit"}]}
    [(code, pointer, message)] = _errors(wrong, base)
    assert (code, pointer) == ("DTDL318", "/contents/0/schema")
    assert "TemperatureUnit" in message and "currentTemp" in message


def test_override_needs_value_annotation() -> None:
    lone = {**_TEMP_UNIT, "@type": ["Property", "Override"]}
    del lone["annotates"]
    [(code, pointer, message)] = _errors(_iface(4, _OVERRIDING, _CURRENT_TEMP, lone))
    assert (code, pointer) == ("DTDL215", "/contents/1/@type")
    assert "'ValueAnnotation'" in message


@pytest.mark.parametrize(("overrides", "words"), [
    ("symbol", ["'symbol'", "currentTemp", "unit"]),  # the sibling has no such property
    ("schema", ["'schema'", "Telemetry itself"]),  # a property of the class, not an extension
])
def test_overrides_names_an_extension_property_of_the_sibling(overrides: str,
                                                              words: list[str]) -> None:
    doc = _iface(4, _OVERRIDING, _CURRENT_TEMP, {**_TEMP_UNIT, "overrides": overrides})
    [(code, pointer, message)] = _errors(doc)
    assert (code, pointer) == ("DTDL317", "/contents/1/overrides")
    assert all(w in message for w in words), message


def test_override_schema_matches_the_overridden_unit() -> None:
    doc = _iface(4, _OVERRIDING, _CURRENT_TEMP, {**_TEMP_UNIT, "schema": "string"})
    [(code, pointer, message)] = _errors(doc)
    assert (code, pointer) == ("DTDL318", "/contents/1/schema")
    assert "TemperatureUnit" in message


def test_override_schema_matches_a_literal_extension_property() -> None:
    ctx = [f"{_EXT}mqtt;2", f"{_EXT}annotation;2", f"{_EXT}overriding;2"]
    indexed = {"@type": ["Telemetry", "Indexed"], "name": "t", "schema": "double", "index": 1}
    override = {"@type": ["Property", "ValueAnnotation", "Override"], "name": "tIndex",
                "annotates": "t", "overrides": "index", "schema": "integer"}
    assert _errors(_iface(4, ctx, indexed, override)) == []
    [(code, pointer, message)] = _errors(_iface(4, ctx, indexed,
                                                {**override, "schema": "string"}))
    assert (code, pointer) == ("DTDL318", "/contents/1/schema") and "integer" in message


def test_overridden_extension_is_written_for_the_models_dtdl_version() -> None:
    # mqtt;2 is written for DTDL v4 but usable in a DTDL v3 model; Overriding removes that
    # freedom: a DTDL v3 Override cannot override a property mqtt;2 defines.
    indexed = {"@type": ["Telemetry", "Indexed"], "name": "t", "schema": "double", "index": 1}
    override = {"@type": ["Property", "ValueAnnotation", "Override"], "name": "tIndex",
                "annotates": "t", "overrides": "index", "schema": "integer"}
    v3 = [f"{_EXT}mqtt;2", f"{_EXT}annotation;1", f"{_EXT}overriding;1"]
    [(code, pointer, message)] = _errors(_iface(3, v3, indexed, override))
    assert (code, pointer) == ("DTDL113", "/contents/1/overrides")
    assert "DTDL v4" in message and "'index'" in message
    assert _errors(_iface(3, [f"{_EXT}mqtt;1", *v3[1:]], indexed, override)) == []


@pytest.mark.parametrize(("version", "context", "cotype"), [
    (4, "historization;1", "Historized"),  # v1 extensions are for DTDL v3 elements
    (4, "quantitativeTypes;1", "Temperature"),
    (3, "quantitativeTypes;2", "Temperature"),  # quantitativeTypes;2 is for DTDL v4 only
])
def test_extension_cotypes_go_on_elements_of_their_dtdl_version(version: int, context: str,
                                                                cotype: str) -> None:
    content = {"@type": ["Telemetry", cotype], "name": "t", "schema": "double", "unit": "kelvin"}
    if cotype == "Historized":
        del content["unit"]
    [(code, pointer, message)] = _errors(_iface(version, [f"{_EXT}{context}"], content))
    assert (code, pointer) == ("DTDL215", "/contents/0/@type/1")
    assert f"'{cotype}'" in message and f"DTDL v{version}" in message
    # The same context is still usable inside the model, e.g. for a nested element's context.
    nested = {"@context": f"{_EXT}{context}", "@type": "Property", "name": "p",
              "schema": "double"}
    assert _errors(_iface(version, [], nested)) == []


def test_annotation_and_override_written_as_identifiers() -> None:
    by_iri = {**_TEMP_UNIT, "@type": ["Property", f"{_EXT}annotation:v2:ValueAnnotation",
                                      f"{_EXT}overriding:v2:Override"],
              "overrides": f"{_EXT}quantitativeTypes:v2:property:unit"}
    assert _errors(_iface(4, _OVERRIDING, _CURRENT_TEMP, by_iri)) == []
    [(code, pointer, message)] = _errors(_iface(4, _OVERRIDING, _CURRENT_TEMP,
                                                {**by_iri, "annotates": "nothing"}))
    assert (code, pointer) == ("DTDL316", "/contents/1/annotates") and "'nothing'" in message
    [(code, pointer, _)] = _errors(_iface(4, _OVERRIDING, _CURRENT_TEMP,
                                          {**by_iri, "schema": "PressureUnit"}))
    assert (code, pointer) == ("DTDL318", "/contents/1/schema")


def test_one_override_per_sibling_property() -> None:
    doc = _iface(4, _OVERRIDING, _CURRENT_TEMP, _TEMP_UNIT, {**_TEMP_UNIT, "name": "again"})
    result = parse_models([doc])
    [error] = result.errors
    assert (error.code, error.location and error.location.pointer) == (
        "DTDL311", "/contents/2/overrides")
    assert "currentTempUnit" in error.message and "again" in error.message
    assert [r.pointer for r in error.related] == ["/contents/1/overrides"]


# ---------------------------------------------------------------------- user-defined units

_QT2 = [f"{_EXT}quantitativeTypes;2"]


def _units(*values: dict[str, Any]) -> dict[str, Any]:
    """An interface declaring its own unit Enum (quantitativeTypes' unit adjunct types)."""
    enum = {"@id": "dtmi:com:example:MyUnit;1", "@type": "Enum", "valueSchema": "string",
            "enumValues": list(values)}
    return {**_iface(4, _QT2, {"@type": "Property", "name": "unit",
                               "schema": "dtmi:com:example:MyUnit;1"}), "schemas": [enum]}


_FURLONG = {"@id": "dtmi:com:example:furlong;1", "@type": ["EnumValue", "SymbolicUnit",
                                                           "DecimalUnit"],
            "name": "furlong", "enumValue": "furlong", "symbol": "fur", "baseUnit": "metre"}


def test_user_defined_units() -> None:
    doc = _units(
        _FURLONG,
        {"@type": ["EnumValue", "RatioUnit"], "name": "furlongPerFortnight",
         "enumValue": "fpf", "topUnit": "dtmi:com:example:furlong;1", "bottomUnit": "day"},
        {"@type": ["EnumValue", "UnitPrefix"], "name": "lakh", "enumValue": "lakh",
         "symbol": "L", "exponent": 5},
        {"@type": ["EnumValue", "DecimalUnit"], "name": "kilofurlong", "enumValue": "kfur",
         "baseUnit": "dtmi:com:example:furlong;1", "prefix": "kilo"},
        {"@type": ["EnumValue", "BinaryUnit"], "name": "kibifurlong", "enumValue": "kifur",
         "baseUnit": "dtmi:com:example:furlong;1", "prefix": "kibi"},
    )
    result = parse_models([doc])
    assert result.ok, [str(e) for e in result.errors]
    prop = result.registry["dtmi:com:example:Ext;1"].contents["unit"]
    assert isinstance(prop, Property) and isinstance(prop.schema, EnumSchema)
    assert [v.name for v in prop.schema.values] == [
        "furlong", "furlongPerFortnight", "lakh", "kilofurlong", "kibifurlong"]


@pytest.mark.parametrize(("value", "expected"), [
    ({"@type": ["EnumValue", "UnitPrefix"], "name": "lakh", "enumValue": "lakh"},
     [("DTDL300", "/schemas/0/enumValues/0", "'symbol'"),
      ("DTDL300", "/schemas/0/enumValues/0", "'exponent'")]),
    ({"@type": ["EnumValue", "UnitPrefix"], "name": "lakh", "enumValue": "lakh",
      "symbol": "L", "exponent": "5"},
     [("DTDL305", "/schemas/0/enumValues/0/exponent", "'exponent'")]),
    ({"@type": ["EnumValue", "RatioUnit"], "name": "r", "enumValue": "r", "topUnit": "metre"},
     [("DTDL300", "/schemas/0/enumValues/0", "'bottomUnit'")]),
    ({**_FURLONG, "baseUnit": "meter"}, [("DTDL309", "/schemas/0/enumValues/0/baseUnit",
                                          "'meter'")]),
    ({**_FURLONG, "baseUnit": "double"}, [("DTDL309", "/schemas/0/enumValues/0/baseUnit",
                                           "'double'")]),
    ({**_FURLONG, "baseUnit": "dtmi:com:example:nothing;1"},
     [("DTDL400", "/schemas/0/enumValues/0/baseUnit", "dtmi:com:example:nothing;1")]),
    ({**_FURLONG, "baseUnit": "dtmi:com:example:MyUnit;1"},  # an Enum, not a unit
     [("DTDL401", "/schemas/0/enumValues/0/baseUnit", "dtmi:com:example:MyUnit;1")]),
])
def test_user_defined_unit_errors(value: dict[str, Any],
                                  expected: list[tuple[str, str, str]]) -> None:
    found = _errors(_units(value))
    assert [(c, p) for c, p, _ in found] == [(c, p) for c, p, _ in expected]
    pairs = zip(found, expected, strict=True)
    assert all(word in message for (_, _, message), (_, _, word) in pairs)


def test_unit_typos_get_a_suggestion() -> None:
    [error] = parse_models([_units({**_FURLONG, "baseUnit": "meter"})]).errors
    assert "'metre'" in error.hint
    temp = {"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "double",
            "unit": "degreeCelcius"}
    [error] = parse_models([_iface(4, _QT2, temp)]).errors
    assert (error.code, error.hint.startswith("Did you mean 'degreeCelsius'?")) == (
        "DTDL314", True)


def test_unit_adjunct_types_go_on_enum_values() -> None:
    doc = _iface(4, _QT2, {"@type": ["Property", "SymbolicUnit"], "name": "p",
                           "schema": "double", "symbol": "x"})
    [(code, pointer, message)] = _errors(doc)
    assert (code, pointer) == ("DTDL215", "/contents/0/@type") and "SymbolicUnit" in message


def test_unit_types_are_schemas_only_under_the_extension() -> None:
    schema = {"@type": "Property", "name": "p", "schema": "TemperatureUnit"}
    assert _errors(_iface(4, _QT2, schema)) == []
    [(code, pointer, _)] = _errors(_iface(4, [], schema))
    assert (code, pointer) == ("DTDL309", "/contents/0/schema")
    # A unit is an EnumValue, not a schema; core terms stay core ("byte" is a schema).
    [(code, pointer, message)] = _errors(_iface(4, _QT2, {**schema, "schema": "metre"}))
    assert (code, pointer) == ("DTDL309", "/contents/0/schema") and "'metre'" in message
    assert _errors(_iface(4, _QT2, {**schema, "schema": "byte"})) == []
    v3 = _iface(3, [f"{_EXT}quantitativeTypes;1"], {
        **schema, "schema": "dtmi:dtdl:extension:quantitativeTypes:v1:enum:TemperatureUnit"})
    assert _errors(v3) == []
