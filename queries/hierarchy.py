"""The containment hierarchy: ancestors, descendants, subtree, siblings, nearest ancestor.

Which relationships count as containment, and in which direction, comes from
:class:`queries.base.Containment` (defaults ``contains``/``hasPart`` downward,
``isPartOf``/``isLocatedIn`` upward); both conventions may be mixed in one
graph and one walk.  These are traversals (queries.traversal) with fixed steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.errors import NotFoundError
from graph.layout import TWIN_LABEL
from queries.base import Containment, Operation, QueryContext, RunRead
from queries.spec import NODE_ID, CypherBuilder, TwinFilter, where_clause
from queries.steps import Reached, Step, cypher_hop, start_match
from queries.traversal import Reach, nx_hops, nx_require

__all__ = [
    "Ancestors",
    "Descendants",
    "NearestAncestor",
    "Siblings",
    "down_steps",
    "up_steps",
]


def down_steps(c: Containment) -> tuple[Step, ...]:
    """From a container to what it contains."""
    steps: list[Step] = []
    if c.down:
        steps.append((c.down, "out"))
    if c.up:
        steps.append((c.up, "in"))
    return tuple(steps)


def up_steps(c: Containment) -> tuple[Step, ...]:
    """From a twin to its containers."""
    steps: list[Step] = []
    if c.down:
        steps.append((c.down, "in"))
    if c.up:
        steps.append((c.up, "out"))
    return tuple(steps)


class _Hierarchy(Operation[list[Reached]]):
    """A :class:`Reach` whose steps come from the context's containment names."""

    twin_id: str
    max_depth: int | None
    filter: TwinFilter
    include_self: bool = False
    upward: bool = False
    documents: bool = False

    def reach(self, ctx: QueryContext) -> Reach:
        steps = up_steps(ctx.containment) if self.upward else down_steps(ctx.containment)
        return Reach(self.twin_id, steps, 0 if self.include_self else 1, self.max_depth,
                     self.filter, self.documents)

    def check(self, ctx: QueryContext) -> None:
        self.reach(ctx).check(ctx)

    def embedded(self, g: Any, ctx: QueryContext) -> list[Reached]:
        return self.reach(ctx).embedded(g, ctx)

    def run_cypher(self, run_read: RunRead, ctx: QueryContext) -> list[Reached]:
        return self.reach(ctx).run_cypher(run_read, ctx)


@dataclass(frozen=True)
class Descendants(_Hierarchy):
    """What a twin contains, directly or not, with depth; ``include_self`` gives the subtree."""

    twin_id: str
    max_depth: int | None = None
    filter: TwinFilter = field(default_factory=TwinFilter)
    include_self: bool = False
    documents: bool = False  # see Reach.documents


@dataclass(frozen=True)
class Ancestors(_Hierarchy):
    """What contains a twin, nearest first."""

    twin_id: str
    max_depth: int | None = None
    filter: TwinFilter = field(default_factory=TwinFilter)
    include_self: bool = False
    upward: bool = True
    documents: bool = False  # see Reach.documents


@dataclass(frozen=True)
class NearestAncestor(Operation[Reached | None]):
    """The closest container of the given model (or its descendants); ties by id."""

    twin_id: str
    model: str

    def _ancestors(self) -> Ancestors:
        return Ancestors(self.twin_id, filter=TwinFilter(model=self.model))

    def embedded(self, g: Any, ctx: QueryContext) -> Reached | None:
        found = self._ancestors().embedded(g, ctx)
        return found[0] if found else None

    def run_cypher(self, run_read: RunRead, ctx: QueryContext) -> Reached | None:
        found = self._ancestors().run_cypher(run_read, ctx)
        return found[0] if found else None


@dataclass(frozen=True)
class Siblings(Operation[list[str]]):
    """Twins sharing a direct container with this one (not itself), sorted by id."""

    twin_id: str
    filter: TwinFilter = field(default_factory=TwinFilter)

    def embedded(self, g: Any, ctx: QueryContext) -> list[str]:
        nx_require(g, self.twin_id)
        match = self.filter.matcher(ctx.registry)
        down = down_steps(ctx.containment)
        parents = {p for _, p in nx_hops(g, self.twin_id, up_steps(ctx.containment))}
        found = {c for p in parents for _, c in nx_hops(g, p, down)}
        found.discard(self.twin_id)
        return sorted(t for t in found if match(t, g.nodes[t]))

    def cypher(self, ctx: QueryContext) -> tuple[str, dict[str, Any]]:
        q = CypherBuilder()
        up, up_cond = cypher_hop(up_steps(ctx.containment), q, "r1", "x")
        down, down_cond = cypher_hop(down_steps(ctx.containment), q, "r2", "p")
        conds = [c for c in (up_cond, down_cond) if c]
        conds += ["s <> x", *self.filter.cypher("s", q, ctx.registry)]
        text = (
            f"{start_match(q, self.twin_id)}\n"
            f"OPTIONAL MATCH (x){up}(p:{TWIN_LABEL}){down}(s:{TWIN_LABEL}) "
            f"{where_clause(conds)}\n"
            f"RETURN count(*) AS n, collect(DISTINCT s.{NODE_ID}) AS ids"  # one row
        )
        return text, q.params

    def from_rows(self, rows: Sequence[Mapping[str, Any]], ctx: QueryContext) -> list[str]:
        if not rows or not rows[0]["n"]:
            raise NotFoundError(f"twin {self.twin_id!r} does not exist")
        return sorted(rows[0]["ids"])
