"""Per-request GraphQL context: the store, the query engine, the caller and the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.fastapi import BaseContext

from graph.base import TwinGraph
from queries import QueryEngine
from server.auth import Authenticator, Principal, Role, UnauthenticatedError
from server.graphql.limits import Limits

__all__ = ["GraphQLContext"]


@dataclass
class GraphQLContext(BaseContext):
    store: TwinGraph
    engine: QueryEngine
    auth: Authenticator
    limits: Limits
    # None on a WebSocket until ``connection_init`` has been checked.
    principal: Principal | None = None
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()
        # The in-memory store answers in microseconds: call it inline.  Any other
        # store is called from a worker thread so it never blocks the event loop.
        self.inline_store = hasattr(self.store, "read_view")

    def require(self, role: Role, action: str) -> Principal:
        """The caller, checked to hold ``role``; raises the auth errors otherwise."""
        principal = self.principal
        if principal is None:
            params = self.connection_params if isinstance(self.connection_params, dict) else {}
            secret = params.get("authorization") or params.get("Authorization")
            if isinstance(secret, str) and secret.lower().startswith("bearer "):
                secret = secret[7:]
            secret = secret or params.get("apiKey") or params.get("x-api-key")
            principal = self.auth.authenticate(secret if isinstance(secret, str) else None)
            self.principal = principal
        if principal is None:  # pragma: no cover - authenticate raises instead
            raise UnauthenticatedError("authentication required")
        self.auth.require(principal, role, action)
        return principal
