"""parse_models: the object model it builds and the errors it reports."""

from __future__ import annotations

import json

from ontology import ModelSource, ParseOptions, parse_models
from ontology.model import (
    ArraySchema,
    Command,
    Component,
    EnumSchema,
    MapSchema,
    ObjectSchema,
    PrimitiveSchema,
    Property,
    Relationship,
    Schema,
    Telemetry,
)
from ontology.repository import DtmiRepository, dtmi_to_path

BASE = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:com:example:Device;1",
    "@type": "Interface",
    "displayName": {"en": "Device", "de": "Gerät"},
    "contents": [
        {"@type": "Property", "name": "serial", "schema": "string"},
        {"@type": "Relationship", "name": "locatedIn", "target": "dtmi:com:example:Room;1",
         "minMultiplicity": 0, "maxMultiplicity": 1,
         "properties": [{"@type": "Property", "name": "since", "schema": "dateTime"}]},
    ],
}

THERMOSTAT = {
    "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
    "@id": "dtmi:com:example:Thermostat;1",
    "@type": "Interface",
    "extends": "dtmi:com:example:Device;1",
    "description": "A thermostat",
    "contents": [
        {"@type": ["Telemetry", "Temperature"], "name": "temp", "schema": "double",
         "unit": "degreeCelsius"},
        {"@type": "Property", "name": "mode", "writable": True,
         "schema": "dtmi:com:example:Mode;1"},
        {"@type": "Property", "name": "settings", "schema": {
            "@type": "Map", "mapKey": {"name": "key", "schema": "string"},
            "mapValue": {"name": "value", "schema": {
                "@type": "Object", "fields": [
                    {"name": "limits", "schema": {"@type": "Array", "elementSchema": "float"}},
                ]}}}},
        {"@type": "Command", "name": "reboot",
         "request": {"name": "delay", "schema": "duration"},
         "response": {"name": "ok", "schema": "boolean"}},
        {"@type": "Component", "name": "fan", "schema": "dtmi:com:example:Fan;1"},
    ],
    "schemas": [{"@id": "dtmi:com:example:Mode;1", "@type": "Enum", "valueSchema": "string",
                 "enumValues": [{"name": "heat", "enumValue": "h"},
                                {"name": "cool", "enumValue": "c"}]}],
}

FAN = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:com:example:Fan;1", "@type": "Interface",
       "contents": [{"@type": "Property", "name": "speed", "schema": "integer"}]}
ROOM = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:com:example:Room;1",
        "@type": "Interface"}


def _text(doc: object) -> str:
    return json.dumps(doc, indent=2)


def test_builds_the_resolved_object_model_in_any_order() -> None:
    # Submitted base-last, as separate files: order must not matter.
    result = parse_models([ModelSource(_text(THERMOSTAT), "thermostat.json"),
                           ModelSource(_text(FAN), "fan.json"),
                           ModelSource(_text(ROOM), "room.json"),
                           ModelSource(_text(BASE), "device.json")])
    assert result.ok, [str(e) for e in result.errors]
    assert result.unresolved == frozenset()
    reg = result.registry
    assert set(reg) == {"dtmi:com:example:Device;1", "dtmi:com:example:Thermostat;1",
                        "dtmi:com:example:Fan;1", "dtmi:com:example:Room;1"}
    t = reg["dtmi:com:example:Thermostat;1"]
    assert t.dtdl_version == 3
    assert t.extends == ("dtmi:com:example:Device;1",)
    assert t.description == {"en": "A thermostat"}
    # Flattened contents keep the interface that declared them.
    assert t.contents["serial"].defined_in == "dtmi:com:example:Device;1"
    assert t.contents["temp"].defined_in == "dtmi:com:example:Thermostat;1"
    temp = t.contents["temp"]
    assert isinstance(temp, Telemetry)
    assert temp.schema == PrimitiveSchema("double")
    assert temp.unit == "degreeCelsius"
    assert temp.types == ("Temperature",)
    assert temp.semantic_types == (
        "dtmi:dtdl:extension:quantitativeTypes:v1:class:Temperature",)
    mode = t.contents["mode"]
    assert isinstance(mode, Property) and mode.writable
    assert isinstance(mode.schema, EnumSchema) and mode.schema.id == "dtmi:com:example:Mode;1"
    assert [(v.name, v.value) for v in mode.schema.values] == [("heat", "h"), ("cool", "c")]
    settings = t.contents["settings"]
    assert isinstance(settings, Property) and isinstance(settings.schema, MapSchema)
    value = settings.schema.value_schema
    assert isinstance(value, ObjectSchema) and value.fields[0].name == "limits"
    assert isinstance(value.fields[0].schema, ArraySchema)
    reboot = t.contents["reboot"]
    assert isinstance(reboot, Command) and reboot.request and reboot.response
    assert reboot.request.schema == PrimitiveSchema("duration")
    fan = t.contents["fan"]
    assert isinstance(fan, Component) and fan.schema == "dtmi:com:example:Fan;1"
    rel = t.contents["locatedIn"]
    assert isinstance(rel, Relationship)
    assert (rel.target, rel.min_multiplicity, rel.max_multiplicity) == (
        "dtmi:com:example:Room;1", 0, 1)
    assert rel.properties[0].name == "since"
    assert reg.is_of_model("dtmi:com:example:Thermostat;1", "dtmi:com:example:Device;1")
    assert reg["dtmi:com:example:Device;1"].display_name == {"en": "Device", "de": "Gerät"}


def test_source_locations_point_into_the_file() -> None:
    result = parse_models([ModelSource(_text(BASE), "device.json"),
                           ModelSource(_text(ROOM), "room.json")])
    serial = result.registry["dtmi:com:example:Device;1"].contents["serial"]
    assert serial.location is not None
    assert serial.location.file == "device.json"
    lines = _text(BASE).splitlines()
    assert '"@type": "Property"' in lines[serial.location.line - 1] or \
        "{" in lines[serial.location.line - 1]
    assert serial.location.pointer == "/contents/0"


def test_error_has_code_location_hint_and_dtmi() -> None:
    doc = dict(BASE, contents=[{"@type": "Property", "name": "bad name", "schema": "string"}])
    result = parse_models([ModelSource(_text(doc), "device.json")])
    assert not result.ok
    (err,) = result.errors
    assert err.code == "DTDL306"
    assert err.location is not None and err.location.file == "device.json"
    assert err.location.pointer == "/contents/0/name"
    line = _text(doc).splitlines()[err.location.line - 1]
    assert '"name"' in line
    assert err.hint or "letters" in err.message
    assert err.dtmi is None or err.dtmi.startswith("dtmi:")
    assert str(err).startswith(f"device.json:{err.location.line}:{err.location.column}: "
                               "error[DTDL306]: ")


def test_duplicate_inherited_name_lists_both_locations() -> None:
    child = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:com:example:Child;1",
             "@type": "Interface", "extends": "dtmi:com:example:Device;1",
             "contents": [{"@type": "Property", "name": "serial", "schema": "string"}]}
    result = parse_models([ModelSource(_text(child), "child.json"),
                           ModelSource(_text(BASE), "device.json"),
                           ModelSource(_text(ROOM), "room.json")])
    codes = [e.code for e in result.errors]
    assert codes == ["DTDL404"]
    err = result.errors[0]
    assert err.location and err.location.file == "child.json"
    assert [r.file for r in err.related] == ["device.json"]


def test_unresolved_references_are_named_and_partial_loads_the_rest() -> None:
    result = parse_models([_text(THERMOSTAT), _text(ROOM)])
    assert result.unresolved == {"dtmi:com:example:Device;1", "dtmi:com:example:Fan;1"}
    assert {e.code for e in result.errors} == {"DTDL400"}
    assert len(result.registry) == 0  # nothing half-valid is loaded by default
    partial = parse_models([_text(THERMOSTAT), _text(ROOM)],
                           ParseOptions(allow_partial=True))
    assert partial.errors == []
    assert set(partial.registry) == {"dtmi:com:example:Room;1"}
    assert partial.unresolved == result.unresolved


def test_known_registry_counts_as_defined() -> None:
    first = parse_models([_text(BASE), _text(FAN), _text(ROOM)])
    assert first.ok
    second = parse_models([_text(THERMOSTAT)], known=first.registry)
    assert second.ok, [str(e) for e in second.errors]
    assert set(second.registry) == {"dtmi:com:example:Thermostat;1"}
    assert second.registry["dtmi:com:example:Thermostat;1"].contents["serial"].defined_in == \
        "dtmi:com:example:Device;1"


def test_resolver_hook_reads_a_dtmi_repository(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for doc in (BASE, FAN, ROOM):
        path = tmp_path / dtmi_to_path(str(doc["@id"]))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_text(doc))
    assert dtmi_to_path("dtmi:com:example:Fan;1") == "dtmi/com/example/fan-1.json"
    result = parse_models([_text(THERMOSTAT)], ParseOptions(resolver=DtmiRepository(tmp_path)))
    assert result.ok, [str(e) for e in result.errors]
    assert "dtmi:com:example:Fan;1" in result.registry


def test_undefined_extension_policy() -> None:
    doc = dict(ROOM, **{"@context": ["dtmi:dtdl:context;3", "dtmi:com:example:ext;1"]})
    refused = parse_models([doc], ParseOptions(allow_undefined_extensions=False))
    assert [e.code for e in refused.errors] == ["DTDL112"]
    assert parse_models([doc], ParseOptions(allow_undefined_extensions=True)).ok
    # DTDL v2 allows undefined extensions unless told otherwise.
    v2 = dict(doc, **{"@context": ["dtmi:dtdl:context;2", "dtmi:com:example:ext;1"]})
    assert parse_models([v2]).ok


def test_max_dtdl_version() -> None:
    v4 = dict(ROOM, **{"@context": "dtmi:dtdl:context;4"})
    assert parse_models([v4]).ok
    result = parse_models([v4], ParseOptions(max_dtdl_version=3))
    assert [e.code for e in result.errors] == ["DTDL113"]


def test_recursive_schema_in_v4_builds_a_reference() -> None:
    doc = {"@context": "dtmi:dtdl:context;4", "@id": "dtmi:com:example:Tree;1",
           "@type": "Interface",
           "contents": [{"@type": "Property", "name": "root", "schema": "dtmi:com:example:Node;1"}],
           "schemas": [{"@id": "dtmi:com:example:Node;1", "@type": "Object", "fields": [
               {"name": "children", "schema": {"@type": "Array",
                                               "elementSchema": "dtmi:com:example:Node;1"}}]}]}
    result = parse_models([doc])
    assert result.ok, [str(e) for e in result.errors]
    node = result.registry["dtmi:com:example:Tree;1"].contents["root"]
    assert isinstance(node, Property) and isinstance(node.schema, ObjectSchema)
    inner = node.schema.fields[0].schema
    assert isinstance(inner, ArraySchema)
    assert type(inner.element_schema) is Schema
    assert inner.element_schema.id == "dtmi:com:example:Node;1"
    v3 = dict(doc, **{"@context": "dtmi:dtdl:context;3"})
    assert "DTDL405" in {e.code for e in parse_models([v3]).errors}


def test_name_clash_with_a_known_base_is_reported() -> None:
    first = parse_models([_text(BASE), _text(ROOM)])
    child = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:com:example:Child;1",
             "@type": "Interface", "extends": "dtmi:com:example:Device;1",
             "contents": [{"@type": "Telemetry", "name": "serial", "schema": "string"}]}
    result = parse_models([_text(child)], known=first.registry)
    assert [e.code for e in result.errors] == ["DTDL404"]
    assert "dtmi:com:example:Device;1" in result.errors[0].message
