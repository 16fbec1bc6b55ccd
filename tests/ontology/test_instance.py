"""Instance validation: values, twins, telemetry, relationship properties, command payloads."""

from __future__ import annotations

import functools
import json
import random
from types import MappingProxyType
from typing import Any

import pytest

from ontology import parse_models
from ontology.instance import (
    InstanceError,
    telemetry_checker,
    validate_command,
    validate_relationship_properties,
    validate_telemetry,
    validate_twin,
    validate_value,
)
from ontology.model import ModelRegistry, PrimitiveSchema, Schema


def parse(*documents: dict[str, Any]) -> ModelRegistry:
    result = parse_models(list(documents))
    assert [str(e) for e in result.errors] == []
    return result.registry


@functools.cache
def _schema_of(schema_json: str) -> Schema:
    document = {
        "@context": "dtmi:dtdl:context;4",
        "@id": "dtmi:test:Probe;1",
        "@type": "Interface",
        "contents": [{"@type": "Property", "name": "probe", "schema": json.loads(schema_json)}],
    }
    return parse(document)["dtmi:test:Probe;1"].properties["probe"].schema


def schema(dtdl: Any) -> Schema:
    """The resolved schema the parser makes of ``dtdl`` (a DTDL v4 schema as JSON)."""
    return _schema_of(json.dumps(dtdl, sort_keys=True))


def codes(errors: list[InstanceError]) -> list[tuple[str, str]]:
    return [(e.path, e.code) for e in errors]


# ------------------------------------------------------------------ primitives

VALID = [
    ("boolean", True),
    ("boolean", False),
    ("integer", 0),
    ("integer", -(2**31)),
    ("integer", 2**31 - 1),
    ("long", 2**63 - 1),
    ("long", -(2**63)),
    ("byte", -128),
    ("short", 32767),
    ("unsignedByte", 255),
    ("unsignedShort", 65535),
    ("unsignedInteger", 2**32 - 1),
    ("unsignedLong", 2**64 - 1),
    ("double", 22),
    ("double", -1.5e300),
    ("float", 3.4e38),
    ("string", ""),
    ("date", "2024-02-29"),
    ("time", "13:45:00Z"),
    ("time", "23:59:60.5+01:00"),
    ("dateTime", "2026-11-21T21:00:00Z"),
    ("dateTime", "2026-11-21T21:00:00.123456-05:30"),
    ("duration", "PT1S"),
    ("duration", "P1DT12H30M"),
    ("duration", "P2W"),
    ("duration", "P0.5Y"),
    ("duration", "P2W3D"),
    ("duration", "P1Y2M3DT4H5M6.7S"),
    ("uuid", "123e4567-e89b-12d3-a456-426614174000"),
    ("bytes", "aGVsbG8="),
    ("bytes", ""),
    ("decimal", "-12.50"),
    ("decimal", "5."),
    ("decimal", "+0.25"),
    ("scaledDecimal", {"scale": 7, "value": "1234.56"}),
    ("point", {"type": "Point", "coordinates": [13.4, 52.5]}),
    ("point", {"type": "Point", "coordinates": [13.4, 52.5, 34.0], "bbox": [0, 0, 1, 1]}),
    ("lineString", {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
    ("polygon", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}),
    ("multiPoint", {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}),
    ("multiLineString", {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]]]}),
    ("multiPolygon", {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}),
]

INVALID = [
    ("boolean", 1, "", "WRONG_TYPE"),
    ("boolean", "true", "", "WRONG_TYPE"),
    ("integer", True, "", "WRONG_TYPE"),
    ("integer", 3.5, "", "WRONG_TYPE"),
    ("integer", 3.0, "", "WRONG_TYPE"),  # as the reference parser: it would be stored as a float
    ("integer", "3", "", "WRONG_TYPE"),
    ("integer", 2**31, "", "OUT_OF_RANGE"),
    ("long", 2**63, "", "OUT_OF_RANGE"),
    ("byte", 128, "", "OUT_OF_RANGE"),
    ("short", -32769, "", "OUT_OF_RANGE"),
    ("unsignedByte", -1, "", "OUT_OF_RANGE"),
    ("unsignedLong", 2**64, "", "OUT_OF_RANGE"),
    ("double", "hot", "", "WRONG_TYPE"),
    ("double", None, "", "WRONG_TYPE"),
    ("double", float("nan"), "", "OUT_OF_RANGE"),
    ("double", float("inf"), "", "OUT_OF_RANGE"),
    ("float", 1e39, "", "OUT_OF_RANGE"),
    ("string", 5, "", "WRONG_TYPE"),
    ("date", "2023-02-29", "", "BAD_FORMAT"),
    ("date", "2024-1-5", "", "BAD_FORMAT"),
    ("date", "20240105", "", "BAD_FORMAT"),
    ("time", "24:00:00", "", "BAD_FORMAT"),
    ("time", "7am", "", "BAD_FORMAT"),
    ("time", "13:45:00", "", "BAD_FORMAT"),  # RFC 3339 full-time: the offset is required
    ("dateTime", "2026-11-21t21:00:00Z", "", "BAD_FORMAT"),
    ("dateTime", "2026-11-21T21:00:00", "", "BAD_FORMAT"),  # RFC 3339 needs the offset
    ("dateTime", "2026-02-30T21:00:00Z", "", "BAD_FORMAT"),
    ("dateTime", 1700000000, "", "WRONG_TYPE"),
    ("duration", "P", "", "BAD_FORMAT"),
    ("duration", "PT", "", "BAD_FORMAT"),
    ("duration", "P1DT", "", "BAD_FORMAT"),
    ("duration", "1 hour", "", "BAD_FORMAT"),
    ("duration", "-PT15M", "", "BAD_FORMAT"),
    ("duration", "P1.5Y2M", "", "BAD_FORMAT"),  # a fraction only on the last part
    ("duration", "P1Y2W", "", "BAD_FORMAT"),
    ("uuid", "123e4567e89b12d3a456426614174000", "", "BAD_FORMAT"),
    ("bytes", "not base64!", "", "BAD_FORMAT"),
    ("decimal", 12.5, "", "WRONG_TYPE"),
    ("decimal", "1e5", "", "BAD_FORMAT"),
    ("decimal", ".5", "", "BAD_FORMAT"),
    ("decimal", "007", "", "BAD_FORMAT"),
    ("scaledDecimal", {"scale": 7, "value": 1.5}, "/value", "WRONG_TYPE"),
    ("scaledDecimal", {"scale": 40000, "value": "1"}, "/scale", "OUT_OF_RANGE"),
    ("scaledDecimal", {"value": "1"}, "", "MISSING_FIELD"),
    ("scaledDecimal", {"scale": 1, "value": "1", "unit": "m"}, "/unit", "UNKNOWN_FIELD"),
    ("point", [13.4, 52.5], "", "WRONG_TYPE"),
    ("point", {"type": "LineString", "coordinates": [0, 0]}, "/type", "WRONG_TYPE"),
    ("point", {"type": "Point", "coordinates": [200, 0]}, "/coordinates/0", "OUT_OF_RANGE"),
    ("point", {"type": "Point", "coordinates": [0, -91]}, "/coordinates/1", "OUT_OF_RANGE"),
    ("point", {"type": "Point", "coordinates": [0, "n"]}, "/coordinates/1", "WRONG_TYPE"),
    ("lineString", {"type": "LineString", "coordinates": [[0, 0]]}, "/coordinates", "WRONG_TYPE"),
    (
        "polygon",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
        "/coordinates/0",
        "BAD_FORMAT",
    ),
]


@pytest.mark.parametrize(("dtdl", "value"), VALID, ids=[f"{s}={v!r}" for s, v in VALID])
def test_valid_primitive_values_pass(dtdl: str, value: Any) -> None:
    assert validate_value(schema(dtdl), value, "/x") == []


@pytest.mark.parametrize(
    ("dtdl", "value", "where", "code"), INVALID, ids=[f"{s}={v!r}" for s, v, _, _ in INVALID]
)
def test_invalid_primitive_values_are_refused_with_path_and_code(
    dtdl: str, value: Any, where: str, code: str
) -> None:
    assert codes(validate_value(schema(dtdl), value, "/x")) == [("/x" + where, code)]


def test_messages_say_what_was_expected_and_what_came() -> None:
    [error] = validate_value(schema("double"), "hot", "/temperature")
    assert str(error) == '/temperature: expected a double, got the string "hot"'
    [error] = validate_value(schema("integer"), 2**40, "/count")
    assert "-2147483648 to 2147483647" in error.message and "long" in error.message
    [error] = validate_value(schema("dateTime"), "yesterday")
    assert str(error).startswith("expected a date-time") and '"yesterday"' in str(error)
    [error] = validate_value(schema("decimal"), 1.5)
    assert "string" in error.message


def test_primitives_given_as_iris_and_unknown_ones() -> None:
    assert validate_value(PrimitiveSchema("dtmi:dtdl:instance:Schema:double;2"), 1.5) == []
    [error] = validate_value(PrimitiveSchema("quaternion"), 1)
    assert error.code == "UNSUPPORTED_SCHEMA"  # reported, not raised: ingestion must go on
    [error] = validate_value(Schema(id="dtmi:test:NeverDefined;1"), 1)
    assert error.code == "UNRESOLVED_SCHEMA" and "dtmi:test:NeverDefined;1" in error.message


# ------------------------------------------------------------------ complex schemas

MODE = {
    "@type": "Enum",
    "valueSchema": "string",
    "enumValues": [
        {"name": "heat", "enumValue": "heating"},
        {"name": "cool", "enumValue": "cooling"},
        {"name": "off", "enumValue": "off"},
    ],
}
LEVEL = {
    "@type": "Enum",
    "valueSchema": "integer",
    "enumValues": [{"name": "low", "enumValue": 1}, {"name": "high", "enumValue": 2}],
}
READING = {
    "@type": "Object",
    "fields": [{"name": "value", "schema": "double"}, {"name": "at", "schema": "dateTime"}],
}
TAGS = {
    "@type": "Map",
    "mapKey": {"name": "tag", "schema": "string"},
    "mapValue": {"name": "count", "schema": "integer"},
}


def test_enum_takes_values_not_names_and_lists_the_allowed_values() -> None:
    assert validate_value(schema(MODE), "heating") == []
    [error] = validate_value(schema(MODE), "heat", "/mode")
    assert error.code == "NOT_IN_ENUM" and error.path == "/mode"
    assert '"heating", "cooling", "off"' in error.message
    assert "name of the value" in error.message
    assert validate_value(schema(LEVEL), 2) == []
    assert codes(validate_value(schema(LEVEL), True)) == [("", "NOT_IN_ENUM")]  # True == 1
    assert codes(validate_value(schema(LEVEL), "1")) == [("", "NOT_IN_ENUM")]


def test_object_refuses_unknown_fields_and_allows_missing_ones() -> None:
    reading = schema(READING)
    assert validate_value(reading, {}) == []
    assert validate_value(reading, {"value": 1.5}) == []
    errors = validate_value(reading, {"valeu": 1.5, "at": "noon"}, "/last")
    assert codes(errors) == [("/last/valeu", "UNKNOWN_FIELD"), ("/last/at", "BAD_FORMAT")]
    assert 'did you mean "value"?' in errors[0].message
    assert codes(validate_value(reading, [1.5])) == [("", "WRONG_TYPE")]


def test_map_keys_follow_the_dtdl_name_pattern_and_values_their_schema() -> None:
    tags = schema(TAGS)
    assert validate_value(tags, {"alpha": 1, "b_2": 2}) == []
    errors = validate_value(tags, {"alpha": "x", "2nd": 1, "end_": 1, "a/b": 1}, "/tags")
    assert codes(errors) == [
        ("/tags/alpha", "WRONG_TYPE"),
        ("/tags/2nd", "BAD_MAP_KEY"),
        ("/tags/end_", "BAD_MAP_KEY"),
        ("/tags/a~1b", "BAD_MAP_KEY"),  # JSON pointer escaping
    ]


def test_arrays_are_checked_elementwise_with_the_index_in_the_path() -> None:
    readings = schema({"@type": "Array", "elementSchema": READING})
    value = [{"value": 1}, {"value": "x"}, {"at": "2026-01-01T00:00:00Z"}, 5]
    assert codes(validate_value(readings, value, "/r")) == [
        ("/r/1/value", "WRONG_TYPE"),
        ("/r/3", "WRONG_TYPE"),
    ]


def test_nesting_builds_the_full_path() -> None:
    fields = [
        {"name": "tags", "schema": TAGS},
        {"name": "modes", "schema": {"@type": "Array", "elementSchema": MODE}},
    ]
    nested = schema({"@type": "Array", "elementSchema": {"@type": "Object", "fields": fields}})
    value = [{"tags": {"a": 1}}, {"tags": {"b": 1.5}, "modes": ["off", "on"]}]
    assert codes(validate_value(nested, value, "/x")) == [
        ("/x/1/tags/b", "WRONG_TYPE"),
        ("/x/1/modes/1", "NOT_IN_ENUM"),
    ]


TREE = {
    "@context": "dtmi:dtdl:context;4",
    "@id": "dtmi:test:Tree;1",
    "@type": "Interface",
    "contents": [{"@type": "Property", "name": "root", "schema": "dtmi:test:Node;1"}],
    "schemas": [
        {
            "@id": "dtmi:test:Node;1",
            "@type": "Object",
            "fields": [
                {"name": "label", "schema": "string"},
                {
                    "name": "children",
                    "schema": {"@type": "Array", "elementSchema": "dtmi:test:Node;1"},
                },
            ],
        }
    ],
}


def test_self_referential_schema_v4() -> None:
    registry = parse(TREE)
    tree = {"label": "a", "children": [{"label": "b", "children": [{"label": 3}]}]}
    assert codes(validate_twin(registry, "dtmi:test:Tree;1", {"root": tree})) == [
        ("/root/children/0/children/0/label", "WRONG_TYPE")
    ]
    # A value nested deeper than Python can recurse is refused, not a crash.
    deep: dict[str, Any] = {"label": "leaf"}
    for _ in range(5000):
        deep = {"label": "n", "children": [deep]}
    assert codes(validate_twin(registry, "dtmi:test:Tree;1", {"root": deep})) == [
        ("/root", "TOO_DEEP")
    ]


# ------------------------------------------------------------------ documents

THERMOSTAT = "dtmi:test:Thermostat;1"
ROOM = "dtmi:test:Room;1"
SPACE = "dtmi:test:Space;1"
MODELS = [
    {
        "@context": "dtmi:dtdl:context;4",
        "@id": SPACE,
        "@type": "Interface",
        "contents": [{"@type": "Property", "name": "name", "schema": "string", "writable": True}],
    },
    {
        "@context": "dtmi:dtdl:context;4",
        "@id": THERMOSTAT,
        "@type": "Interface",
        "contents": [
            {
                "@type": "Property",
                "name": "targetTemperature",
                "schema": "double",
                "writable": True,
            },
            {"@type": "Property", "name": "serialNumber", "schema": "string"},
            {"@type": "Telemetry", "name": "temperature", "schema": "double"},
            {
                "@type": "Command",
                "name": "reboot",
                "request": {"name": "delay", "schema": "duration"},
                "response": {"name": "accepted", "schema": "boolean"},
            },
            {"@type": "Command", "name": "ping"},
            {
                "@type": "Command",
                "name": "reset",
                "request": {"name": "mode", "schema": MODE, "nullable": True},
            },
        ],
    },
    {
        "@context": "dtmi:dtdl:context;4",
        "@id": ROOM,
        "@type": "Interface",
        "extends": SPACE,
        "contents": [
            {"@type": "Property", "name": "mode", "schema": MODE, "writable": True},
            {"@type": "Property", "name": "tags", "schema": TAGS, "writable": True},
            {"@type": "Property", "name": "lastReading", "schema": READING},
            {"@type": "Telemetry", "name": "occupancy", "schema": "integer"},
            {"@type": "Component", "name": "thermostat1", "schema": THERMOSTAT},
            {
                "@type": "Relationship",
                "name": "contains",
                "target": SPACE,
                "properties": [
                    {"@type": "Property", "name": "since", "schema": "date"},
                    {"@type": "Property", "name": "share", "schema": "double"},
                ],
            },
        ],
    },
]


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return parse(*MODELS)


ROOM_DOC = {
    "name": "Room 2.05",
    "mode": "cooling",
    "tags": {"floor": 2},
    "lastReading": {"value": 21.5, "at": "2026-11-21T21:00:00Z"},
    "thermostat1": {"targetTemperature": 21.0, "serialNumber": "T-1", "$metadata": {}},
    "$metadata": {"name": {"lastUpdateTime": "2026-11-21T21:00:00Z"}},
    "$dtId": "room-1",
}


def test_valid_twin_document_passes_and_metadata_is_ignored(registry: ModelRegistry) -> None:
    assert validate_twin(registry, ROOM, ROOM_DOC) == []
    assert validate_twin(registry, ROOM, {}) == []  # missing names are fine in DTDL


def test_component_values_are_checked_against_the_component_interface(
    registry: ModelRegistry,
) -> None:
    doc = {"thermostat1": {"targetTemperature": "warm", "tragetTemperature": 1}}
    errors = validate_twin(registry, ROOM, doc)
    assert codes(errors) == [
        ("/thermostat1/targetTemperature", "WRONG_TYPE"),
        ("/thermostat1/tragetTemperature", "UNKNOWN_NAME"),
    ]
    assert str(errors[0]) == (
        '/thermostat1/targetTemperature: expected a double, got the string "warm"'
    )
    assert codes(validate_twin(registry, ROOM, {"thermostat1": 5})) == [
        ("/thermostat1", "WRONG_TYPE")
    ]


def test_unknown_names_are_refused_with_the_closest_model_names(registry: ModelRegistry) -> None:
    [error] = validate_twin(registry, ROOM, {"nmae": "x"})
    assert error.code == "UNKNOWN_NAME" and error.path == "/nmae"
    assert 'did you mean "name"?' in error.message and ROOM in error.message
    [error] = validate_twin(registry, ROOM, {"zzz": 1})
    assert '"lastReading", "mode", "name", "tags", "thermostat1"' in error.message


def test_telemetry_in_a_twin_only_when_allowed(registry: ModelRegistry) -> None:
    assert codes(validate_twin(registry, ROOM, {"occupancy": 3})) == [
        ("/occupancy", "TELEMETRY_NOT_ALLOWED")
    ]
    assert validate_twin(registry, ROOM, {"occupancy": 3}, allow_telemetry=True) == []
    assert codes(validate_twin(registry, ROOM, {"occupancy": 3.5}, allow_telemetry=True)) == [
        ("/occupancy", "WRONG_TYPE")
    ]


def test_read_only_properties_refused_for_application_writes(registry: ModelRegistry) -> None:
    doc = {"name": "x", "lastReading": {"value": 1.0}, "thermostat1": {"serialNumber": "T-2"}}
    assert validate_twin(registry, ROOM, doc) == []
    errors = validate_twin(registry, ROOM, doc, allow_read_only=False)
    assert codes(errors) == [
        ("/lastReading", "READ_ONLY"),
        ("/thermostat1/serialNumber", "READ_ONLY"),
    ]
    assert "read-only" in errors[0].message


def test_relationship_and_command_names_are_not_values(registry: ModelRegistry) -> None:
    doc = {"contains": "room-2", "thermostat1": {"reboot": True}}
    assert codes(validate_twin(registry, ROOM, doc)) == [
        ("/contains", "NOT_A_VALUE"),
        ("/thermostat1/reboot", "NOT_A_VALUE"),
    ]


def test_unknown_model_and_non_object_documents(registry: ModelRegistry) -> None:
    assert codes(validate_twin(registry, "dtmi:test:Nope;1", {})) == [("", "UNKNOWN_MODEL")]
    assert codes(validate_twin(registry, ROOM, [1, 2])) == [("", "WRONG_TYPE")]  # type: ignore[arg-type]
    assert codes(validate_telemetry(registry, ROOM, "hot")) == [("", "WRONG_TYPE")]  # type: ignore[arg-type]


def test_telemetry_payload_takes_telemetry_and_reported_properties(registry: ModelRegistry) -> None:
    assert (
        validate_telemetry(registry, THERMOSTAT, {"temperature": 21.5, "serialNumber": "T"}) == []
    )
    errors = validate_telemetry(registry, THERMOSTAT, {"temprature": 21.5, "temperature": "x"})
    assert codes(errors) == [("/temprature", "UNKNOWN_NAME"), ("/temperature", "WRONG_TYPE")]
    assert 'did you mean "temperature"' in errors[0].message
    # Inherited contents count: Room extends Space, whose "name" is in Room's contents.
    assert validate_telemetry(registry, ROOM, {"name": "r", "occupancy": 2}) == []
    # A component's telemetry arrives nested under the component's name.
    assert validate_telemetry(registry, ROOM, {"thermostat1": {"temperature": 20.5}}) == []
    assert codes(validate_telemetry(registry, ROOM, {"thermostat1": {"temperature": "x"}})) == [
        ("/thermostat1/temperature", "WRONG_TYPE")
    ]


def test_relationship_properties(registry: ModelRegistry) -> None:
    props = {"since": "2024-01-01", "share": 0.5, "$etag": "x"}
    assert validate_relationship_properties(registry, ROOM, "contains", props) == []
    errors = validate_relationship_properties(
        registry, ROOM, "contains", {"since": "Jan 1", "shares": 1}
    )
    assert codes(errors) == [("/since", "BAD_FORMAT"), ("/shares", "UNKNOWN_NAME")]
    assert 'did you mean "share"?' in errors[1].message
    [error] = validate_relationship_properties(registry, ROOM, "contain", {})
    assert error.code == "UNKNOWN_RELATIONSHIP" and '"contains"' in error.message
    assert codes(validate_relationship_properties(registry, "dtmi:x:Y;1", "contains", {})) == [
        ("", "UNKNOWN_MODEL")
    ]


def test_command_payloads(registry: ModelRegistry) -> None:
    assert validate_command(registry, THERMOSTAT, "reboot", "PT5S") == []
    assert validate_command(registry, THERMOSTAT, "reboot", True, response=True) == []
    assert codes(validate_command(registry, THERMOSTAT, "reboot", 5)) == [("", "WRONG_TYPE")]
    assert codes(validate_command(registry, THERMOSTAT, "reboot", None)) == [
        ("", "MISSING_PAYLOAD")
    ]
    assert validate_command(registry, THERMOSTAT, "reset", None) == []  # nullable (v4)
    assert codes(validate_command(registry, THERMOSTAT, "reset", "heat")) == [("", "NOT_IN_ENUM")]
    assert validate_command(registry, THERMOSTAT, "ping", None) == []
    assert codes(validate_command(registry, THERMOSTAT, "ping", {"a": 1})) == [
        ("", "UNEXPECTED_PAYLOAD")
    ]
    [error] = validate_command(registry, THERMOSTAT, "reboto", None)
    assert error.code == "UNKNOWN_COMMAND" and 'did you mean "reboot"?' in error.message


def test_python_callers_may_pass_tuples_mappings_and_odd_keys(registry: ModelRegistry) -> None:
    readings = schema({"@type": "Array", "elementSchema": READING})
    assert validate_value(readings, ({"value": 1.0},)) == []
    assert (
        validate_value(schema("point"), MappingProxyType({"type": "Point", "coordinates": (1, 2)}))
        == []
    )
    doc = MappingProxyType({"tags": MappingProxyType({"a": 1}), 7: "x"})
    assert codes(validate_twin(registry, ROOM, doc)) == [("/7", "UNKNOWN_NAME")]  # type: ignore[arg-type]
    assert codes(validate_value(schema(TAGS), {1: 1})) == [("/1", "BAD_MAP_KEY")]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(10 if depth < 4 else 7)
    simple: list[Any] = [
        None,
        rng.choice([True, False]),
        rng.randint(-(2**70), 2**70),
        rng.uniform(-1e6, 1e6),
        rng.choice(["", "heating", "2026-11-21", "PT1S", "12:00:00", "x" * 50, "~/$"]),
        float(rng.choice(["nan", "inf", "1e308"])),
        rng.choice(["aGk=", "123e4567-e89b-12d3-a456-426614174000", "-1.5"]),
    ]
    if kind < 7:
        return simple[kind]
    if kind == 7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["value", "at", "scale", "type", "coordinates", "a", "$metadata", "1x", "name"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_no_input_makes_validation_raise(registry: ModelRegistry) -> None:
    rng = random.Random(20261121)
    schemas = [schema(s) for s in (*[v[0] for v in VALID], MODE, LEVEL, READING, TAGS)]
    for _ in range(3000):
        value = _random_value(rng)
        for s in schemas:
            assert all(isinstance(e, InstanceError) for e in validate_value(s, value))
        for model in (ROOM, THERMOSTAT, SPACE):
            validate_twin(registry, model, value)
            validate_telemetry(registry, model, value)
        validate_relationship_properties(registry, ROOM, "contains", value)
        validate_command(registry, THERMOSTAT, "reset", value)


def test_compiled_telemetry_checker_says_exactly_what_validate_telemetry_says(
    registry: ModelRegistry,
) -> None:
    """The ingestion path's per-model checker against the general validator, over payloads
    mixing valid and invalid values, every kind of name, odd keys and odd payloads."""
    rng = random.Random(4)
    names: list[Any] = [
        "name",
        "mode",
        "tags",
        "lastReading",
        "occupancy",
        "thermostat1",
        "contains",
        "targetTemperature",
        "serialNumber",
        "temperature",
        "reboot",
        "$metadata",
        "nmae",
        7,
    ]
    good = {
        "name": "Room 1",
        "mode": "cooling",
        "tags": {"floor": 2},
        "occupancy": 3,
        "lastReading": {"value": 21.5},
        "targetTemperature": 21.0,
        "serialNumber": "T-1",
        "temperature": 20.5,
        "thermostat1": {"temperature": 20.5},
    }
    check = telemetry_checker(registry)
    seen_valid = seen_invalid = 0
    for _ in range(4000):
        payload: Any = {}
        for name in rng.sample(names, rng.randrange(4)):
            valid = name in good and rng.random() < 0.7
            payload[name] = good[name] if valid else _random_value(rng)
        if rng.random() < 0.03:
            payload = rng.choice([[1], "hot", None, MappingProxyType(payload)])
        for model in (ROOM, THERMOSTAT, SPACE, "dtmi:test:Nope;1"):
            expected = validate_telemetry(registry, model, payload)
            assert list(check(model, payload)) == expected, (model, payload)
            seen_valid += not expected
            seen_invalid += bool(expected)
    assert seen_valid > 1000 and seen_invalid > 1000  # both outcomes were exercised
    assert list(check("dtmi:test:Nope;1", {})) == [
        InstanceError("", "UNKNOWN_MODEL", "no model dtmi:test:Nope;1 is loaded")
    ]


def test_huge_unknown_names_are_not_echoed_in_full(registry: ModelRegistry) -> None:
    name = "x" * 1_000_000
    [error] = validate_twin(registry, ROOM, {name: 1})
    assert error.code == "UNKNOWN_NAME" and len(error.message) < 300
    [error] = validate_value(schema(READING), {name: 1})
    assert error.code == "UNKNOWN_FIELD" and len(error.message) < 300
