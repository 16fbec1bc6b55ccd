"""Instance validation: do a twin's values, a telemetry payload, a relationship's
properties or a command payload fit their DTDL model?

Built like python-jsonschema: one small checker per schema kind returns bare
problems (relative JSON pointer, code, message), and one dispatch prefixes the
path.  Checkers are compiled once per schema object and cached, and each
interface's name table once per interface, so the per-message cost on the MQTT
ingestion path is a few dict lookups and one call per value.

Every result is a list of :class:`InstanceError`; empty means valid.  Paths are
JSON pointers into the checked document (``/thermostat1/targetTemperature``,
``/tags/alpha``, ``/readings/3``); messages say what is wrong and what is
expected (``expected a double, got the string "hot"``).  Keys starting with
``$`` (``$metadata``, ``$dtId``...) are system keys and are never checked: DTDL
names cannot start with ``$``.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ontology.model import (
    ArraySchema,
    Command,
    Component,
    EnumSchema,
    Interface,
    MapSchema,
    ModelRegistry,
    ObjectSchema,
    PrimitiveSchema,
    Property,
    Relationship,
    Schema,
    Telemetry,
)
from ontology.values import (
    CHECKERS,
    OK,
    Checker,
    Codes,
    Problem,
    Problems,
    describe,
    escape_pointer,
    primitive_term,
)

__all__ = [
    "Codes",
    "InstanceError",
    "checker_for",
    "telemetry_checker",
    "validate_command",
    "validate_relationship_properties",
    "validate_telemetry",
    "validate_twin",
    "validate_value",
]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class InstanceError:
    """One problem with an instance value: where (JSON pointer), a stable code, and why."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# ------------------------------------------------------------------ per-object caches

# Keyed by id() because the model classes hold dicts and so are not hashable; the
# entry keeps the object alive, so its id cannot be reused while cached.
_CACHE: dict[int, tuple[object, object]] = {}
_CACHE_LIMIT = 100_000


def _cached(obj: object, build: Callable[[Any], _T]) -> _T:
    entry = _CACHE.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]  # type: ignore[return-value]
    value = build(obj)
    if len(_CACHE) >= _CACHE_LIMIT:  # models were replaced many times over
        _CACHE.clear()
    _CACHE[id(obj)] = (obj, value)
    return value


def checker_for(schema: Schema) -> Checker:
    """The compiled checker of ``schema`` (cached per schema object)."""
    return _cached(schema, _compile)


# Named schemas by DTMI, for references the parser leaves as a bare ``Schema(id=...)``:
# a v4 schema that contains itself refers to itself that way.
_NAMED: dict[str, Schema] = {}


def _compile(schema: Schema) -> Checker:
    if schema.id is not None and type(schema) is not Schema:
        _NAMED[schema.id] = schema
    for cls in type(schema).__mro__:
        compiler = _COMPILERS.get(cls)
        if compiler is not None:
            return compiler(schema)
    raise TypeError(f"not a DTDL schema: {schema!r}")


# ------------------------------------------------------------------ one compiler per schema kind


def _under(key: str | int, problems: Problems, out: list[Problem]) -> None:
    prefix = f"/{key}" if type(key) is int else "/" + escape_pointer(key)
    for sub, code, message in problems:
        out.append((prefix + sub, code, message))


def _quoted(key: object) -> str:
    """A name from the input, quoted and cut short: messages must not echo a huge key."""
    text = key if type(key) is str else str(key)
    return f'"{text}"' if len(text) <= 60 else f'"{text[:57]}..."'


def _did_you_mean(name: object, names: tuple[str, ...], plural: str) -> str:
    text = name if type(name) is str else str(name)
    # No DTDL name is longer than 512 characters; a longer one is close to none,
    # and comparing it would cost time and cache memory.
    return _suggest(text if len(text) <= 512 else "", names, plural)


@functools.lru_cache(maxsize=4096)
def _suggest(name: str, names: tuple[str, ...], plural: str) -> str:
    # Cached: a misconfigured device repeats the same wrong name in every message,
    # and difflib is the slowest step of a refusal.
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6) if name else []
    if close:
        return "did you mean " + " or ".join(f'"{n}"' for n in close) + "?"
    if not names:
        return f"it has no {plural}"
    listed = ", ".join(f'"{n}"' for n in sorted(names)[:12])
    more = f" and {len(names) - 12} more" if len(names) > 12 else ""
    return f"its {plural} are {listed}{more}"


def _compile_primitive(schema: PrimitiveSchema) -> Checker:
    checker = CHECKERS.get(primitive_term(schema.name))
    if checker is not None:
        return checker
    message = f"GraphTwin cannot check values of the schema {schema.name}"
    unsupported: Problems = (("", Codes.UNSUPPORTED_SCHEMA, message),)
    return lambda value: unsupported


def _shown(enum_value: int | str) -> str:
    return f'"{enum_value}"' if isinstance(enum_value, str) else str(enum_value)


def _compile_enum(schema: EnumSchema) -> Checker:
    value_type = int if schema.value_schema.endswith("integer") else str
    allowed = {v.value for v in schema.values}
    by_name = {v.name: _shown(v.value) for v in schema.values if v.name != v.value}
    shown = ", ".join(_shown(v.value) for v in schema.values)
    expected = f"one of the enum values {shown}"

    def check(value: Any) -> Problems:
        # type() first: True == 1 would otherwise match an integer enum value.
        if type(value) is value_type and value in allowed:
            return OK
        message = f"expected {expected}, got {describe(value)}"
        if type(value) is str and value in by_name:
            message += f'; "{value}" is the name of the value {by_name[value]}: send the value'
        return (("", Codes.NOT_IN_ENUM, message),)

    return check


def _compile_object(schema: ObjectSchema) -> Checker:
    fields = {f.name: f.schema for f in schema.fields}
    names = tuple(fields)

    def check(value: Any) -> Problems:
        if type(value) is not dict and not isinstance(value, Mapping):
            return (("", Codes.WRONG_TYPE, f"expected an object, got {describe(value)}"),)
        out: list[Problem] = []
        for key, item in value.items():
            field_schema = fields.get(key)
            if field_schema is None:
                hint = _did_you_mean(key, names, "fields")
                message = f"the object has no field {_quoted(key)}; {hint}"
                out.append(("/" + escape_pointer(key), Codes.UNKNOWN_FIELD, message))
                continue
            # Looked up per call rather than bound at compile time: v4 schemas may refer
            # to themselves, and binding eagerly would recurse for ever.
            problems = checker_for(field_schema)(item)
            if problems:
                _under(key, problems, out)
        return tuple(out) if out else OK

    return check


# DTDL's name pattern, which map keys follow.
_MAP_KEY = re.compile(r"[a-zA-Z](?:[a-zA-Z0-9_]*[a-zA-Z0-9])?")


def _compile_map(schema: MapSchema) -> Checker:
    value_schema = schema.value_schema

    def check(value: Any) -> Problems:
        if type(value) is not dict and not isinstance(value, Mapping):
            return (("", Codes.WRONG_TYPE, f"expected a map (an object), got {describe(value)}"),)
        out: list[Problem] = []
        value_checker = checker_for(value_schema)
        for key, item in value.items():
            if type(key) is not str or _MAP_KEY.fullmatch(key) is None:
                message = (
                    f"the map key {_quoted(key)} must start with a letter and hold only letters, "
                    "digits and underscores (not ending with an underscore)"
                )
                out.append(("/" + escape_pointer(key), Codes.BAD_MAP_KEY, message))
                continue
            problems = value_checker(item)
            if problems:
                _under(key, problems, out)
        return tuple(out) if out else OK

    return check


def _compile_array(schema: ArraySchema) -> Checker:
    element_schema = schema.element_schema

    def check(value: Any) -> Problems:
        if type(value) is not list and type(value) is not tuple:
            return (("", Codes.WRONG_TYPE, f"expected an array, got {describe(value)}"),)
        out: list[Problem] = []
        element_checker = checker_for(element_schema)
        for index, item in enumerate(value):
            problems = element_checker(item)
            if problems:
                _under(index, problems, out)
        return tuple(out) if out else OK

    return check


def _compile_reference(schema: Schema) -> Checker:
    ref = schema.id
    message = f"the schema {ref} is not defined, so values of it cannot be checked"
    unresolved: Problems = (("", Codes.UNRESOLVED_SCHEMA, message),)

    def check(value: Any) -> Problems:
        # Looked up per call: the schema referred to is compiled (and registered)
        # before any value reaches this reference inside it.
        target = _NAMED.get(ref) if ref is not None else None
        return unresolved if target is None else checker_for(target)(value)

    return check


_COMPILERS: dict[type, Callable[[Any], Checker]] = {
    Schema: _compile_reference,
    PrimitiveSchema: _compile_primitive,
    EnumSchema: _compile_enum,
    ObjectSchema: _compile_object,
    MapSchema: _compile_map,
    ArraySchema: _compile_array,
}


def _errors(problems: Problems, path: str) -> list[InstanceError]:
    return [InstanceError(path + sub, code, message) for sub, code, message in problems]


def _too_deep(path: str) -> list[InstanceError]:
    # Only a recursive (v4) schema lets a value nest this deep; refuse it rather than crash.
    message = "the value is nested too deeply to check; flatten it"
    return [InstanceError(path, Codes.TOO_DEEP, message)]


def validate_value(schema: Schema, value: Any, path: str = "") -> list[InstanceError]:
    """Check ``value`` against ``schema``; ``path`` is the value's JSON pointer."""
    try:
        problems = checker_for(schema)(value)
    except RecursionError:
        return _too_deep(path)
    return _errors(problems, path) if problems else []


# ------------------------------------------------------------------ documents of an interface

# Kinds of top-level names in a twin or telemetry document.
_PROPERTY, _TELEMETRY, _COMPONENT, _OTHER = range(4)
_Entry = tuple[int, Any, Checker | None]  # (kind, content, value checker)


def _name_table(interface: Interface) -> dict[str, _Entry]:
    table: dict[str, _Entry] = {}
    for name, content in interface.contents.items():
        if isinstance(content, Property):
            table[name] = (_PROPERTY, content, checker_for(content.schema))
        elif isinstance(content, Telemetry):
            table[name] = (_TELEMETRY, content, checker_for(content.schema))
        elif isinstance(content, Component):
            table[name] = (_COMPONENT, content, None)
        else:
            table[name] = (_OTHER, content, None)
    return table


def _value_names(interface: Interface, allow_telemetry: bool) -> tuple[str, ...]:
    kinds = (Property, Component, Telemetry) if allow_telemetry else (Property, Component)
    return tuple(n for n, c in interface.contents.items() if isinstance(c, kinds))


def _check_document(
    registry: ModelRegistry,
    interface: Interface,
    document: Any,
    path: str,
    allow_telemetry: bool,
    allow_read_only: bool,
    out: list[InstanceError],
) -> None:
    if type(document) is not dict and not isinstance(document, Mapping):
        message = f"expected an object of values of {interface.id}, got {describe(document)}"
        out.append(InstanceError(path, Codes.WRONG_TYPE, message))
        return
    table = _cached(interface, _name_table)
    for name, value in document.items():
        entry = table.get(name)
        if entry is None:
            if type(name) is str and name[:1] == "$":
                continue
            hint = _did_you_mean(name, _value_names(interface, allow_telemetry), "names")
            what = (
                "property, telemetry or component" if allow_telemetry else "property or component"
            )
            message = f"{_quoted(name)} is not a {what} of {interface.id}; {hint}"
            out.append(InstanceError(f"{path}/{escape_pointer(name)}", Codes.UNKNOWN_NAME, message))
            continue
        kind, content, checker = entry
        where = f"{path}/{escape_pointer(name)}"
        if kind == _PROPERTY:
            if not allow_read_only and not content.writable:
                message = (
                    f"{name} is a read-only property of {interface.id}: "
                    "only its device or an import may set it"
                )
                out.append(InstanceError(where, Codes.READ_ONLY, message))
                continue
        elif kind == _TELEMETRY:
            if not allow_telemetry:
                message = (
                    f"{name} is telemetry of {interface.id}: its last-known value comes from "
                    "the device's telemetry, not from a twin update"
                )
                out.append(InstanceError(where, Codes.TELEMETRY_NOT_ALLOWED, message))
                continue
        elif kind == _COMPONENT:
            component = registry.get(content.schema)
            if component is None:
                message = f"the interface {content.schema} of component {name} is not loaded"
                out.append(InstanceError(where, Codes.UNKNOWN_MODEL, message))
            else:
                _check_document(
                    registry, component, value, where, allow_telemetry, allow_read_only, out
                )
            continue
        else:
            noun = "relationship" if isinstance(content, Relationship) else "command"
            message = f"{name} is a {noun} of {interface.id}, not a value a twin holds"
            out.append(InstanceError(where, Codes.NOT_A_VALUE, message))
            continue
        try:
            problems = checker(value)  # type: ignore[misc]
        except RecursionError:
            out.extend(_too_deep(where))
            continue
        if problems:
            out.extend(_errors(problems, where))


def _interface(
    registry: ModelRegistry, model_id: str, out: list[InstanceError]
) -> Interface | None:
    interface = registry.get(model_id)
    if interface is None:
        out.append(InstanceError("", Codes.UNKNOWN_MODEL, f"no model {model_id} is loaded"))
    return interface


def validate_twin(
    registry: ModelRegistry,
    model_id: str,
    properties: Mapping[str, Any],
    *,
    allow_telemetry: bool = False,
    allow_read_only: bool = True,
) -> list[InstanceError]:
    """Check a whole twin document (``properties``) against the model ``model_id``.

    Property values by their schemas; components as nested objects against the
    component's interface; telemetry last-known values only when
    ``allow_telemetry``; non-writable properties refused when ``allow_read_only``
    is False (an application's write).  Missing names are fine, as in DTDL.
    """
    out: list[InstanceError] = []
    interface = _interface(registry, model_id, out)
    if interface is not None:
        _check_document(registry, interface, properties, "", allow_telemetry, allow_read_only, out)
    return out


def validate_telemetry(
    registry: ModelRegistry, model_id: str, payload: Mapping[str, Any]
) -> list[InstanceError]:
    """Check a device message: each name a Telemetry or a (reported) Property of the model."""
    out: list[InstanceError] = []
    interface = _interface(registry, model_id, out)
    if interface is not None:
        _check_document(registry, interface, payload, "", True, True, out)
    return out


# What a compiled telemetry check returns when the payload is valid: shared, never mutated.
_NO_ERRORS: tuple[InstanceError, ...] = ()

TelemetryCheck = Callable[[str, Any], Sequence[InstanceError]]


def telemetry_checker(registry: ModelRegistry) -> TelemetryCheck:
    """``validate_telemetry`` for many payloads against one registry: (model, payload) -> errors.

    The ingestion path checks thousands of payloads per batch, nearly all valid and
    of a few models.  Per model this keeps one table, name -> value checker, of its
    Telemetry and Property names (built on first use), and a payload whose every name
    is in it and whose every value passes costs one lookup and one call per value.
    Anything else (an unknown, ``$`` or component name, a bad value, not a dict, an
    unknown model, a value nested too deeply) goes to ``validate_telemetry`` itself,
    so the errors, paths and messages are exactly its own.  Build one per batch: the
    tables follow the registry as it was when built.
    """
    tables: dict[str, dict[str, Checker] | None] = {}

    def check(model_id: str, payload: Any) -> Sequence[InstanceError]:
        names = tables.get(model_id, _NOT_BUILT)
        if names is _NOT_BUILT:
            interface = registry.get(model_id)
            names = tables[model_id] = (
                None if interface is None else _flat_value_checkers(interface)
            )
        if names is not None and type(payload) is dict:
            try:
                for name, value in payload.items():
                    checker = names.get(name)
                    if checker is None or checker(value):
                        break  # the general path says what is wrong, and where
                else:
                    return _NO_ERRORS
            except RecursionError:
                pass
        return validate_telemetry(registry, model_id, payload)

    return check


_NOT_BUILT: Any = object()


def _flat_value_checkers(interface: Interface) -> dict[str, Checker]:
    """The checkers of the top-level names whose value ``validate_telemetry`` checks with
    nothing else to say: telemetry and properties (reported ones included)."""
    return {
        name: checker
        for name, (kind, _, checker) in _cached(interface, _name_table).items()
        if checker is not None and kind in (_PROPERTY, _TELEMETRY)
    }


def validate_relationship_properties(
    registry: ModelRegistry, model_id: str, rel_name: str, props: Mapping[str, Any]
) -> list[InstanceError]:
    """Check the properties of a relationship ``rel_name`` whose source is of ``model_id``."""
    out: list[InstanceError] = []
    interface = _interface(registry, model_id, out)
    if interface is None:
        return out
    relationship = interface.contents.get(rel_name)
    if not isinstance(relationship, Relationship):
        hint = _did_you_mean(rel_name, tuple(interface.relationships), "relationships")
        message = f"{_quoted(rel_name)} is not a relationship of {model_id}; {hint}"
        return [InstanceError("", Codes.UNKNOWN_RELATIONSHIP, message)]
    if not isinstance(props, Mapping):
        message = f"expected an object of relationship properties, got {describe(props)}"
        return [InstanceError("", Codes.WRONG_TYPE, message)]
    schemas = {p.name: p.schema for p in relationship.properties}
    for name, value in props.items():
        schema = schemas.get(name)
        if schema is None:
            if type(name) is not str or name[:1] != "$":
                hint = _did_you_mean(name, tuple(schemas), "properties")
                message = (
                    f"{_quoted(name)} is not a property of the relationship {rel_name}; {hint}"
                )
                out.append(InstanceError("/" + escape_pointer(name), Codes.UNKNOWN_NAME, message))
            continue
        out.extend(validate_value(schema, value, "/" + escape_pointer(name)))
    return out


def validate_command(
    registry: ModelRegistry,
    model_id: str,
    command: str,
    payload: Any,
    *,
    response: bool = False,
) -> list[InstanceError]:
    """Check a command's request payload (or, with ``response``, its response payload).

    ``payload`` is the request value itself (None when there is none); a missing
    payload is fine only when the command declares none or it is ``nullable``.
    """
    out: list[InstanceError] = []
    interface = _interface(registry, model_id, out)
    if interface is None:
        return out
    cmd = interface.contents.get(command)
    if not isinstance(cmd, Command):
        hint = _did_you_mean(command, tuple(interface.commands), "commands")
        message = f"{_quoted(command)} is not a command of {model_id}; {hint}"
        return [InstanceError("", Codes.UNKNOWN_COMMAND, message)]
    declared = cmd.response if response else cmd.request
    part = "response" if response else "request"
    if declared is None:
        if payload is None:
            return []
        message = f"the command {command} takes no {part} payload, got {describe(payload)}"
        return [InstanceError("", Codes.UNEXPECTED_PAYLOAD, message)]
    if payload is None:
        if declared.nullable:
            return []
        message = f"the command {command} needs a {part} payload ({declared.name})"
        return [InstanceError("", Codes.MISSING_PAYLOAD, message)]
    return validate_value(declared.schema, payload)
