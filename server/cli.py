"""The ``graphtwin`` command: one entry point, each subcommand owned by its package.

Subcommand modules expose ``register(subparsers)``, which adds their parsers
and sets ``func`` (taking the parsed namespace, returning an exit status).
They are imported lazily by name so ``graphtwin validate`` does not pay for
FastAPI and the Neo4j driver.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

# Modules that contribute subcommands, in the order ``--help`` lists them.
_SUBCOMMAND_MODULES = (
    "server.serve_cli",  # serve
    "ontology.cli",  # validate, dtdl conformance
    "graph.cli",  # export, import
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphtwin",
        description="GraphTwin: a digital twin graph server for DTDL models and MQTT telemetry.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real missing dependency, not a missing module
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except BrokenPipeError:
        # The reader went away (`graphtwin validate ... | head`): not an error of ours.
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
