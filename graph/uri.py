"""Store URIs: ``embedded:/path/to/dir``, ``neo4j://user:pass@host:7687/db``, ``bolt://...``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["StoreUri", "parse_store_uri", "store_uri_from_arg"]

_NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


@dataclass(frozen=True, slots=True)
class StoreUri:
    backend: str  # "embedded" or "neo4j"
    path: str = ""  # embedded: the directory
    address: str = ""  # neo4j: the URI for the driver, without credentials or database
    user: str | None = None
    password: str | None = None
    database: str | None = None


def parse_store_uri(uri: str) -> StoreUri:
    """Split a store URI; ``ValueError`` says what is wrong with it."""
    if uri.startswith("embedded:"):
        path = uri[len("embedded:") :]
        if path.startswith("//"):  # embedded:///abs/dir
            path = path[2:]
        if not path:
            raise ValueError(
                f"store URI {uri!r}: embedded: needs a directory, e.g. embedded:/var/lib/graphtwin"
            )
        return StoreUri("embedded", path=unquote(path))
    parts = urlsplit(uri)
    if parts.scheme not in _NEO4J_SCHEMES:
        raise ValueError(
            f"store URI {uri!r}: scheme must be embedded:, neo4j:// or bolt:// (with +s/+ssc)"
        )
    if not parts.hostname:
        raise ValueError(f"store URI {uri!r}: no host")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if parts.port else ""
    database = parts.path.strip("/") or None
    return StoreUri(
        "neo4j",
        address=f"{parts.scheme}://{host}{port}",
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=unquote(database) if database else None,
    )


def store_uri_from_arg(store: str) -> str:
    """A ``--store`` value: a store URI as is, or a directory for the embedded store."""
    if store.startswith("embedded:") or store.split("://", 1)[0] in _NEO4J_SCHEMES:
        return store
    return f"embedded:{Path(store).expanduser().resolve()}"
