"""Every DTDL spec case under ``shared/dtdl/cases`` as its own test.

Ids read like ``Requirement-ClassCommandPropertyDescriptionLangStringV3#7``; cases
listed in ``known_failures.py`` are strict xfails, so fixing one is noticed.
"""

from __future__ import annotations

import pytest
from _dtdl_shared import SHARED
from dtdl_known_failures import KNOWN_FAILURES

from ontology.conformance import Case, Suite

_CASES_DIR = SHARED / "dtdl" / "cases"


def _params() -> list[object]:
    if not _CASES_DIR.is_dir():
        return [pytest.param(None, id="no-shared-cases", marks=pytest.mark.skip(
            reason=f"DTDL spec cases not found at {_CASES_DIR} (set GRAPHTWIN_SHARED)"))]
    params = []
    for case in Suite((_CASES_DIR,)).cases():
        marks = []
        if case.id in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[case.id], strict=True))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_spec_case(case: Case) -> None:
    outcome = case.run()
    assert outcome.passed, f"{case.file}#{case.index}: {outcome.detail}"


def test_known_failures_name_real_cases() -> None:
    if not _CASES_DIR.is_dir():
        pytest.skip(f"DTDL spec cases not found at {_CASES_DIR}")
    ids = {case.id for case in Suite((_CASES_DIR,)).cases()}
    assert set(KNOWN_FAILURES) <= ids
