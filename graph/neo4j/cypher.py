"""The Cypher the Neo4j store runs (layout: ``graph.layout``).

User values only ever travel as parameters; the only names spliced in are labels and
relationship types, checked against ``[A-Za-z][A-Za-z0-9_]*`` and backtick-quoted.

Every lookup of a twin by id forces a seek of the unique constraint's index
(``USING INDEX SEEK``): a plan is made once and cached, and one made while the index
statistics still said "empty" (a fresh database, right after a bulk load) scans the
whole index for every row instead: seen on the relationship read, 1,000 keys x 20,000
twins = 20 million rows, 13 s for a batch that otherwise takes 10 ms.  A plain
``USING INDEX`` hint allows that scan.

The bulk writes (new twins, new relationships, ingestion's updates) take their rows as
columns (``graph.neo4j.columns``); the other writes, and the rows that do not fit the
columns, take them as lists, not maps (``row[0]``...), which pack about a third faster
(no key strings).  Each statement's row layout is documented beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.layout import MODEL_LABEL, N_ETAG, N_ID, N_MODEL, R_ID, TWIN_LABEL
from graph.neo4j.columns import Columns
from graph.neo4j.labels import check_identifier

__all__ = [
    "DEL_MODELS",
    "DEL_RELS",
    "DEL_TWINS",
    "ITER_TWINS",
    "LOAD_MODELS",
    "MERGE_PROPS",
    "MODEL_USE",
    "PUT_MODELS",
    "READ_IN",
    "READ_OUT",
    "READ_RELS",
    "READ_TWINS",
    "SCHEMA",
    "TWIN_MODELS",
    "UPDATE_TWINS",
    "create_rels_columns",
    "create_twins_columns",
    "merge_props_columns",
    "put_rels",
    "put_twins",
]

# Quoted names from graph.layout, to keep the Cypher below readable.
_ID, _MOD, _RID, _T, _M = f"`{N_ID}`", f"`{N_MODEL}`", f"`{R_ID}`", TWIN_LABEL, MODEL_LABEL
_ETAG = f"`{N_ETAG}`"
_RETURN_REL = f"RETURN a.{_ID} AS s, b.{_ID} AS t, type(r) AS name, properties(r) AS p"


def _seek(var: str) -> str:
    """The index hint for twin ``var`` matched by ``$dtId`` (see the module docstring)."""
    return f"USING INDEX SEEK {var}:{_T}({_ID})"


SCHEMA = (
    f"CREATE CONSTRAINT graphtwin_twin_id IF NOT EXISTS FOR (n:{_T}) REQUIRE n.{_ID} IS UNIQUE",
    f"CREATE CONSTRAINT graphtwin_model_id IF NOT EXISTS FOR (m:{_M}) REQUIRE m.id IS UNIQUE",
    f"CREATE INDEX graphtwin_twin_model IF NOT EXISTS FOR (n:{_T}) ON (n.{_MOD})",
)
LOAD_MODELS = (
    f"MATCH (m:{_M}) RETURN m.id AS id, m.document AS d, "
    "m.uploadTime AS u, m.decommissioned AS x, m.label AS l ORDER BY m.uploadTime"
)
_TWIN = f"(n:{_T} {{{_ID}: id}}) {_seek('n')}"
READ_TWINS = f"UNWIND $ids AS id MATCH {_TWIN} RETURN properties(n) AS p"
READ_RELS = (
    f"UNWIND $keys AS k MATCH (a:{_T} {{{_ID}: k[0]}})-[r]->(b:{_T}) {_seek('a')} "
    f"WHERE r.{_RID} = k[1] {_RETURN_REL}"
)
READ_OUT = (
    f"MATCH (a:{_T} {{{_ID}: $id}})-[r]->(b:{_T}) {_seek('a')} "
    f"WHERE $name IS NULL OR type(r) = $name {_RETURN_REL} ORDER BY r.{_RID}"
)
READ_IN = (
    f"MATCH (a:{_T})-[r]->(b:{_T} {{{_ID}: $id}}) {_seek('b')} "
    f"WHERE $name IS NULL OR type(r) = $name {_RETURN_REL} ORDER BY a.{_ID}, r.{_RID}"
)
ITER_TWINS = (
    f"MATCH (n:{_T}) WHERE $models IS NULL OR n.{_MOD} IN $models RETURN properties(n) AS p"
)
TWIN_MODELS = f"UNWIND $ids AS id MATCH {_TWIN} RETURN id, n.{_MOD} AS m"
MODEL_USE = f"UNWIND $ids AS id MATCH (n:{_T} {{{_MOD}: id}}) RETURN id, count(n) AS c"
PUT_MODELS = (
    f"UNWIND $rows AS row MERGE (m:{_M} {{id: row.id}}) SET m.document = row.document, "
    "m.uploadTime = row.uploadTime, m.decommissioned = row.decommissioned, m.label = row.label"
)
DEL_MODELS = f"UNWIND $ids AS id MATCH (m:{_M} {{id: id}}) DELETE m"
DEL_RELS = (
    f"UNWIND $keys AS k MATCH (a:{_T} {{{_ID}: k[0]}})-[r]->() {_seek('a')} "
    f"WHERE r.{_RID} = k[1] DELETE r"
)
DEL_TWINS = f"UNWIND $ids AS id MATCH {_TWIN} DETACH DELETE n"
# Rows [properties, expected ETag or null]: whole twins, if their ETag is as read.
UPDATE_TWINS = (
    f"UNWIND $rows AS row WITH row, row[0].{_ID} AS id MATCH {_TWIN} "
    f"WHERE row[1] IS NULL OR n.{_ETAG} = row[1] SET n = row[0] RETURN count(n) AS c"
)
# Ingestion. Rows [id, expected ETag, changed properties (with `$json` when the list of
# JSON-stored names changed) and the new `$etag` and `$metadata`]: only the changed
# properties, and only if the twin is as we last saw it.
MERGE_PROPS = (
    f"UNWIND $rows AS row WITH row, row[0] AS id MATCH {_TWIN} WHERE n.{_ETAG} = row[1] "
    "SET n += row[2] RETURN count(n) AS c"
)


def put_twins(add: Sequence[str], remove: Sequence[str], create: bool) -> str:
    """Rows [properties, expected ETag]: create twins (the id constraint refuses one that
    appeared meanwhile), or replace twins whose model changed if their ETag is still the
    expected one; and set their model labels (names checked: safe to splice)."""
    labels = _labels(add)
    if create:
        return f"UNWIND $rows AS row CREATE (n:{_T}) SET n = row[0] SET n{labels}"
    drop = f" REMOVE n{''.join(f':`{check_identifier(x)}`' for x in remove)}" if remove else ""
    return (
        f"UNWIND $rows AS row WITH row, row[0].{_ID} AS id MATCH {_TWIN} "
        f"WHERE n.{_ETAG} = row[1] SET n = row[0]{drop} SET n{labels} RETURN count(n) AS c"
    )


def put_rels(name: str, new: bool, guard: bool = False) -> str:
    """Rows [source id, target id, properties]: relationships named ``name``, CREATEd if
    ``new`` (read as absent: the caller checks the count created; with ``guard``, only
    where the source has no relationship of that id), else MERGEd, returning how many
    were written."""
    ends = (
        f"UNWIND $rows AS row MATCH (a:{_T} {{{_ID}: row[0]}}), (b:{_T} {{{_ID}: row[1]}}) "
        f"{_seek('a')} {_seek('b')} "
    )
    if new:  # no RETURN: counting rows made the statement ~20% slower than the summary
        where = _no_rel_with_id(f"row[2].{_RID}") if guard else ""
        return ends + where + f"CREATE (a)-[r:`{check_identifier(name)}`]->(b) SET r = row[2]"
    return (
        ends + f"MERGE (a)-[r:`{check_identifier(name)}` {{{_RID}: row[2].{_RID}}}]->(b) "
        "SET r = row[2] RETURN count(r) AS c"
    )


def _no_rel_with_id(rel_id: str) -> str:
    """The guard of a CREATE taken as new without a read: ``a`` has no relationship
    ``rel_id`` (of any name: ids are unique per source)."""
    return f"WHERE NOT EXISTS {{ MATCH (a)-[x]->() WHERE x.{_RID} = {rel_id} }} "


def _labels(labels: Sequence[str]) -> str:
    return "".join(f":`{check_identifier(x)}`" for x in labels)


def create_twins_columns(labels: Sequence[str], cols: Columns) -> str:
    """New twins with these model labels (the id constraint refuses one that appeared
    meanwhile), from columns that include ``$dtId``."""
    return f"UNWIND range(0, $n - 1) AS i CREATE (n:{_T}{_labels(labels)} {cols.map_text()})"


def create_rels_columns(name: str, cols: Columns, guard: bool = False) -> str:
    """New relationships named ``name`` from ``$s[i]`` to ``$t[i]`` (read as absent: the
    caller checks the count created; with ``guard`` only where the source has no
    relationship of that id)."""
    where = _no_rel_with_id(cols.exprs[cols.names.index(R_ID)]) if guard else ""
    return (
        f"UNWIND range(0, $n - 1) AS i "
        f"MATCH (a:{_T} {{{_ID}: $s[i]}}), (b:{_T} {{{_ID}: $t[i]}}) {_seek('a')} {_seek('b')} "
        f"{where}CREATE (a)-[r:`{check_identifier(name)}` {cols.map_text()}]->(b)"
    )


def merge_props_columns(cols: Columns) -> str:
    """Ingestion, like ``MERGE_PROPS``: twins ``$ids[i]``, if their ETag is still
    ``$expected[i]``, get the columns' values (changed properties, ``$etag``,
    ``$metadata``)."""
    return (
        f"UNWIND range(0, $n - 1) AS i WITH i, $ids[i] AS id MATCH {_TWIN} "
        f"WHERE n.{_ETAG} = $expected[i] SET {cols.set_text('n')} RETURN count(n) AS c"
    )
