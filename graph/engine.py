"""The store's operations, written once over a handful of backend primitives.

:class:`StoreBase` implements :class:`graph.base.TwinGraph`: it checks every
write (model rules, ETags, multiplicity), builds the new documents and change
events, and hands the backend one :class:`WriteSet` to commit atomically.  A
backend only reads documents and commits write sets.  Writers are serialised by
one lock per store; events are published under it, after the commit, so they
arrive in commit order.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from graph import batch, core
from graph.base import (
    ChangeEvent,
    ChangeKind,
    ItemResult,
    ModelInfo,
    PropertyMeta,
    PropertyUpdate,
    Relationship,
    RelationshipUpsert,
    Subscription,
    Twin,
    TwinGraph,
    TwinUpsert,
    WriteSource,
)
from graph.errors import (
    ConflictError,
    InUseError,
    NotFoundError,
    ValidationError,
    ValidationProblem,
)
from graph.events import EventHub
from graph.writeset import StaleReadError, WriteSet
from ontology.model import ModelRegistry
from ontology.model import Relationship as RelationshipDecl

__all__ = ["StaleReadError", "StoreBase", "WriteSet"]  # the last two from graph.writeset


class StoreBase(TwinGraph):
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._write_lock = threading.RLock()
        self._hub = EventHub()
        self._models: dict[str, ModelInfo] = {}
        self._registry = ModelRegistry()

    # ------------------------------------------------------------ backend primitives
    @abc.abstractmethod
    def _read_twins(self, twin_ids: Sequence[str]) -> dict[str, Twin]: ...

    @abc.abstractmethod
    def _read_rels(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Relationship]: ...

    @abc.abstractmethod
    def _read_out(self, source: str, name: str | None) -> list[Relationship]: ...

    @abc.abstractmethod
    def _read_in(self, target: str, name: str | None) -> list[Relationship]: ...

    @abc.abstractmethod
    def _models_in_use(self, dtmis: Sequence[str]) -> dict[str, int]:
        """How many twins have each of ``dtmis`` as their model."""

    @abc.abstractmethod
    def _commit(self, ws: WriteSet) -> None:
        """Make ``ws`` durable and visible, atomically; raise a GraphError if it cannot."""

    def _guess_new(self) -> bool:
        """Whether the next batch upsert should assume its items are new, skipping the
        reads of what exists (``graph.batch.upsert_batch``): for backends whose reads
        cost a round trip; the commit must then honour ``WriteSet.assumed_new``."""
        return False

    def _guessed_wrong(self) -> None:
        """A batch assumed new was not: it runs again with the reads."""

    def _load_models(self, infos: Iterable[ModelInfo]) -> None:
        """Rebuild the registry from stored models (at startup)."""
        infos = list(infos)
        if not infos:
            return
        parsed = core.parse_model_batch([i.document for i in infos], (), ModelRegistry(), "")
        self._registry = ModelRegistry({iface.id: iface for iface, _ in parsed})
        self._models = {i.id: i for i in infos}

    # ------------------------------------------------------------ events
    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Subscription:
        return self._hub.subscribe(callback)

    def _event(self, kind: ChangeKind, ident: str, time: str, **kw: Any) -> ChangeEvent:
        return ChangeEvent(self._hub.next_seq(), kind, ident, time, **kw)

    def _commit_and_publish(self, ws: WriteSet, events: Sequence[ChangeEvent]) -> None:
        try:
            self._commit(ws)
        except StaleReadError as exc:  # another process wrote between our read and write
            raise ConflictError(
                f"changed by another writer meanwhile ({exc}); read it again"
            ) from exc
        self._hub.publish(events)

    # ------------------------------------------------------------ models
    @property
    def registry(self) -> ModelRegistry:
        return self._registry

    def add_models(
        self, documents: Sequence[Any], *, source_names: Sequence[str] = ()
    ) -> list[ModelInfo]:
        with self._write_lock:
            now = core.now_rfc3339()
            added = core.parse_model_batch(documents, source_names, self._registry, now)
            infos = [info for _, info in added]
            events = [self._event("model.added", i.id, now, model=i.id, data=i) for i in infos]
            self._commit(WriteSet(models=infos))
            self._registry = self._registry.merged({iface.id: iface for iface, _ in added})
            self._models.update({i.id: i for i in infos})
            self._hub.publish(events)
            return infos

    def list_models(self) -> list[ModelInfo]:
        return list(self._models.values())

    def get_model(self, dtmi: str) -> ModelInfo:
        info = self._models.get(dtmi)
        if info is None:
            raise NotFoundError(f"model {dtmi} does not exist")
        return info

    def get_model_with_dependencies(self, dtmi: str) -> list[ModelInfo]:
        """The model and every model it needs (bases, components, relationship targets)."""
        self.get_model(dtmi)
        seen: list[str] = []
        stack = [dtmi]
        while stack:
            cur = stack.pop()
            if cur in seen or cur not in self._registry:
                continue
            seen.append(cur)
            iface = self._registry[cur]
            stack.extend(iface.extends)
            stack.extend(c.schema for c in iface.components.values())
            stack.extend(r.target for r in iface.relationships.values() if r.target)
        return [self._models[d] for d in seen if d in self._models]

    def decommission_model(self, dtmi: str) -> ModelInfo:
        with self._write_lock:
            info = replace(self.get_model(dtmi), decommissioned=True)
            event = self._event(
                "model.decommissioned", dtmi, core.now_rfc3339(), model=dtmi, data=info
            )
            self._commit(WriteSet(models=[info]))
            self._models[dtmi] = info
            self._hub.publish([event])
            return info

    def delete_model(self, dtmi: str) -> None:
        with self._write_lock:
            self.get_model(dtmi)
            users = [
                other.id
                for other in self._registry.values()
                if other.id != dtmi
                and (
                    dtmi in other.extends
                    or any(c.schema == dtmi for c in other.components.values())
                    or any(r.target == dtmi for r in other.relationships.values())
                )
            ]
            if users:
                raise InUseError(f"model {dtmi} is used by models {', '.join(sorted(users))}")
            twins = self._models_in_use([dtmi]).get(dtmi, 0)
            if twins:
                raise InUseError(f"model {dtmi} is used by {twins} twin(s); delete them first")
            event = self._event("model.deleted", dtmi, core.now_rfc3339(), model=dtmi)
            self._commit(WriteSet(model_deletes=[dtmi]))
            self._registry = self._registry.without({dtmi})
            del self._models[dtmi]
            self._hub.publish([event])

    # ------------------------------------------------------------ twins
    def get_twin(self, twin_id: str) -> Twin:
        twin = self._read_twins([twin_id]).get(twin_id)
        if twin is None:
            raise NotFoundError(f"twin {twin_id!r} does not exist")
        return twin

    def get_twins(self, twin_ids: Iterable[str]) -> list[Twin]:
        ids = list(twin_ids)
        found = self._read_twins(ids)
        return [found[i] for i in ids if i in found]

    def _check_new_twin(
        self,
        twin_id: str,
        model: str,
        props: Mapping[str, Any],
        old: Twin | None,
        source: WriteSource,
        check: Any = None,
    ) -> None:
        """Refuse the twin unless it fits its model; ``check``: see ``core.validate_twin``."""
        if not twin_id or not isinstance(twin_id, str):
            raise ValidationError(
                "twin id must be a non-empty string", [ValidationProblem("/$dtId", "empty id")]
            )
        info = self._models.get(model)
        if info is None:
            raise ValidationError(
                f"model {model} does not exist",
                [ValidationProblem("/$metadata/$model", f"unknown model {model}", "UNKNOWN_MODEL")],
            )
        if info.decommissioned and (old is None or old.model != model):
            raise ValidationError(
                f"model {model} is decommissioned: no new twins of it",
                [
                    ValidationProblem(
                        "/$metadata/$model", "model is decommissioned", "MODEL_DECOMMISSIONED"
                    )
                ],
            )
        iface = self._registry[model]
        core.raise_problems(
            f"twin {twin_id!r}: a {source!r} write may not set telemetry or read-only properties",
            core.check_write_access(self._registry, iface, ((k,) for k in props), source),
        )
        core.validate_twin(self._registry, model, props, check)
        if old is not None and old.model != model:
            self._check_model_change(twin_id, model)

    def _check_model_change(self, twin_id: str, model: str) -> None:
        """A twin replaced by one of another model keeps its relationships only if the new
        model allows each of them, as if it were created now: the walks rely on a twin's
        relationships being those its model declares (queries/walk.py prunes by it)."""
        out, into = self._read_out(twin_id, None), self._read_in(twin_id, None)
        ends = self._twin_models([r.target for r in out] + [r.source for r in into])
        ends[twin_id] = model
        problems: list[ValidationProblem] = []
        for rel, source_model, target_model in [
            *((r, model, ends.get(r.target)) for r in out),
            *((r, ends.get(r.source), model) for r in into),
        ]:
            if source_model is None:
                continue
            try:
                core.validate_relationship(
                    self._registry, source_model, rel.name, target_model, rel.properties
                )
            except ValidationError as exc:
                problems.append(
                    ValidationProblem(
                        "/$metadata/$model",
                        f"relationship {rel.id!r} ({rel.source} -{rel.name}-> {rel.target}): {exc}",
                        "RELATIONSHIP_NOT_ALLOWED",
                    )
                )
        if problems:
            raise ValidationError(
                f"twin {twin_id!r} cannot change to model {model}: {len(problems)} of its "
                "relationships would not be valid under it; delete them first",
                problems,
            )

    def _build_twin(
        self,
        twin_id: str,
        model: str,
        props: Mapping[str, Any],
        old: Twin | None,
        source: WriteSource,
        now: str,
    ) -> Twin:
        stamp = PropertyMeta(now, source)
        if old is None:  # a new twin: every property written now (an import's common case)
            return Twin(twin_id, model, dict(props), core.new_etag(), dict.fromkeys(props, stamp))
        meta: dict[str, PropertyMeta] = {}
        was, kept = old.properties, old.metadata
        for name, value in props.items():
            unchanged = name in was and was[name] == value
            meta[name] = kept.get(name, stamp) if unchanged else stamp
        return Twin(twin_id, model, dict(props), core.new_etag(), meta)

    @staticmethod
    def _add_twin(ws: WriteSet, old: Twin | None, twin: Twin) -> None:
        if old is not None:
            ws.expected_etags[twin.id] = old.etag
        if old is not None and old.model == twin.model:
            ws.twin_updates.append(twin)
            return
        ws.twins.append(twin)
        if old is not None:
            ws.previous_models[twin.id] = old.model

    def _twin_event(self, old: Twin | None, new: Twin, now: str) -> ChangeEvent:
        kind: ChangeKind = "twin.created" if old is None else "twin.updated"
        patch = core.diff_patch(old.properties if old else {}, new.properties)
        return self._event(kind, new.id, now, model=new.model, patch=patch, data=new)

    def create_twin(
        self,
        twin_id: str,
        model: str,
        properties: Mapping[str, Any],
        *,
        replace: bool = False,
        if_match: str | None = None,
        source: WriteSource = "api",
    ) -> Twin:
        with self._write_lock:
            old = self._read_twins([twin_id]).get(twin_id)
            if old is not None and not replace and if_match is None:
                raise ConflictError(f"twin {twin_id!r} already exists")
            core.check_if_match(if_match, old.etag if old else None, f"twin {twin_id!r}")
            props = core.user_properties(properties)
            self._check_new_twin(twin_id, model, props, old, source)
            now = core.now_rfc3339()
            twin = self._build_twin(twin_id, model, props, old, source, now)
            ws = WriteSet()
            self._add_twin(ws, old, twin)
            events = [self._twin_event(old, twin, now)] if self._hub.active else []
            self._commit_and_publish(ws, events)
            return twin

    def patch_twin(
        self,
        twin_id: str,
        patch: Sequence[Mapping[str, Any]],
        *,
        if_match: str | None = None,
        source: WriteSource = "api",
    ) -> Twin:
        with self._write_lock:
            old = self.get_twin(twin_id)
            core.check_if_match(if_match, old.etag, f"twin {twin_id!r}")
            props = core.apply_json_patch(old.properties, patch, f"twin {twin_id!r}")
            touched = core.patch_top_names(patch)
            core.raise_problems(
                f"patch on twin {twin_id!r}: a {source!r} write may not set telemetry or "
                "read-only properties",
                core.check_write_access(self._registry, self._registry[old.model], touched, source),
            )
            core.validate_twin(self._registry, old.model, props)
            now = core.now_rfc3339()
            stamp = PropertyMeta(now, source)
            names = {t[0] for t in touched}
            meta = {k: (stamp if k in names else v) for k, v in old.metadata.items() if k in props}
            meta.update({k: stamp for k in names if k in props})
            twin = Twin(twin_id, old.model, props, core.new_etag(), meta)
            events = []
            if self._hub.active:
                events = [
                    self._event(
                        "twin.updated", twin_id, now, model=old.model, patch=list(patch), data=twin
                    )
                ]
            ws = WriteSet(twin_updates=[twin], expected_etags={twin_id: old.etag})
            self._commit_and_publish(ws, events)
            return twin

    def delete_twin(
        self, twin_id: str, *, if_match: str | None = None, cascade: bool = False
    ) -> None:
        with self._write_lock:
            old = self.get_twin(twin_id)
            core.check_if_match(if_match, old.etag, f"twin {twin_id!r}")
            rels = self._read_out(twin_id, None) + self._read_in(twin_id, None)
            if rels and not cascade:
                sample = ", ".join(f"{r.source}-[{r.name}]->{r.target}" for r in rels[:3])
                raise InUseError(
                    f"twin {twin_id!r} has {len(rels)} relationship(s) ({sample}); "
                    "delete them first or cascade"
                )
            now = core.now_rfc3339()
            events = [self._rel_event("relationship.deleted", r, now) for r in rels]
            events.append(
                self._event(
                    "twin.deleted",
                    twin_id,
                    now,
                    model=old.model,
                    patch=core.diff_patch(old.properties, {}),
                )
            )
            self._commit_and_publish(WriteSet(twin_deletes=[twin_id], rel_deletes=rels), events)

    # ------------------------------------------------------------ relationships
    def _rel_event(
        self,
        kind: ChangeKind,
        rel: Relationship,
        now: str,
        old: Mapping[str, Any] | None = None,
        patch: Sequence[Any] | None = None,
    ) -> ChangeEvent:
        if patch is None:
            new = rel.properties if kind != "relationship.deleted" else {}
            prev = (
                old
                if old is not None
                else (rel.properties if kind == "relationship.deleted" else {})
            )
            patch = core.diff_patch(prev, new)
        return self._event(
            kind,
            rel.id,
            now,
            source_twin=rel.source,
            target_twin=rel.target,
            name=rel.name,
            patch=list(patch),
            data=None if kind == "relationship.deleted" else rel,
        )

    def _check_rel(
        self,
        up: RelationshipUpsert,
        models: Mapping[str, str],
        old: Relationship | None,
        out_count: Callable[[str, str], int],
        checked: dict[tuple[str, str, str], int | None] | None = None,
    ) -> None:
        """Refuse ``up`` unless it fits the models; ``checked`` (one batch's, under the write
        lock, so the registry cannot change) remembers the (source model, name, target
        model) of relationships without properties that passed, with their
        ``maxMultiplicity``: those are what an import sends thousands of, and the model
        checks, about a quarter of a relationship's client time, give the same answer."""
        if type(up.properties) is not dict or up.properties:  # {} always passes
            core.user_properties(up.properties, "relationship")
        if not up.id or not isinstance(up.id, str):
            raise ValidationError(
                "relationship id must be a non-empty string",
                [ValidationProblem("/$relationshipId", "empty id")],
            )
        if up.source not in models:
            raise NotFoundError(f"source twin {up.source!r} does not exist")
        if up.target not in models:
            raise ValidationError(
                f"target twin {up.target!r} does not exist",
                [ValidationProblem("/$targetId", f"no twin {up.target!r}", "NOT_FOUND")],
            )
        if old is not None and old.name != up.name:
            raise ConflictError(
                f"relationship {up.id!r} of {up.source!r} exists with name {old.name!r}"
            )
        shape = (models[up.source], up.name, models[up.target])
        plain = type(up.properties) is dict and not up.properties
        memo = checked if plain else None
        if memo is not None and shape in memo:
            most = memo[shape]
        else:
            core.validate_relationship(self._registry, *shape, up.properties)
            decl = self._registry[shape[0]].contents[up.name]
            assert isinstance(decl, RelationshipDecl)  # validate_relationship checked it
            most = decl.max_multiplicity
            if memo is not None:
                memo[shape] = most
        if most is not None and old is None:
            count = out_count(up.source, up.name)
            if count + 1 > most:
                raise ValidationError(
                    f"{up.source!r} already has {count} {up.name!r} relationship(s); "
                    f"maxMultiplicity is {most}",
                    [
                        ValidationProblem(
                            "/$relationshipName", "maxMultiplicity exceeded", "MULTIPLICITY"
                        )
                    ],
                )

    def _twin_models(self, ids: Iterable[str]) -> dict[str, str]:
        return {i: t.model for i, t in self._read_twins(list(dict.fromkeys(ids))).items()}

    def create_relationship(
        self,
        source: str,
        rel_id: str,
        name: str,
        target: str,
        properties: Mapping[str, Any] | None = None,
        *,
        replace: bool = False,
        if_match: str | None = None,
    ) -> Relationship:
        up = RelationshipUpsert(source, rel_id, name, target, properties or {})
        with self._write_lock:
            old = self._read_rels([(source, rel_id)]).get((source, rel_id))
            if old is not None and not replace and if_match is None:
                raise ConflictError(f"relationship {rel_id!r} of twin {source!r} already exists")
            core.check_if_match(if_match, old.etag if old else None, f"relationship {rel_id!r}")
            if old is not None and old.target != target:
                raise ConflictError(
                    f"relationship {rel_id!r} exists with target {old.target!r}; delete it first"
                )
            self._check_rel(
                up, self._twin_models([source, target]), old, lambda s, n: len(self._read_out(s, n))
            )
            rel = Relationship(rel_id, source, target, name, dict(up.properties), core.new_etag())
            now = core.now_rfc3339()
            kind: ChangeKind = "relationship.created" if old is None else "relationship.updated"
            event = self._rel_event(kind, rel, now, old=old.properties if old else None)
            self._commit_and_publish(WriteSet(rels=[rel]), [event])
            return rel

    def get_relationship(self, source: str, rel_id: str) -> Relationship:
        rel = self._read_rels([(source, rel_id)]).get((source, rel_id))
        if rel is None:
            raise NotFoundError(f"relationship {rel_id!r} of twin {source!r} does not exist")
        return rel

    def patch_relationship(
        self,
        source: str,
        rel_id: str,
        patch: Sequence[Mapping[str, Any]],
        *,
        if_match: str | None = None,
    ) -> Relationship:
        with self._write_lock:
            old = self.get_relationship(source, rel_id)
            core.check_if_match(if_match, old.etag, f"relationship {rel_id!r}")
            props = core.apply_json_patch(old.properties, patch, f"relationship {rel_id!r}")
            model = self._twin_models([source])[source]
            core.validate_relationship(self._registry, model, old.name, None, props)
            rel = replace(old, properties=props, etag=core.new_etag())
            event = self._rel_event("relationship.updated", rel, core.now_rfc3339(), patch=patch)
            self._commit_and_publish(WriteSet(rels=[rel]), [event])
            return rel

    def delete_relationship(self, source: str, rel_id: str, *, if_match: str | None = None) -> None:
        with self._write_lock:
            old = self.get_relationship(source, rel_id)
            core.check_if_match(if_match, old.etag, f"relationship {rel_id!r}")
            model = self._twin_models([source]).get(source)
            decl = (
                self._registry[model].relationships.get(old.name)
                if model is not None and model in self._registry
                else None
            )
            if decl is not None and decl.min_multiplicity:
                count = len(self._read_out(source, old.name))
                if count - 1 < decl.min_multiplicity:
                    raise InUseError(
                        f"{source!r} must keep at least {decl.min_multiplicity} {old.name!r} "
                        f"relationship(s) (minMultiplicity)"
                    )
            event = self._rel_event("relationship.deleted", old, core.now_rfc3339())
            self._commit_and_publish(WriteSet(rel_deletes=[old]), [event])

    def list_relationships(self, source: str, name: str | None = None) -> list[Relationship]:
        return self._read_out(source, name)

    def list_incoming(self, target: str, name: str | None = None) -> list[Relationship]:
        return self._read_in(target, name)

    # ------------------------------------------------------------ batches (graph.batch)
    def upsert_batch(
        self,
        twins: Sequence[TwinUpsert] = (),
        relationships: Sequence[RelationshipUpsert] = (),
        *,
        source: WriteSource = "import",
    ) -> list[ItemResult]:
        return batch.upsert_batch(self, twins, relationships, source=source)

    def apply_property_updates(self, updates: Sequence[PropertyUpdate]) -> list[ItemResult]:
        """Newest timestamp wins per property; one commit for the whole batch."""
        return batch.apply_property_updates(self, updates)

    def _read_twins_for_update(self, twin_ids: Sequence[str]) -> dict[str, Twin]:
        """Twins for the ingestion path; a backend may serve them from a cache, and then
        raise ``StaleReadError`` from ``_commit`` when ``WriteSet.expected_etags`` do not match."""
        return self._read_twins(twin_ids)
