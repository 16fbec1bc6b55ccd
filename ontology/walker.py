"""Walk decoded DTDL documents against the metamodel tables, producing elements and errors.

The walker is the one loop of the validator: for every JSON object it reads the
``@context`` (``ontology/contexts.py``), finds the element class, then applies each
table-driven rule (``ontology/rules.py``, ``ontology/literals.py``) to its identifier,
types and properties.  Rules yield bare problems; the walker adds
where they happened (source and JSON pointer) and keeps going, so one pass
reports everything it can.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ontology import literals, rules
from ontology.contexts import ContextReader, Scope, WalkOptions
from ontology.elements import Builtin, Element, Ref, Value
from ontology.errors import Codes
from ontology.extensions import V2_UNIT_KINDS
from ontology.locations import SourceText, escape_pointer_token
from ontology.metamodel import PropDef
from ontology.problem import Problem

__all__ = ["Issue", "Scope", "WalkOptions", "Walker"]

_KEYWORDS = ("@context", "@id", "@type")


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem with where it happened, before it becomes a ``DtdlError``."""

    problem: Problem
    source: SourceText
    pointer: str
    dtmi: str | None = None
    related: tuple[tuple[SourceText, str], ...] = ()


class Walker:
    """Reads documents into elements; collects issues and every identified element."""

    def __init__(self, options: WalkOptions) -> None:
        self.options = options
        self.issues: list[Issue] = []
        self.roots: list[Element] = []
        self.by_id: dict[str, Element] = {}
        self.refs: list[Ref] = []
        self.contexts = ContextReader(options)

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
        scope, problems = self.contexts.read(obj, ptr, outer)
        self.report(problems, source, f"{ptr}/@context")
        return scope

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
        self.report(rules.check_id(raw_id, cls, mm, need_id, scope.reserved_prefixes()),
                    source, f"{ptr}/@id"
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
                if isinstance(value, str):
                    el.unit = scope.unit_term(value)
                elif mm.version == 2 and _inline(value):  # a unit defined in place
                    unit = self._v2_unit(el, value, kptr, scope)
                    # The registry's 'unit' names units; one defined in place is named by
                    # its @id, and its definition is kept as written among the extensions.
                    el.extensions["unit"] = value
                if isinstance(value, str) and mm.version == 2 and el.unit not in \
                        V2_UNIT_KINDS and mm.id_pattern.match(value) \
                        and not value.startswith(mm.reserved_prefixes):  # a unit's DTMI
                    unit = self._v2_unit(el, value, kptr, scope)
                continue
            adj_prop = next((p for a in adjuncts for p in a.props if p.name == name), None)
            if adj_prop is not None:
                present.add(name)
                if adj_prop.kind == "element":  # e.g. a unit's baseUnit: a reference
                    self._property(el, adj_prop, value, kptr, scope)
                else:
                    self.report(literals.check_literal(adj_prop, value, mm), source, kptr, dtmi)
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
        if cotypes:  # most elements have none: skip the co-type rules' set-up
            self.report(rules.check_cotype_versions(el, cotypes, scope, ptr), source, ptr, dtmi)
            names = frozenset(a.name for a in adjuncts)
            for adj in adjuncts:
                self.report(rules.check_adjunct(adj, el, present, ptr, names), source, ptr, dtmi)
            el.extension_versions = _extension_versions(cotypes, semantic, scope)
        return el

    def _v2_unit(self, el: Element, value: Any, ptr: str, scope: Scope) -> Any:
        """A DTDL v2 semantic type's unit given as a Unit element: inline or by DTMI.
        Returns the element or reference, or ABSENT when it is unusable (and reported)."""
        self._property(el, _V2_UNIT, value, ptr, scope)
        parsed = el.children.pop("unit", [])
        unit = parsed[0] if parsed else rules.ABSENT
        el.unit = unit.id if isinstance(unit, Element) else \
            unit.target if isinstance(unit, Ref) else None
        return unit

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
            plain = literals.plain_literal(pdef, value)
            if plain is not None:  # the common, valid case, without the general checks
                el.literals[pdef.name] = plain
                return
            problems = list(literals.check_literal(pdef, value, mm))
            self.report(problems, el.source, ptr, el.id)
            if not problems:
                el.literals[pdef.name] = literals.literal_value(pdef, value)
            return
        items = value if isinstance(value, list) else [value]
        self.report(rules.check_count(pdef, items, isinstance(value, list)), el.source, ptr, el.id)
        values: list[Value] = []
        for i, item in enumerate(items):
            iptr = f"{ptr}/{i}" if isinstance(value, list) else ptr
            if isinstance(item, str):
                ref = self._reference(item, pdef, iptr, el, scope)
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
                   scope: Scope) -> Value | None:
        range_ = pdef.range or "Entity"
        builtin = rules.builtin_term(text, range_, pdef, scope.mm, scope.extension_instances())
        if isinstance(builtin, Builtin):
            return builtin
        if builtin is not None:  # a problem
            self.report([builtin], owner.source, ptr, owner.id)
            return None
        ref = Ref(text, owner.source, ptr, range_, owner, pdef)
        self.refs.append(ref)
        return ref


# DTDL v2 lets a semantic type's 'unit' be a Unit element written in place.
_V2_UNIT = PropDef("unit", "element", "Unit", max_count=1)


def _inline(value: Any) -> bool:
    """An object, or a list of one object: a value written in place rather than by name."""
    return isinstance(value, dict) or (isinstance(value, list) and len(value) == 1
                                       and isinstance(value[0], dict))


def _extension_versions(cotypes: tuple[str, ...], semantic: list[str],
                        scope: Scope) -> dict[str, int]:
    """Extension property -> the DTDL version its defining extension is written in."""
    found: dict[str, int] = {}
    for term in cotypes:
        ctx = scope.adjunct_context(term)
        if ctx is None or not ctx.defined_in:
            continue
        adj = scope.adjunct(term)
        for prop in adj.props if adj is not None else ():
            found[prop.name] = ctx.defined_in
        if term in semantic:
            found["unit"] = ctx.defined_in
    return found
