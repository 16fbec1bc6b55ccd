"""How the Neo4j store uses the official driver: configuration, transactions, row lists.

Measured on the store's batches (neo4j 6.x driver, Neo4j 5.26), three things here
matter per batch:

- ``Session.execute_write`` sends ``BEGIN`` and waits for its answer before the first
  query: three round trips per transaction.  ``Driver.execute_query`` pipelines
  ``BEGIN`` with the query: two.  A transaction of one statement (an ingestion batch, an
  import batch of one model) therefore goes through ``execute_query``
  (:func:`run_statements`); several statements still share one ``execute_write``.
- The driver formats a debug line with ``repr`` of all parameters on every ``RUN``,
  whether debug logging is on or not: for a batch of 1,000 rows about 4 ms, and it would
  put user values into debug logs.  :class:`Rows` (a ``list``) has a short ``repr``.
- Server notifications (e.g. "property key does not exist" while a database is still
  empty) are turned off: the driver logs them as warnings on stderr, which users must
  not see for the store's own queries, and parsing them costs time on every result.
  Errors are exceptions, not notifications, so they stay visible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from neo4j import Driver, GraphDatabase, ManagedTransaction, Result, RoutingControl

__all__ = ["Rows", "Statement", "connect", "read", "run_statements"]

_R = TypeVar("_R")


class Rows(list[Any]):
    """The rows of an ``UNWIND`` parameter; ``repr`` is only their count (see above)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


@dataclass(frozen=True, slots=True)
class Statement:
    """One query of a write transaction, and what to do with its result: ``check(result,
    rows)`` consumes it and raises (rolling the transaction back) if it disagrees with
    the number of ``rows`` sent."""

    cypher: str
    params: dict[str, Any]
    check: Callable[[Result, int], None]
    rows: int = 0


def connect(address: str, auth: tuple[str, str] | None, **config: Any) -> Driver:
    """A driver with the store's defaults (any of them can be overridden in ``config``)."""
    config.setdefault("notifications_min_severity", "OFF")
    config.setdefault("telemetry_disabled", True)  # one message fewer per new session
    return GraphDatabase.driver(address, auth=auth, **config)


def run_statements(driver: Driver, database: str | None, statements: Sequence[Statement]) -> None:
    """All ``statements`` in one write transaction, retried as a whole on transient errors."""
    if len(statements) == 1:
        (one,) = statements
        rows = one.rows
        driver.execute_query(
            one.cypher,
            one.params,
            database_=database,
            routing_=RoutingControl.WRITE,
            bookmark_manager_=None,  # like the store's sessions: no causal chaining needed
            result_transformer_=lambda result: one.check(result, rows),
        )
        return

    def work(tx: ManagedTransaction) -> None:
        for s in statements:
            s.check(tx.run(s.cypher, s.params), s.rows)

    with driver.session(database=database) as session:
        session.execute_write(work)


def read(
    driver: Driver,
    database: str | None,
    cypher: str,
    params: Mapping[str, Any],
    transform: Callable[[Result], _R],
) -> _R:
    """One query in a read transaction (retried), its result turned into ``transform(result)``
    inside the transaction."""
    return driver.execute_query(
        cypher,
        dict(params),
        database_=database,
        routing_=RoutingControl.READ,
        bookmark_manager_=None,
        result_transformer_=transform,
    )
