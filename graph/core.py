"""Backend-independent pieces of the store: validation, patches, ETags, timestamps.

Both backends call these, so a twin written to Neo4j is checked, patched and
stamped exactly like one written to the embedded store.  The DTDL parser and
instance validator live in ``ontology``; they are looked up when first used so
that ``graph`` imports cheaply.
"""

from __future__ import annotations

import copy
import gc
import itertools
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import jsonpatch
import jsonpointer
import orjson

from graph.base import ModelInfo, WriteSource
from graph.errors import (
    ConflictError,
    InvalidPatchError,
    ModelError,
    PreconditionFailedError,
    ValidationError,
    ValidationProblem,
)
from ontology.model import Component, Interface, ModelRegistry, Property, Telemetry
from ontology.model import Relationship as RelationshipDecl

__all__ = [
    "apply_json_patch",
    "check_if_match",
    "check_write_access",
    "diff_patch",
    "new_etag",
    "normalize_timestamp",
    "now_rfc3339",
    "parse_model_batch",
    "patch_top_names",
    "paused_gc",
    "raise_problems",
    "telemetry_checker",
    "telemetry_validator",
    "user_properties",
    "validate_relationship",
    "validate_twin",
]


def user_properties(document: Any, what: str = "twin") -> dict[str, Any]:
    """A document's properties without system keys (``$dtId``, ``$metadata``...): what is
    stored; ``ValidationError`` unless it is a JSON object.

    Clients often send whole Azure-style documents; DTDL names cannot start with ``$``.
    """
    if document is None and what != "twin":
        return {}
    if not isinstance(document, Mapping) or not all(isinstance(k, str) for k in document):
        raise ValidationError(
            f"the properties of a {what} must be a JSON object, not {type(document).__name__}",
            [ValidationProblem("", "expected an object with string keys", "WRONG_TYPE")],
        )
    return {k: v for k, v in document.items() if not k.startswith("$")}


# ------------------------------------------------------------------ batches


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a batch runs.

    A batch allocates several objects per item and frees them by reference count (it
    makes no cycles), but the allocations alone trigger collections that rescan every
    twin held in memory: measured, that was a third of the embedded ingestion path.
    Paused, the collector runs once after the batch instead.  Process-wide while it
    lasts (milliseconds); it is re-enabled only if it was enabled before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ------------------------------------------------------------------ time and etags


def now_rfc3339() -> str:
    """Now as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: fixed width, so strings compare in time order."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_timestamp(value: str) -> str:
    """An RFC 3339 time in the fixed-width UTC form of :func:`now_rfc3339`.

    Stored per-property times are compared as strings (newest wins), so every
    time is normalised on the way in.  Raises ``ValueError`` on bad input.
    """
    if len(value) == 27 and value[19] == "." and value[-1] == "Z" and value[10] == "T":
        return value  # already normalised: the common case on the ingestion path
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Weak ETags like Azure Digital Twins'; only equality matters, so a random
# per-process prefix and a counter are unique and much cheaper than uuid4 per write.
_ETAG_PREFIX = uuid.uuid4().hex[:16]
_etag_counter = itertools.count(1)


def new_etag() -> str:
    return f'W/"{_ETAG_PREFIX}-{next(_etag_counter):x}"'


def check_if_match(if_match: str | None, etag: str | None, what: str) -> None:
    """Raise ``PreconditionFailedError`` unless ``if_match`` is absent, ``*`` or equal."""
    if if_match is None:
        return
    if etag is None:
        raise PreconditionFailedError(f"{what} does not exist, so If-Match {if_match} cannot match")
    if if_match != "*" and if_match != etag:
        raise PreconditionFailedError(f"{what} has ETag {etag}, not {if_match}")


# ------------------------------------------------------------------ JSON Patch


def apply_json_patch(
    doc: Mapping[str, Any], patch: Sequence[Mapping[str, Any]], what: str
) -> dict[str, Any]:
    """RFC 6902 on a copy of ``doc``; errors name the failing operation and its path."""
    if not isinstance(patch, Sequence) or isinstance(patch, (str, bytes)):
        raise InvalidPatchError(f"patch for {what} must be a JSON array of operations")
    result: Any = copy.deepcopy(dict(doc))
    for index, op in enumerate(patch):
        path = op.get("path") if isinstance(op, Mapping) else None
        if not isinstance(path, str) or path in ("", "/"):
            raise InvalidPatchError(
                f"patch operation {index} on {what}: 'path' must name a property"
            )
        try:
            result = jsonpatch.JsonPatch([dict(op)]).apply(result, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError) as exc:
            raise InvalidPatchError(
                f"patch operation {index} ({op.get('op')} {path}) on {what}: {exc}"
            ) from exc
    if not isinstance(result, dict):
        raise InvalidPatchError(f"patch on {what} must leave an object")
    return result


def diff_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The JSON Patch from ``old`` to ``new`` (for change events)."""
    return list(jsonpatch.make_patch(dict(old), dict(new)).patch)


def patch_top_names(patch: Sequence[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """The property paths a patch touches, as tuples of at most two unescaped segments."""
    touched = []
    for op in patch:
        for key in ("path", "from"):
            ptr = op.get(key)
            if isinstance(ptr, str) and ptr.startswith("/"):
                parts = [p.replace("~1", "/").replace("~0", "~") for p in ptr[1:].split("/")]
                touched.append(tuple(parts[:2]))
    return touched


# ------------------------------------------------------------------ validation


_instance_module: Any = None


def _instance() -> Any:
    """``ontology.instance``, imported on first use (it is not needed to import ``graph``)."""
    global _instance_module
    if _instance_module is None:
        from ontology import instance

        _instance_module = instance
    return _instance_module


def raise_problems(message: str, errors: Iterable[Any]) -> None:
    """Raise ``ValidationError`` built from ``InstanceError``s or ``ValidationProblem``s, if any."""
    problems = [
        e if isinstance(e, ValidationProblem) else ValidationProblem(e.path, e.message, e.code)
        for e in errors
    ]
    if problems:
        detail = "; ".join(f"{p.path or '/'}: {p.message}" for p in problems[:5])
        raise ValidationError(f"{message}: {detail}", problems)


def check_write_access(
    registry: ModelRegistry, iface: Interface, paths: Iterable[tuple[str, ...]], source: WriteSource
) -> list[ValidationProblem]:
    """What an application (source ``api``) may not write: telemetry and non-writable properties.

    Devices and importers may write both; the instance validator still checks names and types.
    """
    if source != "api":
        return []
    problems: list[ValidationProblem] = []
    for path in paths:
        content = iface.contents.get(path[0])
        pointer = "/" + path[0]
        if isinstance(content, Component) and len(path) > 1 and content.schema in registry:
            content = registry[content.schema].contents.get(path[1])
            pointer += "/" + path[1]
        if isinstance(content, Telemetry):
            problems.append(
                ValidationProblem(
                    pointer,
                    "telemetry is written by devices, not the API: publish it over MQTT",
                    "READ_ONLY",
                )
            )
        elif isinstance(content, Property) and not content.writable:
            problems.append(
                ValidationProblem(
                    pointer,
                    "property is not writable (the model says writable: false): "
                    "the device reports it over MQTT",
                    "READ_ONLY",
                )
            )
    return problems


def validate_twin(
    registry: ModelRegistry, model: str, props: Mapping[str, Any], check: Any = None
) -> None:
    """Names and types of a whole twin document (access rules are ``check_write_access``).

    ``check``, a batch's ``telemetry_checker(registry)``, gives the same errors faster:
    with telemetry and read-only properties allowed, ``validate_twin`` checks a document
    exactly as ``validate_telemetry`` checks a payload (both are ``_check_document(...,
    True, True)``), and the checker returns ``validate_telemetry``'s errors.
    """
    if check is not None:
        errors = check(model, props)
    else:
        errors = _instance().validate_twin(
            registry, model, props, allow_telemetry=True, allow_read_only=True
        )
    raise_problems(f"twin does not conform to {model}", errors)


def telemetry_validator() -> Any:
    """``ontology.instance.validate_telemetry``: (registry, model, values) -> list of errors."""
    return _instance().validate_telemetry


def telemetry_checker(registry: ModelRegistry) -> Any:
    """``ontology.instance.telemetry_checker``: (model, values) -> errors, compiled per model.

    What the batch paths use: the same errors as ``validate_telemetry``, at a fraction of
    its cost for valid payloads.  One per batch (it follows the registry it was given).
    """
    return _instance().telemetry_checker(registry)


def validate_relationship(
    registry: ModelRegistry,
    source_model: str,
    name: str,
    target_model: str | None,
    props: Mapping[str, Any],
) -> None:
    """The name exists on the source's model, the target is of the declared model, props conform."""
    iface = registry.get(source_model)
    rel = iface.contents.get(name) if iface else None  # contents: no per-call dict building
    if not isinstance(rel, RelationshipDecl):
        raise ValidationError(
            f"{source_model} has no relationship named {name!r}",
            [
                ValidationProblem(
                    "/$relationshipName",
                    f"no relationship {name!r} on {source_model}",
                    "UNKNOWN_NAME",
                )
            ],
        )
    if (
        rel.target
        and target_model is not None
        and not registry.is_of_model(target_model, rel.target)
    ):
        raise ValidationError(
            f"relationship {name!r} must target {rel.target}, not {target_model}",
            [
                ValidationProblem(
                    "/$targetId", f"target is {target_model}, expected {rel.target}", "WRONG_TARGET"
                )
            ],
        )
    errors = _instance().validate_relationship_properties(registry, source_model, name, props)
    raise_problems(f"properties of relationship {name!r}", errors)


# ------------------------------------------------------------------ models


def parse_model_batch(
    documents: Sequence[Any], source_names: Sequence[str], registry: ModelRegistry, now: str
) -> list[tuple[Interface, ModelInfo]]:
    """Parse and resolve a batch against ``registry`` as one unit: all of it, or ``ModelError``."""
    import ontology

    if not isinstance(documents, Sequence) or isinstance(documents, (str, bytes)):
        raise ModelError(
            f"a model batch is a list of DTDL documents, not {type(documents).__name__}"
        )
    for doc in documents:  # checked first: a clearer error than the parser's redefinition
        for element in doc if isinstance(doc, list) else [doc]:
            dtmi = element.get("@id") if isinstance(element, Mapping) else None
            if dtmi in registry:
                raise ConflictError(f"model {dtmi} already exists; upload a new version instead")
    sources: list[Any] = list(documents)
    if source_names:
        from ontology.parser import ModelSource

        sources = [
            ModelSource(d if isinstance(d, (str, bytes)) else orjson.dumps(d), name)
            for d, name in zip(documents, source_names, strict=False)
        ] + sources[len(source_names) :]
    result = ontology.parse_models(sources, known=registry)
    if result.errors or result.unresolved:
        errors = list(result.errors)
        unresolved = ", ".join(sorted(result.unresolved))
        first = "; ".join(str(e) for e in errors[:3]) or f"unresolved references: {unresolved}"
        raise ModelError(f"model batch refused ({len(errors)} errors): {first}", errors)
    added = []
    for dtmi, iface in result.registry.items():
        if dtmi in registry:
            raise ConflictError(f"model {dtmi} already exists; upload a new version instead")
        added.append((iface, ModelInfo(dtmi, dict(iface.source_document), now)))
    return added
