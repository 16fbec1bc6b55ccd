"""Authentication and roles for the HTTP and WebSocket APIs.

Callers present a secret either as ``Authorization: Bearer <token>`` or as
``X-API-Key: <key>``; both are looked up in the same table, so an API key and
a bearer token are the same thing to the server.  Each secret maps to a named
principal with one role:

- ``reader``: queries and subscriptions;
- ``writer``: reader, plus twin and relationship mutations;
- ``admin``: writer, plus models, keys and configuration.

The keys file (YAML or JSON) is documented in docs/graphql.md::

    keys:
      - name: dashboard
        role: reader
        sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
      - name: ops
        role: admin
        key: "a-long-random-secret"     # plain secrets are accepted, hashes preferred

Only SHA-256 digests are kept in memory.  Without a keys file every request
is refused, unless the server runs in the explicit open demo mode
(:meth:`Authenticator.open_mode`), where everyone is an anonymous admin.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml

__all__ = [
    "ROLES",
    "AuthError",
    "Authenticator",
    "ForbiddenError",
    "Principal",
    "Role",
    "UnauthenticatedError",
]

Role = Literal["reader", "writer", "admin"]
ROLES: tuple[Role, ...] = ("reader", "writer", "admin")  # each includes the ones before it


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(needed)


class AuthError(Exception):
    code = "UNAUTHENTICATED"
    status = 401


class UnauthenticatedError(AuthError):
    """No credentials, or credentials that match no key."""


class ForbiddenError(AuthError):
    """A known principal whose role does not allow the operation."""

    code = "FORBIDDEN"
    status = 403


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Authenticator:
    """Maps presented secrets to principals; see the module docstring."""

    def __init__(self, principals: Mapping[str, Principal], *, open_mode: bool = False) -> None:
        # Keyed by the SHA-256 hex digest of the secret.
        self._by_digest = dict(principals)
        self.is_open = open_mode

    @classmethod
    def open_mode(cls) -> Authenticator:
        """The explicit demo mode: every request, even without credentials, is an admin."""
        return cls({}, open_mode=True)

    @classmethod
    def from_keys(cls, keys: Mapping[str, tuple[str, Role]]) -> Authenticator:
        """From plain secrets: ``{secret: (name, role)}`` (handy for tests and embedding)."""
        return cls({_digest(s): Principal(n, r) for s, (n, r) in keys.items()})

    @classmethod
    def from_file(cls, path: str | Path) -> Authenticator:
        """Load the keys file; a malformed file raises ``ValueError`` naming the entry."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        entries = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f"{path}: expected a top-level 'keys' list")
        principals: dict[str, Principal] = {}
        for index, entry in enumerate(entries):
            where = f"{path}: keys[{index}]"
            if not isinstance(entry, dict):
                raise ValueError(f"{where}: expected a mapping with name, role and key or sha256")
            role = entry.get("role")
            if role not in ROLES:
                raise ValueError(f"{where}: role must be one of {', '.join(ROLES)}, got {role!r}")
            name = str(entry.get("name") or f"key{index}")
            if isinstance(entry.get("sha256"), str):
                digest = entry["sha256"].strip().lower()
                if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                    raise ValueError(f"{where}: sha256 must be 64 hex digits")
            elif isinstance(entry.get("key"), str) and entry["key"]:
                digest = _digest(entry["key"])
            else:
                raise ValueError(f"{where}: needs 'sha256' (preferred) or 'key'")
            if digest in principals:
                raise ValueError(f"{where}: the same secret is listed twice")
            principals[digest] = Principal(name, cast(Role, role))
        return cls(principals)

    @staticmethod
    def secret_from_headers(headers: Mapping[str, str]) -> str | None:
        """The presented secret: a bearer token or an ``X-API-Key`` header, else None."""
        auth = headers.get("authorization") or headers.get("Authorization")
        if auth:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        key = headers.get("x-api-key") or headers.get("X-API-Key")
        return key.strip() if key and key.strip() else None

    def authenticate(self, secret: str | None) -> Principal:
        """The principal for ``secret``; raises ``UnauthenticatedError`` unless open mode."""
        if secret is not None:
            principal = self._by_digest.get(_digest(secret))
            if principal is not None:
                return principal
            if not self.is_open:
                raise UnauthenticatedError("the API key or bearer token is not recognised")
        if self.is_open:
            return Principal("anonymous", "admin")
        raise UnauthenticatedError(
            "authentication required: send 'Authorization: Bearer <token>' or 'X-API-Key: <key>'"
        )

    def authenticate_headers(self, headers: Mapping[str, str]) -> Principal:
        return self.authenticate(self.secret_from_headers(headers))

    @staticmethod
    def require(principal: Principal, role: Role, action: str) -> None:
        """Raise ``ForbiddenError`` unless ``principal`` has at least ``role``."""
        if not principal.can(role):
            raise ForbiddenError(
                f"{action} needs the {role} role; {principal.name!r} has {principal.role}"
            )
