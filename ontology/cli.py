"""``graphtwin validate`` and ``graphtwin dtdl conformance``: the DTDL tools for model authors."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ontology.conformance import Suite
from ontology.errors import Codes, DtdlError
from ontology.model import SourceLocation
from ontology.parser import ModelSource, ParseOptions, ParseResult, parse_models
from ontology.repository import DtmiRepository

__all__ = ["register", "validate_paths"]


def register(subparsers: Any) -> None:
    validate = subparsers.add_parser(
        "validate", help="check DTDL model files and folders",
        description="Parse and validate DTDL files (folders are searched for *.json) "
                    "submitted together, and report every problem with its location.")
    validate.add_argument("paths", nargs="+", metavar="PATH", type=Path)
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument("--max-dtdl-version", type=int, default=4, metavar="N")
    validate.add_argument("--allow-undefined-extensions", action="store_true", default=None,
                          help="accept extension contexts this parser does not know")
    validate.add_argument("--repository", type=Path, metavar="DIR",
                          help="fetch referenced but missing models from this DTMI "
                               "repository folder (dtmi/com/example/thermostat-1.json)")
    validate.add_argument("--allow-partial", action="store_true",
                          help="report undefined references without failing, and load "
                               "what is complete")
    validate.set_defaults(func=_run_validate)

    dtdl = subparsers.add_parser("dtdl", help="DTDL language tools")
    dtdl_sub = dtdl.add_subparsers(dest="dtdl_command", metavar="COMMAND")
    conformance = dtdl_sub.add_parser(
        "conformance", help="run the DTDL spec case corpus",
        description="Run every case file under the folders and compare our verdict with the "
                    "expected one.")
    conformance.add_argument("dirs", nargs="+", metavar="DIR", type=Path)
    conformance.add_argument("--verbose", "-v", action="store_true",
                             help="print each failing case and what differed")
    conformance.set_defaults(func=_run_conformance)
    dtdl.set_defaults(func=lambda args: (dtdl.print_help(), 2)[1])


# ---------------------------------------------------------------------- validate


def _model_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.json") if p.is_file())
        else:
            yield path


def validate_paths(paths: list[Path], options: ParseOptions) -> tuple[ParseResult, int]:
    """Parse every model file under ``paths`` together; returns the result and file count."""
    sources: list[ModelSource] = []
    unreadable: list[DtdlError] = []
    for file in _model_files(paths):
        try:
            sources.append(ModelSource(file.read_bytes(), str(file)))
        except OSError as exc:
            unreadable.append(DtdlError(Codes.BAD_INPUT, f"Cannot read the file: {exc.strerror}.",
                                        "Check the path and its permissions.",
                                        SourceLocation(str(file), 1, 1)))
    result = parse_models(sources, options)
    result.errors[:0] = unreadable
    return result, len(sources)


def _run_validate(args: argparse.Namespace) -> int:
    options = ParseOptions(
        max_dtdl_version=args.max_dtdl_version,
        allow_undefined_extensions=args.allow_undefined_extensions,
        resolver=DtmiRepository(args.repository) if args.repository else None,
        allow_partial=args.allow_partial,
    )
    result, files = validate_paths(args.paths, options)
    out: TextIO = sys.stdout
    if args.format == "json":
        json.dump([e.to_json() for e in result.errors], out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for error in result.errors:
            out.write(f"{error}\n")
            if error.hint:
                out.write(f"    hint: {error.hint}\n")
            for rel in error.related:
                out.write(f"    related: {rel}\n")
        if result.unresolved:
            out.write("undefined references: " + ", ".join(sorted(result.unresolved)) + "\n")
        summary = (f"{files} file(s), {len(result.registry)} interface(s) loaded, "
                   f"{len(result.errors)} error(s)")
        out.write(summary + "\n")
    return 1 if result.errors else 0


# ---------------------------------------------------------------------- conformance


def _run_conformance(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    passed: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for case in Suite(tuple(args.dirs)).cases():
        outcome = case.run()
        version = case.dtdl_version
        if outcome.passed:
            passed[version] += 1
            continue
        failed[version] += 1
        if args.verbose:
            print(f"FAIL {case.file}#{case.index} ({case.id}): {outcome.detail}")
    for version in sorted(set(passed) | set(failed)):
        print(f"{version}: {passed[version]} passed, {failed[version]} failed")
    total_failed = sum(failed.values())
    print(f"ran in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(f"{sum(passed.values())} passed, {total_failed} failed")
    return 1 if total_failed else 0
