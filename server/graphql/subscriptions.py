"""Live change events for GraphQL subscriptions, fed from ``store.subscribe``.

The store calls back on its committing thread, and asks callbacks to be quick:
the callback here only applies the cheap filters (kind, twin id, model,
property) and hands the event to the subscriber's asyncio queue.  The subtree
filter needs a traversal, so it runs on the subscriber's side, off the store's
thread (in a worker thread for a database store), and the subtree is
recomputed whenever a relationship changed since it was last computed.

A slow subscriber that lets ``max_queue`` events pile up is sent an overflow
marker (None) and disconnected rather than slowing the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from graph.base import ChangeEvent, TwinGraph
from graph.errors import NotFoundError
from queries import Descendants, QueryEngine

__all__ = ["EventFilter", "stream_events"]

_OVERFLOW = object()
_STALE = object()  # containment may have changed: recompute the subtree


@dataclass(frozen=True, slots=True)
class EventFilter:
    twin_id: str | None = None
    model: str | None = None  # the twin's model or a descendant of it
    subtree: str | None = None  # a twin id: events of twins inside its containment subtree
    property: str | None = None  # only updates touching this top-level property
    kinds: frozenset[str] | None = None


def _twin_of(ev: ChangeEvent) -> str | None:
    return ev.id if ev.kind.startswith("twin.") else ev.source_twin


def cheap_match(store: TwinGraph, f: EventFilter, ev: ChangeEvent) -> bool:
    """Every filter except the subtree; safe to run on the store's thread."""
    if f.kinds is not None and ev.kind not in f.kinds:
        return False
    if ev.kind.startswith("model."):
        return f.kinds is not None  # model events only when asked for by kind
    if f.twin_id is not None and f.twin_id not in (_twin_of(ev), ev.target_twin):
        return False
    if f.model is not None and not (
        ev.kind.startswith("twin.") and ev.model is not None
        and store.registry.is_of_model(ev.model, f.model)
    ):
        return False
    if f.property is not None:
        if not ev.kind.startswith("twin."):
            return False
        prefix = f"/{f.property}"
        paths = [str(op.get("path", "")) for op in ev.patch]
        if ev.kind == "twin.updated" and not any(
            p == prefix or p.startswith(prefix + "/") for p in paths
        ):
            return False
    return True


async def stream_events(store: TwinGraph, engine: QueryEngine, flt: EventFilter,
                        max_queue: int = 10_000) -> AsyncIterator[ChangeEvent | None]:
    """Matching events in commit order; yields None once (then stops) on overflow."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    pending = 0  # approximate (read on the store's thread): only guards against overflow

    def deliver(item: object) -> None:
        nonlocal pending
        pending += 1
        queue.put_nowait(item)

    def on_event(ev: ChangeEvent) -> None:
        if flt.subtree is not None and ev.kind.startswith("relationship."):
            loop.call_soon_threadsafe(deliver, _STALE)
        if cheap_match(store, flt, ev):
            loop.call_soon_threadsafe(deliver, ev if pending < max_queue else _OVERFLOW)

    def compute_subtree() -> set[str]:
        assert flt.subtree is not None
        try:
            return {r.twin_id for r in engine.run(Descendants(flt.subtree, include_self=True))}
        except NotFoundError:  # the root is gone (or not there yet): nothing matches
            return set()

    inline = hasattr(store, "read_view")  # the in-memory store answers in microseconds

    async def subtree_now() -> set[str]:
        return compute_subtree() if inline else await asyncio.to_thread(compute_subtree)

    subscription = store.subscribe(on_event)
    try:
        subtree = await subtree_now() if flt.subtree is not None else set()
        stale = False
        while True:
            item = await queue.get()
            pending -= 1
            if item is _OVERFLOW:
                yield None
                return
            if item is _STALE:
                stale = True
                continue
            assert isinstance(item, ChangeEvent)
            if flt.subtree is not None:
                if stale:
                    subtree, stale = await subtree_now(), False
                if _twin_of(item) not in subtree and item.target_twin not in subtree:
                    continue
            yield item
    finally:
        subscription.close()
