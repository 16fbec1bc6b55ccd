"""Readable, collision-free Neo4j labels for DTDL models.

Rule (documented in docs/store.md): a model's label is the shortest suffix of
its DTMI path segments, each with its first letter capitalised and joined by
``_``, that no model with a *different* path already holds: the first
``dtmi:com:example:Room;1`` gets ``Room``; a later ``dtmi:org:acme:Room;1``
gets ``Acme_Room``.  Versions of one path share a label (``Room;1`` and
``Room;2`` are both ``Room``); queries that need one version use ``$model``.
A label, once given, is stored with the model and never changes, so labels on
existing nodes stay right as models are added.  Labels only ever contain
``[A-Za-z0-9_]`` and are checked again before use, so backtick-quoting them in
Cypher is safe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from graph.layout import MODEL_LABEL, TWIN_LABEL

__all__ = ["assign_label", "check_identifier", "dtmi_path"]

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED = {TWIN_LABEL, MODEL_LABEL}


def check_identifier(name: str) -> str:
    """``name`` if it can be a backtick-quoted label or type; else ``ValueError``."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a safe Neo4j label or relationship type")
    return name


def dtmi_path(dtmi: str) -> str:
    """``dtmi:com:example:Room;1`` -> ``dtmi:com:example:Room`` (the model without its version)."""
    return dtmi.split(";", 1)[0]


def assign_label(dtmi: str, taken: Mapping[str, str]) -> str:
    """The label for a new model; ``taken`` maps labels already given to their model paths."""
    path = dtmi_path(dtmi)
    segments = [s for s in path.split(":")[1:] if s]
    parts = [re.sub(r"[^A-Za-z0-9_]", "_", s) for s in segments]
    parts = [p[:1].upper() + p[1:] for p in parts if p]
    for k in range(1, len(parts) + 1):
        label = "_".join(parts[-k:])
        if not label[:1].isalpha():
            label = "M" + label
        if label not in _RESERVED and taken.get(label, path) == path:
            return check_identifier(label)
    n = 2
    base = "_".join(parts) or "Model"
    while f"{base}_{n}" in taken and taken[f"{base}_{n}"] != path:
        n += 1
    return check_identifier(f"{base}_{n}")
