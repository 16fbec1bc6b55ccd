"""The operation protocol and the engine that runs an operation on either store.

Each operation is one class holding both forms: ``embedded`` reads the live
networkx graph (layout in graph/layout.py), ``cypher`` returns parameterised
Cypher whose rows ``from_rows`` turns into the very same result value.  The
shared test suite (tests/queries) runs every operation on both stores and
compares the results.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from graph.base import TwinGraph
from graph.neo4j.reads import read_many
from graph.neo4j.store import Neo4jGraph
from ontology.model import ModelRegistry
from queries.spec import QueryError, check_names

__all__ = ["Containment", "Operation", "QueryContext", "QueryEngine", "RunRead"]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Containment:
    """Which relationship names form the containment hierarchy, and which way.

    ``down`` names point from the container to the contained (``building
    -contains-> floor``); ``up`` names point from the contained to its container
    (``sensor -isLocatedIn-> room``).
    """

    down: tuple[str, ...] = ("contains", "hasPart")
    up: tuple[str, ...] = ("isPartOf", "isLocatedIn")

    def __post_init__(self) -> None:
        for side in ("down", "up"):  # an empty side is allowed: one convention only
            names = getattr(self, side)
            object.__setattr__(self, side, check_names(names, "containment name") if names else ())
        if not self.down and not self.up:
            raise QueryError("containment needs at least one relationship name")


@dataclass(frozen=True, slots=True)
class QueryContext:
    registry: ModelRegistry
    max_depth: int = 50  # the cap on hops of every traversal
    max_paths: int = 10_000  # the cap on paths one expansion returns
    containment: Containment = field(default_factory=Containment)


RunRead = Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]


class Operation(abc.ABC, Generic[R]):
    """One read operation, in both forms.

    Most operations are one Cypher query: they implement ``cypher`` and
    ``from_rows``.  Reachability walks breadth-first with one query per level
    instead (Neo4j has no pruned breadth-first search over mixed-direction
    patterns): those override ``run_cypher``.
    """

    def check(self, ctx: QueryContext) -> None:
        """Refuse arguments beyond the context's caps (raise QueryError)."""

    @abc.abstractmethod
    def embedded(self, g: Any, ctx: QueryContext) -> R:
        """The result, read from the live ``networkx.MultiDiGraph``."""

    def run_cypher(self, run_read: RunRead, ctx: QueryContext) -> R:
        """The result from Neo4j, through ``run_read(cypher, params)``."""
        text, params = self.cypher(ctx)
        return self.from_rows(run_read(text, params), ctx)

    def cypher(self, ctx: QueryContext) -> tuple[str, dict[str, Any]]:
        """Cypher text and parameters (single-query operations)."""
        raise NotImplementedError(f"{type(self).__name__} runs several queries: see run_cypher")

    def from_rows(self, rows: Sequence[Mapping[str, Any]], ctx: QueryContext) -> R:
        """The result from the rows the Cypher returned (single-query operations)."""
        raise NotImplementedError(f"{type(self).__name__} runs several queries: see run_cypher")


class QueryEngine:
    """Runs operations on a store: the embedded form on ``read_view()``, else Cypher."""

    def __init__(
        self,
        store: TwinGraph,
        *,
        max_depth: int = 50,
        max_paths: int = 10_000,
        containment: Containment | None = None,
    ) -> None:
        self.store = store
        self.max_depth = max_depth
        self.max_paths = max_paths
        self.containment = containment or Containment()
        self._context: QueryContext | None = None

    def context(self) -> QueryContext:
        """The context of the store's current registry, built again when models change
        (a frozen dataclass costs more to build than a small walk's read view)."""
        ctx, registry = self._context, self.store.registry
        if (ctx is None or ctx.registry is not registry or ctx.max_depth != self.max_depth
                or ctx.max_paths != self.max_paths or ctx.containment is not self.containment):
            ctx = self._context = QueryContext(registry, self.max_depth, self.max_paths,
                                               self.containment)
        return ctx

    def run(self, op: Operation[R]) -> R:
        ctx = self.context()
        op.check(ctx)
        read_view = getattr(self.store, "read_view", None)
        if read_view is not None:
            with read_view() as g:
                return op.embedded(g, ctx)
        # Neo4j: auto-commit reads of plain rows, one round trip per query (see
        # graph.neo4j.reads); other Cypher stores: one transaction per operation if
        # they offer it, else one per query.
        if isinstance(self.store, Neo4jGraph):
            return read_many(self.store, lambda run_read: op.run_cypher(run_read, ctx))
        run_read_many = getattr(self.store, "run_read_many", None)
        if run_read_many is not None:
            return cast(R, run_read_many(lambda run_read: op.run_cypher(run_read, ctx)))
        run_read = getattr(self.store, "run_read", None)
        if run_read is None:
            raise TypeError(f"{type(self.store).__name__} offers neither read_view nor run_read")
        return op.run_cypher(run_read, ctx)

    def cypher_of(self, op: Operation[Any]) -> tuple[str, dict[str, Any]]:
        """The Cypher form of a single-query ``op`` (for tests, benchmarks and EXPLAIN)."""
        ctx = self.context()
        op.check(ctx)
        return op.cypher(ctx)
