"""GraphQL errors with stable ``extensions.code`` values.

Resolvers raise the store's own errors (``graph.errors``), the query layer's
``QueryError`` or the auth errors; this extension stamps each GraphQL error
with the code of the exception behind it, so clients branch on
``extensions.code`` rather than on message text.  Anything unexpected is
masked as ``INTERNAL`` (the schema logs it) so internals never leak to clients.
"""

from __future__ import annotations

from typing import Any

from graphql.error import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from graph.errors import GraphError, ModelError, NotFoundError, ValidationError

__all__ = [
    "ApiError",
    "ErrorCodes",
    "UnreadTwinMissing",
    "error_extensions",
    "stamp_request_error",
]

class ApiError(Exception):
    """An error raised by the API layer itself, with its code and optional details."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


class UnreadTwinMissing(NotFoundError):
    """A walk below ``twin(id)`` found that the twin does not exist.

    ``twin(id)`` skips reading a twin whose selection is only its id and walks
    (each walk checks that its start exists, in its own transaction).  The walk
    raises this; its list field is non-null, so the null reaches ``twin``, and
    ``ErrorCodes`` drops the error: the answer is ``twin: null`` with no error,
    as when the twin is read first.
    """


def _dtdl_error_details(err: object) -> dict[str, Any]:
    location = getattr(err, "location", None)
    out: dict[str, Any] = {
        "code": getattr(err, "code", None),
        "message": getattr(err, "message", str(err)),
        "hint": getattr(err, "hint", None),
        "dtmi": getattr(err, "dtmi", None),
        "file": getattr(location, "file", None),
        "line": getattr(location, "line", None),
        "column": getattr(location, "column", None),
    }
    return out


def error_extensions(exc: BaseException) -> dict[str, Any] | None:
    """``extensions`` for an exception we know, or None for an unexpected one."""
    code = getattr(exc, "code", None)
    if isinstance(exc, ModelError):
        return {"code": exc.code, "errors": [_dtdl_error_details(e) for e in exc.errors]}
    if isinstance(exc, ValidationError):
        problems = [{"path": p.path, "message": p.message, "code": p.code} for p in exc.problems]
        return {"code": exc.code, "problems": problems}
    if isinstance(exc, ApiError):
        return {"code": exc.code, **exc.details}
    if isinstance(exc, GraphError) or isinstance(code, str):
        return {"code": code}
    return None


def stamp_request_error(error: GraphQLError) -> None:
    """Give a syntax or validation error from graphql-core its ``extensions.code``.

    Syntax errors are ``GRAPHQL_PARSE_FAILED`` (the document could not be read),
    everything else graphql-core refuses before running is
    ``GRAPHQL_VALIDATION_FAILED`` (the names Apollo Server uses)."""
    if error.extensions and "code" in error.extensions:
        return
    code = ("GRAPHQL_PARSE_FAILED" if isinstance(error, GraphQLSyntaxError)
            else "GRAPHQL_VALIDATION_FAILED")
    error.extensions = {**(error.extensions or {}), "code": code}


class ErrorCodes(MaskErrors):
    """Adds ``extensions.code`` to every error; masks the unexpected ones."""

    def __init__(self) -> None:
        super().__init__(error_message="internal error")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out: list[GraphQLError] = []
        for error in errors:
            original = error.original_error
            if isinstance(original, UnreadTwinMissing):  # an answer (twin: null), not an error
                continue
            if original is None:  # syntax, validation and limit errors from graphql-core
                stamp_request_error(error)
                out.append(error)
                continue
            ext = error_extensions(original)
            if ext is None:  # logged with its traceback by the schema's process_errors
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL"}
                out.append(masked)
            else:
                error.extensions = {**(error.extensions or {}), **ext}
                out.append(error)
        return out

    def _process_result(self, result: object) -> None:
        super()._process_result(result)
        if getattr(result, "errors", None) == []:  # only UnreadTwinMissing: no "errors" key
            result.errors = None  # type: ignore[attr-defined]
