"""The inbox between the MQTT network thread and ingestion's preparing thread.

A bounded FIFO of received messages.  The network thread appends a whole
read's messages at once and waits while the inbox is full: that wait is the
back-pressure that reaches the broker (through TCP and the unacknowledged QoS 1
window).  The preparing thread takes batches: up to a size, or once the oldest
message has waited a deadline.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

__all__ = ["Inbound", "Inbox"]


@dataclass(slots=True)
class Inbound:
    """One received MQTT message, as the network thread hands it over."""

    topic: str
    payload: bytes
    qos: int = 0
    mid: int = 0
    generation: int = 0  # the broker connection it arrived on: acks are only valid there
    received: float = 0.0


class Inbox:
    """A bounded FIFO whose ``put`` waits while full (that wait is the back-pressure)."""

    def __init__(self, capacity: int, batch_size: int) -> None:
        self.capacity = capacity
        self.batch_size = batch_size
        self.items: deque[Inbound] = deque()
        self.cond = threading.Condition()
        self.closed = False

    def put(self, items: list[Inbound]) -> None:
        with self.cond:
            while len(self.items) >= self.capacity and not self.closed:
                self.cond.wait(0.5)
            before = len(self.items)
            self.items.extend(items)
            # The worker waits for a first item or a full batch.
            if before == 0 or before < self.batch_size <= len(self.items):
                self.cond.notify_all()

    def take(self, max_size: int, max_delay: float, stop: threading.Event) -> list[Inbound]:
        with self.cond:
            while not self.items:
                if stop.is_set():
                    # Shutting down: a short quiet period for messages already on the wire.
                    self.cond.wait(0.1)
                    if not self.items:
                        return []
                    break
                self.cond.wait(0.1)
            deadline = self.items[0].received + max_delay
            while len(self.items) < max_size and not stop.is_set():
                remaining = deadline - time.time()
                if remaining <= 0:
                    break
                self.cond.wait(remaining)
            n = min(max_size, len(self.items))
            batch = [self.items.popleft() for _ in range(n)]
            self.cond.notify_all()  # wake a network thread waiting for room
            return batch

    def __len__(self) -> int:
        return len(self.items)
