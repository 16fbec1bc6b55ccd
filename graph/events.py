"""In-process change-event hub: committed changes to subscribers, in commit order.

The store publishes while still holding its write lock, so events of two
writers can never be delivered out of commit order.  A subscriber that raises
is logged and kept: one broken consumer must not stop the others or the writer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from graph.base import ChangeEvent, Subscription

__all__ = ["EventHub"]

log = logging.getLogger(__name__)

Callback = Callable[[ChangeEvent], None]


class _HubSubscription(Subscription):
    def __init__(self, hub: EventHub, callback: Callback) -> None:
        self._hub = hub
        self.callback = callback

    def close(self) -> None:
        self._hub._remove(self)


class EventHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: tuple[_HubSubscription, ...] = ()  # replaced, never mutated: lock-free reads
        self._seq = 0

    @property
    def active(self) -> bool:
        """Whether anyone listens; writers skip building events when not."""
        return bool(self._subs)

    def subscribe(self, callback: Callback) -> Subscription:
        sub = _HubSubscription(self, callback)
        with self._lock:
            self._subs = (*self._subs, sub)
        return sub

    def _remove(self, sub: _HubSubscription) -> None:
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)

    def next_seq(self) -> int:
        """The next sequence number; callers hold the store's write lock."""
        self._seq += 1
        return self._seq

    def publish(self, events: Iterable[ChangeEvent]) -> None:
        subs = self._subs
        if not subs:
            return
        for event in events:
            for sub in subs:
                try:
                    sub.callback(event)
                except Exception:
                    log.exception(
                        "change-event subscriber %r failed on event %d", sub.callback, event.seq
                    )
