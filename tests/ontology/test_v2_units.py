"""DTDL v2 units written in place: a semantic type's ``unit`` may be a Unit element typed by
its unit type (``TemperatureUnit``), derived with ``DecimalUnit``/``BinaryUnit``/``RatioUnit``
from predefined or inline units and prefixes; unit classes never co-type content elements."""

from __future__ import annotations

from typing import Any

import pytest

from ontology import parse_models
from ontology.errors import DtdlError
from ontology.model import Telemetry

_ID = "dtmi:com:example:Units;1"


def _iface(*contents: dict[str, Any], version: int = 2,
           contexts: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"@context": [f"dtmi:dtdl:context;{version}", *contexts], "@id": _ID,
            "@type": "Interface", "contents": list(contents)}


def _telemetry(unit: Any, semantic: str = "Temperature") -> dict[str, Any]:
    return {"@type": ["Telemetry", semantic], "name": "reading", "schema": "double", "unit": unit}


def _errors(doc: dict[str, Any]) -> list[DtdlError]:
    return parse_models([doc]).errors


def _one(doc: dict[str, Any]) -> DtdlError:
    errors = _errors(doc)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def _pointer(err: DtdlError) -> str | None:
    return err.location.pointer if err.location else None


MILLIKELVIN = {"@type": ["TemperatureUnit", "DecimalUnit"], "symbol": "mK",
               "baseUnit": "kelvin", "prefix": "milli"}


@pytest.mark.parametrize("unit", [
    MILLIKELVIN,
    [MILLIKELVIN],  # a list of one value is the value
    # IRIs instead of terms, and the class written out
    {"@type": ["Unit", "dtmi:standard:class:TemperatureUnit;2", "DecimalUnit"],
     "baseUnit": "dtmi:standard:unit:kelvin;2", "prefix": "dtmi:standard:unitprefix:milli;2"},
    {"@type": "TemperatureUnit", "symbol": "R", "description": "degree Rankine"},
])
def test_inline_temperature_units_parse(unit: Any) -> None:
    result = parse_models([_iface(_telemetry(unit))])
    assert result.ok, [str(e) for e in result.errors]
    reading = result.registry[_ID].contents["reading"]
    assert isinstance(reading, Telemetry)
    assert reading.semantic_types == ("dtmi:standard:class:Temperature;2",)
    assert reading.extensions["unit"] == unit  # the definition, as written


def test_an_inline_unit_with_an_id_is_named_by_it() -> None:
    unit = {**MILLIKELVIN, "@id": "dtmi:com:example:millikelvin;1"}
    result = parse_models([_iface(_telemetry(unit))])
    assert result.ok, [str(e) for e in result.errors]
    assert result.registry[_ID].contents["reading"].unit == "dtmi:com:example:millikelvin;1"


def test_ratio_unit_from_inline_units_and_an_inline_prefix() -> None:
    myria = {"@type": "DecimalPrefix", "name": "myria", "symbol": "my", "exponent": 4}
    unit = {"@type": ["VelocityUnit", "RatioUnit"], "symbol": "mym/h",
            "topUnit": {"@type": ["LengthUnit", "DecimalUnit"], "baseUnit": "metre",
                        "prefix": myria},
            "bottomUnit": "hour"}
    result = parse_models([_iface(_telemetry(unit, "Velocity"))])
    assert result.ok, [str(e) for e in result.errors]


def test_predefined_units_still_work() -> None:
    assert _errors(_iface(_telemetry("kelvin"))) == []
    err = _one(_iface(_telemetry("metre")))
    assert err.code == "DTDL314" and _pointer(err) == "/contents/0/unit"


def test_inline_unit_of_the_wrong_unit_type() -> None:
    err = _one(_iface(_telemetry({"@type": ["LengthUnit", "DecimalUnit"], "baseUnit": "metre",
                                  "prefix": "kilo"})))
    assert err.code == "DTDL314"
    assert _pointer(err) == "/contents/0/unit/@type"
    assert err.message == ("The unit defined here is a LengthUnit, but semantic type "
                           "'Temperature' needs a TemperatureUnit.")
    assert "TemperatureUnit" in err.hint


def test_inline_unit_without_a_unit_type() -> None:
    err = _one(_iface(_telemetry({"@type": "Unit", "symbol": "?"})))
    assert err.code == "DTDL314" and _pointer(err) == "/contents/0/unit/@type"
    assert "has no unit type" in err.message
    # A semantic unit alone names no class at all.
    err = _one(_iface(_telemetry({"@type": "DecimalUnit", "baseUnit": "kelvin"})))
    assert err.code == "DTDL210" and _pointer(err) == "/contents/0/unit/@type"
    assert "a Unit is expected here" in err.message
    assert "AccelerationUnit" in err.hint  # the unit types, which make an element a Unit


def test_derived_units_need_their_parts() -> None:
    err = _one(_iface(_telemetry({"@type": ["VelocityUnit", "RatioUnit"], "topUnit": "metre"},
                                 "Velocity")))
    assert err.code == "DTDL300" and _pointer(err) == "/contents/0/unit"
    assert err.message == "'RatioUnit' needs the property 'bottomUnit'."
    err = _one(_iface(_telemetry({"@type": ["TemperatureUnit", "DecimalUnit"],
                                  "prefix": "milli"})))
    assert err.code == "DTDL300" and "'baseUnit'" in err.message


def test_prefix_must_be_of_the_unit_kind() -> None:
    err = _one(_iface(_telemetry({"@type": ["DataSizeUnit", "DecimalUnit"], "baseUnit": "byte",
                                  "prefix": "kibi"}, "DataSize")))
    assert err.code == "DTDL309" and _pointer(err) == "/contents/0/unit/prefix"
    assert err.message == ("The 'prefix' of a DecimalUnit must be a DecimalPrefix, "
                           "not a BinaryPrefix.")
    ok = {"@type": ["DataSizeUnit", "BinaryUnit"], "baseUnit": "byte", "prefix": "kibi"}
    assert _errors(_iface(_telemetry(ok, "DataSize"))) == []


def test_base_unit_must_be_a_unit() -> None:
    err = _one(_iface(_telemetry({"@type": ["TemperatureUnit", "DecimalUnit"],
                                  "baseUnit": "kilo"})))
    assert err.code == "DTDL309" and _pointer(err) == "/contents/0/unit/baseUnit"
    assert "expected a Unit" in err.message
    err = _one(_iface(_telemetry({"@type": ["TemperatureUnit", "DecimalUnit"],
                                  "baseUnit": "kelvn"})))
    assert err.code == "DTDL309" and "Did you mean 'kelvin'?" in err.hint


def test_inline_prefix_properties_are_checked() -> None:
    unit = {"@type": ["TemperatureUnit", "DecimalUnit"], "baseUnit": "kelvin",
            "prefix": {"@type": "DecimalPrefix", "symbol": "q", "exponent": "big"}}
    errors = _errors(_iface(_telemetry(unit)))
    found = sorted((e.code, _pointer(e)) for e in errors)
    assert found == [("DTDL300", "/contents/0/unit/prefix"),  # a prefix has a name
                     ("DTDL305", "/contents/0/unit/prefix/exponent")]


def test_unknown_property_on_an_inline_unit() -> None:
    err = _one(_iface(_telemetry({"@type": "TemperatureUnit", "scale": 2})))
    assert err.code == "DTDL301" and _pointer(err) == "/contents/0/unit/scale"
    assert "for a Unit" in err.message


@pytest.mark.parametrize("cotype", ["TemperatureUnit", "dtmi:standard:class:TemperatureUnit;2",
                                    "DecimalUnit", "RatioUnit", "DecimalPrefix"])
def test_unit_classes_do_not_co_type_content(cotype: str) -> None:
    doc = _iface({"@type": ["Telemetry", cotype], "name": "t", "schema": "double"})
    err = _one(doc)
    assert err.code == "DTDL215" and _pointer(err) == "/contents/0/@type"
    assert err.message.endswith("cannot be applied to a Telemetry.")


def test_unit_type_does_not_co_type_a_schema() -> None:
    doc = _iface({"@type": "Property", "name": "p", "schema": {
        "@type": ["Enum", "TemperatureUnit"], "valueSchema": "string",
        "enumValues": [{"name": "a", "enumValue": "a"}]}})
    err = _one(doc)
    assert err.code == "DTDL215" and _pointer(err) == "/contents/0/schema/@type"


def test_inline_units_are_a_dtdl_v2_feature() -> None:
    qt = "dtmi:dtdl:extension:quantitativeTypes;1"
    doc = _iface(_telemetry({"@type": "TemperatureUnit"}), version=3, contexts=(qt,))
    assert [e.code for e in _errors(doc)] == ["DTDL314"]


def _referencing(unit_type: str, semantic: str = "Temperature") -> dict[str, Any]:
    """An interface whose 'reading' names, by DTMI, a unit defined in place on 'other'."""
    other = {"@type": ["Property", semantic], "name": "other", "schema": "double",
             "unit": {"@id": "dtmi:com:example:myUnit;1", "@type": unit_type}}
    return _iface(_telemetry("dtmi:com:example:myUnit;1"), other)


def test_unit_referenced_by_dtmi() -> None:
    result = parse_models([_referencing("TemperatureUnit")])
    assert result.ok, [str(e) for e in result.errors]
    assert result.registry[_ID].contents["reading"].unit == "dtmi:com:example:myUnit;1"


def test_unit_referenced_by_dtmi_of_the_wrong_unit_type() -> None:
    err = _one(_referencing("LengthUnit", "Distance"))
    assert err.code == "DTDL314" and _pointer(err) == "/contents/0/unit"
    assert err.message == ("The unit 'dtmi:com:example:myUnit;1' is a LengthUnit, but semantic "
                           "type 'Temperature' needs a TemperatureUnit.")


def test_unit_referenced_by_an_undefined_dtmi() -> None:
    result = parse_models([_iface(_telemetry("dtmi:com:example:nothing;1"))])
    assert [(e.code, _pointer(e)) for e in result.errors] == [("DTDL400", "/contents/0/unit")]
    assert "dtmi:com:example:nothing;1" in result.unresolved


@pytest.mark.parametrize("abstract", ["SemanticUnit", "SemanticType"])
def test_abstract_unit_and_semantic_classes_type_nothing(abstract: str) -> None:
    err = _one(_iface(_telemetry({"@type": ["TemperatureUnit", abstract], "symbol": "K"})))
    assert err.code == "DTDL212" and _pointer(err) == "/contents/0/unit/@type/1"
    assert err.message == (f"'{abstract}' is a DTDL v2 term, but not a class or co-type an "
                           "element can have.")
