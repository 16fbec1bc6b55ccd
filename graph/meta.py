"""Per-property metadata as the stores keep it in memory: one string per name.

The embedded store holds it on its networkx nodes; the Neo4j store in its cache of
twins for ingestion (``graph.neo4j.store``).  Both run the same update loop over it
(``graph.updateloop``).

A twin's metadata is, per top-level name, when it was last updated and by which
source.  Held as ``PropertyMeta`` objects in a dict, every twin in memory cost the
cyclic garbage collector one tracked object per property plus the dict holding
them, and the ingestion path replaces both for every twin it updates: each batch
added thousands of new long-lived tracked objects, so every few dozen batches a
full collection rescanned every twin in memory (a tenth of the update path, and
growing with the store).  Packed as ``"<time> <source>"`` strings, the dict holds
no container, so CPython does not track it at all: updates leave the collector
nothing to rescan.  (Smaller too: one string instead of an object and a pointer.)

The same strings are what the journal writes (log rows and twin documents), so
memory, log and documents move them without converting.  Callers still see
``Twin.metadata`` as a mapping of ``PropertyMeta``: :class:`MetaView` unpacks on
access, which costs one object per twin read and one per name looked at.

A source never contains a space, so the last space splits a packed string exactly,
whatever the time holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from graph.base import PropertyMeta, Twin, WriteSource

__all__ = ["MetaView", "pack", "packed_meta", "packed_twin", "time_of", "unpack"]


def pack(time: str, source: str) -> str:
    return f"{time} {source}"


def time_of(packed: str) -> str:
    return packed.rpartition(" ")[0]


def unpack(packed: str) -> PropertyMeta:
    time, _, source = packed.rpartition(" ")
    return PropertyMeta(time, cast(WriteSource, source))


def packed_meta(metadata: Mapping[str, Any]) -> dict[str, str]:
    """``metadata`` (``PropertyMeta`` values, or a view) as packed strings; a view's own
    dict is returned as is: stored dicts are replaced, never mutated."""
    if type(metadata) is MetaView:
        return metadata.packed
    packed: dict[str, str] = {}
    for name, m in metadata.items():
        time, source = m.last_update_time, m.source
        # A write stamps all its names, and a batch all its twins, with one time and
        # source: one string for all of them, not one per name (memory).
        cached = _last
        if cached[0] != time or cached[1] != source:
            cached = _remember(time, source)
        packed[name] = cached[2]
    return packed


def packed_twin(twin: Twin) -> Twin:
    """``twin`` with its metadata packed (itself if it is already): packed once per write,
    for both the journal and memory."""
    if type(twin.metadata) is MetaView:
        return twin
    view = MetaView(packed_meta(twin.metadata))
    return Twin(twin.id, twin.model, twin.properties, twin.etag, view)


_last: tuple[str, str, str] = ("", "", "")


def _remember(time: str, source: str) -> tuple[str, str, str]:
    global _last
    _last = (time, source, pack(time, source))
    return _last


class MetaView(Mapping[str, PropertyMeta]):
    """A packed metadata dict seen as name -> ``PropertyMeta`` (read-only)."""

    __slots__ = ("packed",)

    def __init__(self, packed: dict[str, str]) -> None:
        self.packed = packed

    def __getitem__(self, name: str) -> PropertyMeta:
        return unpack(self.packed[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self.packed)

    def __len__(self) -> int:
        return len(self.packed)

    def __contains__(self, name: object) -> bool:
        return name in self.packed

    def __repr__(self) -> str:
        return repr(dict(self.items()))
