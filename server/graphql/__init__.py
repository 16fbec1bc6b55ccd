"""GraphQL over HTTP and WebSocket (graphql-transport-ws), with GraphiQL.

``create_graphql_router(store, auth=...)`` returns a FastAPI router whose
routes sit at its root: the server includes it with ``prefix="/graphql"``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
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
        size = connection.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > limits.max_request_bytes:
            raise HTTPException(
                413, f"request body of {size} bytes is over the limit max_request_bytes="
                     f"{limits.max_request_bytes}")
        principal: Principal | None = None
        try:
            principal = auth.authenticate_headers(connection.headers)
        except AuthError:
            principal = None  # refused by RoleGate, or resolved from connection_init on WS
        return GraphQLContext(store=store, engine=engine, auth=auth, limits=limits,
                              principal=principal)

    router: GraphQLRouter[Any, Any] = _Router(
        schema,  # type: ignore[arg-type]  # duck-types strawberry.Schema
        context_getter=context_getter,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        graphql_ide="graphiql",
    )
    add_asset_route(router)
    return router


class _Router(GraphQLRouter[Any, Any]):
    """Strawberry's router, with a GraphiQL page whose scripts GraphTwin serves itself."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_page(request.url.path))
