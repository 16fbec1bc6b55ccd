"""Aggregation of one numeric property over a scope (a subtree or a traversal), by model.

Only numbers count as values (booleans, strings and missing values are
skipped, as Cypher's aggregate functions skip nulls); ``count`` is the number
of twins in the group, ``values`` how many had a number.  With no values,
``sum`` is 0 and ``min``/``max``/``avg`` are None, as in Cypher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graph.layout import NX_MODEL, NX_PROPS, TWIN_LABEL
from queries.base import Operation, QueryContext, RunRead
from queries.hierarchy import Descendants
from queries.spec import NODE_ID, NODE_MODEL, CypherBuilder, check_name
from queries.traversal import Reach

__all__ = ["Aggregate", "Group"]


@dataclass(frozen=True, slots=True)
class Group:
    model: str | None  # None: the total over every model
    count: int
    values: int
    sum: float | int
    min: float | int | None
    max: float | int | None

    @property
    def avg(self) -> float | None:
        return self.sum / self.values if self.values else None


def _total(groups: Sequence[Group]) -> Group:
    values = [g for g in groups if g.values]
    return Group(
        None,
        sum(g.count for g in groups),
        sum(g.values for g in groups),
        sum(g.sum for g in groups),
        min((g.min for g in values), default=None),  # type: ignore[type-var]
        max((g.max for g in values), default=None),  # type: ignore[type-var]
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@dataclass(frozen=True)
class Aggregate(Operation[list[Group]]):
    """Per-model groups (sorted by model) followed by the total (model None)."""

    scope: Reach | Descendants
    property: str

    def check(self, ctx: QueryContext) -> None:
        check_name(self.property, "property")
        self.scope.check(ctx)

    def embedded(self, g: Any, ctx: QueryContext) -> list[Group]:
        acc: dict[str, list[Any]] = {}
        for reached in self.scope.embedded(g, ctx):
            attrs = g.nodes[reached.twin_id]
            entry = acc.setdefault(attrs[NX_MODEL], [0, 0, 0, None, None])
            entry[0] += 1
            v = (attrs.get(NX_PROPS) or {}).get(self.property)
            if _is_number(v):
                entry[1] += 1
                entry[2] += v
                entry[3] = v if entry[3] is None else min(entry[3], v)
                entry[4] = v if entry[4] is None else max(entry[4], v)
        groups = [Group(m, *acc[m]) for m in sorted(acc)]
        return [*groups, _total(groups)]

    def run_cypher(self, run_read: RunRead, ctx: QueryContext) -> list[Group]:
        reached = self.scope.run_cypher(run_read, ctx)
        if not reached:
            return [_total([])]
        q = CypherBuilder()
        v = f"d[{q.param(self.property)}]"
        text = (
            f"UNWIND $ids AS did MATCH (d:{TWIN_LABEL} {{{NODE_ID}: did}})\n"
            f"WITH d, CASE WHEN valueType({v}) IN ['INTEGER NOT NULL', 'FLOAT NOT NULL'] "
            f"THEN {v} END AS v\n"
            f"RETURN d.{NODE_MODEL} AS model, count(d) AS count, count(v) AS values, "
            "sum(v) AS sum, min(v) AS min, max(v) AS max"
        )
        rows = run_read(text, {**q.params, "ids": [r.twin_id for r in reached]})
        groups = sorted(
            (Group(r["model"], r["count"], r["values"], r["sum"], r["min"], r["max"])
             for r in rows),
            key=lambda grp: grp.model or "",
        )
        return [*groups, _total(groups)]
