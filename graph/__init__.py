"""The twin graph store: one interface (:class:`TwinGraph`), embedded and Neo4j backends."""

from typing import Any

from graph.base import (
    ChangeEvent,
    ItemResult,
    ModelInfo,
    PropertyMeta,
    PropertyUpdate,
    Relationship,
    RelationshipUpsert,
    Subscription,
    Twin,
    TwinGraph,
    TwinUpsert,
)
from graph.errors import (
    ConflictError,
    GraphError,
    InUseError,
    InvalidPatchError,
    ModelError,
    NotFoundError,
    PreconditionFailedError,
    StoreUnavailableError,
    ValidationError,
    ValidationProblem,
)

__all__ = [
    "ChangeEvent",
    "ConflictError",
    "GraphError",
    "InUseError",
    "InvalidPatchError",
    "ItemResult",
    "ModelError",
    "ModelInfo",
    "NotFoundError",
    "PreconditionFailedError",
    "PropertyMeta",
    "PropertyUpdate",
    "Relationship",
    "RelationshipUpsert",
    "StoreUnavailableError",
    "Subscription",
    "Twin",
    "TwinGraph",
    "TwinUpsert",
    "ValidationError",
    "ValidationProblem",
    "open_graph",
]


def open_graph(uri: str, **kw: Any) -> TwinGraph:
    """Open the store a URI names: ``embedded:/dir``, ``neo4j://`` or ``bolt://`` (``graph.uri``).

    Keyword arguments go to the backend (e.g. ``sync="full"`` for embedded,
    ``user``/``password``/``database`` for Neo4j, overriding the URI's).
    """
    from graph.uri import parse_store_uri

    parsed = parse_store_uri(uri)
    if parsed.backend == "embedded":
        from graph.embedded import EmbeddedGraph

        return EmbeddedGraph(parsed.path, uri=uri, **kw)
    from graph.neo4j import Neo4jGraph

    kw.setdefault("user", parsed.user)
    kw.setdefault("password", parsed.password)
    kw.setdefault("database", parsed.database)
    return Neo4jGraph(parsed.address, uri=uri, **kw)
