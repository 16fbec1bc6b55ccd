"""Our semantic-type and unit tables say what the DTDL specifications' own tables say."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from _dtdl_shared import need_shared

from ontology.quantities import SEMANTIC_TYPES, UNITS

# Which specification document holds the table of each context.
SPEC_TABLES = {
    "dtmi:dtdl:context;2": "v2/DTDL.v2.md",
    "dtmi:dtdl:extension:quantitativeTypes;1": "v3/DTDL.quantitativeTypes.v1.md",
    "dtmi:dtdl:extension:quantitativeTypes;2": "v4/DTDL.quantitativeTypes.v2.md",
}
# A table row: | `SemanticType` | `UnitType` | `unit` <br> `unit` ... |
ROW = re.compile(r"^\|\s*`(\w+)`\s*\|\s*`(\w+Unit|Unitless)`\s*\|(.*)\|\s*$")


def _spec_tables(path: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    semantic: dict[str, str] = {}
    units: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        match = ROW.match(line)
        if match:
            sem, unit_type, cell = match.groups()
            semantic[sem] = unit_type
            units.setdefault(unit_type, set()).update(re.findall(r"`(\w+)`", cell))
    return semantic, units


@pytest.mark.parametrize("context", sorted(SPEC_TABLES))
def test_tables_match_the_specification(context: str) -> None:
    docs = need_shared() / "dtdl" / "docs"
    semantic, units = _spec_tables(docs / SPEC_TABLES[context])
    assert semantic, f"no semantic-type table found in {SPEC_TABLES[context]}"
    assert SEMANTIC_TYPES[context] == semantic
    assert {t: set(u) for t, u in UNITS[context].items()} == units


def test_each_version_only_adds_to_the_one_before() -> None:
    contexts = list(UNITS)
    for older, newer in itertools.pairwise(contexts):
        assert SEMANTIC_TYPES[older].items() <= SEMANTIC_TYPES[newer].items()
        for unit_type, terms in UNITS[older].items():
            assert set(terms) <= set(UNITS[newer][unit_type]), (newer, unit_type)
