"""The read side: traversals, the containment hierarchy, aggregation and search.

Each operation is defined once with an embedded (networkx) form and a Cypher
form; :class:`QueryEngine` runs it on whichever store it is given.
"""

from queries.aggregate import Aggregate, Group
from queries.base import Containment, Operation, QueryContext, QueryEngine
from queries.hierarchy import Ancestors, Descendants, NearestAncestor, Siblings
from queries.search import Page, Search
from queries.spec import Predicate, QueryError, TwinFilter
from queries.traversal import (
    Hop,
    Neighbor,
    NeighborRow,
    NeighborRows,
    Neighbors,
    Path,
    Paths,
    Reach,
    Reached,
    ShortestPath,
    Step,
    make_steps,
)

__all__ = [
    "Aggregate",
    "Ancestors",
    "Containment",
    "Descendants",
    "Group",
    "Hop",
    "NearestAncestor",
    "Neighbor",
    "NeighborRow",
    "NeighborRows",
    "Neighbors",
    "Operation",
    "Page",
    "Path",
    "Paths",
    "Predicate",
    "QueryContext",
    "QueryEngine",
    "QueryError",
    "Reach",
    "Reached",
    "Search",
    "ShortestPath",
    "Siblings",
    "Step",
    "TwinFilter",
    "make_steps",
]
