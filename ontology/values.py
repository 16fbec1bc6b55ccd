"""Checking JSON values against DTDL primitive schemas (v2-v4), geospatial shapes included.

Each checker takes a decoded JSON value and returns a tuple of :data:`Problem`
(``(relative JSON pointer, code, message)``), empty when the value is valid.
The empty result is one shared tuple, so a valid value costs no allocation:
this runs for every telemetry value MQTT ingestion receives.

Messages say what was expected and what came, e.g.
``expected a double, got the string "hot"``; the caller adds where.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Final

__all__ = [
    "CHECKERS",
    "OK",
    "Checker",
    "Codes",
    "Problem",
    "Problems",
    "check_primitive",
    "describe",
    "escape_pointer",
    "is_date",
    "is_datetime",
    "is_duration",
    "is_time",
    "primitive_term",
]

Problem = tuple[str, str, str]  # (relative JSON pointer, code, message)
Problems = tuple[Problem, ...]
Checker = Callable[[Any], Problems]

OK: Final[Problems] = ()


class Codes:
    """Stable codes of instance problems; tools match on these, never on text."""

    WRONG_TYPE = "WRONG_TYPE"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    BAD_FORMAT = "BAD_FORMAT"
    NOT_IN_ENUM = "NOT_IN_ENUM"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    MISSING_FIELD = "MISSING_FIELD"
    BAD_MAP_KEY = "BAD_MAP_KEY"
    UNKNOWN_NAME = "UNKNOWN_NAME"
    NOT_A_VALUE = "NOT_A_VALUE"  # a relationship or command name used as a value
    READ_ONLY = "READ_ONLY"
    TELEMETRY_NOT_ALLOWED = "TELEMETRY_NOT_ALLOWED"
    UNKNOWN_MODEL = "UNKNOWN_MODEL"
    UNKNOWN_RELATIONSHIP = "UNKNOWN_RELATIONSHIP"
    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    MISSING_PAYLOAD = "MISSING_PAYLOAD"
    UNEXPECTED_PAYLOAD = "UNEXPECTED_PAYLOAD"
    TOO_DEEP = "TOO_DEEP"
    UNSUPPORTED_SCHEMA = "UNSUPPORTED_SCHEMA"
    UNRESOLVED_SCHEMA = "UNRESOLVED_SCHEMA"


def describe(value: Any) -> str:
    """A value as a message names it: ``the string "hot"``, ``the number 3.5``, ``null``."""
    if value is None:
        return "null"
    if value is True or value is False:
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return 'the string "' + shown.replace('"', '\\"') + '"'
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} item{'' if len(value) == 1 else 's'}"
    return f"a {type(value).__name__}"


def _wrong(expected: str, value: Any) -> Problems:
    return (("", Codes.WRONG_TYPE, f"expected {expected}, got {describe(value)}"),)


def _bad_format(expected: str, value: Any) -> Problems:
    return (("", Codes.BAD_FORMAT, f"expected {expected}, got {describe(value)}"),)


# ------------------------------------------------------------------ numbers


def _integer_checker(term: str, article: str, low: int, high: int, wider: str | None) -> Checker:
    expected = f"{article} {term}"
    hint = f"; the schema {wider} holds larger values" if wider else ""
    range_msg = f"expected {expected} from {low} to {high}, got "

    def check(value: Any) -> Problems:
        # type() rather than isinstance(): bool is an int in Python but not in JSON.
        # A float is refused even when integral (3.0), as the reference parser does:
        # it would reach the store and the GraphQL Int type as a float.
        if type(value) is not int:
            return _wrong(expected, value)
        if low <= value <= high:
            return OK
        return (("", Codes.OUT_OF_RANGE, f"{range_msg}{value}{hint}"),)

    return check


def _real_checker(term: str, limit: float) -> Checker:
    expected = f"a {term}"

    def check(value: Any) -> Problems:
        kind = type(value)
        if kind is float:
            if not math.isfinite(value):
                return (("", Codes.OUT_OF_RANGE, f"expected a finite {term}, got {value!r}"),)
        elif kind is not int:
            return _wrong(expected, value)
        if -limit <= value <= limit:
            return OK
        return (("", Codes.OUT_OF_RANGE, f"expected a {term} within ±{limit:.7g}, got {value!r}"),)

    return check


def _check_boolean(value: Any) -> Problems:
    return OK if value is True or value is False else _wrong("a boolean (true or false)", value)


def _check_string(value: Any) -> Problems:
    return OK if type(value) is str else _wrong("a string", value)


# ------------------------------------------------------------------ strings with a format

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# The formats follow the reference DTDL parser's instance rules, so that a value
# GraphTwin accepts is one Azure Digital Twins accepts too: RFC 3339 times carry
# an offset, "T" and "Z" are upper case, a fraction only on a duration's last part.
_TIME = r"([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(?:\.\d+)?"
_OFFSET = r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"
_TIME_RE = re.compile(_TIME + _OFFSET)
_DATETIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})T" + _TIME + _OFFSET)


def _part(designator: str) -> str:
    # A fraction is allowed only when this part ends the duration.
    return rf"(?:\d+(?:\.\d+(?={designator}$))?{designator})?"


_DURATION_RE = re.compile(
    rf"P(?!$)(?:{_part('Y')}{_part('M')}|{_part('W')}){_part('D')}"
    rf"(?:T(?!$){_part('H')}{_part('M')}(?:\d+(?:\.\d+)?S)?)?"
)
_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_DECIMAL_RE = re.compile(r"[+-]?(?:[1-9]\d*|0)(?:\.\d*)?")


def is_date(text: str) -> bool:
    """RFC 3339 full-date (``2026-11-21``), a real calendar day."""
    match = _DATE.fullmatch(text)
    if match is None:
        return False
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def is_time(text: str) -> bool:
    """RFC 3339 full-time: the offset is required (``13:45:00Z``, ``13:45:00.5+01:00``)."""
    return _TIME_RE.fullmatch(text) is not None


def is_datetime(text: str) -> bool:
    """RFC 3339 date-time; the offset is required (``2026-11-21T21:00:00Z``)."""
    match = _DATETIME_RE.fullmatch(text)
    return match is not None and is_date(match[1])


def is_duration(text: str) -> bool:
    """ISO 8601 duration (``PT1S``, ``P1DT12H``, ``P2W``, ``PT0.5S``); at least one part."""
    return _DURATION_RE.fullmatch(text) is not None


def _format_checker(expected: str, test: Callable[[str], bool]) -> Checker:
    def check(value: Any) -> Problems:
        if type(value) is not str:
            return _wrong(expected, value)
        return OK if test(value) else _bad_format(expected, value)

    return check


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_decimal(value: Any) -> Problems:
    expected = 'a decimal as a string of digits (e.g. "12.50")'
    if type(value) is str:
        return OK if _DECIMAL_RE.fullmatch(value) else _bad_format(expected, value)
    if type(value) in (int, float):
        return (
            (
                "",
                Codes.WRONG_TYPE,
                f"expected {expected}, got {describe(value)}; decimals are JSON strings "
                "so that no digit is lost",
            ),
        )
    return _wrong(expected, value)


# ------------------------------------------------------------------ objects: scaledDecimal, GeoJSON


def _check_fields(value: Mapping[str, Any], checkers: dict[str, Checker], what: str) -> Problems:
    """Check an object's fields; every field of ``checkers`` is required, no other allowed."""
    problems: list[Problem] = []
    for name in checkers:
        if name not in value:
            problems.append(("", Codes.MISSING_FIELD, f'{what} needs a "{name}" field'))
    for name, item in value.items():
        checker = checkers.get(name)
        if checker is None:
            if name == "bbox" and what.startswith("a GeoJSON"):
                continue  # GeoJSON's optional bounding box
            allowed = ", ".join(f'"{n}"' for n in checkers)
            problems.append(
                (
                    "/" + escape_pointer(name),
                    Codes.UNKNOWN_FIELD,
                    f"{what} has only the fields {allowed}",
                )
            )
            continue
        for sub, code, message in checker(item):
            problems.append(("/" + escape_pointer(name) + sub, code, message))
    return tuple(problems)


def _check_scaled_decimal(value: Any) -> Problems:
    what = 'a scaledDecimal ({"scale": <short>, "value": "<decimal>"})'
    if type(value) is not dict and not isinstance(value, Mapping):
        return _wrong(what, value)
    return _check_fields(value, _SCALED_DECIMAL_FIELDS, "a scaledDecimal")


def _check_position(value: Any) -> Problems:
    expected = "a GeoJSON position [longitude, latitude] or [longitude, latitude, altitude]"
    if type(value) not in (list, tuple) or not 2 <= len(value) <= 3:
        return _wrong(expected, value)
    for index, number in enumerate(value):
        if type(number) not in (int, float) or not math.isfinite(number):
            return ((f"/{index}", Codes.WRONG_TYPE, f"expected a number, got {describe(number)}"),)
    if not -180.0 <= value[0] <= 180.0:
        return (("/0", Codes.OUT_OF_RANGE, f"longitude must be within ±180, got {value[0]!r}"),)
    if not -90.0 <= value[1] <= 90.0:
        return (("/1", Codes.OUT_OF_RANGE, f"latitude must be within ±90, got {value[1]!r}"),)
    return OK


def _array_of(item: Checker, minimum: int, expected: str) -> Checker:
    def check(value: Any) -> Problems:
        if type(value) not in (list, tuple) or len(value) < minimum:
            return _wrong(expected, value)
        problems: list[Problem] = []
        for index, element in enumerate(value):
            for sub, code, message in item(element):
                problems.append((f"/{index}{sub}", code, message))
        return tuple(problems)

    return check


def _check_ring(value: Any) -> Problems:
    problems = _check_line(value)
    if not problems and type(value) is list and len(value) < 4:
        problems = _wrong("a linear ring of at least 4 positions", value)
    if not problems and value[0] != value[-1]:
        problems = (("", Codes.BAD_FORMAT, "a linear ring must end at its first position"),)
    return problems


_check_line = _array_of(_check_position, 2, "an array of at least 2 positions")
_check_polygon = _array_of(_check_ring, 1, "an array of linear rings")


def _geojson_checker(geometry: str, coordinates: Checker) -> Checker:
    fields = {"type": _type_is(geometry), "coordinates": coordinates}
    what = f"a GeoJSON {geometry}"
    expected = f'{what} ({{"type": "{geometry}", "coordinates": [...]}})'

    def check(value: Any) -> Problems:
        if type(value) is not dict and not isinstance(value, Mapping):
            return _wrong(expected, value)
        return _check_fields(value, fields, what)

    return check


def _type_is(geometry: str) -> Checker:
    def check(value: Any) -> Problems:
        return OK if value == geometry else _wrong(f'"{geometry}"', value)

    return check


def escape_pointer(key: object) -> str:
    """A key as a JSON pointer reference token (RFC 6901)."""
    if type(key) is not str:
        key = str(key)  # JSON keys are strings, but other decoders may give ints or bytes
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


# ------------------------------------------------------------------ the table

_INT32 = 2**31
_INT64 = 2**63
CHECKERS: dict[str, Checker] = {
    "boolean": _check_boolean,
    "string": _check_string,
    "byte": _integer_checker("byte", "a", -128, 127, "short"),
    "short": _integer_checker("short", "a", -(2**15), 2**15 - 1, "integer"),
    "integer": _integer_checker("integer", "an", -_INT32, _INT32 - 1, "long"),
    "long": _integer_checker("long", "a", -_INT64, _INT64 - 1, "decimal"),
    "unsignedByte": _integer_checker("unsignedByte", "an", 0, 255, "unsignedShort"),
    "unsignedShort": _integer_checker("unsignedShort", "an", 0, 2**16 - 1, "unsignedInteger"),
    "unsignedInteger": _integer_checker("unsignedInteger", "an", 0, 2**32 - 1, "unsignedLong"),
    "unsignedLong": _integer_checker("unsignedLong", "an", 0, 2**64 - 1, "decimal"),
    "float": _real_checker("float", 3.4028234663852886e38),
    "double": _real_checker("double", 1.7976931348623157e308),
    "decimal": _check_decimal,
    "date": _format_checker('a date as "YYYY-MM-DD" (RFC 3339)', is_date),
    "time": _format_checker(
        'a time with offset as "hh:mm:ssZ" or "hh:mm:ss+01:00" (RFC 3339)', is_time
    ),
    "dateTime": _format_checker(
        'a date-time with offset as "YYYY-MM-DDThh:mm:ssZ" (RFC 3339)', is_datetime
    ),
    "duration": _format_checker('an ISO 8601 duration such as "PT15M" or "P1DT2H"', is_duration),
    "uuid": _format_checker(
        'a UUID such as "123e4567-e89b-12d3-a456-426614174000"',
        lambda text: _UUID_RE.fullmatch(text) is not None,
    ),
    "bytes": _format_checker("base64-encoded bytes", _is_base64),
    "scaledDecimal": _check_scaled_decimal,
    "point": _geojson_checker("Point", _check_position),
    "multiPoint": _geojson_checker(
        "MultiPoint", _array_of(_check_position, 0, "an array of positions")
    ),
    "lineString": _geojson_checker("LineString", _check_line),
    "multiLineString": _geojson_checker(
        "MultiLineString", _array_of(_check_line, 0, "an array of line strings")
    ),
    "polygon": _geojson_checker("Polygon", _check_polygon),
    "multiPolygon": _geojson_checker(
        "MultiPolygon", _array_of(_check_polygon, 0, "an array of polygons")
    ),
}
_SCALED_DECIMAL_FIELDS: dict[str, Checker] = {"scale": CHECKERS["short"], "value": _check_decimal}


def primitive_term(name: str) -> str:
    """The DTDL term of a primitive schema given as term or IRI.

    ``dtmi:dtdl:instance:Schema:double;2`` and
    ``dtmi:standard:schema:geospatial:point;4`` become ``double`` and ``point``.
    """
    if ":" in name:
        return name.rsplit(":", 1)[1].split(";", 1)[0]
    return name


def check_primitive(name: str, value: Any) -> Problems:
    """Check ``value`` against the primitive schema ``name`` (term or IRI)."""
    checker = CHECKERS.get(primitive_term(name))
    if checker is None:
        raise KeyError(f"{name!r} is not a DTDL primitive schema")
    return checker(value)
