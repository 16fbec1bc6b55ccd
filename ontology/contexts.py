"""``@context``: which DTDL version and which extensions are in force for an element.

A context value list is read in order: the DTDL context (``dtmi:dtdl:context;N``, or
``;4#limitless`` followed by ``;4#limits`` or a limit extension), extension contexts
after it (partner contexts such as IoT Central's may come first and imply their DTDL
version), and undefined extensions under the AllowUndefinedExtensions /
DisallowUndefinedExtensions policy.  A nested ``@context`` adds to the enclosing one
and may switch to another DTDL version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ontology.errors import Codes
from ontology.extensions import (
    AFFILIATE_VERSIONS,
    KNOWN_CONTEXTS,
    LIMIT_CONTEXTS,
    V2_CORE_QUANTITIES,
    V2_UNIT_CLASSES,
    V2_UNIT_INSTANCES,
    AdjunctType,
    ExtensionContext,
    core_context_version,
)
from ontology.metamodel import Metamodel, dtmi_pattern, metamodel_for, with_limits
from ontology.problem import Problem, json_kind

__all__ = ["ContextReader", "Scope", "WalkOptions"]


@dataclass(frozen=True, slots=True)
class WalkOptions:
    max_dtdl_version: int = 4
    allow_undefined_extensions: bool | None = None  # None: the version's default (v2 allows)
    acceptable_limits: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scope:
    """What the ``@context`` in force defines."""

    mm: Metamodel
    contexts: tuple[ExtensionContext, ...] = ()
    undefined_allowed: bool = False  # an undefined extension context is in scope and allowed

    @property
    def version(self) -> int:
        return self.mm.version

    def semantic_unit_type(self, term: str) -> tuple[str, dict[str, tuple[str, ...]]] | None:
        """(unit type, unit table) for a semantic type term or IRI, if one is defined here."""
        if self.version == 2:
            name = _strip(term, "dtmi:standard:class:", ";2")
            if name in V2_CORE_QUANTITIES[1]:
                return V2_CORE_QUANTITIES[1][name], V2_CORE_QUANTITIES[2]
        for ctx in self.contexts:
            name = _strip(term, f"{ctx.iri_base}class:", "")
            if name in ctx.semantic_types:
                return ctx.semantic_types[name], ctx.units
        return None

    def semantic_iri(self, term: str) -> str:
        """The full identifier of a semantic type written as a term or IRI."""
        if self.version == 2:
            name = _strip(term, "dtmi:standard:class:", ";2")
            if name in V2_CORE_QUANTITIES[1]:
                return f"dtmi:standard:class:{name};2"
        for ctx in self.contexts:
            name = _strip(term, f"{ctx.iri_base}class:", "")
            if name in ctx.semantic_types:
                return f"{ctx.iri_base}class:{name}"
        return term

    def unit_term(self, unit: str) -> str:
        """A unit by term or IRI, as its term."""
        if self.version == 2:
            return _strip(unit, "dtmi:standard:unit:", ";2")
        for ctx in self.contexts:
            if ctx.units and unit.startswith(ctx.iri_base):
                return _strip(unit, f"{ctx.iri_base}unit:", "")
        return unit

    def reserved_prefixes(self) -> tuple[str, ...]:
        """Identifier prefixes the partner contexts in scope reserve (dtmi:iotcentral:)."""
        return tuple(p for ctx in self.contexts for p in ctx.reserved_prefixes)

    def extension_schemas(self) -> dict[str, str]:
        """Predefined schemas the extension contexts in scope add (term -> IRI)."""
        found: dict[str, str] = {}
        for ctx in self.contexts:
            found.update(ctx.schemas)
        return found

    def extension_instances(self) -> dict[str, tuple[str, str, str]]:
        """Predefined elements the extension contexts in scope add, by term and by IRI:
        key -> (term, class, IRI); e.g. IoT Central's ``geopoint`` (an Object) and the
        quantitativeTypes unit-type Enums and units.  Memoised per list of contexts, since
        it is consulted for every reference by term."""
        # DTDL v2's core context predefines its units and prefixes (metre, kilo).
        core = V2_UNIT_INSTANCES if self.version == 2 else _NO_INSTANCES
        if not self.contexts:
            return core
        key = (str(self.version), *[ctx.dtmi for ctx in self.contexts])
        found = _INSTANCES.get(key)
        if found is None:
            found = dict(core)
            for ctx in self.contexts:
                typed = [(t, ("Object", iri)) for t, iri in ctx.schemas.items()]
                for term, (cls, iri) in [*typed, *ctx.instances.items()]:
                    found[term] = found[iri] = (term, cls, iri)
            _INSTANCES[key] = found
        return found

    def adjunct_context(self, term: str) -> ExtensionContext | None:
        """The extension context defining a co-type (adjunct or semantic type)."""
        for ctx in reversed(self.contexts):
            name = ctx.adjunct_term(term)
            if name in ctx.adjuncts:
                return ctx
            if _strip(term, f"{ctx.iri_base}class:", "") in ctx.semantic_types:
                return ctx
        return None

    def adjunct(self, term: str) -> AdjunctType | None:
        """The adjunct type a co-type names, by term or by its full identifier."""
        if self.version == 2:  # the core context's unit classes (TemperatureUnit, DecimalUnit)
            unit_class = V2_UNIT_CLASSES.get(_strip(term, "dtmi:standard:class:", ";2"))
            if unit_class is not None:
                return unit_class
        for ctx in reversed(self.contexts):
            name = ctx.adjunct_term(term)
            if name in ctx.adjuncts:
                return ctx.adjuncts[name]
        return None


_INSTANCES: dict[tuple[str, ...], dict[str, tuple[str, str, str]]] = {}
_NO_INSTANCES: dict[str, tuple[str, str, str]] = {}


class ContextReader:
    """Reads @context values into a :class:`Scope`."""

    def __init__(self, options: WalkOptions) -> None:
        self.options = options

    def read(self, obj: dict[str, Any], ptr: str,
             outer: Scope | None) -> tuple[Scope | None, list[Problem]]:
        """The scope inside ``obj`` (None when unusable) and the problems of its @context."""
        if "@context" not in obj:
            if outer is None:
                return None, [Problem(Codes.MISSING_CONTEXT,
                                      "The document has no @context, so its DTDL version is "
                                      "unknown.",
                                      'Add "@context": "dtmi:dtdl:context;3" (or ;2 / ;4).', ptr)]
            return outer, []
        raw = obj["@context"]
        cptr = f"{ptr}/@context"
        items = raw if isinstance(raw, list) else [raw]
        state = _ContextState(outer)
        problems: list[Problem] = []
        for i, item in enumerate(items):
            iptr = f"{cptr}/{i}" if isinstance(raw, list) else cptr
            problems.extend(self._item(item, state, iptr, outer is None))
        if state.limitless_open:
            problems.append(Problem(Codes.BAD_CONTEXT,
                                    "'#limitless' must be followed by the limits to apply.",
                                    "Add dtmi:dtdl:context;4#limits or a limit extension right "
                                    "after it.", cptr))
        if outer is None and not state.core_seen and not problems:
            problems.append(Problem(Codes.MISSING_CONTEXT,
                                    "@context does not name a DTDL version.",
                                    'Add "dtmi:dtdl:context;3" (or ;2 / ;4) first.', cptr))
        version = state.version
        if version is not None and version > self.options.max_dtdl_version:
            problems.append(Problem(Codes.VERSION_NOT_ALLOWED,
                                    f"DTDL version {version} is newer than this parser is "
                                    f"allowed to accept (at most {self.options.max_dtdl_version}).",
                                    "Write the model in an allowed version or raise "
                                    "max_dtdl_version.", cptr))
        if (problems and outer is None) or version is None:
            return None, problems
        mm = metamodel_for(version)
        if state.limits:
            mm = with_limits(mm, **state.limits)
        return Scope(mm, tuple(state.contexts), state.undefined), problems

    def _item(self, item: Any, state: _ContextState, ptr: str,
                      top: bool) -> list[Problem]:
        """Apply one @context value to ``state``; the order of values matters."""
        previous, state.previous = state.previous, item
        if not isinstance(item, str):
            return [Problem(Codes.BAD_CONTEXT, f"@context values must be strings, not "
                            f"{json_kind(item)}.",
                            "Use context DTMIs such as dtmi:dtdl:context;3.", ptr)]
        core = core_context_version(item)
        if core is not None:
            version, fragment = core
            if version not in (2, 3, 4) or (fragment and version < 4):
                return [Problem(Codes.BAD_CONTEXT, f"'{item}' is not a DTDL context this "
                                "parser knows.", "Use dtmi:dtdl:context;2, ;3 or ;4.", ptr)]
            if fragment == "limits":
                if previous != f"dtmi:dtdl:context;{version}#limitless":
                    return [Problem(Codes.BAD_CONTEXT, f"'{item}' must directly follow "
                                    f"'dtmi:dtdl:context;{version}#limitless'.",
                                    "Remove it, or put the #limitless context before it.", ptr)]
                state.limitless_open = False
                return []
            state.version, state.core_seen = version, True
            state.limitless_open = fragment == "limitless"
            return []
        if item in LIMIT_CONTEXTS:
            if not (isinstance(previous, str) and previous.endswith("#limitless")):
                return [Problem(Codes.BAD_CONTEXT, f"Limit extension '{item}' must directly "
                                "follow 'dtmi:dtdl:context;4#limitless'.",
                                "Put dtmi:dtdl:context;4#limitless right before it.", ptr)]
            state.limitless_open = False
        elif state.limitless_open:
            return [Problem(Codes.BAD_CONTEXT, f"'{item}' cannot come between '#limitless' and "
                            "the limits that must follow it.", "Move it after the limits.", ptr)]
        if state.version is None and item in AFFILIATE_VERSIONS and not top:
            state.version = AFFILIATE_VERSIONS[item]
        if not state.core_seen and top and item not in AFFILIATE_VERSIONS:
            return [Problem(Codes.BAD_CONTEXT, f"'{item}' comes before the DTDL context.",
                            'Put "dtmi:dtdl:context;3" (or ;2/;4) first.', ptr)]
        if state.version is None:
            state.pending.append((item, ptr))  # an affiliate before the DTDL context
            return []
        return self._apply_extension(item, state, ptr)

    def _apply_extension(self, item: str, state: _ContextState, ptr: str) -> list[Problem]:
        assert state.version is not None
        found = self._extension_context(item, state.version, ptr, state.contexts, state.limits)
        if item not in KNOWN_CONTEXTS and item not in LIMIT_CONTEXTS and not found:
            state.undefined = True
        pending, state.pending = state.pending, []
        for p_item, p_ptr in pending:
            found += self._apply_extension(p_item, state, p_ptr)
        return found

    def _extension_context(self, item: str, version: int, ptr: str,
                           contexts: list[ExtensionContext],
                           limits: dict[str, int]) -> list[Problem]:
        if item in KNOWN_CONTEXTS:
            ext = KNOWN_CONTEXTS[item]
            if version not in ext.versions:
                return [Problem(Codes.BAD_CONTEXT,
                                f"Extension '{item}' cannot be used with DTDL v{version}.",
                                "Use the extension version made for this DTDL version.", ptr)]
            contexts.append(ext)
            return []
        if item in LIMIT_CONTEXTS:
            limit_version, raised = LIMIT_CONTEXTS[item]
            if not _accepted(item, self.options.acceptable_limits):
                return [Problem(Codes.LIMIT_NOT_ACCEPTED,
                                f"Limit extension '{item}' is not among the limits this parser "
                                "was told to accept.",
                                "Pass it in acceptable_limits, or remove it.", ptr)]
            if version != limit_version:
                return [Problem(Codes.BAD_CONTEXT,
                                f"Limit extension '{item}' needs DTDL v{limit_version}.",
                                "Remove it or change the DTDL version.", ptr)]
            limits.update(raised)
            return []
        if not dtmi_pattern(2).match(item):  # context identifiers always carry a version
            return [Problem(Codes.BAD_CONTEXT, f"'{item}' is not a valid context identifier.",
                            "Extension contexts are DTMIs with a version, e.g. "
                            "dtmi:com:example:context;1.", ptr)]
        allow = self.options.allow_undefined_extensions
        if allow is None:
            allow = version == 2
        if not allow:
            return [Problem(Codes.UNDEFINED_CONTEXT,
                            f"'{item}' is not an extension this parser knows.",
                            "Remove the context or allow undefined extensions "
                            "(--allow-undefined-extensions).", ptr)]
        return []

    # ------------------------------------------------------------------ elements


def _accepted(context: str, acceptable: tuple[str, ...]) -> bool:
    """Limit contexts may be accepted with or without their version (``...:onvif``)."""
    return context in acceptable or context.rsplit(";", 1)[0] in acceptable


def _strip(text: str, prefix: str, suffix: str) -> str:
    if text.startswith(prefix) and text.endswith(suffix):
        return text[len(prefix):len(text) - len(suffix)]
    return text


class _ContextState:
    """What the @context values read so far establish."""

    def __init__(self, outer: Scope | None) -> None:
        self.version: int | None = outer.version if outer else None
        self.contexts: list[ExtensionContext] = list(outer.contexts) if outer else []
        self.undefined = outer.undefined_allowed if outer else False
        self.limits: dict[str, int] = {}
        self.core_seen = False
        self.limitless_open = False
        self.previous: Any = None
        self.pending: list[tuple[str, str]] = []
