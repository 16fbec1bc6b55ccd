"""The query layer's read primitive on Neo4j: one read transaction, records as plain rows.

``Neo4jGraph.run_read_many`` hands its work rows built with ``record.data()``,
which walks every value recursively to turn graph objects (nodes, paths) into
dicts.  The query layer's Cypher never returns graph objects, only scalars,
lists and maps, so that walk changes nothing; on a building's subtree (one row
holding 2,010 small lists) it cost about 20 ms of Python per question, more
than Neo4j took to answer.  :func:`read_many` builds each row straight from the
record's values instead.

It also opens its sessions with server notifications off: the query layer
names every configured containment relationship type, most of which a given
database never uses, and the driver otherwise logs a warning for each
unknown type on every query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from neo4j import ManagedTransaction

from graph.neo4j.store import Neo4jGraph, _mapped

__all__ = ["RunRead", "read_many"]

_R = TypeVar("_R")
RunRead = Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]


def _rows(tx: ManagedTransaction, cypher: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    result = tx.run(cypher, dict(params))
    keys = result.keys()
    return [dict(zip(keys, record, strict=True)) for record in result]


def read_many(store: Neo4jGraph, work: Callable[[RunRead], _R]) -> _R:
    """``work(run_read)`` with every query in one session and read transaction
    (retried as a whole, so ``work`` must only read), errors mapped to
    ``graph.errors`` like ``Neo4jGraph.run_read``.  Rows are ``{key: value}`` of
    the record's raw values: for queries returning no nodes, relationships or
    paths, the same as ``record.data()``."""
    def in_transaction(tx: ManagedTransaction) -> _R:
        return work(lambda cypher, params: _rows(tx, cypher, params))

    with _mapped("read queries"), store._driver.session(
        database=store._database, notifications_min_severity="OFF"
    ) as session:
        return session.execute_read(in_transaction)
