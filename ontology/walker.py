"""Walk decoded DTDL documents against the metamodel tables, producing elements and errors.

The walker is the one loop of the validator: for every JSON object it finds the
element class, then applies each table-driven rule (``ontology/rules.py``) to
its identifier, types and properties.  Rules yield bare problems; the walker adds
where they happened (source and JSON pointer) and keeps going, so one pass
reports everything it can.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ontology import rules
from ontology.elements import Builtin, Element, Ref, Value
from ontology.errors import Codes
from ontology.extensions import (
    AFFILIATE_VERSIONS,
    KNOWN_CONTEXTS,
    LIMIT_CONTEXTS,
    V2_CORE_QUANTITIES,
    AdjunctType,
    ExtensionContext,
    core_context_version,
)
from ontology.locations import SourceText, escape_pointer_token
from ontology.metamodel import Metamodel, PropDef, dtmi_pattern, metamodel_for, with_limits
from ontology.rules import Problem

__all__ = ["Issue", "Scope", "WalkOptions", "Walker"]

_KEYWORDS = ("@context", "@id", "@type")


@dataclass(frozen=True, slots=True)
class WalkOptions:
    max_dtdl_version: int = 4
    allow_undefined_extensions: bool | None = None  # None: the version's default (v2 allows)
    acceptable_limits: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem with where it happened, before it becomes a ``DtdlError``."""

    problem: Problem
    source: SourceText
    pointer: str
    dtmi: str | None = None
    related: tuple[tuple[SourceText, str], ...] = ()


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

    def adjunct(self, term: str) -> AdjunctType | None:
        for ctx in reversed(self.contexts):
            if term in ctx.adjuncts:
                return ctx.adjuncts[term]
        return None


class Walker:
    """Reads documents into elements; collects issues and every identified element."""

    def __init__(self, options: WalkOptions) -> None:
        self.options = options
        self.issues: list[Issue] = []
        self.roots: list[Element] = []
        self.by_id: dict[str, Element] = {}
        self.refs: list[Ref] = []

    # ------------------------------------------------------------------ reporting

    def report(self, problems: Iterable[Problem], source: SourceText, pointer: str,
               dtmi: str | None = None) -> bool:
        found = False
        for problem in problems:
            found = True
            self.issues.append(Issue(problem, source, problem.pointer or pointer, dtmi))
        return found

    # ------------------------------------------------------------------ documents

    def walk_document(self, source: SourceText) -> None:
        value = source.value
        if isinstance(value, list):
            if not value:
                self.report([Problem(Codes.NOT_AN_OBJECT, "The document is an empty array.",
                                     "Put at least one Interface in the array.")], source, "")
            for i, item in enumerate(value):
                self._root(source, item, f"/{i}")
        else:
            self._root(source, value, "")

    def _root(self, source: SourceText, obj: Any, ptr: str) -> None:
        if not isinstance(obj, dict):
            self.report([Problem(Codes.NOT_AN_OBJECT,
                                 f"A DTDL document must be a JSON object or an array of objects, "
                                 f"not {rules.json_kind(obj)}.",
                                 "Wrap the model in {...} with @context, @id and @type.")],
                        source, ptr)
            return
        scope = self._scope(obj, ptr, source, None)
        if scope is None:
            return
        el = self._element(obj, ptr, source, scope, "Interface", None, None, root=True)
        if el is not None:
            self.roots.append(el)

    # ------------------------------------------------------------------ contexts

    def _scope(self, obj: dict[str, Any], ptr: str, source: SourceText,
               outer: Scope | None) -> Scope | None:
        if "@context" not in obj:
            if outer is None:
                self.report([Problem(Codes.MISSING_CONTEXT,
                                     "The document has no @context, so its DTDL version is "
                                     "unknown.",
                                     'Add "@context": "dtmi:dtdl:context;3" (or ;2 / ;4).')],
                            source, ptr)
            return outer
        raw = obj["@context"]
        cptr = f"{ptr}/@context"
        items = raw if isinstance(raw, list) else [raw]
        state = _ContextState(outer)
        problems: list[Problem] = []
        for i, item in enumerate(items):
            iptr = f"{cptr}/{i}" if isinstance(raw, list) else cptr
            problems.extend(self._context_item(item, state, iptr, outer is None))
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
        if (self.report(problems, source, cptr) and outer is None) or version is None:
            return None
        mm = metamodel_for(version)
        if state.limits:
            mm = with_limits(mm, **state.limits)
        return Scope(mm, tuple(state.contexts), state.undefined)

    def _context_item(self, item: Any, state: _ContextState, ptr: str,
                      top: bool) -> list[Problem]:
        """Apply one @context value to ``state``; the order of values matters."""
        previous, state.previous = state.previous, item
        if not isinstance(item, str):
            return [Problem(Codes.BAD_CONTEXT, f"@context values must be strings, not "
                            f"{rules.json_kind(item)}.",
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

    def _element(self, obj: dict[str, Any], ptr: str, source: SourceText, scope: Scope,
                 expected: str, parent: Element | None, parent_prop: str | None,
                 id_required: bool = False, root: bool = False) -> Element | None:
        nested = self._scope(obj, ptr, source, scope) if not root else scope
        if nested is None:
            return None
        scope = nested
        mm = scope.mm
        cls, cotypes, semantic = self._types(obj, ptr, source, scope, expected)
        if cls is None:
            return None
        raw_id = obj.get("@id", rules.ABSENT)
        dtmi = raw_id if isinstance(raw_id, str) else None
        el = Element(cls, dtmi, mm.version, source, ptr, cotypes=cotypes, raw=obj,
                     parent=parent, parent_prop=parent_prop)
        need_id = id_required or mm.classes[cls].id_required or root
        self.report(rules.check_id(raw_id, cls, mm, need_id), source, f"{ptr}/@id"
                    if "@id" in obj else ptr, dtmi)
        if dtmi is not None and mm.id_pattern.match(dtmi):
            self._register(el)
        cdef = mm.classes[cls]
        adjuncts = [a for a in (scope.adjunct(t) for t in cotypes) if a is not None]
        undefined_cotypes = [t for t in cotypes if t not in semantic and scope.adjunct(t) is None]
        present: set[str] = set()
        unit: Any = None
        for key, value in obj.items():
            if key in _KEYWORDS:
                continue
            kptr = f"{ptr}/{escape_pointer_token(key)}"
            name = rules.property_term(key, mm)
            if name in present:
                self.report([Problem(Codes.TOO_MANY_VALUES,
                                     f"Property '{name}' is given twice (once as a term, once "
                                     "as an IRI).", "Keep one of them.")], source, kptr, dtmi)
                continue
            pdef = cdef.props.get(name)
            if pdef is not None and value == []:
                continue  # an empty array is the same as leaving the property out
            if pdef is not None:
                present.add(name)
                self._property(el, pdef, value, kptr, scope)
                continue
            if name == "unit" and semantic:
                present.add(name)
                unit = value
                el.unit = scope.unit_term(value) if isinstance(value, str) else None
                continue
            adj_prop = next((p for a in adjuncts for p in a.props if p.name == name), None)
            if adj_prop is not None:
                present.add(name)
                self.report(rules.check_literal(adj_prop, value, mm), source, kptr, dtmi)
                el.extensions[name] = value
                continue
            # An unknown key may belong to an undefined co-type (which v2 always tolerates).
            tenable = bool(undefined_cotypes) and (mm.version == 2 or scope.undefined_allowed)
            self.report(rules.check_unknown_property(key, name, cls, mm, tenable),
                        source, kptr, dtmi)
            el.extensions[key] = value
        self.report(rules.check_required(cdef, present, obj, ptr), source, ptr, dtmi)
        if semantic:
            el.semantic_types = tuple(scope.semantic_iri(t) for t in semantic)
            self.report(rules.check_semantic(el, obj, semantic, scope, ptr, unit), source, ptr,
                        dtmi)
        for adj in adjuncts:
            self.report(rules.check_adjunct(adj, el, present, ptr), source, ptr, dtmi)
        return el

    def _types(self, obj: dict[str, Any], ptr: str, source: SourceText, scope: Scope,
               expected: str) -> tuple[str | None, tuple[str, ...], list[str]]:
        mm = scope.mm
        tptr = f"{ptr}/@type"
        raw = obj.get("@type")
        if raw is None:
            optional = [c for c in mm.subclasses.get(expected, ()) if mm.classes[c].type_optional]
            if "@type" not in obj and len(optional) == 1:
                return optional[0], (), []
            self.report([rules.missing_type(expected, mm)], source, ptr, obj.get("@id"))
            return None, (), []
        problems, cls, cotypes, semantic = rules.classify_types(raw, expected, scope, tptr)
        if self.report(problems, source, tptr, obj.get("@id") if isinstance(obj.get("@id"), str)
                       else None):
            return None, (), []
        return cls, tuple(cotypes), semantic

    def _register(self, el: Element) -> None:
        assert el.id is not None
        other = self.by_id.get(el.id)
        if other is None:
            self.by_id[el.id] = el
            return
        self.issues.append(Issue(
            Problem(Codes.DUPLICATE_ID, f"'{el.id}' is defined more than once.",
                    "Give each element its own @id; the other definition is listed as related."),
            el.source, f"{el.pointer}/@id", el.id, ((other.source, f"{other.pointer}/@id"),)))

    # ------------------------------------------------------------------ properties

    def _property(self, el: Element, pdef: PropDef, value: Any, ptr: str, scope: Scope) -> None:
        mm = scope.mm
        if pdef.kind != "element":
            plain = rules.plain_literal(pdef, value)
            if plain is not None:  # the common, valid case, without the general checks
                el.literals[pdef.name] = plain
                return
            problems = list(rules.check_literal(pdef, value, mm))
            self.report(problems, el.source, ptr, el.id)
            if not problems:
                el.literals[pdef.name] = rules.literal_value(pdef, value)
            return
        items = value if isinstance(value, list) else [value]
        self.report(rules.check_count(pdef, items, isinstance(value, list)), el.source, ptr, el.id)
        values: list[Value] = []
        for i, item in enumerate(items):
            iptr = f"{ptr}/{i}" if isinstance(value, list) else ptr
            if isinstance(item, str):
                ref = self._reference(item, pdef, iptr, el, mm)
                if ref is not None:
                    values.append(ref)
            elif isinstance(item, dict):
                child = self._element(item, iptr, el.source, scope, pdef.range or "Entity", el,
                                      pdef.name, id_required=pdef.id_required)
                if child is not None:
                    self.report(rules.check_version(pdef, el, child.version), el.source, iptr,
                                el.id)
                    if pdef.values and not isinstance(child, Builtin):
                        self.report([rules.must_be_term(pdef)], el.source, iptr, el.id)
                    values.append(child)
            else:
                self.report([Problem(Codes.BAD_VALUE_TYPE,
                                     f"Property '{pdef.name}' needs an element or an identifier, "
                                     f"not {rules.json_kind(item)}.",
                                     f"Give an object with @type {pdef.range} or a DTMI.")],
                            el.source, iptr, el.id)
        el.children[pdef.name] = values
        if pdef.unique_by:
            self.report(rules.check_unique(pdef, values, ptr, isinstance(value, list)),
                        el.source, ptr, el.id)

    def _reference(self, text: str, pdef: PropDef, ptr: str, owner: Element,
                   mm: Metamodel) -> Value | None:
        range_ = pdef.range or "Entity"
        builtin = rules.builtin_term(text, range_, pdef, mm)
        if isinstance(builtin, Builtin):
            return builtin
        if builtin is not None:  # a problem
            self.report([builtin], owner.source, ptr, owner.id)
            return None
        ref = Ref(text, owner.source, ptr, range_, owner, pdef)
        self.refs.append(ref)
        return ref


def relocate(issue: Issue, pointer: str) -> Issue:
    return replace(issue, pointer=pointer)


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
