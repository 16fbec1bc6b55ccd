"""The store's own exception tree.

Backends map driver and database exceptions into these at the boundary and
raise them ``from exc``, so callers (GraphQL, REST, ingestion) handle one tree
whatever the store.  Every error has a stable ``code`` that the API layers pass
through (GraphQL ``extensions.code``, REST ``error.code``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ConflictError",
    "GraphError",
    "InUseError",
    "InvalidPatchError",
    "ModelError",
    "NotFoundError",
    "PreconditionFailedError",
    "StoreUnavailableError",
    "ValidationError",
    "ValidationProblem",
]


class GraphError(Exception):
    """Base of every error the twin graph store raises."""

    code = "GRAPH_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(GraphError):
    """A twin, relationship or model that does not exist."""

    code = "NOT_FOUND"


class ConflictError(GraphError):
    """The id already exists (create without replace)."""

    code = "CONFLICT"


class PreconditionFailedError(GraphError):
    """``If-Match`` did not match the current ETag."""

    code = "PRECONDITION_FAILED"


class InUseError(GraphError):
    """Deleting something others still depend on: names what depends on it."""

    code = "IN_USE"


class InvalidPatchError(GraphError):
    """A JSON Patch that is malformed or cannot apply (RFC 6902)."""

    code = "INVALID_PATCH"


@dataclass(frozen=True, slots=True)
class ValidationProblem:
    """One reason a write was refused: a JSON pointer into the written value and why."""

    path: str
    message: str
    code: str = "INVALID_VALUE"


class ValidationError(GraphError):
    """A write refused by the DTDL model; ``problems`` says where and why."""

    code = "VALIDATION_FAILED"

    def __init__(self, message: str, problems: Sequence[ValidationProblem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class ModelError(GraphError):
    """A model batch refused by the DTDL parser; ``errors`` are the parser's errors."""

    code = "MODEL_INVALID"

    def __init__(self, message: str, errors: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.errors = tuple(errors)


class StoreUnavailableError(GraphError):
    """The backend cannot be reached; the operation may be retried later."""

    code = "STORE_UNAVAILABLE"
