"""Payload decoding: MQTT bytes -> timestamped readings for one twin, or a reason to refuse.

Only the payload's shape is checked here (JSON, object or array of objects,
timestamp, size).  Whether the names and values fit the twin's DTDL model is
decided once, by the store, in ``apply_property_updates`` (it holds the
twin's current model under its own lock); see docs/ingestion.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from server.config import PayloadConfig
from server.ingest.topics import Route

__all__ = ["DecodeError", "Reading", "decode_payload", "format_timestamp", "parse_timestamp"]


class DecodeError(Exception):
    """A payload refused before it reaches the store; ``reason`` is a stable metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class Reading:
    """Values for one twin at one instant (one JSON object of a message)."""

    twin_id: str
    values: dict[str, Any]
    timestamp: str  # RFC 3339 UTC with microseconds: sorts as text
    epoch: float  # the same instant, for lag measurement


_second_cache: tuple[int, str] = (-1, "")


def format_timestamp(epoch: float) -> str:
    """Fixed-width RFC 3339 UTC with microseconds (the store's form: compares as text)."""
    global _second_cache
    micros = round(epoch * 1_000_000)
    second, fraction = divmod(micros, 1_000_000)
    cached_second, prefix = _second_cache
    if second != cached_second:  # readings of one batch mostly share their second
        # isoformat, not strftime: strftime's %Y does not pad years before 1000.
        prefix = datetime.fromtimestamp(second, UTC).replace(tzinfo=None).isoformat()
        _second_cache = (second, prefix)
    return f"{prefix}.{fraction:06d}Z"


def parse_timestamp(value: Any) -> float:
    """An RFC 3339 string, or a number of seconds (or milliseconds) since the epoch."""
    kind = type(value)
    if kind is bool:
        raise ValueError("a boolean is not a timestamp")
    if kind is float or kind is int or isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{value!r} is not a time")
        # Numbers past year 5138 in seconds are taken as milliseconds (JavaScript's Date.now()).
        return value / 1000.0 if value > 1e11 else float(value)
    if isinstance(value, str):
        dt = datetime.fromisoformat(value)
        if dt.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone (use Z or +00:00)")
        if dt.timestamp() < 0:
            raise ValueError(f"{value!r} is before 1970")
        return dt.timestamp()
    raise ValueError(f"{type(value).__name__} is not a timestamp")


def decode_payload(
    payload: bytes, route: Route, cfg: PayloadConfig, received: float
) -> list[Reading]:
    """Readings in payload order; raises ``DecodeError`` for a payload that cannot be used."""
    if len(payload) > cfg.max_bytes:
        raise DecodeError(
            "oversized", f"{len(payload)} bytes, more than the limit of {cfg.max_bytes}"
        )
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("unparseable", f"not JSON: {exc}") from None
    if route.property is None and type(doc) is dict:  # one object of values: most messages
        return [_object_reading(doc, route.twin_id, cfg.timestamp_fields, received, None)]
    items = doc if isinstance(doc, list) and route.property is None else [doc]
    if not items:
        raise DecodeError("empty", "an empty array of readings")
    return [
        _reading(item, route, cfg, received, i if len(items) > 1 else None)
        for i, item in enumerate(items)
    ]


def _reading(
    item: Any, route: Route, cfg: PayloadConfig, received: float, index: int | None
) -> Reading:
    if route.property is None:
        if not isinstance(item, dict):
            raise DecodeError(
                "not_object",
                f"{_where(index)}expected a JSON object of names to values, got {_kind(item)}",
            )
        return _object_reading(item, route.twin_id, cfg.timestamp_fields, received, index)
    stamp: Any = None
    if route.value_field is not None:
        if not isinstance(item, Mapping) or route.value_field not in item:
            raise DecodeError(
                "not_object", f"{_where(index)}expected an object with {route.value_field!r}"
            )
        stamp = _find_timestamp(item, cfg)
        values = {route.property: item[route.value_field]}
    else:
        values = {route.property: item}
    return _stamped(route.twin_id, values, stamp, received, index)


def _object_reading(
    item: dict[str, Any],
    twin_id: str,
    fields: tuple[str, ...],
    received: float,
    index: int | None,
) -> Reading:
    """An object of names to values, the first of ``fields`` found being its timestamp."""
    stamp: Any = None
    values = item
    for name in fields:  # one plain loop: this runs for every message
        if name in item:
            stamp = item[name]
            values = {k: v for k, v in item.items() if k not in fields}
            break
    if not values:
        raise DecodeError("empty", f"{_where(index)}no values besides the timestamp")
    return _stamped(twin_id, values, stamp, received, index)


def _stamped(
    twin_id: str, values: dict[str, Any], stamp: Any, received: float, index: int | None
) -> Reading:
    if stamp is None:
        return Reading(twin_id, values, format_timestamp(received), received)
    try:
        epoch = parse_timestamp(stamp)
        return Reading(twin_id, values, format_timestamp(epoch), epoch)
    except (ValueError, OverflowError, OSError) as exc:  # OverflowError: year past 9999
        raise DecodeError("bad_timestamp", f"{_where(index)}{exc}") from None


def _where(index: int | None) -> str:
    """Where in an array of readings a problem is (nothing for a single reading)."""
    return "" if index is None else f"reading [{index}]: "


def _find_timestamp(item: Mapping[str, Any], cfg: PayloadConfig) -> Any:
    for name in cfg.timestamp_fields:
        if name in item:
            return item[name]
    return None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )
