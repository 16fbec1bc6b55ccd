"""The DTDL spec case corpus as objects, and running a case through our parser.

In the style of python-jsonschema's test-suite loader: a :class:`Suite` finds case
files under folders, a :class:`Case` is one entry of a file (its inputs, options
and verdict), and :meth:`Case.run` says whether our parser agrees.  The CLI
(``graphtwin dtdl conformance``) and the pytest module both use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ontology.parser import ParseOptions, ParseResult, parse_models

__all__ = ["Case", "CaseOutcome", "Suite", "load_case_file"]

_VERSION_SUFFIX = re.compile(r"V(\d+)$")


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    case: Case
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    file: Path
    index: int
    valid: bool
    inputs: tuple[Any, ...]
    options: tuple[str, ...] = ()
    max_dtdl_version: int | None = None
    acceptable_limits: tuple[str, ...] = ()
    expect: dict[str, Any] = field(default_factory=dict)
    desirable: bool | None = None

    @property
    def rule(self) -> str:
        """The file stem: ``Requirement-ClassCommandPropertyDescriptionLangStringV3``."""
        return self.file.stem

    @property
    def id(self) -> str:
        return f"{self.rule}#{self.index}"

    @property
    def family(self) -> str:
        """The rule family without kind and version: ``ClassCommandPropertyDescription...``."""
        rest = self.rule.split("-", 1)[-1]
        return _VERSION_SUFFIX.sub("", rest)

    @property
    def dtdl_version(self) -> str:
        m = _VERSION_SUFFIX.search(self.rule)
        return f"v{m.group(1)}" if m else self.file.parent.name

    def parse_options(self) -> ParseOptions:
        allow: bool | None = None
        if "AllowUndefinedExtensions" in self.options:
            allow = True
        elif "DisallowUndefinedExtensions" in self.options:
            allow = False
        return ParseOptions(
            max_dtdl_version=self.max_dtdl_version or 4,
            allow_undefined_extensions=allow,
            acceptable_limits=self.acceptable_limits,
        )

    def parse(self) -> ParseResult:
        return parse_models(list(self.inputs), self.parse_options())

    def run(self) -> CaseOutcome:
        try:
            result = self.parse()
        except Exception as exc:  # a crash is a failure to report, not to propagate
            return CaseOutcome(self, False, f"parser raised {type(exc).__name__}: {exc}")
        if result.ok != self.valid:
            if self.valid:
                first = "; ".join(f"[{e.code}] {e.message}" for e in result.errors[:3])
                return CaseOutcome(self, False, f"expected valid, got errors: {first}")
            return CaseOutcome(self, False, "expected invalid, parser accepted it")
        wanted = self.expect.get("unresolvedIdentifiers")
        if wanted is not None and set(wanted) != set(result.unresolved):
            return CaseOutcome(self, False, f"unresolved identifiers {sorted(result.unresolved)}"
                                            f", expected {sorted(wanted)}")
        return CaseOutcome(self, True)


def load_case_file(path: Path) -> list[Case]:
    data = orjson.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    cases = []
    for i, raw in enumerate(data):
        cases.append(Case(
            file=path,
            index=i,
            valid=bool(raw["valid"]),
            inputs=tuple(raw.get("input", ())),
            options=tuple(raw.get("options", ())),
            max_dtdl_version=raw.get("maxDtdlVersion"),
            acceptable_limits=tuple(raw.get("acceptableLimits", ())),
            expect=dict(raw.get("expect", {})),
            desirable=raw.get("desirable"),
        ))
    return cases


@dataclass(frozen=True, slots=True)
class Suite:
    """Every case file under some folders (or named directly)."""

    paths: tuple[Path, ...]

    def files(self) -> Iterator[Path]:
        for path in self.paths:
            if path.is_dir():
                yield from sorted(path.rglob("*.json"))
            elif path.suffix == ".json":
                yield path

    def cases(self) -> Iterator[Case]:
        for file in self.files():
            yield from load_case_file(file)
