"""``graphtwin validate`` and ``graphtwin dtdl conformance`` as a model author runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _dtdl_shared import need_shared

from server.cli import main

GOOD = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:com:example:Room;1",
        "@type": "Interface",
        "contents": [{"@type": "Property", "name": "area", "schema": "double"}]}
BAD = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:com:example:Door;1",
       "@type": "Interface",
       "contents": [{"@type": "Property", "name": "is open", "schema": "boolean"}]}

# The relationship targets the energy-grid ontology names but does not define.
ENERGYGRID_UNDEFINED = {
    "dtmi:digitaltwins:ngsi_ld:cim:energy:ACDCConverter;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:AuxiliaryEquipment;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:BoundaryPoint;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:BusNameMarker;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:CombinedCyclePlant;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:ControlAreaGeneratingUnit;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:DCConverterUnit;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:DCNode;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:DCTerminal;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:DayType;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:EquivalentInjection;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:HydroTurbineKind;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:LoadResponseCharacteristic;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:OperationalLimitSet;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:PhaseCode;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:SVCControlMode;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:Season;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:TieFlow;1",
    "dtmi:digitaltwins:ngsi_ld:cim:energy:UnitSymbol;1",
    "dtmi:digitaltwins:ngsi_ld:city:EVChargingStation;1",
}


def _write(folder: Path, name: str, doc: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def test_validate_clean_folder_exits_zero(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "room.json", GOOD)
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 file(s), 1 interface(s) loaded, 0 error(s)" in out


def test_validate_reports_file_line_column_and_hint(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path, "door.json", BAD)
    _write(tmp_path, "room.json", GOOD)
    assert main(["validate", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    first = lines[0]
    assert first.startswith(f"{bad}:")
    line_no = int(first.split(":")[1])
    assert '"name": "is open"' in bad.read_text().splitlines()[line_no - 1]
    assert "error[DTDL306]" in first
    assert lines[1].startswith("    hint: ")
    assert lines[-1] == "2 file(s), 0 interface(s) loaded, 1 error(s)"


def test_validate_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "door.json", BAD)
    assert main(["validate", "--format", "json", str(tmp_path / "door.json")]) == 1
    errors = json.loads(capsys.readouterr().out)
    assert [e["code"] for e in errors] == ["DTDL306"]
    assert errors[0]["pointer"] == "/contents/0/name"
    assert errors[0]["file"].endswith("door.json")
    assert errors[0]["line"] > 1


def test_validate_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v4 = dict(GOOD, **{"@context": ["dtmi:dtdl:context;4", "dtmi:com:example:ext;1"]})
    path = _write(tmp_path, "v4.json", v4)
    assert main(["validate", str(path)]) == 1
    assert "DTDL112" in capsys.readouterr().out
    assert main(["validate", "--allow-undefined-extensions", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", "--allow-undefined-extensions", "--max-dtdl-version", "3",
                 str(path)]) == 1
    assert "DTDL113" in capsys.readouterr().out


def test_validate_repository_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo" / "dtmi" / "com" / "example"
    repo.mkdir(parents=True)
    _write(repo, "room-1.json", GOOD)
    child = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:com:example:Office;1",
             "@type": "Interface", "extends": "dtmi:com:example:Room;1"}
    path = _write(tmp_path, "office.json", child)
    assert main(["validate", str(path)]) == 1
    assert "DTDL400" in capsys.readouterr().out
    assert main(["validate", "--repository", str(tmp_path / "repo"), str(path)]) == 0


def test_aas_ontology_validates() -> None:
    folder = need_shared("ontologies", "aas-dtdl")
    assert main(["validate", str(folder)]) == 0


def test_energygrid_reports_exactly_its_undefined_references(
        capsys: pytest.CaptureFixture[str]) -> None:
    from ontology import ParseOptions
    from ontology.cli import validate_paths

    folder = need_shared("ontologies", "energygrid")
    result, files = validate_paths([folder], ParseOptions())
    assert result.unresolved == ENERGYGRID_UNDEFINED
    assert result.ok  # dangling relationship targets are legal DTDL
    assert len(result.registry) == files
    partial, _ = validate_paths([folder], ParseOptions(allow_partial=True))
    assert partial.ok and partial.unresolved == ENERGYGRID_UNDEFINED
    # The complete part loads: no loaded interface points at an undefined one.
    assert 0 < len(partial.registry) < files
    for iface in partial.registry.values():
        for rel in iface.relationships.values():
            assert rel.target not in ENERGYGRID_UNDEFINED
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    listed = out.split("undefined references: ")[1].splitlines()[0].split(", ")
    assert set(listed) == ENERGYGRID_UNDEFINED


def test_conformance_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        {"valid": True, "options": ["DisallowUndefinedExtensions"], "input": [GOOD]},
        {"valid": False, "options": ["DisallowUndefinedExtensions"], "input": [BAD]},
        {"valid": True, "options": ["DisallowUndefinedExtensions"], "input": [BAD]},
    ]
    folder = tmp_path / "v3"
    folder.mkdir()
    _write(folder, "Requirement-ExampleV3.json", cases)
    assert main(["dtdl", "conformance", "--verbose", str(folder)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL ") and "Requirement-ExampleV3#2" in out[0]
    assert out[-2:] == ["v3: 2 passed, 1 failed", "2 passed, 1 failed"]
    _write(folder, "Requirement-ExampleV3.json", cases[:2])
    assert main(["dtdl", "conformance", str(folder)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 passed, 0 failed"


def test_validate_suggests_the_term_a_typo_meant_and_names_the_interface(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = {**GOOD, "contents": [{"@type": "Property", "name": "area", "schema": "dooble"}]}
    _write(tmp_path, "room.json", typo)
    assert main(["validate", "--format", "json", str(tmp_path)]) == 1
    [error] = json.loads(capsys.readouterr().out)
    assert error["pointer"] == "/contents/0/schema"
    assert "Did you mean 'double'?" in error["hint"]
    # The content has no @id of its own: the error names the interface it is written in.
    assert error["dtmi"] == "dtmi:com:example:Room;1"
