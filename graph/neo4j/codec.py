"""Twins and relationships to Neo4j property maps and back (layout: ``graph.layout``).

Neo4j holds booleans, integers, floats, strings and homogeneous lists of one of
those; everything else (objects, maps, components, mixed or nested lists) is
stored as JSON text under its own name, and the names so stored are listed in
``$json`` so reading restores them exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from graph.base import Relationship, Twin
from graph.layout import N_ETAG, N_ID, N_JSON, N_METADATA, N_MODEL, R_ETAG, R_ID
from graph.meta import MetaView, pack, packed_meta

__all__ = [
    "changed_props",
    "decode_props",
    "encode_props",
    "json_names",
    "metadata_from_json",
    "metadata_json",
    "native",
    "packed_metadata_json",
    "packed_metadata_jsons",
    "rel_from_row",
    "rel_to_map",
    "twin_from_map",
    "twin_to_map",
]

_INT64 = (-(2**63), 2**63 - 1)
_SCALARS = (float, str, bool)  # held natively, whatever the value


def native(value: Any) -> bool:
    """Whether Neo4j holds ``value`` as it is (else it is stored as JSON text)."""
    kind = type(value)
    if kind is float or kind is str or kind is bool:  # telemetry's common case first
        return True
    if kind is int:
        return _INT64[0] <= value <= _INT64[1]
    if kind is list and value:
        first = type(value[0])
        return first in (bool, int, float, str) and all(
            type(v) is first and native(v) for v in value
        )
    return False


def json_names(props: Mapping[str, Any]) -> list[str]:
    """The names ``encode_props`` stores as JSON text (the ``$json`` list)."""
    return [k for k, v in props.items() if v is not None and not native(v)]


def encode_props(props: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    as_json = []
    for name, value in props.items():
        if type(value) in _SCALARS or native(value):  # the common kinds first, inline
            out[name] = value
        elif value is None:
            continue  # Neo4j has no null property: absent means unset
        else:
            out[name] = orjson.dumps(value).decode()
            as_json.append(name)
    out[N_JSON] = as_json
    return out


def decode_props(stored: Mapping[str, Any]) -> dict[str, Any]:
    as_json = set(stored.get(N_JSON) or ())
    return {
        k: (orjson.loads(v) if k in as_json else v)
        for k, v in stored.items()
        if not k.startswith("$")
    }


def metadata_json(t: Twin) -> str:
    """``$metadata``: ``{"name": "<lastUpdateTime> <source>", ...}``, the packed strings
    of ``graph.meta`` (what the stores keep in memory, so the ingestion path writes them
    as they are: one orjson call, no per-entry conversion)."""
    return packed_metadata_json(packed_meta(t.metadata))


def packed_metadata_json(packed: Mapping[str, str]) -> str:
    """``$metadata`` from packed metadata (``graph.meta``)."""
    return orjson.dumps(packed).decode()


def packed_metadata_jsons(packed: Iterable[Mapping[str, str]]) -> list[str]:
    """:func:`packed_metadata_json` of each, without a Python call per document (an
    ingestion batch makes one per update)."""
    dumps = orjson.dumps
    return [dumps(p).decode() for p in packed]


def metadata_from_json(text: str | None) -> MetaView:
    """``$metadata`` as written by :func:`metadata_json`, or as written before it
    (``{"name": [lastUpdateTime, source]}``), as packed metadata."""
    stored = orjson.loads(text or "{}")
    return MetaView({k: v if type(v) is str else pack(v[0], v[1]) for k, v in stored.items()})


def twin_to_map(t: Twin) -> dict[str, Any]:
    m = encode_props(t.properties)
    m[N_ID], m[N_MODEL], m[N_ETAG], m[N_METADATA] = t.id, t.model, t.etag, metadata_json(t)
    return m


def changed_props(
    props: Mapping[str, Any], names: Iterable[str], was: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The properties ``names`` of ``props`` as ``encode_props`` stores them, for
    ``SET n +=``; with ``$json`` (the whole list) only if it may have changed, i.e. unless
    ``was`` (the properties as stored before) is known and neither it nor ``props`` stores
    any of ``names`` as JSON: that spares a scan of every property of every updated
    twin.  A name set to None is left as stored, like ``encode_props`` does."""
    out: dict[str, Any] = {}
    keep_json = was is not None
    if was is None:
        was = {}
    for name in names:
        value = props[name]
        # The common kinds tested inline: this runs once per update.
        if type(value) in _SCALARS or native(value):
            out[name] = value
            if keep_json:
                before = was.get(name)
                keep_json = before is None or type(before) in _SCALARS or native(before)
        elif value is None:
            keep_json = False
        else:
            out[name] = orjson.dumps(value).decode()
            keep_json = False
    if not keep_json:
        out[N_JSON] = json_names(props)
    return out


def twin_from_map(stored: Mapping[str, Any]) -> Twin:
    meta = metadata_from_json(stored.get(N_METADATA))
    return Twin(stored[N_ID], stored[N_MODEL], decode_props(stored), stored[N_ETAG], meta)


def rel_to_map(r: Relationship) -> dict[str, Any]:
    m = encode_props(r.properties)
    m[R_ID], m[R_ETAG] = r.id, r.etag
    return m


def rel_from_row(source: str, target: str, name: str, stored: Mapping[str, Any]) -> Relationship:
    return Relationship(stored[R_ID], source, target, name, decode_props(stored), stored[R_ETAG])
