"""How twins are laid out in each backend: the names the query layer relies on.

Kept in one place so that ``queries/`` (which reads the backends directly, in
Cypher or over networkx) and ``graph/`` (which writes them) cannot drift.

DTDL names match ``^[a-zA-Z](?:[a-zA-Z0-9_]*[a-zA-Z0-9])?$``, so system keys that
start with ``$`` never collide with a user property.  They follow Azure Digital
Twins' conventions (``$dtId``, ``$etag``, ``$metadata``), which users already know.

Neo4j
-----
- Twin node: label ``Twin`` plus one readable label per model in its
  inheritance chain (see ``graph.neo4j`` for the collision-free naming);
  ``$dtId`` (unique constraint), ``$model``, ``$etag``, ``$metadata`` (JSON text:
  name -> ``"<lastUpdateTime> <source>"``, ``graph.meta``'s packed strings);
  each property whose value Neo4j holds natively (bool, int, float, str, or a
  list of one of those) under its own name; other values (objects, maps,
  components, mixed lists) as JSON text under their own name, with their names
  listed in ``$json``.
- Relationship: type = the DTDL relationship name; ``$relId``, ``$etag``, and
  its properties laid out like a twin's.
- Model node: label ``DtdlModel``; ``id``, ``document`` (JSON), ``uploadTime``,
  ``decommissioned``.
- Dead letters (``graph.deadletters``): label ``DeadLetter`` and one
  ``DeadLetterSequence`` node; never a ``Twin`` label, so twin queries must
  keep matching on ``Twin``.

Embedded (networkx.MultiDiGraph)
--------------------------------
- Node key = twin id; attributes ``model`` (str), ``props`` (dict), ``etag``,
  ``meta`` (dict name -> packed ``"<time> <source>"`` string, see
  ``graph.meta``: a dict of strings, which the cyclic GC does not track).
- Edge key = relationship id; attributes ``name``, ``props`` (dict), ``etag``.
"""

from __future__ import annotations

__all__ = [
    "MODEL_LABEL",
    "NX_ETAG",
    "NX_META",
    "NX_MODEL",
    "NX_NAME",
    "NX_PROPS",
    "N_ETAG",
    "N_ID",
    "N_JSON",
    "N_METADATA",
    "N_MODEL",
    "R_ETAG",
    "R_ID",
    "TWIN_LABEL",
]

TWIN_LABEL = "Twin"
MODEL_LABEL = "DtdlModel"
N_ID = "$dtId"
N_MODEL = "$model"
N_ETAG = "$etag"
N_METADATA = "$metadata"
N_JSON = "$json"
R_ID = "$relId"
R_ETAG = "$etag"

NX_MODEL = "model"
NX_PROPS = "props"
NX_ETAG = "etag"
NX_META = "meta"
NX_NAME = "name"
