"""Live change events for GraphQL subscriptions, fed from ``store.subscribe``.

The store calls back on its committing thread; the callback only filters and
hands the event to the subscriber's asyncio queue (thread-safe), as the store
contract asks.  A slow subscriber that lets ``max_queue`` events pile up is
sent an ``overflow`` marker and disconnected rather than slowing the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from graph.base import ChangeEvent, TwinGraph
from queries import Descendants, QueryEngine

__all__ = ["EventFilter", "stream_events"]

_OVERFLOW = object()


@dataclass(frozen=True, slots=True)
class EventFilter:
    twin_id: str | None = None
    model: str | None = None  # the twin's model or a descendant of it
    subtree: str | None = None  # a twin id: events of twins inside its containment subtree
    property: str | None = None  # only updates touching this top-level property
    kinds: frozenset[str] | None = None


class _Matcher:
    """Decides, on the store's thread, whether an event goes to one subscriber."""

    def __init__(self, store: TwinGraph, engine: QueryEngine, flt: EventFilter) -> None:
        self.store = store
        self.engine = engine
        self.flt = flt
        self.subtree: set[str] | None = None

    def _refresh_subtree(self) -> None:
        assert self.flt.subtree is not None
        try:
            found = self.engine.run(Descendants(self.flt.subtree, include_self=True))
            self.subtree = {r.twin_id for r in found}
        except Exception:  # the root may be gone: match nothing rather than fail the store
            self.subtree = set()

    def __call__(self, ev: ChangeEvent) -> bool:
        f = self.flt
        if f.kinds is not None and ev.kind not in f.kinds:
            return False
        if ev.kind.startswith("model."):
            return f.kinds is not None  # model events only when asked for by kind
        twin = ev.id if ev.kind.startswith("twin.") else ev.source_twin
        if f.twin_id is not None and twin != f.twin_id and ev.target_twin != f.twin_id:
            return False
        if f.model is not None:
            if not ev.kind.startswith("twin.") or ev.model is None:
                return False
            if not self.store.registry.is_of_model(ev.model, f.model):
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
        if f.subtree is not None:
            if self.subtree is None or ev.kind.startswith("relationship."):
                self._refresh_subtree()  # containment may have changed
            assert self.subtree is not None
            if twin not in self.subtree and ev.target_twin not in self.subtree:
                return False
        return True


async def stream_events(store: TwinGraph, engine: QueryEngine, flt: EventFilter,
                        max_queue: int = 10_000) -> AsyncIterator[ChangeEvent | None]:
    """Matching events in commit order; yields None once (then stops) on overflow."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    matcher = _Matcher(store, engine, flt)
    pending = 0

    def deliver(item: object) -> None:
        nonlocal pending
        pending += 1
        queue.put_nowait(item)

    def on_event(ev: ChangeEvent) -> None:
        if matcher(ev):
            item: object = ev if pending < max_queue else _OVERFLOW
            loop.call_soon_threadsafe(deliver, item)

    if flt.subtree is not None:
        matcher._refresh_subtree()
    subscription = store.subscribe(on_event)
    try:
        while True:
            item = await queue.get()
            pending -= 1
            if item is _OVERFLOW:
                yield None
                return
            assert isinstance(item, ChangeEvent)
            yield item
    finally:
        subscription.close()
