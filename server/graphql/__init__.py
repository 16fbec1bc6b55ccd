"""GraphQL over HTTP and WebSocket (graphql-transport-ws), with GraphiQL.

``create_graphql_router(store, auth=...)`` returns a FastAPI router whose
routes sit at its root: the server includes it with ``prefix="/graphql"``.

Every refusal over HTTP, including those before any GraphQL runs (body over
``max_request_bytes``, body that is not JSON), has the GraphQL error shape
``{"errors": [{"message", "extensions": {"code"}}]}`` with its HTTP status.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graph.base import TwinGraph
from queries import Containment, QueryEngine
from server.auth import Authenticator, AuthError, Principal
from server.graphql.context import GraphQLContext
from server.graphql.graphiql import add_asset_route, graphiql_page
from server.graphql.limits import Limits
from server.graphql.schema import LiveSchema

__all__ = ["Containment", "GraphQLContext", "Limits", "create_graphql_router"]


def create_graphql_router(
    store: TwinGraph,
    *,
    auth: Authenticator,
    limits: Limits | None = None,
    containment: Containment | None = None,
) -> APIRouter:
    """The GraphQL router; ``containment`` overrides which relationship names form the
    hierarchy (default ``contains``/``hasPart`` down, ``isPartOf``/``isLocatedIn`` up)."""
    limits = limits or Limits()
    engine = QueryEngine(store, max_depth=limits.max_traversal_depth, max_paths=limits.max_paths,
                         containment=containment)
    schema = LiveSchema(store, limits)

    async def context_getter(connection: HTTPConnection) -> GraphQLContext:
        principal: Principal | None = None
        try:
            principal = auth.authenticate_headers(connection.headers)
        except AuthError:
            principal = None  # refused by RoleGate, or resolved from connection_init on WS
        return GraphQLContext(store=store, engine=engine, auth=auth, limits=limits,
                              principal=principal)

    router: GraphQLRouter[Any, Any] = _Router(
        schema,  # duck-types strawberry.Schema
        context_getter=context_getter,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        graphql_ide="graphiql",
        max_request_bytes=limits.max_request_bytes,
    )
    add_asset_route(router)
    return router


# What a refusal before GraphQL runs is called, by HTTP status.
_HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
               413: "TOO_LARGE"}
_DESCRIPTIONS = {
    "handle_http_get": ("GraphiQL page, or a GraphQL query in the URL (reader)",
                        "Without `query` a browser gets the GraphiQL IDE; with `query` "
                        "(and optional `variables`, `operationName`) a read-only operation "
                        "runs. See docs/graphql.md."),
    "handle_http_post": ("Run a GraphQL operation (JSON body: query, variables, operationName)",
                         "Queries need the reader role, twin and relationship mutations "
                         "writer, model mutations admin. Errors carry `extensions.code`. "
                         "See docs/graphql.md."),
}


def _refusal(status: int, message: str) -> JSONResponse:
    code = _HTTP_CODES.get(status, "BAD_REQUEST")
    return JSONResponse({"data": None,
                         "errors": [{"message": message, "extensions": {"code": code}}]}, status)


class _Router(GraphQLRouter[Any, Any]):
    """Strawberry's router, with a GraphiQL page whose scripts GraphTwin serves itself,
    orjson decoding (its depth limit turns a deeply nested body into a 400 where the
    standard library raised RecursionError, a 500), and refusals in GraphQL's shape."""

    def __init__(self, *args: Any, max_request_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_request_bytes = max_request_bytes
        for route in self.routes:  # the OpenAPI page shows these, not "Handle Http Post"
            if isinstance(route, APIRoute) and route.name in _DESCRIPTIONS:
                route.summary, route.description = _DESCRIPTIONS[route.name]
                route.tags = ["graphql"]

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_page(request.url.path))

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, f"the request body is not valid JSON: {exc}") from exc

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        if not isinstance(request, Request):  # a WebSocket: no body to check
            return await super().run(request, context=context, root_value=root_value)
        limit = self._max_request_bytes
        declared = request.headers.get("content-length")
        # Without a declared length (chunked), the body is read here; the view reuses it.
        size = int(declared) if declared and declared.isdigit() else len(await request.body())
        if size > limit:
            return _refusal(413, f"request body of {size} bytes is over the limit "
                                 f"max_request_bytes={limit}")
        try:
            response: Response = await super().run(request, context=context,
                                                   root_value=root_value)
        except HTTPException as exc:
            return _refusal(exc.status_code, exc.reason)
        return response
