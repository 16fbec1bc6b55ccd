"""Parser errors as data: a stable code, our own message, a hint, and where it happened.

Codes are grouped by family (``DTDL1xx`` document/JSON, ``DTDL2xx`` identifiers and
types, ``DTDL3xx`` properties and values, ``DTDL4xx`` references and inheritance,
``DTDL5xx`` limits).  They are stable: tools and tests match on them, never on text.
"""

from __future__ import annotations

from dataclasses import dataclass

from ontology.model import SourceLocation

__all__ = ["DEFAULT_HINTS", "Codes", "DtdlError", "DtdlParseError"]


class Codes:
    """The stable error codes.  Add new ones; never renumber."""

    INVALID_JSON = "DTDL100"
    NOT_AN_OBJECT = "DTDL101"
    TOO_DEEP = "DTDL102"
    DOCUMENT_TOO_LARGE = "DTDL103"
    BAD_INPUT = "DTDL104"
    INTERNAL = "DTDL199"
    MISSING_CONTEXT = "DTDL110"
    BAD_CONTEXT = "DTDL111"
    UNDEFINED_CONTEXT = "DTDL112"
    VERSION_NOT_ALLOWED = "DTDL113"
    LIMIT_NOT_ACCEPTED = "DTDL114"

    MISSING_ID = "DTDL200"
    BAD_ID = "DTDL201"
    DUPLICATE_ID = "DTDL202"
    RESERVED_ID = "DTDL203"
    ID_TOO_LONG = "DTDL204"
    MISSING_TYPE = "DTDL210"
    BAD_TYPE = "DTDL211"
    UNDEFINED_TYPE = "DTDL212"
    WRONG_CLASS = "DTDL213"
    AMBIGUOUS_TYPE = "DTDL214"
    COTYPE_NOT_ALLOWED = "DTDL215"
    NOT_ROOTABLE = "DTDL216"

    MISSING_PROPERTY = "DTDL300"
    UNDEFINED_PROPERTY = "DTDL301"
    PROPERTY_NOT_ALLOWED = "DTDL302"
    TOO_MANY_VALUES = "DTDL303"
    TOO_FEW_VALUES = "DTDL304"
    BAD_VALUE_TYPE = "DTDL305"
    BAD_STRING = "DTDL306"
    STRING_TOO_LONG = "DTDL307"
    VALUE_OUT_OF_RANGE = "DTDL308"
    BAD_TERM = "DTDL309"
    DUPLICATE_NAME = "DTDL310"
    DUPLICATE_VALUE = "DTDL311"
    BAD_LANGUAGE = "DTDL312"
    BAD_ENUM_VALUE = "DTDL313"
    BAD_UNIT = "DTDL314"
    KEYWORD_NOT_ALLOWED = "DTDL315"
    SIBLING_MISSING = "DTDL316"
    BAD_OVERRIDE = "DTDL317"  # 'overrides' names no extension property of the annotated element
    OVERRIDE_SCHEMA = "DTDL318"  # an Override's schema does not match the overridden property

    UNRESOLVED = "DTDL400"
    WRONG_REFERENCE_CLASS = "DTDL401"
    EXTENDS_CYCLE = "DTDL402"
    EXCLUDED_TYPE = "DTDL403"
    DUPLICATE_INHERITED = "DTDL404"
    SELF_REFERENCE = "DTDL405"

    TOO_DEEP_EXTENDS = "DTDL500"
    TOO_DEEP_SCHEMA = "DTDL501"
    TOO_MANY_ELEMENTS = "DTDL502"


# What to do, for problems whose rule has nothing more specific to say.
DEFAULT_HINTS: dict[str, str] = {
    Codes.BAD_VALUE_TYPE: "Give a value of the type the property takes (see the DTDL spec).",
    Codes.BAD_STRING: "Change the value to the form the property requires.",
    Codes.VALUE_OUT_OF_RANGE: "Use a value inside the allowed range.",
    Codes.BAD_TYPE: "List the element's DTDL class (and any co-types) in @type.",
    Codes.BAD_TERM: "Use one of the allowed terms, or a DTMI of an element defined elsewhere.",
    Codes.BAD_LANGUAGE: "Use a language tag such as en, en-US or de.",
    Codes.DUPLICATE_VALUE: "Make the values unique.",
    Codes.TOO_MANY_VALUES: "Remove the extra values.",
    Codes.TOO_FEW_VALUES: "Add the missing values.",
}


@dataclass(frozen=True, slots=True)
class DtdlError:
    """One problem found in the submitted models."""

    code: str
    message: str
    hint: str = ""
    location: SourceLocation | None = None
    dtmi: str | None = None
    related: tuple[SourceLocation, ...] = ()

    def __str__(self) -> str:
        where = str(self.location) if self.location else "<input>"
        return f"{where}: error[{self.code}]: {self.message}"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (for ``graphtwin validate --format json`` and the API)."""
        loc = self.location
        return {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "pointer": loc.pointer if loc else None,
            "dtmi": self.dtmi,
            "related": [
                {"file": r.file, "line": r.line, "column": r.column, "pointer": r.pointer}
                for r in self.related
            ],
        }


class DtdlParseError(Exception):
    """Raised only by convenience entry points that cannot return errors as data."""

    def __init__(self, errors: list[DtdlError]) -> None:
        self.errors = errors
        first = str(errors[0]) if errors else "DTDL parse failed"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)
