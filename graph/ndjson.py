"""Export and import a whole store as NDJSON: one JSON object per line.

Lines, in the order import needs them: ``{"kind": "model", ...}`` (every model,
decommissioned flag included), then ``{"kind": "twin", ...}``, then
``{"kind": "relationship", ...}``.  Works over the ``TwinGraph`` interface, so
it also moves a graph between backends (embedded to Neo4j and back).  Import
writes through batch upsert with source ``import``: everything is validated
again, and per-property update times become the time of the import.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

import orjson

from graph.base import ItemResult, RelationshipUpsert, TwinGraph, TwinUpsert
from graph.errors import GraphError

__all__ = ["export_ndjson", "import_ndjson"]

_BATCH = 5000


def _ids_of(document: Any) -> set[Any]:
    """The ``@id``s a DTDL document defines at top level (an object or an array of them)."""
    elements = document if isinstance(document, list) else [document]
    return {e.get("@id") for e in elements if isinstance(e, dict)}


def export_ndjson(graph: TwinGraph, out: IO[bytes]) -> int:
    """Write every model, twin and relationship; returns the number of lines."""
    lines = 0
    for info in graph.list_models():
        row = {
            "kind": "model",
            "id": info.id,
            "document": info.document,
            "decommissioned": info.decommissioned,
        }
        out.write(orjson.dumps(row) + b"\n")
        lines += 1
    twin_ids = []
    for twin in graph.iter_twins():
        row = {"kind": "twin", "id": twin.id, "model": twin.model, "properties": twin.properties}
        out.write(orjson.dumps(row) + b"\n")
        twin_ids.append(twin.id)
        lines += 1
    for twin_id in twin_ids:
        for rel in graph.list_relationships(twin_id):
            rel_row: dict[str, Any] = {
                "kind": "relationship",
                "id": rel.id,
                "source": rel.source,
                "name": rel.name,
                "target": rel.target,
                "properties": rel.properties,
            }
            out.write(orjson.dumps(rel_row) + b"\n")
            lines += 1
    return lines


def import_ndjson(graph: TwinGraph, lines: Iterable[bytes | str]) -> list[ItemResult]:
    """Load an export into ``graph``; models all at once, then twins, then relationships.

    Returns the per-item results of twins and relationships; a bad line raises
    ``GraphError`` naming its line number.
    """
    models, decommissioned = [], []
    twins: list[TwinUpsert] = []
    rels: list[RelationshipUpsert] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
            kind = row["kind"]
            if kind == "model":
                models.append(row["document"])
                if row.get("decommissioned"):
                    decommissioned.append(row["id"])
            elif kind == "twin":
                twins.append(TwinUpsert(row["id"], row["model"], row["properties"]))
            elif kind == "relationship":
                rels.append(
                    RelationshipUpsert(
                        row["source"],
                        row["id"],
                        row["name"],
                        row["target"],
                        row.get("properties") or {},
                    )
                )
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise GraphError(f"NDJSON line {number}: {exc}") from exc
    known = {m.id for m in graph.list_models()}
    # Models already in the store are skipped, so a restore can be run again.
    new_models = [d for d in models if not _ids_of(d) or not _ids_of(d) <= known]
    if new_models:
        graph.add_models(new_models)
    results: list[ItemResult] = []
    for i in range(0, len(twins), _BATCH):
        results += graph.upsert_batch(twins[i : i + _BATCH])
    for i in range(0, len(rels), _BATCH):
        results += graph.upsert_batch((), rels[i : i + _BATCH])
    for dtmi in decommissioned:  # after the twins: a decommissioned model takes no new twins
        graph.decommission_model(dtmi)
    return results
