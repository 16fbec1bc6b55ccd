"""The Neo4j backend: the official driver, parameterised and batched (``UNWIND``) Cypher.

Layout: ``graph.layout``; labels: ``graph.neo4j.labels``; values: ``graph.neo4j.codec``.
Each write set is one write transaction, retried by the driver on transient
errors (``max_transaction_retry_time``).  User values only ever travel as
parameters; the only names spliced into Cypher are labels and relationship
types, which are checked against ``[A-Za-z][A-Za-z0-9_]*`` and backtick-quoted.
Driver exceptions become ``graph.errors`` at this boundary (``from exc``).

Writers are serialised inside one process (see ``graph.engine``); run one
GraphTwin server per database.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
from neo4j import GraphDatabase, ManagedTransaction
from neo4j import exceptions as nex

from graph.base import ModelInfo, Relationship, Twin
from graph.deadletters import Neo4jDeadLetterLog
from graph.engine import StaleReadError, StoreBase, WriteSet
from graph.errors import ConflictError, GraphError, NotFoundError, StoreUnavailableError
from graph.layout import (
    MODEL_LABEL,
    N_ETAG,
    N_ID,
    N_JSON,
    N_METADATA,
    N_MODEL,
    R_ID,
    TWIN_LABEL,
)
from graph.neo4j.codec import (
    encode_props,
    json_names,
    native,
    rel_from_row,
    rel_to_map,
    twin_from_map,
    twin_to_map,
)
from graph.neo4j.labels import assign_label, check_identifier, dtmi_path

__all__ = ["Neo4jGraph"]

_R = TypeVar("_R")
# What run_read_many hands its work: run_read's signature, inside one transaction.
_RunRead = Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]

# Quoted names from graph.layout, to keep the Cypher below readable.
_ID, _MOD, _RID, _T, _M = f"`{N_ID}`", f"`{N_MODEL}`", f"`{R_ID}`", TWIN_LABEL, MODEL_LABEL
_ETAG, _JSON, _META = f"`{N_ETAG}`", f"`{N_JSON}`", f"`{N_METADATA}`"
_RETURN_REL = f"RETURN a.{_ID} AS s, b.{_ID} AS t, type(r) AS name, properties(r) AS p"

_SCHEMA = (
    f"CREATE CONSTRAINT graphtwin_twin_id IF NOT EXISTS FOR (n:{_T}) REQUIRE n.{_ID} IS UNIQUE",
    f"CREATE CONSTRAINT graphtwin_model_id IF NOT EXISTS FOR (m:{_M}) REQUIRE m.id IS UNIQUE",
    f"CREATE INDEX graphtwin_twin_model IF NOT EXISTS FOR (n:{_T}) ON (n.{_MOD})",
)
_TWIN = f"(n:{_T} {{{_ID}: id}})"
_READ_TWINS = f"UNWIND $ids AS id MATCH {_TWIN} RETURN properties(n) AS p"
_READ_RELS = (
    f"UNWIND $keys AS k MATCH (a:{_T} {{{_ID}: k[0]}})-[r]->(b:{_T}) WHERE r.{_RID} = k[1] "
    + _RETURN_REL
)
_READ_OUT = (
    f"MATCH (a:{_T} {{{_ID}: $id}})-[r]->(b:{_T}) WHERE $name IS NULL OR type(r) = $name "
    f"{_RETURN_REL} ORDER BY r.{_RID}"
)
_READ_IN = (
    f"MATCH (a:{_T})-[r]->(b:{_T} {{{_ID}: $id}}) WHERE $name IS NULL OR type(r) = $name "
    f"{_RETURN_REL} ORDER BY a.{_ID}, r.{_RID}"
)
_ITER_TWINS = (
    f"MATCH (n:{_T}) WHERE $models IS NULL OR n.{_MOD} IN $models RETURN properties(n) AS p"
)
_TWIN_MODELS = f"UNWIND $ids AS id MATCH {_TWIN} RETURN id, n.{_MOD} AS m"
_MODEL_USE = f"UNWIND $ids AS id MATCH (n:{_T} {{{_MOD}: id}}) RETURN id, count(n) AS c"
_PUT_MODELS = (
    f"UNWIND $rows AS row MERGE (m:{_M} {{id: row.id}}) SET m.document = row.document, "
    "m.uploadTime = row.uploadTime, m.decommissioned = row.decommissioned, m.label = row.label"
)
_DEL_MODELS = f"UNWIND $ids AS id MATCH (m:{_M} {{id: id}}) DELETE m"
_DEL_RELS = (
    f"UNWIND $keys AS k MATCH (:{_T} {{{_ID}: k[0]}})-[r]->() WHERE r.{_RID} = k[1] DELETE r"
)
_DEL_TWINS = f"UNWIND $ids AS id MATCH {_TWIN} DETACH DELETE n"
_UPDATE_TWINS = (
    f"UNWIND $rows AS row WITH row, row.p.{_ID} AS id MATCH {_TWIN} "
    f"WHERE row.expected IS NULL OR n.{_ETAG} = row.expected SET n = row.p RETURN count(n) AS c"
)
# Ingestion: only the changed properties, and only if the twin is as we last saw it.
_MERGE_PROPS = (
    f"UNWIND $rows AS row WITH row, row.id AS id MATCH {_TWIN} WHERE n.{_ETAG} = row.expected "
    f"SET n += row.set, n.{_JSON} = coalesce(row.json, n.{_JSON}), n.{_ETAG} = row.etag, "
    f"n.{_META} = row.meta "
    "RETURN count(n) AS c"
)


def _put_twins(add: Sequence[str], remove: Sequence[str], create: bool) -> str:
    """Create twins (the id constraint refuses one that appeared meanwhile), or replace
    twins whose model changed if their ETag is still ``row.expected``; and set their model
    labels (names checked: safe to splice)."""
    labels = "".join(f":`{check_identifier(x)}`" for x in add)
    if create:
        return f"UNWIND $rows AS row CREATE (n:{_T}) SET n = row.p SET n{labels}"
    drop = f" REMOVE n{''.join(f':`{check_identifier(x)}`' for x in remove)}" if remove else ""
    return (
        f"UNWIND $rows AS row WITH row, row.p.{_ID} AS id MATCH {_TWIN} "
        f"WHERE n.{_ETAG} = row.expected SET n = row.p{drop} SET n{labels} RETURN count(n) AS c"
    )


def _put_rels(name: str, new: bool) -> str:
    """Relationships named ``name``: CREATEd if ``new`` (read as absent: the caller checks
    the count created), else MERGEd, returning how many were written."""
    ends = f"UNWIND $rows AS row MATCH (a:{_T} {{{_ID}: row.s}}), (b:{_T} {{{_ID}: row.t}}) "
    if new:  # no RETURN: counting rows made the statement ~20% slower than the summary
        return ends + f"CREATE (a)-[r:`{check_identifier(name)}`]->(b) SET r = row.p"
    return (
        ends + f"MERGE (a)-[r:`{check_identifier(name)}` {{{_RID}: row.p.{_RID}}}]->(b) "
        "SET r = row.p RETURN count(r) AS c"
    )


@contextmanager
def _mapped(what: str) -> Iterator[None]:
    """Driver exceptions to graph.errors (the retryable ones were already retried)."""
    try:
        yield
    except nex.ConstraintError as exc:
        raise ConflictError(f"{what}: {exc.message}") from exc
    except (
        nex.ServiceUnavailable,
        nex.SessionExpired,
        nex.TransientError,
        nex.DatabaseUnavailable,
    ) as exc:
        raise StoreUnavailableError(f"{what}: Neo4j unavailable: {exc}") from exc
    except (nex.AuthError, nex.Forbidden) as exc:
        raise StoreUnavailableError(f"{what}: Neo4j refused the credentials: {exc}") from exc
    except nex.Neo4jError as exc:
        raise GraphError(f"{what}: Neo4j error {exc.code}: {exc.message}") from exc
    except nex.DriverError as exc:
        raise StoreUnavailableError(f"{what}: Neo4j driver error: {exc}") from exc


class Neo4jGraph(StoreBase):
    def __init__(
        self,
        address: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        uri: str | None = None,
        batch_size: int = 10_000,
        max_retry_time: float = 15.0,
        cache_size: int = 200_000,
        **driver_config: Any,
    ) -> None:
        super().__init__(uri or address)
        auth = (user, password or "") if user else None
        self._database = database
        self._batch = batch_size
        # Twins last written or read by ingestion, oldest first: saves a read per update batch.
        # Only touched under the engine's write lock.
        self._cache: dict[str, Twin] = {}
        self._cache_size = cache_size
        self._dead_letters: Neo4jDeadLetterLog | None = None
        self._dead_letters_lock = threading.Lock()
        with _mapped(f"connecting to {address}"):
            self._driver = GraphDatabase.driver(
                address, auth=auth, max_transaction_retry_time=max_retry_time, **driver_config
            )
            for statement in _SCHEMA:
                self._driver.execute_query(statement, database_=database)
        rows = self.run_read(
            f"MATCH (m:{_M}) RETURN m.id AS id, m.document AS d, "
            "m.uploadTime AS u, m.decommissioned AS x, m.label AS l ORDER BY m.uploadTime",
            {},
        )
        self._label_of: dict[str, str] = {r["id"]: r["l"] for r in rows if r["l"]}
        self._load_models(
            ModelInfo(r["id"], orjson.loads(r["d"]), r["u"], bool(r["x"])) for r in rows
        )

    # ------------------------------------------------------------ plumbing
    def _read(self, what: str, work: Callable[[ManagedTransaction], _R]) -> _R:
        with _mapped(what), self._driver.session(database=self._database) as session:
            return session.execute_read(work)

    def run_read(self, cypher: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Parameterised Cypher in a read transaction (retried); records as ``record.data()``."""
        return self._read("read query", lambda tx: [r.data() for r in tx.run(cypher, dict(params))])

    def run_read_many(self, work: Callable[[_RunRead], _R]) -> _R:
        """``work(run_read)`` with every query it runs in one session and one read
        transaction (retried as a whole, so ``work`` must only read), mapped like
        ``run_read``: a walk of several queries pays for one transaction, not one each."""
        def in_transaction(tx: ManagedTransaction) -> _R:
            return work(lambda cypher, params: [r.data() for r in tx.run(cypher, dict(params))])

        return self._read("read queries", in_transaction)

    def run_write(self, cypher: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Parameterised Cypher in a write transaction (retried); for side data such as
        dead letters, never for twins (those go through the engine's write sets)."""
        with _mapped("write query"), self._driver.session(database=self._database) as session:
            return session.execute_write(
                lambda tx: [r.data() for r in tx.run(cypher, dict(params))]
            )

    @property
    def dead_letters(self) -> Neo4jDeadLetterLog:
        with self._dead_letters_lock:  # schema created on first use: most stores never need it
            if self._dead_letters is None:
                self._dead_letters = Neo4jDeadLetterLog(self.run_read, self.run_write)
            return self._dead_letters

    def _labels(self, model: str) -> list[str]:
        chain = [model, *sorted(self._registry.ancestors(model))]
        return [self._label_of[m] for m in chain if m in self._label_of]

    # ------------------------------------------------------------ primitives
    def _read_twins(self, twin_ids: Sequence[str]) -> dict[str, Twin]:
        rows = self._read("reading twins", lambda tx: list(tx.run(_READ_TWINS, ids=list(twin_ids))))
        return {t.id: t for t in (twin_from_map(r["p"]) for r in rows)}

    def _read_rels(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Relationship]:
        rows = self._read(
            "reading relationships",
            lambda tx: list(tx.run(_READ_RELS, keys=[list(k) for k in keys])),
        )
        return {
            (r["s"], r["p"][R_ID]): rel_from_row(r["s"], r["t"], r["name"], r["p"]) for r in rows
        }

    def _rels(self, query: str, twin_id: str, name: str | None) -> list[Relationship]:
        rows = self._read(
            "listing relationships", lambda tx: list(tx.run(query, id=twin_id, name=name))
        )
        return [rel_from_row(r["s"], r["t"], r["name"], r["p"]) for r in rows]

    def _read_out(self, source: str, name: str | None) -> list[Relationship]:
        return self._rels(_READ_OUT, source, name)

    def _read_in(self, target: str, name: str | None) -> list[Relationship]:
        return self._rels(_READ_IN, target, name)

    def _twin_models(self, ids: Iterable[str]) -> dict[str, str]:
        """Models of twins for relationship checks: from the cache of twins this process
        wrote (an import writes twins, then their relationships), the rest in one read.
        The relationship write counts what it matched, so a twin deleted meanwhile fails it."""
        cache = self._cache
        found = {i: cache[i].model for i in dict.fromkeys(ids) if i in cache}
        wanted = [i for i in dict.fromkeys(ids) if i not in found]
        if wanted:
            rows = self._read(
                "reading twin models", lambda tx: list(tx.run(_TWIN_MODELS, ids=wanted))
            )
            found.update((r["id"], r["m"]) for r in rows)
        return found

    def _models_in_use(self, dtmis: Sequence[str]) -> dict[str, int]:
        rows = self._read("counting twins", lambda tx: list(tx.run(_MODEL_USE, ids=list(dtmis))))
        return {r["id"]: r["c"] for r in rows}

    def _commit(self, ws: WriteSet) -> None:
        labels = dict(self._label_of)
        for info in ws.models:
            if info.id not in labels:
                taken = {lbl: dtmi_path(m) for m, lbl in labels.items()}
                labels[info.id] = assign_label(info.id, taken)
        statements: list[tuple[str, dict[str, Any]]] = []
        if ws.model_deletes:
            statements.append((_DEL_MODELS, {"ids": ws.model_deletes}))
        if ws.models:
            rows = [
                {
                    "id": m.id,
                    "document": orjson.dumps(m.document).decode(),
                    "uploadTime": m.upload_time,
                    "decommissioned": m.decommissioned,
                    "label": labels[m.id],
                }
                for m in ws.models
            ]
            statements.append((_PUT_MODELS, {"rows": rows}))
        if ws.rel_deletes:
            statements.append((_DEL_RELS, {"keys": [[r.source, r.id] for r in ws.rel_deletes]}))
        if ws.twin_deletes:
            statements.append((_DEL_TWINS, {"ids": ws.twin_deletes}))
        self._twin_statements(ws.twins, ws.previous_models, ws.expected_etags, statements)
        self._update_statements(ws, statements)
        by_name: dict[tuple[str, bool], list[dict[str, Any]]] = defaultdict(list)
        for r in ws.rels:
            row = {"s": r.source, "t": r.target, "p": rel_to_map(r)}
            by_name[(r.name, (r.source, r.id) in ws.new_rels)].append(row)
        for (name, new), rows in by_name.items():
            for i in range(0, len(rows), self._batch):
                statements.append((_put_rels(name, new), {"rows": rows[i : i + self._batch]}))

        def work(tx: ManagedTransaction) -> None:
            for query, params in statements:
                if "CREATE (a)-[r:" in query:  # new relationships (see _put_rels)
                    made = tx.run(query, params).consume().counters.relationships_created
                    if made != len(params["rows"]):
                        missed = len(params["rows"]) - made
                        raise NotFoundError(f"{missed} relationship(s) lost their source or target")
                    continue
                if not query.endswith("AS c"):
                    tx.run(query, params).consume()
                    continue
                # Writes that rely on what this process believes exists: check, and
                # roll back (by raising) if the database disagrees.
                missed = len(params["rows"]) - tx.run(query, params).single(strict=True)["c"]
                if missed and "-[r:" in query:  # a relationship write (see _put_rels)
                    raise NotFoundError(f"{missed} relationship(s) lost their source or target")
                if missed:
                    raise StaleReadError(f"{missed} twin(s) changed or deleted")

        try:
            with _mapped("writing"), self._driver.session(database=self._database) as session:
                session.execute_write(work)
        except StaleReadError:
            for twin_id in ws.expected_etags:
                self._cache.pop(twin_id, None)
            raise
        self._label_of = labels
        for twin_id in ws.twin_deletes:
            self._cache.pop(twin_id, None)
        self._remember(ws.twins)
        self._remember(ws.twin_updates)

    def _update_statements(self, ws: WriteSet, out: list[tuple[str, dict[str, Any]]]) -> None:
        """Twin updates, guarded by ETag: whole nodes, or (ingestion) the changed names only."""
        full: list[dict[str, Any]] = []
        partial: list[dict[str, Any]] = []
        for t in ws.twin_updates:
            names = ws.changed_names.get(t.id)
            if names is None or t.id not in ws.expected_etags:
                full.append({"p": twin_to_map(t), "expected": ws.expected_etags.get(t.id)})
                continue
            values = {k: t.properties[k] for k in names}
            changed = encode_props(values)
            # The list of JSON-stored names changes only if a changed name is or was
            # stored as JSON: otherwise leave it (null: keep), sparing a scan of every
            # property of every updated twin.
            old = self._cache.get(t.id)
            keep_json = old is not None and not changed[N_JSON] and len(changed) > len(values)
            if keep_json and old is not None:
                was = old.properties
                keep_json = all(was.get(k) is None or native(was[k]) for k in names)
            del changed[N_JSON]
            meta = {k: (v.last_update_time, v.source) for k, v in t.metadata.items()}
            partial.append(
                {
                    "id": t.id,
                    "expected": ws.expected_etags[t.id],
                    "set": changed,
                    "json": None if keep_json else json_names(t.properties),
                    "etag": t.etag,
                    "meta": orjson.dumps(meta).decode(),
                }
            )
        for rows, query in ((full, _UPDATE_TWINS), (partial, _MERGE_PROPS)):
            for i in range(0, len(rows), self._batch):
                out.append((query, {"rows": rows[i : i + self._batch]}))

    # ------------------------------------------------------------ ingestion's twin cache
    def _remember(self, twins: Sequence[Twin]) -> None:
        cache = self._cache
        for t in twins:
            cache.pop(t.id, None)
            cache[t.id] = t
        while len(cache) > self._cache_size:  # evict the least recently written
            del cache[next(iter(cache))]

    def _read_twins_for_update(self, twin_ids: Sequence[str]) -> dict[str, Twin]:
        """From the cache of twins this process wrote or read for ingestion, and the rest
        from Neo4j; ``_commit`` guards the writes with the ETags these had."""
        found = {i: self._cache[i] for i in twin_ids if i in self._cache}
        missing = [i for i in twin_ids if i not in found]
        if missing:
            fresh = self._read_twins(missing)
            self._remember(list(fresh.values()))
            found.update(fresh)
        return found

    def _twin_statements(
        self,
        twins: Sequence[Twin],
        previous: Mapping[str, str],
        expected: Mapping[str, str],
        out: list[tuple[str, dict[str, Any]]],
    ) -> None:
        """Full twin writes, grouped by label set (labels cannot be parameters)."""
        Key = tuple[tuple[str, ...], tuple[str, ...], bool]  # labels to add, to drop; create?
        groups: dict[Key, list[dict[str, Any]]] = defaultdict(list)
        for t in twins:
            wanted = self._labels(t.model)
            stale = set(self._labels(previous[t.id])) - set(wanted) if t.id in previous else set()
            create = t.id not in expected
            row = {"p": twin_to_map(t), "expected": expected.get(t.id)}
            groups[(tuple(wanted), tuple(sorted(stale)), create)].append(row)
        for (add, remove, create), rows in groups.items():
            for i in range(0, len(rows), self._batch):
                out.append((_put_twins(add, remove, create), {"rows": rows[i : i + self._batch]}))

    # ------------------------------------------------------------ the rest of TwinGraph
    def iter_twins(self, model: str | None = None) -> Iterator[Twin]:
        models = None if model is None else [model, *self.registry.descendants(model)]
        with _mapped("listing twins"), self._driver.session(database=self._database) as session:
            for record in session.run(_ITER_TWINS, models=models):
                yield twin_from_map(record["p"])

    def count_twins(self) -> int:
        return int(self.run_read(f"MATCH (n:{_T}) RETURN count(n) AS c", {})[0]["c"])

    def health(self) -> dict[str, Any]:
        try:
            self.run_read("RETURN 1 AS one", {})
        except GraphError as exc:
            return {"ok": False, "backend": "neo4j", "uri": self._driver_uri(), "error": str(exc)}
        return {
            "ok": True,
            "backend": "neo4j",
            "uri": self._driver_uri(),
            "models": len(self._models),
        }

    def _driver_uri(self) -> str:
        return self.uri.split("@")[-1] if "@" in self.uri else self.uri  # never show credentials

    def close(self) -> None:
        self._driver.close()
