"""``graphtwin export`` and ``graphtwin import``: the whole store as NDJSON (backup, restore, move).

graphtwin export --store DIR_OR_URI [-o FILE]     # stdout by default
graphtwin import --store DIR_OR_URI FILE          # "-" reads stdin
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from graph.errors import GraphError

__all__ = ["register"]

_DEFAULT_STORE = "./.graphtwin/store"


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=os.environ.get("GRAPHTWIN_STORE", _DEFAULT_STORE),
        help=f"embedded store directory or neo4j:// / bolt:// URI "
        f"(default: env GRAPHTWIN_STORE, else {_DEFAULT_STORE})",
    )


def register(subparsers: Any) -> None:
    exp = subparsers.add_parser(
        "export",
        help="write the whole store as NDJSON",
        description="Models, then twins, then relationships, one JSON object per line.",
    )
    _store_arg(exp)
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    exp.set_defaults(func=_export)
    imp = subparsers.add_parser(
        "import",
        help="load an NDJSON export into a store",
        description="Validated like any write; items that fail are "
        "reported and the rest is loaded.",
    )
    _store_arg(imp)
    imp.add_argument("file", help="an export file, or - for stdin")
    imp.set_defaults(func=_import)


def _open(store: str) -> Any:
    from graph import open_graph
    from graph.uri import store_uri_from_arg

    return open_graph(store_uri_from_arg(store))


def _export(args: argparse.Namespace) -> int:
    from graph.ndjson import export_ndjson

    try:
        with _open(args.store) as graph:
            if args.output is None:
                lines = export_ndjson(graph, sys.stdout.buffer)
            else:
                with args.output.open("wb") as out:
                    lines = export_ndjson(graph, out)
    except (GraphError, ValueError, OSError) as exc:
        print(f"graphtwin export: {exc}", file=sys.stderr)
        return 1
    print(f"exported {lines} lines", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    from graph.ndjson import import_ndjson

    try:
        with _open(args.store) as graph:
            if args.file == "-":
                results = import_ndjson(graph, sys.stdin.buffer)
            else:
                with open(args.file, "rb") as src:
                    results = import_ndjson(graph, src)
    except (GraphError, ValueError, OSError) as exc:
        print(f"graphtwin import: {exc}", file=sys.stderr)
        return 1
    failed = [r for r in results if not r.ok]
    for r in failed[:20]:
        print(f"  {r.key}: {r.error}", file=sys.stderr)
    print(f"imported {len(results) - len(failed)} items, {len(failed)} refused", file=sys.stderr)
    return 1 if failed else 0
