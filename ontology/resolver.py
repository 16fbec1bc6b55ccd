"""Resolution: link references across documents and check what needs the whole picture.

After every document has been walked, references (``extends``, ``schema``,
component schemas...) are looked up among the elements just read and the
``known`` registry.  Then the rules that span documents run: reference classes,
``extends`` cycles and depth, names inherited twice, components inside
components, schema nesting depth and recursion, Arrays in v2 Properties, enum
value types.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ontology.elements import Builtin, Element, Ref, Value
from ontology.errors import Codes
from ontology.metamodel import Metamodel, metamodel_for
from ontology.model import Interface
from ontology.problem import Problem
from ontology.rules import check_override, check_semantic_unit, check_version, extension_term
from ontology.walker import Issue, Walker

__all__ = ["Resolver"]

_SCHEMA_PROPS = ("schema", "elementSchema", "fields", "mapValue", "enumValues", "mapKey")


class Resolver:
    def __init__(self, walker: Walker, known: Mapping[str, Interface]) -> None:
        self.walker = walker
        self.known = known
        self.known_schemas = {s.id for i in known.values() for s in i.schemas if s.id}
        self.unresolved: dict[str, list[Ref]] = {}
        self._elements: list[Element] | None = None
        self._elements_roots = -1
        self._flat: dict[int, dict[str, Element]] = {}

    # ------------------------------------------------------------------ lookup

    def target(self, value: Value | None) -> Value | None:
        """The element a value stands for: follows a Ref to its definition when there is one."""
        if isinstance(value, Ref):
            return self.walker.by_id.get(value.target, value)
        return value

    def issue(self, el_or_ref: Element | Ref, problem: Problem, dtmi: str | None = None) -> None:
        src, ptr = el_or_ref.source, el_or_ref.pointer
        self.walker.issues.append(Issue(problem, src, problem.pointer or ptr, dtmi))

    def missing_refs(self) -> dict[str, list[Ref]]:
        missing: dict[str, list[Ref]] = {}
        for ref in self.walker.refs:
            if ref.target in self.walker.by_id:
                continue
            if ref.target in self.known or ref.target in self.known_schemas:
                continue
            missing.setdefault(ref.target, []).append(ref)
        return missing

    def dangling_targets(self) -> dict[str, list[Element]]:
        """Relationship targets that name no interface we have.

        DTDL does not require a target to be defined (a model may point at interfaces
        of another ontology), so these are not errors; they are reported as
        unresolved so a caller can fetch them or load only what is complete.
        """
        dangling: dict[str, list[Element]] = {}
        for el in self._all_elements():
            target = el.literals.get("target") if el.cls == "Relationship" else None
            if isinstance(target, str) and target not in self.walker.by_id \
                    and target not in self.known:
                dangling.setdefault(target, []).append(el)
        return dangling

    # ------------------------------------------------------------------ checks

    def check_references(self) -> None:
        mm_cls_ok = self._class_ok
        for ref in self.walker.refs:
            el = self.walker.by_id.get(ref.target)
            if el is not None and ref.prop is not None and ref.owner is not None:
                for problem in check_version(ref.prop, ref.owner, el.version):
                    self.issue(ref, problem, ref.target)
            if el is not None and el.cls != "Interface" and ref.owner \
                    and _partition(el) is not _partition(ref.owner):
                self.issue(ref, Problem(
                    Codes.WRONG_REFERENCE_CLASS,
                    f"'{ref.target}' is defined inside another Interface and cannot be "
                    "referenced from here.",
                    "Only Interfaces can be referenced across interfaces; define the element "
                    "in this Interface's schemas or inline."), ref.target)
            elif el is not None and not mm_cls_ok(el, ref.expected):
                self.issue(ref, Problem(
                    Codes.WRONG_REFERENCE_CLASS,
                    f"'{ref.target}' is a {el.cls}, but a {ref.expected} is expected here.",
                    f"Reference a {ref.expected}."), ref.target)
            elif el is not None and ref.expected == "Unit" and ref.owner is not None \
                    and ref.owner.semantic_types:  # a v2 semantic type's unit, by DTMI
                wrong_unit = check_semantic_unit(ref.owner, el)
                if wrong_unit is not None:
                    self.issue(ref, wrong_unit, ref.target)
            elif el is None and ref.target in self.known and ref.expected != "Interface":
                self.issue(ref, Problem(
                    Codes.WRONG_REFERENCE_CLASS,
                    f"'{ref.target}' is an Interface, but a {ref.expected} is expected here.",
                    f"Reference a {ref.expected}."), ref.target)

    @staticmethod
    def _class_ok(el: Element, expected: str) -> bool:
        return metamodel_for(el.version).is_a(el.cls, expected)

    def interfaces(self) -> list[Element]:
        return [el for el in self._all_elements() if el.cls == "Interface"]

    def bases(self, el: Element) -> list[Element]:
        out = []
        for v in el.children.get("extends", ()):
            t = self.target(v)
            if isinstance(t, Element) and t.cls == "Interface":
                out.append(t)
        return out

    def check_inheritance(self, interfaces: list[Element]) -> set[int]:
        """Cycles, depth and inherited name clashes; returns ids of interfaces in cycles."""
        cyclic: set[int] = set()
        depth_cache: dict[int, int] = {}
        for el in interfaces:
            path: list[Element] = []
            if self._cycle(el, path, set()):
                cyclic.add(id(el))
                self.issue(el, Problem(Codes.EXTENDS_CYCLE,
                                       f"'{el.id}' extends itself through "
                                       + " -> ".join(str(p.id) for p in path) + ".",
                                       "Remove one of the extends links to break the cycle."),
                           el.id)
        for el in interfaces:
            if id(el) in cyclic:
                continue
            mm = _mm(el)
            depth = self._depth(el, depth_cache)
            if depth > mm.max_extends_depth:
                self.issue(el, Problem(Codes.TOO_DEEP_EXTENDS,
                                       f"'{el.id}' has {depth} levels of extends; DTDL "
                                       f"v{el.version} allows {mm.max_extends_depth}.",
                                       "Flatten the hierarchy."), el.id)
            total = mm.max_extends_total
            if total is not None and len(self.ancestors(el)) > total:
                self.issue(el, Problem(Codes.TOO_MANY_ELEMENTS,
                                       f"'{el.id}' extends {len(self.ancestors(el))} interfaces "
                                       f"directly or indirectly; DTDL v{el.version} allows "
                                       f"{total}.", "Reduce the inheritance hierarchy."), el.id)
            self._check_inherited_names(el)
        return cyclic

    def ancestors(self, el: Element) -> set[int]:
        seen: set[int] = set()
        stack = self.bases(el)
        while stack:
            base = stack.pop()
            if id(base) not in seen:
                seen.add(id(base))
                stack.extend(self.bases(base))
        return seen

    def _cycle(self, el: Element, path: list[Element], on_path: set[int]) -> bool:
        if id(el) in on_path:
            return True
        on_path.add(id(el))
        path.append(el)
        for base in self.bases(el):
            if base is path[0] or self._cycle(base, path, on_path):
                path.append(base)
                return True
        path.pop()
        on_path.discard(id(el))
        return False

    def _depth(self, el: Element, cache: dict[int, int], guard: int = 0) -> int:
        if id(el) in cache:
            return cache[id(el)]
        if guard > 200:
            return guard
        bases = self.bases(el)
        depth = 1 + max((self._depth(b, cache, guard + 1) for b in bases), default=0) \
            if bases else 0
        if not bases and el.children.get("extends"):
            depth = 1
        cache[id(el)] = depth
        return depth

    def flattened(self, el: Element, seen: set[int] | None = None) -> dict[str, Element]:
        """Contents by name, own and inherited (first definition wins); memoised.

        Called only once every document has been read, so the answer cannot change.
        """
        cached = self._flat.get(id(el))
        if cached is not None:
            return cached
        seen = seen if seen is not None else set()
        if id(el) in seen:  # a cycle in extends (reported elsewhere)
            return {}
        seen.add(id(el))
        out: dict[str, Element] = {}
        for base in self.bases(el):
            for name, c in self.flattened(base, seen).items():
                out.setdefault(name, c)
        for v in el.children.get("contents", ()):
            content = self.target(v)
            if isinstance(content, Element) and isinstance(content.literals.get("name"), str):
                out.setdefault(content.literals["name"], content)
        seen.discard(id(el))
        if not seen:  # only complete answers (from the top of a walk) are kept
            self._flat[id(el)] = out
        return out

    def _check_inherited_names(self, el: Element) -> None:
        found: dict[str, Element] = {}
        sources = [*self.bases(el), el]
        for src in sources:
            table = (self.flattened(src) if src is not el else
                     {c.literals["name"]: c for v in el.children.get("contents", ())
                      if isinstance(c := self.target(v), Element)
                      and isinstance(c.literals.get("name"), str)})
            for name, c in table.items():
                other = found.get(name)
                if other is not None and other is not c:
                    self.walker.issues.append(Issue(
                        Problem(Codes.DUPLICATE_INHERITED,
                                f"'{el.id}' gets two contents named '{name}' through extends.",
                                "Rename one of them; names must be unique across an interface "
                                "and everything it extends."),
                        c.source, f"{c.pointer}/name", el.id,
                        ((other.source, f"{other.pointer}/name"),)))
                found.setdefault(name, c)
        # Bases from the ``known`` registry: their contents are already resolved objects.
        known_names: dict[str, str] = {}
        for v in el.children.get("extends", ()):
            base = self.known.get(v.target) if isinstance(v, Ref) else None
            if base is not None:
                for name, content in base.contents.items():
                    known_names.setdefault(name, content.defined_in)
        for name, c in found.items():
            if name in known_names and c.cls != "Interface":
                self.walker.issues.append(Issue(
                    Problem(Codes.DUPLICATE_INHERITED,
                            f"'{el.id}' gets two contents named '{name}' through extends (one "
                            f"from '{known_names[name]}', already loaded).",
                            "Rename one of them; names must be unique across an interface "
                            "and everything it extends."),
                    c.source, f"{c.pointer}/name", el.id))

    _COUNTED = frozenset({"contents", "fields", "enumValues", "request", "response",
                          "properties", "schema", "elementSchema", "mapValue"})

    def check_element_counts(self, interfaces: list[Element]) -> None:
        """DTDL v3+ caps how many elements one Interface may hold (its own, not inherited)."""
        for el in interfaces:
            limit = _mm(el).max_elements
            if limit is None:
                continue
            seen: set[int] = set()
            stack = [el]
            while stack and len(seen) <= limit:
                node = stack.pop()
                for prop, values in node.children.items():
                    if prop not in self._COUNTED:
                        continue
                    for v in values:
                        t = self.target(v)
                        if isinstance(t, Element) and t.cls != "Interface" and id(t) not in seen:
                            seen.add(id(t))
                            stack.append(t)
            if len(seen) > limit:
                self.issue(el, Problem(Codes.TOO_MANY_ELEMENTS,
                                       f"'{el.id}' holds more than {limit} elements (contents, "
                                       f"fields, enum values, schemas...); DTDL v{el.version} "
                                       f"allows {limit}.", "Split the interface."), el.id)

    def check_annotations(self, interfaces: list[Element]) -> None:
        """A ValueAnnotation (annotation extension) must annotate a sibling Property/Telemetry."""
        for el in interfaces:
            contents = self.flattened(el)
            for content in contents.values():
                annotates = content.extensions.get("annotates")
                if not isinstance(annotates, str) or not _has_cotype(content, "ValueAnnotation"):
                    continue
                target = contents.get(annotates)
                if target is None or target.cls not in ("Property", "Telemetry") or \
                        _has_cotype(target, "ValueAnnotation"):
                    self.issue(content, Problem(
                        Codes.SIBLING_MISSING,
                        f"'{content.literals.get('name')}' annotates '{annotates}', which is not "
                        f"a Property or Telemetry of '{el.id}'.",
                        "Name a Property or Telemetry of the same interface in 'annotates'.",
                        f"{content.pointer}/annotates"), el.id)

    def check_overrides(self, interfaces: list[Element]) -> None:
        """Overriding: each Override of an interface's own contents names an extension property
        of the sibling it annotates (which may be inherited through extends), once per
        sibling and property."""
        for el in interfaces:
            overriding = [c for v in el.children.get("contents", ())
                          if isinstance(c := self.target(v), Element)
                          and "overrides" in c.extensions and _has_cotype(c, "Override")]
            if not overriding:
                continue
            contents = self.flattened(el)
            seen: dict[tuple[str, str], Element] = {}
            for content in overriding:
                annotates = content.extensions.get("annotates")
                overrides = content.extensions.get("overrides")
                target = contents.get(annotates) if isinstance(annotates, str) else None
                if not isinstance(overrides, str) or target is None or \
                        target.cls not in ("Property", "Telemetry"):
                    continue  # a bad 'annotates' is reported by check_annotations
                prop = extension_term(overrides)
                for problem in check_override(content, target, prop):
                    self.issue(content, problem, el.id)
                other = seen.setdefault((annotates, prop), content)  # type: ignore[arg-type]
                if other is not content:
                    self.walker.issues.append(Issue(
                        Problem(Codes.DUPLICATE_VALUE,
                                f"'{other.literals.get('name')}' and "
                                f"'{content.literals.get('name')}' both override '{prop}' of "
                                f"'{annotates}'.", "Keep one Override per property."),
                        content.source, f"{content.pointer}/overrides", el.id,
                        ((other.source, f"{other.pointer}/overrides"),)))

    def check_indexes(self) -> None:
        """mqtt's Indexed: an ``index`` is unique among the siblings that carry one."""
        for el in self._all_elements():
            for values in el.children.values():
                seen: dict[int, Element] = {}
                for v in values:
                    if not isinstance(v, Element) or "Indexed" not in v.cotypes:
                        continue
                    index = v.extensions.get("index")
                    if not isinstance(index, int):
                        continue
                    other = seen.setdefault(index, v)
                    if other is not v:
                        self.walker.issues.append(Issue(
                            Problem(Codes.DUPLICATE_VALUE,
                                    f"Two siblings have index {index}.",
                                    "Give each Indexed element its own index."),
                            v.source, f"{v.pointer}/index", el.id,
                            ((other.source, f"{other.pointer}/index"),)))

    def check_components(self, interfaces: list[Element]) -> None:
        for el in interfaces:
            for v in el.children.get("contents", ()):
                comp = self.target(v)
                if not isinstance(comp, Element) or comp.cls != "Component":
                    continue
                target = self.target(comp.one("schema"))
                if not isinstance(target, Element) or target.cls != "Interface":
                    continue
                for name, inner in self.flattened(target).items():
                    if inner.cls == "Component":
                        self.issue(comp, Problem(
                            Codes.EXCLUDED_TYPE,
                            f"Component '{comp.literals.get('name')}' uses '{target.id}', which "
                            f"itself has a Component ('{name}'); components cannot nest.",
                            "Move the inner component up into the outer interface."), el.id)
                        break

    def check_schemas(self, interfaces: list[Element]) -> None:
        for el in self._all_elements():
            mm = _mm(el)
            if el.cls == "Enum":
                self._check_enum(el)
            if mm.is_a(el.cls, "ComplexSchema") and (el.parent is None or (not mm.is_a(
                    el.parent.cls, "ComplexSchema") and el.parent.cls not in (
                    "Field", "MapValue"))):
                depth, recursive = self._schema_depth(el, [])
                if recursive and not mm.recursive_schemas:
                    self.issue(el, Problem(Codes.SELF_REFERENCE,
                                           "This schema contains itself.",
                                           f"DTDL v{el.version} does not allow recursive schemas."),
                               el.id)
                elif depth > mm.max_schema_depth:
                    self.issue(el, Problem(Codes.TOO_DEEP_SCHEMA,
                                           f"Complex schemas are nested {depth} deep here; "
                                           f"DTDL v{el.version} allows {mm.max_schema_depth}.",
                                           "Define fewer levels of Object/Array/Map/Enum."),
                               el.id)
            if el.cls == "Property" and not mm.property_array_allowed \
                    and self._contains_array(el.one("schema"), set()):
                self.issue(el, Problem(Codes.EXCLUDED_TYPE,
                                       f"Property '{el.literals.get('name')}' has an Array in its "
                                       "schema, which DTDL v2 does not allow for Properties.",
                                       "Use a Telemetry, or a Map/Object instead of the Array."))

    def _all_elements(self) -> list[Element]:
        """Every element read so far (cached until more documents are walked)."""
        if self._elements is None or self._elements_roots != len(self.walker.roots):
            found: list[Element] = []
            stack = list(self.walker.roots)
            while stack:
                el = stack.pop()
                found.append(el)
                for values in el.children.values():
                    stack.extend(v for v in values if type(v) is Element)
            self._elements, self._elements_roots = found, len(self.walker.roots)
        return self._elements

    def _schema_children(self, el: Element) -> Iterator[Value]:
        for prop in ("elementSchema", "mapValue", "fields"):
            for v in el.children.get(prop, ()):
                t = self.target(v)
                if isinstance(t, Element) and t.cls in ("Field", "MapValue"):
                    yield from (self.target(x) for x in t.children.get("schema", ()))  # type: ignore[misc]
                elif t is not None:
                    yield t

    def _schema_depth(self, el: Element, path: list[int]) -> tuple[int, bool]:
        if id(el) in path:
            return 0, True
        if len(path) > 64:
            return len(path), False
        path.append(id(el))
        best, recursive = 0, False
        for child in self._schema_children(el):
            if isinstance(child, Element) and _mm(child).is_a(child.cls, "ComplexSchema"):
                d, r = self._schema_depth(child, path)
                best, recursive = max(best, d), recursive or r
        path.pop()
        return best + 1, recursive

    def _contains_array(self, value: Value | None, seen: set[int]) -> bool:
        t = self.target(value)
        if isinstance(t, Builtin):
            return t.cls == "Object"  # the geospatial schemas hold coordinate arrays
        if not isinstance(t, Element) or id(t) in seen:
            return False
        seen.add(id(t))
        if t.cls == "Array":
            return True
        return any(self._contains_array(c, seen) for c in self._schema_children(t))

    def _check_enum(self, el: Element) -> None:
        vs = el.one("valueSchema")
        if not isinstance(vs, Builtin):
            return
        want = int if vs.term == "integer" else str
        for v in el.children.get("enumValues", ()):
            if not isinstance(v, Element) or "enumValue" not in v.literals:
                continue
            value = v.literals["enumValue"]
            if not isinstance(value, want) or isinstance(value, bool):
                self.issue(v, Problem(Codes.BAD_ENUM_VALUE,
                                      f"enumValue {value!r} does not match the Enum's valueSchema "
                                      f"'{vs.term}'.",
                                      f"Give an {vs.term} value, or change valueSchema.",
                                      f"{v.pointer}/enumValue"), el.id)


def _has_cotype(el: Element, term: str) -> bool:
    """Whether ``el`` has the adjunct co-type ``term``, written as a term or an IRI."""
    return any(t == term or extension_term(t) == term for t in el.cotypes)


def _mm(el: Element) -> Metamodel:
    return metamodel_for(el.version)


def _partition(el: Element) -> Element | None:
    """The Interface an element belongs to (DTDL v3+ partitions models by Interface)."""
    walk: Element | None = el
    while walk is not None and walk.cls != "Interface":
        walk = walk.parent
    return walk
