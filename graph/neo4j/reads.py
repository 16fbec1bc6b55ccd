"""The query layer's read primitive on Neo4j: auto-commit reads, plain rows.

``Neo4jGraph.run_read_many`` runs a walk's queries in one managed transaction
and hands back rows built with ``record.data()``.  Two costs there matter for
the query layer, whose operations are mostly one query each (measured on a
loaded 2-core machine, Neo4j 5.26, driver 6.x):

- ``record.data()`` walks every value recursively to turn graph objects (nodes,
  paths) into dicts.  The query layer's Cypher never returns graph objects,
  only scalars, lists and maps, so the walk changes nothing; on a building's
  subtree (one row holding 2,010 small lists) it cost about 20 ms of Python per
  question, more than Neo4j took to answer.  Rows here are built straight from
  the records' values (:func:`rows_of`).
- A managed transaction is three round trips for one query (``BEGIN``, then
  ``RUN`` and ``PULL``, then ``COMMIT``); an auto-commit query is one.  A
  sensor's ancestors: 2.0 ms -> 1.4 ms median.  Neo4j reads are read-committed
  either way, so one transaction gave a walk's queries no common snapshot.

Auto-commit queries are not retried by the driver, so a failure the driver
deems retryable (a transient error, a lost connection) runs the whole work
again in a managed read transaction, under the driver's retry policy
(``max_transaction_retry_time``): reads are safe to repeat.

Sessions take the store's driver configuration, whose server notifications
are off (graph.neo4j.driver.connect): the query layer names every configured
containment relationship type, most of which a given database never uses, and
the driver would otherwise log a warning for each unknown type on every query.
Asking for that per session again cost 0.1 ms of Python per operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from neo4j import ManagedTransaction, Result
from neo4j import exceptions as nex

from graph.neo4j.store import Neo4jGraph, _mapped

__all__ = ["RunRead", "read_many", "rows_of"]

_R = TypeVar("_R")
RunRead = Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]


def rows_of(result: Result) -> list[dict[str, Any]]:
    """``{key: value}`` per record, the values as the driver decoded them."""
    keys = result.keys()
    return [dict(zip(keys, record, strict=True)) for record in result]


def read_many(store: Neo4jGraph, work: Callable[[RunRead], _R]) -> _R:
    """``work(run_read)``, its queries auto-commit reads in one session; on a retryable
    failure, ``work`` again in a managed read transaction (retried by the driver).
    Errors are mapped to ``graph.errors`` like ``Neo4jGraph.run_read``.  Rows are
    :func:`rows_of`: for queries returning no nodes, relationships or paths, equal to
    ``record.data()``."""
    with _mapped("read queries"), store._driver.session(database=store._database) as session:
        try:
            return work(lambda cypher, params: rows_of(session.run(cypher, dict(params))))
        except (nex.Neo4jError, nex.DriverError) as exc:
            if not exc.is_retryable():
                raise

        def in_transaction(tx: ManagedTransaction) -> _R:
            return work(lambda cypher, params: rows_of(tx.run(cypher, dict(params))))

        return session.execute_read(in_transaction)
