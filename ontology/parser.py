"""``parse_models``: DTDL documents in, a registry of resolved interfaces and errors out.

Pipeline: decode each source (orjson, positions only computed when an error needs
them) -> walk every document against the metamodel tables -> fetch missing
models through the resolver hook -> resolve references and run cross-document
rules -> build ``ontology.model`` objects.  Nothing but ``DtdlError`` values
comes out for bad input; the parser does not raise on it.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ontology.builder import Builder
from ontology.elements import Ref
from ontology.errors import DEFAULT_HINTS, Codes, DtdlError
from ontology.locations import SourceText
from ontology.model import Interface, ModelRegistry, SourceLocation
from ontology.problem import Problem
from ontology.resolver import Resolver
from ontology.walker import Issue, Walker, WalkOptions

__all__ = ["ModelSource", "ParseOptions", "ParseResult", "ResolverHook", "parse_models"]

# The resolver hook: given DTMIs that are referenced but not defined, return sources for them.
ResolverHook = Callable[[frozenset[str]], Iterable[Any]]

MAX_NESTING = 256  # JSON nesting we accept before calling a document malicious


@dataclass(frozen=True, slots=True)
class ModelSource:
    text: str | bytes
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ParseOptions:
    max_dtdl_version: int = 4
    allow_undefined_extensions: bool | None = None
    acceptable_limits: tuple[str, ...] = ()
    resolver: ResolverHook | None = None
    allow_partial: bool = False


@dataclass(slots=True)
class ParseResult:
    registry: ModelRegistry  # only the newly parsed interfaces
    errors: list[DtdlError] = field(default_factory=list)
    unresolved: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_models(sources: Iterable[Any] | Any, options: ParseOptions | None = None, *,
                 known: Mapping[str, Interface] | None = None) -> ParseResult:
    """Parse and validate DTDL documents submitted together (in any order)."""
    options = options or ParseOptions()
    known = known if known is not None else ModelRegistry()
    if isinstance(sources, ModelSource | str | bytes | dict):
        sources = [sources]
    if not isinstance(sources, Iterable):
        return ParseResult(ModelRegistry(), [DtdlError(
            Codes.BAD_INPUT, f"Sources must be a list of documents, not {type(sources).__name__}.",
            "Pass a list of ModelSource, str, bytes, dict or list values.")])
    walker = Walker(WalkOptions(options.max_dtdl_version, options.allow_undefined_extensions,
                                tuple(options.acceptable_limits)))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4000))
    # Parsing allocates many small containers and frees few: the cyclic collector would
    # rescan them again and again for nothing (about a third of the run time), so it is
    # paused for the call and resumed, as it was, afterwards.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i, src in enumerate(sources):
            _walk_source(walker, src, i)
        resolver = Resolver(walker, known)
        missing = resolver.missing_refs()
        if (missing or resolver.dangling_targets()) and options.resolver is not None:
            missing = _fetch(walker, resolver, options.resolver, missing)
        return _finish(walker, resolver, missing, options, known)
    except RecursionError:
        return ParseResult(ModelRegistry(), [DtdlError(
            Codes.TOO_DEEP, "The models are nested too deeply to process.",
            f"Keep JSON nesting under {MAX_NESTING} levels.")])
    except Exception as exc:  # a bug of ours must not take the caller down with it
        return ParseResult(ModelRegistry(), [DtdlError(
            Codes.INTERNAL, f"The parser failed on this input ({type(exc).__name__}: {exc}).",
            "This is a GraphTwin bug; please report it with the model that triggers it.")])
    finally:
        sys.setrecursionlimit(limit)
        if gc_was_enabled:
            gc.enable()


def _walk_source(walker: Walker, src: Any, index: int) -> None:
    source = decode(src, index, walker)
    if source is not None:
        walker.walk_document(source)


def decode(src: Any, index: int, walker: Walker) -> SourceText | None:
    """Decode one source; report invalid JSON with its position."""
    name: str | None = None
    if isinstance(src, ModelSource):
        name, src = src.name, src.text
    if isinstance(src, bytes | bytearray | memoryview):
        try:
            src = bytes(src).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            _input_error(walker, name, Codes.INVALID_JSON, f"The file is not UTF-8 ({exc.reason}).",
                         "Save it as UTF-8.")
            return None
    if isinstance(src, str):
        text = src[1:] if src.startswith("\ufeff") else src
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            deep = "recursion" in exc.msg or "depth" in exc.msg
            msg = ("The JSON is nested too deeply." if deep else
                   f"Invalid JSON: {exc.msg}.")
            source = SourceText(name, text, None)
            line, col = source.line_column(min(exc.pos, len(text)))
            walker.issues.append(Issue(Problem(Codes.TOO_DEEP if deep else Codes.INVALID_JSON,
                                               msg, "Fix the JSON syntax at this position."
                                               if not deep else "Flatten the document."),
                                       _Fixed(name, line, col), ""))
            return None
        return SourceText(name, text, value)
    if isinstance(src, dict | list):
        problem = _not_json(src)
        if problem is not None:
            _input_error(walker, name, *problem)
            return None
        return SourceText(name or f"<input {index}>", None, src)
    _input_error(walker, name, Codes.BAD_INPUT,
                 f"Source {index} is a {type(src).__name__}, not JSON text or a JSON value.",
                 "Pass ModelSource(text, name), str, bytes, dict or list.")
    return None


def _not_json(value: Any) -> tuple[str, str, str] | None:
    """Why a Python value is not something JSON could have produced, if it is not."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_NESTING:
            return (Codes.TOO_DEEP, "The document is nested too deeply.",
                    f"Keep JSON nesting under {MAX_NESTING} levels.")
        if isinstance(v, dict):
            if not all(type(k) is str for k in v):
                return (Codes.BAD_INPUT, "An object in the document has keys that are not "
                        "strings.", "JSON object keys are always strings.")
            stack.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, list | tuple):
            stack.extend((x, depth + 1) for x in v)
        elif not (v is None or isinstance(v, str | int | float | bool)):
            return (Codes.BAD_INPUT, f"The document holds a {type(v).__name__}, which JSON "
                    "cannot express.", "Pass JSON values only (dict, list, str, numbers, "
                    "booleans, None).")
    return None


class _Fixed(SourceText):
    """A source whose only known position is a fixed line and column (invalid JSON)."""

    __slots__ = ("_col", "_line")

    def __init__(self, name: str | None, line: int, col: int) -> None:
        super().__init__(name, "", None)
        self._line, self._col = line, col

    def location(self, pointer: str) -> SourceLocation:
        return SourceLocation(self.name, self._line, self._col, pointer)


def _input_error(walker: Walker, name: str | None, code: str, message: str, hint: str) -> None:
    walker.issues.append(Issue(Problem(code, message, hint), _Fixed(name, 1, 1), ""))


def _fetch(walker: Walker, resolver: Resolver, hook: ResolverHook,
           missing: dict[str, list[Any]]) -> dict[str, list[Any]]:
    asked: set[str] = set()
    while True:
        wanted = frozenset((set(missing) | set(resolver.dangling_targets())) - asked)
        if not wanted:
            break
        asked |= wanted
        try:
            fetched = list(hook(wanted))
        except Exception as exc:  # a user hook: its failure is reported, never raised
            _input_error(walker, None, Codes.BAD_INPUT, f"The model resolver failed: {exc}.",
                         "Check the repository folder or resolver function.")
            break
        for i, src in enumerate(fetched):
            _walk_source(walker, src, i)
        missing = resolver.missing_refs()
    return missing


def _finish(walker: Walker, resolver: Resolver, missing: dict[str, list[Any]],
            options: ParseOptions, known: Mapping[str, Interface]) -> ParseResult:
    resolver.check_references()
    interfaces = resolver.interfaces()
    cyclic = resolver.check_inheritance(interfaces)
    resolver.check_components(interfaces)
    resolver.check_annotations(interfaces)
    resolver.check_overrides(interfaces)
    resolver.check_indexes()
    resolver.check_element_counts(interfaces)
    resolver.check_schemas(interfaces)
    if not options.allow_partial:
        for dtmi, refs in missing.items():
            for ref in refs:
                walker.issues.append(Issue(Problem(
                    Codes.UNRESOLVED, f"'{dtmi}' is referenced but not defined.",
                    "Submit the model that defines it, or fix the identifier."),
                    ref.source, ref.pointer, dtmi))
    enclosing = _enclosing_interface_ids(walker)
    errors = [_to_error(issue, enclosing) for issue in walker.issues]
    dangling = resolver.dangling_targets()
    unresolved = frozenset(missing) | frozenset(dangling)
    registry = ModelRegistry()
    if not errors or options.allow_partial:
        bad = _failed_interfaces(walker, resolver, interfaces, missing, cyclic)
        if options.allow_partial:  # "complete" also means every relationship target is there
            bad |= _failed_interfaces(walker, resolver, interfaces, {
                t: [Ref(t, el.source, el.pointer, "Interface") for el in els]
                for t, els in dangling.items()}, set())
        builder = Builder(resolver, known)
        built = {}
        for el in interfaces:
            if el.id and id(el) not in bad and el.id not in built:
                built[el.id] = builder.interface(el, known)
        registry = ModelRegistry(built)
    return ParseResult(registry, errors, unresolved)


def _failed_interfaces(walker: Walker, resolver: Resolver, interfaces: list[Any],
                       missing: dict[str, list[Any]], cyclic: set[int]) -> set[int]:
    """Interfaces with an error or a missing reference in them, and everything using them."""
    bad: set[int] = set(cyclic)
    spans = [(el.source, el.pointer, el) for el in interfaces]

    def owner(source: SourceText, pointer: str) -> Any:
        best = None
        for src, ptr, el in spans:
            if src is source and (pointer == ptr or pointer.startswith(ptr + "/")) and (
                    best is None or len(ptr) > len(best.pointer)):
                best = el
        return best

    for issue in walker.issues:
        el = owner(issue.source, issue.pointer)
        if el is not None:
            bad.add(id(el))
    for refs in missing.values():
        for ref in refs:
            el = owner(ref.source, ref.pointer)
            if el is not None:
                bad.add(id(el))
    changed = True
    while changed:  # anything extending or embedding a failed interface fails too
        changed = False
        for el in interfaces:
            if id(el) in bad:
                continue
            deps = list(resolver.bases(el))
            for v in el.children.get("contents", ()):
                target = _component_target(resolver, resolver.target(v))
                if target is not None:
                    deps.append(target)
            if any(id(d) in bad for d in deps):
                bad.add(id(el))
                changed = True
    return bad


def _component_target(resolver: Resolver, content: Any) -> Any:
    from ontology.elements import Element

    if isinstance(content, Element) and content.cls == "Component":
        t = resolver.target(content.one("schema"))
        return t if isinstance(t, Element) else None
    return None


def _enclosing_interface_ids(walker: Walker) -> dict[int, list[tuple[str, str]]]:
    """Per source, the (pointer, DTMI) of each top-level interface, for error reports."""
    by_source: dict[int, list[tuple[str, str]]] = {}
    for root in walker.roots:
        if root.id:
            by_source.setdefault(id(root.source), []).append((root.pointer, root.id))
    return by_source


def _to_error(issue: Issue, enclosing: dict[int, list[tuple[str, str]]]) -> DtdlError:
    p = issue.problem
    dtmi = issue.dtmi
    if dtmi is None:  # a content without @id: name the interface it is written in
        dtmi = next((d for ptr, d in enclosing.get(id(issue.source), ())
                     if issue.pointer == ptr or issue.pointer.startswith(ptr + "/")), None)
    return DtdlError(
        code=p.code,
        message=p.message,
        hint=p.hint or DEFAULT_HINTS.get(p.code, "See the DTDL specification for this rule."),
        location=issue.source.location(issue.pointer),
        dtmi=dtmi,
        related=tuple(src.location(ptr) for src, ptr in issue.related),
    )


def load_json(text: str) -> Any:
    """json.loads that accepts a BOM (used by the CLI for non-model JSON)."""
    return json.loads(text[1:] if text.startswith("\ufeff") else text)
