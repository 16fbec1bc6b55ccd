"""Spec cases our parser is known to get wrong, by case id, with the reason.

Each entry becomes a strict xfail in ``test_conformance.py``: when a fix makes
the case pass, the test fails until the entry is removed here.
"""

from __future__ import annotations

__all__ = ["KNOWN_FAILURES"]

KNOWN_FAILURES: dict[str, str] = {
    # "Requirement-ClassCommandPropertyDescriptionLangStringV3#7": "reason",
}
