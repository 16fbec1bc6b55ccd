"""No input makes the parser raise: bad JSON, deep nesting, huge files, cycles."""

from __future__ import annotations

import json

import pytest

from ontology import ModelSource, parse_models


def _codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.code for e in result.errors]


def test_invalid_json_reports_line_and_column() -> None:
    text = '{\n  "@context": "dtmi:dtdl:context;3",\n  "@id": oops\n}'
    result = parse_models([ModelSource(text, "broken.json")])
    (err,) = result.errors
    assert err.code == "DTDL100"
    assert err.location is not None
    assert (err.location.file, err.location.line) == ("broken.json", 3)
    assert err.location.column >= 9


@pytest.mark.parametrize("text", ["", "null", "42", '"x"', "[]", "[1, 2]", "{}", "\ufeff{}",
                                  b"\xff\xfe", '{"@context": 5}', '{"@context": []}'])
def test_garbage_gives_errors_not_exceptions(text: str | bytes) -> None:
    result = parse_models([text])
    assert result.errors
    assert not result.ok


@pytest.mark.parametrize("depth", [300, 5000])
def test_deep_nesting_in_text(depth: int) -> None:
    inner = '{"@type": "Array", "elementSchema": ' * depth + '"double"' + "}" * depth
    text = ('{"@context": "dtmi:dtdl:context;4", "@id": "dtmi:ex:Deep;1", "@type": "Interface",'
            ' "contents": [{"@type": "Property", "name": "p", "schema": ' + inner + "}]}")
    result = parse_models([text])
    assert result.errors
    assert {"DTDL102", "DTDL501"} & set(_codes(result))


def test_deep_nesting_as_python_value() -> None:
    value: object = "double"
    for _ in range(3000):
        value = {"@type": "Array", "elementSchema": value}
    doc = {"@context": "dtmi:dtdl:context;4", "@id": "dtmi:ex:Deep;1", "@type": "Interface",
           "contents": [{"@type": "Property", "name": "p", "schema": value}]}
    assert _codes(parse_models([doc])) == ["DTDL102"]


@pytest.mark.slow
def test_fifty_megabyte_file() -> None:
    contents = [{"@type": "Property", "name": f"p{i}", "schema": "string",
                 "description": "x" * 500} for i in range(90_000)]
    doc = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:ex:Big;1", "@type": "Interface",
           "contents": contents}
    text = json.dumps(doc)
    assert len(text) > 50_000_000
    result = parse_models([ModelSource(text, "big.json")])
    assert result.ok, [str(e) for e in result.errors[:3]]
    assert len(result.registry["dtmi:ex:Big;1"].contents) == 90_000


def test_extends_cycle_is_an_error() -> None:
    docs = [{"@context": "dtmi:dtdl:context;3", "@id": f"dtmi:ex:I{i};1", "@type": "Interface",
             "extends": f"dtmi:ex:I{(i + 1) % 3};1"} for i in range(3)]
    result = parse_models(docs)
    assert "DTDL402" in _codes(result)
    assert len(result.registry) == 0


def test_self_extends_is_an_error() -> None:
    doc = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:ex:Me;1", "@type": "Interface",
           "extends": "dtmi:ex:Me;1"}
    assert "DTDL402" in _codes(parse_models([doc]))


def test_unsupported_source_type() -> None:
    result = parse_models([object()])
    assert _codes(result) == ["DTDL104"]


def test_mutually_recursive_schemas_terminate() -> None:
    doc = {"@context": "dtmi:dtdl:context;4", "@id": "dtmi:ex:R;1", "@type": "Interface",
           "contents": [{"@type": "Property", "name": "a", "schema": "dtmi:ex:A;1"}],
           "schemas": [
               {"@id": "dtmi:ex:A;1", "@type": "Map", "mapKey": {"name": "k", "schema": "string"},
                "mapValue": {"name": "v", "schema": "dtmi:ex:B;1"}},
               {"@id": "dtmi:ex:B;1", "@type": "Array", "elementSchema": "dtmi:ex:A;1"}]}
    result = parse_models([doc])
    assert result.ok, [str(e) for e in result.errors]


@pytest.mark.parametrize("sources", [None, 5, [None], [{1: 2}], [{"a": object()}], [[[1]]]])
def test_non_json_python_values(sources: object) -> None:
    result = parse_models(sources)  # type: ignore[arg-type]
    assert result.errors
    assert all(e.code.startswith("DTDL1") for e in result.errors)


def test_mutated_spec_cases_never_crash() -> None:
    """A seeded sweep of damaged real models: every outcome is errors-as-data."""
    import random

    from _dtdl_shared import need_shared

    from ontology.conformance import Suite

    cases = list(Suite((need_shared("dtdl", "cases", "v3"),)).cases())
    rng = random.Random(7)
    junk: list[object] = [None, 1, -5, 2.5, True, [], {}, "x", "dtmi:a:b;1", [None],
                          {"@value": 1}, {"@id": None}, "", "double", "Interface"]

    def damage(value: object) -> object:
        if isinstance(value, dict) and value:
            out = dict(value)
            key = rng.choice(list(out))
            out[key] = damage(out[key]) if rng.random() < 0.6 else rng.choice(junk)
            return out
        if isinstance(value, list) and value:
            out_list = list(value)
            i = rng.randrange(len(out_list))
            out_list[i] = damage(out_list[i])
            return out_list
        return rng.choice(junk) if rng.random() < 0.3 else value

    for _ in range(1500):
        case = rng.choice(cases)
        result = parse_models([damage(i) for i in case.inputs])
        assert "DTDL199" not in {e.code for e in result.errors}
        for error in result.errors:
            assert error.location is None or error.location.line >= 1


@pytest.mark.slow
def test_element_limit_per_interface() -> None:
    doc = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:ex:Huge;1", "@type": "Interface",
           "contents": [{"@type": "Property", "name": f"p{i}", "schema": "double"}
                        for i in range(100_001)]}
    assert _codes(parse_models([ModelSource(json.dumps(doc), "huge.json")])) == ["DTDL502"]
