"""What one store operation changes: the unit a backend commits atomically."""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.base import ModelInfo, Relationship, Twin

__all__ = ["StaleReadError", "WriteSet"]


@dataclass(slots=True)
class WriteSet:
    """Everything one operation changes, committed by the backend in one transaction."""

    twins: list[Twin] = field(default_factory=list)  # new, or model changed: full write
    twin_updates: list[Twin] = field(default_factory=list)  # same model: properties only
    # Replaced twins whose model changed: their old model (Neo4j drops its labels).
    previous_models: dict[str, str] = field(default_factory=dict)
    twin_deletes: list[str] = field(default_factory=list)  # relationships go with them
    rels: list[Relationship] = field(default_factory=list)
    # (source, id) of those ``rels`` read as absent just before: Neo4j CREATEs them
    # (no existence check) and counts what it created; the others are MERGEd.
    new_rels: set[tuple[str, str]] = field(default_factory=set)
    rel_deletes: list[Relationship] = field(default_factory=list)
    models: list[ModelInfo] = field(default_factory=list)
    model_deletes: list[str] = field(default_factory=list)
    # The ETag each replaced or updated twin had when read: a backend shared with other
    # processes (Neo4j) writes only if it still matches, else raises StaleReadError.
    expected_etags: dict[str, str] = field(default_factory=dict)
    # Set by the ingestion path only: the names each twin update changed.
    changed_names: dict[str, set[str]] = field(default_factory=dict)
    # Built without reading what exists (``graph.batch.upsert_batch``): every twin and
    # relationship is taken as new, and a backend that finds one existing must raise
    # StaleReadError rather than overwrite or duplicate it.
    assumed_new: bool = False


class StaleReadError(Exception):
    """A backend's cached twin no longer matched the store; the engine reads again."""
