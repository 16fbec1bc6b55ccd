"""The ingestion pipeline: received messages -> batches -> the store -> acknowledgements.

The MQTT network thread only appends to a bounded inbox (``submit``).  A
preparing thread takes batches (up to ``batch.max_size`` messages or
``batch.max_delay_ms`` after the first one arrived), decodes them and drops
messages wholly superseded by newer readings in the same batch; a writing
thread writes the rest with one ``apply_property_updates`` call, records
refusals as dead letters, and only then acknowledges the QoS 1 messages, in
the order they arrived.  The two overlap: while one batch waits for the store
(for Neo4j, most of the time is the database's), the next is decoded; the
hand-over holds one prepared batch, and batches are written in arrival order.
A crash anywhere before the acknowledgement makes the broker redeliver;
redelivered readings carry their original timestamp, so the store's
newest-wins rule turns them into no-ops.

When the store is unavailable the writer retries the same batch with backoff
and acknowledges nothing; the inbox fills, ``submit`` blocks the network
thread, and the broker stops sending (unacknowledged QoS 1 window, TCP).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from graph.base import ItemResult, PropertyUpdate, TwinGraph
from graph.core import paused_gc
from graph.errors import NotFoundError, StoreUnavailableError, ValidationError
from ontology.instance import validate_telemetry
from server.config import IngestConfig
from server.ingest.deadletters import DeadLetter, payload_excerpt
from server.ingest.decode import DecodeError, Reading, decode_payload
from server.ingest.inbox import Inbound, Inbox
from server.ingest.topics import TopicRouter
from server.metrics import IngestMetrics, observe_many

__all__ = ["Acknowledger", "CommitListener", "IngestPipeline"]

log = logging.getLogger("graphtwin.ingest")

CommitListener = Callable[[Sequence[Reading], float], None]


class Acknowledger(Protocol):
    def ack(self, messages: Sequence[Inbound]) -> None:
        """Acknowledge the QoS 1 messages among ``messages`` (they are committed)."""


@dataclass(slots=True)
class _Prepared:
    """A batch decoded and coalesced, ready for the store (``failed``: preparing it
    raised, so it is handled message by message instead)."""

    batch: Sequence[Inbound]
    dead: list[DeadLetter]
    updates: list[PropertyUpdate]
    owners: list[tuple[Inbound, Reading]]
    failed: bool = False


class IngestPipeline:
    def __init__(
        self,
        store: TwinGraph,
        router: TopicRouter,
        config: IngestConfig,
        metrics: IngestMetrics,
    ) -> None:
        self.store = store
        self.router = router
        self.config = config
        self.metrics = metrics
        self.deadletters = store.dead_letters
        self.acknowledger: Acknowledger | None = None
        self._inbox = Inbox(config.batch.max_pending, self.batch_limit())
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._thread: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        # None marks the end of the stream (after the drain on stop).
        self._handoff: queue.Queue[_Prepared | None] = queue.Queue(maxsize=1)
        self._listeners: list[CommitListener] = []
        self.store_ok = True
        self.last_store_error: str | None = None

    # ------------------------------------------------------------------ control
    def add_commit_listener(self, listener: CommitListener) -> None:
        """Called on the writing thread with each committed batch's readings and the commit time."""
        self._listeners.append(listener)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="graphtwin-ingest", daemon=True)
        self._writer = threading.Thread(
            target=self._write_loop, name="graphtwin-ingest-writer", daemon=True
        )
        self._writer.start()
        self._thread.start()

    def stop(self, drain_timeout: float = 10.0) -> None:
        """Drain what was received, then stop.  Unfinished work stays unacknowledged."""
        self._stop.set()
        if self._thread is None or self._writer is None:
            return
        self._writer.join(drain_timeout)  # it ends after the last prepared batch
        self._inbox.closed = True  # late arrivals must not block the MQTT thread
        if self._writer.is_alive():
            log.warning(
                "ingestion: store still failing after %.0fs; leaving %d messages unacknowledged "
                "for the broker to redeliver",
                drain_timeout,
                len(self._inbox),
            )
            self._abandon.set()
            self._writer.join(5)
        self._thread.join(5)

    def submit(self, messages: list[Inbound]) -> None:
        """From the MQTT thread: enqueue, waiting while the inbox is full."""
        self.metrics.received.inc(len(messages))
        self._inbox.put(messages)

    @property
    def pending(self) -> int:
        return len(self._inbox)

    # ------------------------------------------------------------------- worker
    def _run(self) -> None:
        """The preparing thread: batches from the inbox, decoded, to the writer."""
        max_size, max_delay = self.batch_limit(), self.config.batch.max_delay_ms / 1000.0
        while True:
            batch = self._inbox.take(max_size, max_delay, self._stop)
            if not batch:
                if self._stop.is_set():
                    self._hand_over(None)
                    return
                continue
            self.metrics.pending.set(len(self._inbox) + len(batch))
            try:
                prepared = self.prepare(batch)
            except Exception:  # a bug must not stop ingestion: find the message that trips it
                log.exception("ingestion: preparing a batch of %d failed", len(batch))
                prepared = _Prepared(batch, [], [], [], failed=True)
            if not self._hand_over(prepared):
                return

    def batch_limit(self) -> int:
        """Messages per batch: ``batch.max_size``, and under MQTT 5 with QoS 1 at most half
        the broker's in-flight window (``mqtt.receive_maximum``).

        The broker sends no more than that window of unacknowledged messages, and
        acknowledgements follow commits: a batch larger than the window would never
        fill and always wait for its deadline, and with half the window the next
        batch arrives while the one before is being written.
        """
        mqtt = self.config.mqtt
        if mqtt.protocol == "5" and mqtt.qos > 0:
            return max(1, min(self.config.batch.max_size, mqtt.receive_maximum // 2))
        return self.config.batch.max_size

    def _hand_over(self, prepared: _Prepared | None) -> bool:
        """Wait for the writer to take ``prepared``; False if it was abandoned meanwhile."""
        while not self._abandon.is_set():
            try:
                self._handoff.put(prepared, timeout=0.1)
                return True
            except queue.Full:
                if self._writer is None or not self._writer.is_alive():
                    return False
        return False

    def _write_loop(self) -> None:
        """The writing thread: prepared batches to the store, then dead letters and acks."""
        while True:
            prepared = self._handoff.get()
            if prepared is None:
                return
            if prepared.failed:
                done = self._process_one_by_one(prepared.batch)
            else:
                try:
                    done = self.commit(prepared)
                except Exception:  # as above: the message that trips it is dead-lettered
                    log.exception("ingestion: batch of %d failed unexpectedly", len(prepared.batch))
                    done = self._process_one_by_one(prepared.batch)
            if not done:
                return  # abandoned during shutdown
            self.metrics.pending.set(len(self._inbox))

    def process(self, batch: Sequence[Inbound]) -> bool:
        """Decode, write, dead-letter and acknowledge one batch; False if abandoned."""
        return self.commit(self.prepare(batch))

    def prepare(self, batch: Sequence[Inbound]) -> _Prepared:
        """Decode and coalesce: the store updates of ``batch`` and what is refused already."""
        # Several objects per message and no cycles: without the pause, the allocations
        # trigger collections that rescan every twin the store holds (a third of this).
        with paused_gc():
            return self._prepare(batch)

    def _prepare(self, batch: Sequence[Inbound]) -> _Prepared:
        dead: list[DeadLetter] = []
        decoded: list[tuple[Inbound, list[Reading]]] = []
        for msg in batch:
            route = self.router.route(msg.topic)
            if route is None:
                dead.append(self._letter(msg, "no_route", "no topic rule matches", None))
                continue
            try:
                decoded.append(
                    (msg, decode_payload(msg.payload, route, self.config.payload, msg.received))
                )
            except DecodeError as exc:
                dead.append(self._letter(msg, exc.reason, exc.detail, route.twin_id))

        updates: list[PropertyUpdate] = []
        owners: list[tuple[Inbound, Reading]] = []
        kept, superseded = self._coalesce(decoded)
        if superseded:
            # If the store is down, skip the check: those values are overwritten anyway,
            # and the kept messages wait for the store below.
            with contextlib.suppress(StoreUnavailableError):
                dead.extend(self._check_superseded(superseded))
        for msg, readings in kept:
            for r in readings:
                updates.append(PropertyUpdate(r.twin_id, r.values, r.timestamp, "device"))
                owners.append((msg, r))
        return _Prepared(batch, dead, updates, owners)

    def commit(self, prepared: _Prepared) -> bool:
        """Write, dead-letter and acknowledge a prepared batch; False if abandoned."""
        batch, dead, updates = prepared.batch, prepared.dead, prepared.updates
        results = self._write(updates)
        if results is None:
            return False
        applied, dead_from_store = self._verdicts(updates, prepared.owners, results)
        dead.extend(dead_from_store)
        commit_time = time.time()

        if dead:
            self.deadletters.add(dead)
            self.metrics.deadletters.inc(len(dead))
            for d in dead:
                self.metrics.rejected.labels(d.reason).inc()
        self.metrics.batch_size.observe(len(batch))
        self.metrics.applied_updates.inc(len(applied))
        self.metrics.applied_messages.inc(len({id(m) for m, _ in applied}))
        observe_many(self.metrics.lag, [max(0.0, commit_time - r.epoch) for _, r in applied])
        if self._listeners:
            readings = [r for _, r in applied]
            for listener in self._listeners:
                listener(readings, commit_time)

        if self.acknowledger is not None:
            self.acknowledger.ack(batch)
        return True

    def _process_one_by_one(self, batch: Sequence[Inbound]) -> bool:
        """After an unexpected failure: each message alone; one that still fails is
        dead-lettered (reason ``internal_error``) and acknowledged, so it cannot
        block the stream."""
        for msg in batch:
            try:
                if not self.process([msg]):
                    return False
            except Exception as exc:
                route = self.router.route(msg.topic)
                detail = f"{type(exc).__name__}: {exc}"
                letter = self._letter(
                    msg, "internal_error", detail, route.twin_id if route else None
                )
                try:
                    self.deadletters.add([letter])
                    self.metrics.deadletters.inc()
                except Exception:  # e.g. a full disk: say so, and keep the stream moving
                    log.exception("ingestion: cannot record the dead letter for %s", msg.topic)
                self.metrics.rejected.labels("internal_error").inc()
                if self.acknowledger is not None:
                    self.acknowledger.ack([msg])
        return True

    def _coalesce(
        self, decoded: list[tuple[Inbound, list[Reading]]]
    ) -> tuple[list[tuple[Inbound, list[Reading]]], list[tuple[Inbound, list[Reading]]]]:
        """Split off messages every value of which a newer reading in this batch replaces.

        A message with at least one surviving value is kept whole, so the store
        validates it whole; its older values lose to newer ones there anyway.
        """
        seen: set[str] = set()
        repeated: set[str] = set()
        for _, readings in decoded:
            for r in readings:
                (repeated if r.twin_id in seen else seen).add(r.twin_id)
        if not repeated:  # the common case: one reading per twin in this batch
            return decoded, []
        newest: dict[tuple[str, str], str] = {}
        for _, readings in decoded:
            for r in readings:
                if r.twin_id in repeated:
                    for name in r.values:
                        key = (r.twin_id, name)
                        if r.timestamp > newest.get(key, ""):
                            newest[key] = r.timestamp
        kept, superseded = [], []
        for msg, readings in decoded:
            if any(
                r.twin_id not in repeated or newest[(r.twin_id, n)] <= r.timestamp
                for r in readings
                for n in r.values
            ):
                kept.append((msg, readings))
            else:
                superseded.append((msg, readings))
        if superseded:
            self.metrics.coalesced.inc(len(superseded))
        return kept, superseded

    def _check_superseded(
        self, superseded: list[tuple[Inbound, list[Reading]]]
    ) -> list[DeadLetter]:
        """Validate what the store will never see, so bad input is reported all the same.

        Each message is still validated once: by the store when written, here
        when a newer reading made writing it pointless.
        """
        twin_ids = list({r.twin_id for _, readings in superseded for r in readings})
        models = {t.id: t.model for t in self.store.get_twins(twin_ids)}
        registry = self.store.registry
        dead = []
        for msg, readings in superseded:
            for r in readings:
                model = models.get(r.twin_id)
                if model is None:
                    detail = f"twin {r.twin_id!r} does not exist"
                    dead.append(self._letter(msg, "unknown_twin", detail, r.twin_id))
                    continue
                problems = validate_telemetry(registry, model, r.values)
                if problems:
                    detail = "; ".join(f"{p.path or '/'}: {p.message}" for p in problems)
                    dead.append(self._letter(msg, problems[0].code.lower(), detail, r.twin_id))
        return dead

    def _write(self, updates: list[PropertyUpdate]) -> list[ItemResult] | None:
        """Apply, retrying while the store is unavailable; None if abandoned on shutdown.

        "Unavailable" is the store raising ``StoreUnavailableError`` or reporting
        it for any item: the whole batch is then written again later (items that
        did commit are no-ops the second time: same timestamps).
        """
        if not updates:
            return []
        delay = 0.2
        while True:
            results: list[ItemResult] | None
            try:
                results = self.store.apply_property_updates(updates)
            except StoreUnavailableError as exc:
                results = None
                self._store_failed(str(exc))
            except Exception as exc:  # not the store being down: find the items it refuses
                log.warning("ingestion: batch write failed (%s); retrying item by item", exc)
                results = self._write_one_by_one(updates)
            else:
                down = _unavailable(results)
                if down is not None:
                    self._store_failed(str(down))
                    results = None
            if results is not None:
                self._store_recovered()
                return results
            self.metrics.store_retries.inc()
            if self._abandon.wait(delay):
                return None
            delay = min(delay * 2, 5.0)

    def _write_one_by_one(self, updates: list[PropertyUpdate]) -> list[ItemResult] | None:
        results = []
        for u in updates:
            try:
                results.extend(self.store.apply_property_updates([u]))
            except StoreUnavailableError as exc:
                self._store_failed(str(exc))
                return None
            except Exception as exc:
                results.append(ItemResult(u.twin_id, False, exc))
        down = _unavailable(results)
        if down is not None:
            self._store_failed(str(down))
            return None
        return results

    def _store_failed(self, message: str) -> None:
        if self.store_ok:
            log.warning(
                "ingestion: store unavailable (%s); holding messages unacknowledged", message
            )
        self.store_ok = False
        self.last_store_error = message
        self.metrics.store_up.set(0)

    def _store_recovered(self) -> None:
        if not self.store_ok:
            log.warning("ingestion: store available again")
        self.store_ok = True
        self.metrics.store_up.set(1)

    def _verdicts(
        self,
        updates: list[PropertyUpdate],
        owners: list[tuple[Inbound, Reading]],
        results: list[ItemResult],
    ) -> tuple[list[tuple[Inbound, Reading]], list[DeadLetter]]:
        applied: list[tuple[Inbound, Reading]] = []
        dead: list[DeadLetter] = []
        retry: list[PropertyUpdate] = []
        retry_owners: list[tuple[Inbound, Reading]] = []
        for update, owner, result in zip(updates, owners, results, strict=True):
            if result.ok:
                applied.append(owner)
                continue
            msg, reading = owner
            reason, detail, bad_names = _describe(result.error)
            dead.append(self._letter(msg, reason, detail, reading.twin_id))
            if self.config.payload.accept_partial and bad_names:
                rest = {k: v for k, v in update.values.items() if k not in bad_names}
                if rest:
                    retry.append(PropertyUpdate(update.twin_id, rest, update.timestamp, "device"))
                    retry_owners.append(
                        (msg, Reading(reading.twin_id, rest, reading.timestamp, reading.epoch))
                    )
        if retry:
            again = self._write(retry)
            if again is not None:
                more_applied, more_dead = self._verdicts(retry, retry_owners, again)
                applied.extend(more_applied)
                dead.extend(more_dead)
        return applied, dead

    def _letter(self, msg: Inbound, reason: str, detail: str, twin_id: str | None) -> DeadLetter:
        return DeadLetter(
            topic=msg.topic,
            reason=reason,
            detail=detail,
            payload_excerpt=payload_excerpt(msg.payload, self.config.deadletters.excerpt_bytes),
            payload_bytes=len(msg.payload),
            twin_id=twin_id,
            received_at=msg.received,
        )


def _unavailable(results: list[ItemResult]) -> Exception | None:
    """The first per-item "store unavailable" error, if the store reported one."""
    return next((r.error for r in results if isinstance(r.error, StoreUnavailableError)), None)


def _describe(error: Exception | None) -> tuple[str, str, set[str]]:
    """(reason label, human detail, top-level names at fault) for a store refusal."""
    if isinstance(error, NotFoundError):
        return "unknown_twin", error.message, set()
    if isinstance(error, ValidationError):
        problems = error.problems
        reason = problems[0].code.lower() if problems else "invalid_value"
        detail = "; ".join(f"{p.path or '/'}: {p.message}" for p in problems) or error.message
        names = {
            p.path.split("/")[1]
            for p in problems
            if p.path.count("/") >= 1 and p.path.split("/")[1]
        }
        return reason, detail, names
    return "store_error", f"{type(error).__name__}: {error}", set()
