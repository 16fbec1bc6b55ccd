"""The validation rules: small functions that read the metamodel tables and yield problems.

A rule knows nothing about files or positions: it returns bare :class:`Problem`
values (code, message, hint, optionally a pointer more precise than the one the
caller has) and the walker attaches the location.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ontology.elements import Builtin, Element, Ref, Value
from ontology.errors import Codes
from ontology.extensions import (
    KNOWN_CONTEXTS,
    V2_CORE_QUANTITIES,
    V2_UNIT_CLASSES,
    V2_UNIT_KINDS,
    v2_unit_type,
)
from ontology.metamodel import ClassDef, Metamodel, PropDef, metamodel_for
from ontology.problem import Problem, json_kind

if TYPE_CHECKING:
    from ontology.extensions import AdjunctType
    from ontology.walker import Scope

__all__ = ["ABSENT", "Problem", "classify_types", "json_kind"]

_TERM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------- terms and IRIs


def class_term(text: str, mm: Metamodel) -> str:
    """``dtmi:dtdl:class:Telemetry;3`` -> ``Telemetry`` (in the matching version only)."""
    prefix = "dtmi:dtdl:class:"
    if text.startswith(prefix) and text.endswith(f";{mm.version}"):
        return text[len(prefix):text.rindex(";")]
    return text


def property_term(text: str, mm: Metamodel) -> str:
    prefix = "dtmi:dtdl:property:"
    if text.startswith(prefix) and text.endswith(f";{mm.version}"):
        return text[len(prefix):text.rindex(";")]
    return text


def instance_term(text: str, mm: Metamodel) -> str:
    for prefix in ("dtmi:dtdl:instance:Schema:", "dtmi:dtdl:instance:CommandType:",
                   "dtmi:standard:schema:geospatial:", "dtmi:standard:schema:"):
        if text.startswith(prefix) and text.endswith(f";{mm.version}"):
            return text[len(prefix):text.rindex(";")]
    return text


def _undefined_kind(text: str, mm: Metamodel) -> str:
    """How an unknown type or property key looks: the spec treats each kind differently."""
    if text.startswith("dtmi:"):
        return "irrelevant" if mm.id_pattern.match(text) else "invalidDtmi"
    if text in mm.terms:
        return "irrelevant"
    if _TERM.match(text):
        return "undefinedTerm"
    return "notDtmiNorTerm"


def _undefined_allowed(kind: str, as_cotype: bool, mm: Metamodel, tenable: bool) -> bool:
    if kind == "invalidDtmi":
        return mm.version == 2 and not as_cotype and tenable
    if mm.version == 2:
        if as_cotype:
            return kind != "irrelevant" or tenable
        return tenable
    return kind in ("irrelevant", "undefinedTerm") and tenable


# ---------------------------------------------------------------------- identifiers


ABSENT = object()  # marks a missing key, as opposed to an explicit null


def check_id(raw: Any, cls: str, mm: Metamodel, required: bool,
             reserved: tuple[str, ...] = ()) -> Iterator[Problem]:
    """The @id of an element; ``reserved`` adds prefixes partner contexts keep for themselves."""
    if raw is ABSENT:
        if required:
            yield Problem(Codes.MISSING_ID, f"This {cls} has no @id.",
                          f'Give it an identifier, e.g. "@id": "dtmi:com:example:{cls};1".')
        return
    if not isinstance(raw, str):
        yield Problem(Codes.BAD_ID, f"@id must be a string, not {json_kind(raw)}.",
                      "Use a DTMI such as dtmi:com:example:Thermostat;1.")
        return
    if not mm.id_pattern.match(raw):
        version_hint = " with a version (;1)" if mm.version == 2 else ""
        yield Problem(Codes.BAD_ID, f"'{raw}' is not a valid DTMI.",
                      f"A DTMI is dtmi:<segments separated by colons>{version_hint}; segments "
                      "start with a letter and hold only letters, digits and underscores.")
        return
    limit = mm.max_interface_id_length if cls == "Interface" else mm.max_id_length
    if len(raw) > limit:
        yield Problem(Codes.ID_TOO_LONG,
                      f"The @id of this {cls} is {len(raw)} characters; the limit is {limit}.",
                      "Shorten the identifier.")
    for prefix in (*mm.reserved_prefixes, *reserved):
        if raw.startswith(prefix):
            yield Problem(Codes.RESERVED_ID, f"'{raw}' uses the reserved prefix '{prefix}'.",
                          "Identifiers under dtmi:dtdl:, dtmi:standard: and partner prefixes "
                          "belong to the language; choose your own namespace.")


# ---------------------------------------------------------------------- types


def missing_type(expected: str, mm: Metamodel) -> Problem:
    options = sorted(mm.subclasses.get(expected, ()))
    shown = ", ".join(options[:6]) + (", ..." if len(options) > 6 else "")
    return Problem(Codes.MISSING_TYPE, f"This element has no @type; a {expected} is expected here.",
                   f"Add @type with one of: {shown}.")


def classify_types(raw: Any, expected: str, scope: Scope,
                   ptr: str) -> tuple[list[Problem], str | None, list[str], list[str]]:
    """Split @type into the element class, co-types and semantic types, checking each."""
    mm = scope.mm
    problems: list[Problem] = []
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        problems.append(Problem(Codes.BAD_TYPE, "@type is an empty array.",
                                f"Give the element's class, e.g. {expected}."))
    classes: list[str] = []
    cotypes: list[str] = []
    semantic: list[str] = []
    for i, item in enumerate(items):
        iptr = f"{ptr}/{i}" if isinstance(raw, list) else ptr
        if not isinstance(item, str):
            problems.append(Problem(Codes.BAD_TYPE, f"@type values must be strings, not "
                                    f"{json_kind(item)}.", "", iptr))
            continue
        term = class_term(item, mm)
        if term in mm.classes:
            if mm.classes[term].abstract:
                problems.append(Problem(Codes.BAD_TYPE,
                                        f"'{term}' is an abstract class and cannot be an @type.",
                                        "Use one of its concrete classes: "
                                        + ", ".join(sorted(mm.subclasses[term])), iptr))
            elif term not in classes:  # a repeated class is redundant, not wrong
                classes.append(term)
            continue
        if item in cotypes:
            continue
        cotypes.append(item)
        if scope.semantic_unit_type(item) is not None:
            semantic.append(item)
            continue
        if scope.adjunct(item) is not None:
            continue
        kind = _undefined_kind(item, mm)
        if not _undefined_allowed(kind, True, mm, scope.undefined_allowed):
            # A term of the language that names no usable class (v2's abstract SemanticUnit).
            language_term = item in mm.terms
            problems.append(Problem(Codes.UNDEFINED_TYPE,
                                    f"'{item}' is a DTDL v{mm.version} term, but not a class or "
                                    "co-type an element can have." if language_term else
                                    f"'{item}' in @type is not defined by the contexts in use.",
                                    "Use a concrete class or co-type (abstract classes and "
                                    "property names cannot type an element)." if language_term
                                    else "Check the spelling, or add the extension context "
                                    "that defines it.", iptr))
    allowed = mm.subclasses.get(expected, frozenset())
    if not classes:  # a DTDL v2 unit type names its class: {"@type": "TemperatureUnit"}
        classes = _implied_classes(cotypes, scope)
    if not classes:
        if not problems:
            # Co-types that would give the class (v2: a unit type makes an element a Unit).
            implying = [a.name for a in V2_UNIT_CLASSES.values() if a.material in allowed] \
                if mm.version == 2 else []
            problems.append(Problem(Codes.MISSING_TYPE,
                                    f"@type names no DTDL class; a {expected} is expected here.",
                                    "Add one of: " + ", ".join(sorted(allowed))
                                    + (f" (or a type that implies it: {', '.join(implying[:3])}"
                                       ", ...)" if implying else ""), ptr))
        return problems, None, cotypes, semantic
    if len(classes) > 1:
        problems.append(Problem(Codes.AMBIGUOUS_TYPE,
                                f"@type names more than one DTDL class: {', '.join(classes)}.",
                                "Keep exactly one element class; the others can only be "
                                "co-types from extensions.", ptr))
        return problems, None, cotypes, semantic
    cls = classes[0]
    if cls not in allowed:
        problems.append(Problem(Codes.WRONG_CLASS,
                                f"A {cls} is not allowed here; expected {expected}"
                                + (f" ({', '.join(sorted(allowed))})" if len(allowed) > 1 else "")
                                + ".", f"Use @type {sorted(allowed)[0] if allowed else expected}.",
                                ptr))
    return problems, cls, cotypes, semantic


def _implied_classes(cotypes: list[str], scope: Scope) -> list[str]:
    """The element classes the co-types imply (DTDL v2 units: TemperatureUnit -> Unit)."""
    found: list[str] = []
    for term in cotypes:
        adj = scope.adjunct(term)
        if adj is not None and adj.material is not None and adj.material not in found:
            found.append(adj.material)
    return found


# ---------------------------------------------------------------------- properties


def check_unknown_property(key: str, term: str, cls: str, mm: Metamodel,
                           tenable: bool) -> Iterator[Problem]:
    """A key the element's class does not define.

    Under an undefined (allowed) extension context, a key may belong to an undefined
    co-type, so ``tenable`` is true only when the element has such a co-type.
    """
    if key.startswith("@"):
        if mm.version == 2 and key != "@graph":  # v2 ignores JSON-LD keywords it does not use
            return
        yield Problem(Codes.KEYWORD_NOT_ALLOWED, f"'{key}' is not allowed in a DTDL element.",
                      "Only @context, @id and @type are used; remove it.")
        return
    if term == "languageMajorVersion":
        yield Problem(Codes.PROPERTY_NOT_ALLOWED, "'languageMajorVersion' is set by the parser, "
                      "not by models.", "Remove it.")
        return
    kind = _undefined_kind(term, mm)
    if _undefined_allowed(kind, False, mm, tenable):
        return
    if kind == "irrelevant" and term in mm.terms:
        yield Problem(Codes.PROPERTY_NOT_ALLOWED, f"A {cls} has no property '{term}'.",
                      f"Remove it; properties of {cls} are: "
                      + ", ".join(sorted(mm.classes[cls].props)))
    else:
        yield Problem(Codes.UNDEFINED_PROPERTY,
                      f"'{key}' is not a property defined for a {cls} by the contexts in use.",
                      "Check the spelling, or add the extension context that defines it.")


def check_required(cdef: ClassDef, present: set[str], obj: dict[str, Any],
                   ptr: str) -> Iterator[Problem]:
    for pdef in cdef.props.values():
        if pdef.min_count and pdef.name not in present:
            yield Problem(Codes.MISSING_PROPERTY,
                          f"This {cdef.name} has no '{pdef.name}', which is required.",
                          f"Add '{pdef.name}'.")


def check_count(pdef: PropDef, items: Sequence[Any], as_list: bool) -> Iterator[Problem]:
    if pdef.max_count is not None and len(items) > pdef.max_count:
        what = "one value" if pdef.max_count == 1 else f"at most {pdef.max_count} values"
        yield Problem(Codes.TOO_MANY_VALUES,
                      f"'{pdef.name}' has {len(items)} values; it takes {what}.",
                      "Remove the extra values.")
    if len(items) < pdef.min_count:
        yield Problem(Codes.TOO_FEW_VALUES,
                      f"'{pdef.name}' needs at least {pdef.min_count} value(s).",
                      "Add the missing values.")


def check_unique(pdef: PropDef, values: Sequence[Value], ptr: str,
                 as_list: bool) -> Iterator[Problem]:
    for prop in pdef.unique_by:
        seen: dict[Any, int] = {}
        for i, v in enumerate(values):
            if not isinstance(v, Element) or prop not in v.literals:
                continue
            key = v.literals[prop]
            if key in seen:
                yield Problem(Codes.DUPLICATE_NAME if prop == "name" else Codes.DUPLICATE_VALUE,
                              f"Two elements of '{pdef.name}' have {prop} {key!r}.",
                              f"Each {prop} must be unique within '{pdef.name}'.",
                              f"{v.pointer}/{prop}")
            else:
                seen[key] = i


def check_version(pdef: PropDef, owner: Element, version: int) -> Iterator[Problem]:
    """A nested element (or referenced one) in another DTDL version than its owner."""
    if version == owner.version or (version < owner.version and not pdef.same_version):
        return
    allowed = (f"DTDL v{owner.version}" if pdef.same_version else
               f"DTDL v{owner.version} or older")
    yield Problem(Codes.VERSION_NOT_ALLOWED,
                  f"'{pdef.name}' of a DTDL v{owner.version} {owner.cls} cannot hold a "
                  f"DTDL v{version} element; it needs {allowed}.",
                  "Change the nested @context to a matching DTDL version.")


def must_be_term(pdef: PropDef) -> Problem:
    return Problem(Codes.BAD_TERM, f"'{pdef.name}' must name one of: {', '.join(pdef.values)}.",
                   "Give the term itself rather than an inline definition.")


def builtin_term(text: str, range_: str, pdef: PropDef, mm: Metamodel,
                 extension_instances: Mapping[str, tuple[str, str, str]]
                 ) -> Builtin | Problem | None:
    """A predefined instance named by ``text``; a problem; or None for a DTMI reference.

    ``extension_instances`` are the elements extension contexts in scope predefine, by term
    and by IRI (-> term, class, IRI), such as IoT Central's ``geopoint`` or the unit types
    and units of quantitativeTypes.
    """
    term = instance_term(text, mm)
    # The core language's terms come first: a unit named "byte" does not hide the schema.
    if term in mm.primitive_schemas:
        cls = mm.primitive_schemas[term]
        iri = f"dtmi:dtdl:instance:Schema:{term};{mm.version}"
    elif term in mm.standard_schemas:
        cls, iri = "Object", mm.standard_schemas[term]
    elif term in mm.instances:
        cls = mm.instances[term]
        iri = f"dtmi:dtdl:instance:{cls}:{term};{mm.version}"
    elif text in extension_instances:
        term, cls, iri = extension_instances[text]
    else:
        cls = ""
    if cls:
        if (pdef.values and term not in pdef.values) or not mm.is_a(cls, range_):
            allowed = ", ".join(pdef.values) if pdef.values else f"a {range_}"
            return Problem(Codes.BAD_TERM, f"'{text}' is not allowed for '{pdef.name}'; "
                           f"expected {allowed}.", "")
        return Builtin(term, cls, iri)
    if pdef.values:
        return Problem(Codes.BAD_TERM, f"'{text}' is not allowed for '{pdef.name}'; expected one "
                       f"of: {', '.join(pdef.values)}.", "")
    if not mm.id_pattern.match(text):
        close = _close_terms(text, range_, mm, extension_instances)
        guess = f"Did you mean {' or '.join(repr(t) for t in close)}? " if close else ""
        return Problem(Codes.BAD_TERM, f"'{text}' is neither a DTDL term nor a valid DTMI.",
                       f"{guess}Reference a {range_} by its DTMI or define it inline.")
    return None


def _close_terms(text: str, range_: str, mm: Metamodel,
                 extension_instances: Mapping[str, tuple[str, str, str]]) -> list[str]:
    """The built-in terms of class ``range_`` spelled most like ``text`` (typos like 'dooble'
    or the unit 'meter')."""
    if len(text) > 64:  # no DTDL term is this long; spare difflib the work
        return []
    terms = [t for t, c in mm.primitive_schemas.items() if mm.is_a(c, range_)]
    terms += [t for t, c in mm.instances.items() if mm.is_a(c, range_)]
    terms += [t for key, (t, c, _) in extension_instances.items()
              if key == t and mm.is_a(c, range_)]
    return difflib.get_close_matches(text, terms, n=2, cutoff=0.75)


# ---------------------------------------------------------------------- extensions


def check_semantic(el: Element, obj: dict[str, Any], semantic: list[str], scope: Scope,
                   ptr: str, unit: Any) -> Iterator[Problem]:
    mm = scope.mm
    if el.cls not in mm.semantic_cotype_of:
        yield Problem(Codes.COTYPE_NOT_ALLOWED,
                      f"Semantic type '{semantic[0]}' cannot be applied to a {el.cls}.",
                      "Semantic types go on " + ", ".join(sorted(mm.semantic_cotype_of)) + ".",
                      f"{ptr}/@type")
        return
    if len(semantic) > 1:
        yield Problem(Codes.COTYPE_NOT_ALLOWED, "An element can have only one semantic type, "
                      f"not {', '.join(semantic)}.", "Keep one.", f"{ptr}/@type")
        return
    found = scope.semantic_unit_type(semantic[0])
    assert found is not None
    unit_type, units = found
    # Quantitative types describe numbers: the element's schema must be numeric.
    schema = obj.get("schema")
    if isinstance(schema, list) and len(schema) == 1:
        schema = schema[0]
    schema_cls = mm.primitive_schemas.get(instance_term(schema, mm)) \
        if isinstance(schema, str) else None
    if "schema" in mm.classes[el.cls].props and not (
            schema_cls and mm.is_a(schema_cls, "NumericSchema")):
        yield Problem(Codes.COTYPE_NOT_ALLOWED,
                      f"Semantic type '{semantic[0]}' needs a numeric schema (double, float, "
                      "integer, long...).", "Change the schema or drop the semantic type.",
                      f"{ptr}/schema")
    elif "schema" not in mm.classes[el.cls].props:
        yield Problem(Codes.COTYPE_NOT_ALLOWED,
                      f"Semantic type '{semantic[0]}' cannot be applied to a {el.cls}.",
                      "Quantitative semantic types go on elements with a numeric schema.",
                      f"{ptr}/@type")
    if isinstance(unit, list) and len(unit) == 1:
        unit = unit[0]
    if unit is ABSENT or isinstance(unit, Ref):  # reported already / checked once resolved
        return
    if isinstance(unit, Element):  # a DTDL v2 unit written in place: its unit type must fit
        problem = check_unit_type(unit, unit_type, semantic[0], f"{ptr}/unit/@type")
        if problem is not None:
            yield problem
        return
    if unit is None:
        yield Problem(Codes.MISSING_PROPERTY, f"Semantic type '{semantic[0]}' needs a 'unit'.",
                      f"Add a unit of type {unit_type}.")
        return
    if isinstance(unit, str):
        unit = scope.unit_term(unit)
    if not isinstance(unit, str) or unit not in units.get(unit_type, ()):
        allowed = units.get(unit_type, ())
        close = difflib.get_close_matches(unit, allowed, n=1, cutoff=0.75) \
            if isinstance(unit, str) and len(unit) <= 64 else []
        hint = f"Did you mean '{close[0]}'? " if close else ""
        yield Problem(Codes.BAD_UNIT, f"{unit!r} is not a unit of {unit_type}, as semantic type "
                      f"'{semantic[0]}' needs.", f"{hint}Use one of: {', '.join(allowed[:8])}"
                      + (", ..." if len(allowed) > 8 else "") + ".", f"{ptr}/unit")


def check_unit_type(unit: Element, unit_type: str, semantic: str,
                    ptr: str | None = None) -> Problem | None:
    """A DTDL v2 Unit element (inline or referenced) must have the semantic type's unit type."""
    kinds = [k for k in map(v2_unit_type, unit.cotypes) if k is not None]
    if unit_type in kinds:
        return None
    subject = "The unit defined here" if ptr else f"The unit '{unit.id}'"
    return Problem(Codes.BAD_UNIT, subject + (f" is a {kinds[0]}" if kinds else
                                              " has no unit type")
                   + f", but semantic type '{semantic}' needs a {unit_type}.",
                   f"Put {unit_type} in the unit's @type (e.g. [\"{unit_type}\", "
                   "\"DecimalUnit\"]) or use a predefined unit.", ptr or "")


def check_semantic_unit(owner: Element, unit: Element) -> Problem | None:
    """The unit an element with a DTDL v2 semantic type references by DTMI has its unit type."""
    semantic = owner.semantic_types[0].removeprefix("dtmi:standard:class:").removesuffix(";2")
    unit_type = V2_CORE_QUANTITIES[1].get(semantic)
    return check_unit_type(unit, unit_type, semantic) if unit_type else None


def check_adjunct(adj: AdjunctType, el: Element, present: set[str], ptr: str,
                  adjuncts: frozenset[str] = frozenset()) -> Iterator[Problem]:
    """An adjunct co-type's own rules; ``adjuncts`` names every adjunct co-type of ``el``."""
    if el.cls not in adj.cotypes:
        hint = (f"'{adj.name}' types a unit written in place (such as the value of 'unit'), "
                f"not a {el.cls}; drop it from @type." if adj.material else
                f"'{adj.name}' goes on " + ", ".join(sorted(adj.cotypes)) + ".")
        yield Problem(Codes.COTYPE_NOT_ALLOWED, f"'{adj.name}' cannot be applied to a {el.cls}.",
                      hint, f"{ptr}/@type")
        return
    for name, kind in adj.value_kinds:  # e.g. a DecimalUnit's prefix must be a DecimalPrefix
        found = _unit_kind(el.one(name), kind)
        if found != kind:
            yield Problem(Codes.BAD_TERM, f"The '{name}' of a {adj.name} must be a {kind}"
                          + (f", not a {found}." if found else "."),
                          f"Use a {kind}" + (" (deci, kilo, mega...)." if kind == "DecimalPrefix"
                                             else " (kibi, mebi, gibi...)." if
                                             kind == "BinaryPrefix" else "."), f"{ptr}/{name}")
    missing = sorted(adj.requires - adjuncts)
    if missing:
        yield Problem(Codes.COTYPE_NOT_ALLOWED,
                      f"'{adj.name}' can only be used together with "
                      f"{' and '.join(repr(m) for m in missing)} on the same element.",
                      f"Add {', '.join(missing)} to @type, or drop '{adj.name}'.", f"{ptr}/@type")
    schema = el.one("schema")
    if (adj.schema_classes or adj.schema_terms) and isinstance(schema, Builtin | Element):
        term = schema.term if isinstance(schema, Builtin) else None
        if not (term in adj.schema_terms or schema.cls in adj.schema_classes):
            allowed = sorted(adj.schema_terms | adj.schema_classes)
            yield Problem(Codes.COTYPE_NOT_ALLOWED,
                          f"'{adj.name}' needs a schema that is {' or '.join(allowed)}.",
                          f"Change the schema or drop '{adj.name}'.", f"{ptr}/schema")
    for prop in adj.props:
        if prop.min_count and prop.name not in present:
            yield Problem(Codes.MISSING_PROPERTY, f"'{adj.name}' needs the property "
                          f"'{prop.name}'.", f"Add '{prop.name}'.")


def _unit_kind(value: Value | None, wanted: str) -> str | None:
    """The unit class of a predefined or inline unit (``kilo`` -> ``DecimalPrefix``);
    ``wanted`` when there is nothing to check here (absent, or a reference by DTMI)."""
    if isinstance(value, Builtin):
        return V2_UNIT_KINDS.get(value.term)
    if isinstance(value, Element):
        return wanted if wanted in value.cotypes else next(iter(value.cotypes), None)
    return wanted


def check_cotype_versions(el: Element, cotypes: Sequence[str], scope: Scope,
                          ptr: str) -> Iterator[Problem]:
    """Each extension's co-types go only on elements of the DTDL versions it is made for."""
    raw = el.raw.get("@type")
    for term in cotypes:
        ctx = scope.adjunct_context(term)
        if ctx is None or not ctx.cotype_versions or el.version in ctx.cotype_versions:
            continue
        allowed = " or ".join(f"v{v}" for v in sorted(ctx.cotype_versions))
        yield Problem(Codes.COTYPE_NOT_ALLOWED,
                      f"'{term}' from '{ctx.dtmi}' can only co-type DTDL {allowed} elements; "
                      f"this {el.cls} is DTDL v{el.version}.",
                      f"Use the version of the extension made for DTDL v{el.version}.",
                      f"{ptr}/@type/{raw.index(term)}" if isinstance(raw, list) else f"{ptr}/@type")


# ---------------------------------------------------------------------- overriding


def extension_term(key: str) -> str:
    """An extension property written as term or IRI, as its term.

    ``dtmi:dtdl:extension:quantitativeTypes:v2:property:unit`` and
    ``dtmi:dtdl:property:symbol;4`` -> ``unit``, ``symbol``.
    """
    if not key.startswith("dtmi:"):
        return key
    return key.rsplit(":", 1)[-1].split(";", 1)[0]


def check_override(override: Element, target: Element, prop: str) -> Iterator[Problem]:
    """An Override of property ``prop`` of the sibling ``target`` it annotates.

    The property must come from an extension (not ``target``'s class), from one written in
    the Override's DTDL version, and the Override's schema must be the property's type.
    """
    ptr, name = override.pointer, target.literals.get("name")
    own_name = override.literals.get("name")
    mm = metamodel_for(target.version)
    if prop in mm.classes[target.cls].props:
        yield Problem(Codes.BAD_OVERRIDE,
                      f"'{own_name}' overrides '{prop}' of '{name}', but '{prop}' belongs to "
                      f"{target.cls} itself; only extension properties can be overridden.",
                      "Name a property that a co-type of the annotated element adds, such as "
                      "the 'unit' of a semantic type.", f"{ptr}/overrides")
        return
    # Properties its co-types define (set or not, see _extension_versions), or that it sets.
    supplemental = {extension_term(k) for k in target.extensions} | set(
        target.extension_versions)
    if target.semantic_types:
        supplemental.add("unit")
    if prop not in supplemental:
        offered = ", ".join(sorted(supplemental)) or "none"
        yield Problem(Codes.BAD_OVERRIDE,
                      f"'{own_name}' overrides '{prop}', but '{name}' has no extension property "
                      f"'{prop}' (its extension properties: {offered}).",
                      f"Name one of them in 'overrides', or give '{name}' a co-type that "
                      f"defines '{prop}'.", f"{ptr}/overrides")
        return
    version = target.extension_versions.get(prop)
    if version and version != override.version:
        yield Problem(Codes.VERSION_NOT_ALLOWED,
                      f"'{prop}' of '{name}' is defined by an extension written for DTDL "
                      f"v{version}; an Override in a DTDL v{override.version} model can only "
                      f"override properties of extensions written for DTDL v{override.version}.",
                      f"Use the version of that extension made for DTDL v{override.version}.",
                      f"{ptr}/overrides")
    expected = _overridden_schema(target, prop)
    if expected is None:
        return
    schema = override.one("schema")
    actual = schema.iri if isinstance(schema, Builtin) else (
        schema.target if isinstance(schema, Ref) else None)
    if actual not in expected[1]:
        yield Problem(Codes.OVERRIDE_SCHEMA,
                      f"'{own_name}' overrides '{prop}' of '{name}', so its schema must be "
                      f"{expected[0]}.", f"Set \"schema\": \"{expected[0]}\".",
                      f"{ptr}/schema")


def _overridden_schema(target: Element, prop: str) -> tuple[str, frozenset[str]] | None:
    """(term, accepted IRIs) of the schema an Override of ``prop`` must have; None: unknown."""
    if prop == "unit" and target.semantic_types:
        iri = target.semantic_types[0]  # e.g. ...:quantitativeTypes:v2:class:Temperature
        for ctx in KNOWN_CONTEXTS.values():
            if ctx.instances and iri.startswith(f"{ctx.iri_base}class:"):
                unit_type = ctx.semantic_types.get(iri[len(ctx.iri_base) + 6:])
                if unit_type is not None:
                    return unit_type, frozenset({ctx.instances[unit_type][1]})
        return None
    value = next((v for k, v in target.extensions.items() if extension_term(k) == prop), None)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    term = ("boolean" if isinstance(value, bool) else "integer" if isinstance(value, int)
            else "double" if isinstance(value, float) else "string" if isinstance(value, str)
            else None)
    if term is None:
        return None
    terms = {"integer": ("integer", "long"), "double": ("double", "float")}.get(term, (term,))
    return term, frozenset(f"dtmi:dtdl:instance:Schema:{t};{target.version}" for t in terms)
