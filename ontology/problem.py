"""A rule's finding before it has a location: code, message, hint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Problem", "json_kind"]


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    hint: str = ""
    pointer: str = ""  # overrides the caller's pointer when set


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"

