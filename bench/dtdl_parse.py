"""DTDL parse + validate speed, against plain ``json.loads`` of the same files in the same run.

    .venv/bin/python bench/dtdl_parse.py [--shared ../shared] [--repeat 5]

Workloads:
  ontologies   the three ontologies in shared/ontologies (energy grid, smart cities, AAS)
  ontologies4x the same files four times over with each copy's DTMIs renamed (about 980
               interfaces, the "800-interface ontology" target: under 0.5 s, <= 30x json.loads)
  corpus       every input of every DTDL spec case (16,554 cases, parsed one case at a time)

Figures are the best of --repeat runs, wall time (or process CPU time with --cpu).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ontology import ModelSource, ParseOptions, parse_models  # noqa: E402
from ontology.conformance import Suite  # noqa: E402

_DTMI_HEAD = re.compile(r'"dtmi:(?!dtdl:|standard:)')


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Best wall time (or CPU time with --cpu, steadier on a shared machine) and a result."""
    clock = time.process_time if CPU_CLOCK else time.perf_counter
    best, result = float("inf"), None
    for _ in range(repeat):
        start = clock()
        result = fn()
        best = min(best, clock() - start)
    return best, result


CPU_CLOCK = False


def ontology_texts(shared: Path, copies: int) -> list[tuple[str, str]]:
    texts = []
    for path in sorted((shared / "ontologies").rglob("*.json")):
        text = path.read_text(encoding="utf-8-sig")
        for i in range(copies):
            # Each copy lives in its own namespace so the interfaces stay distinct.
            renamed = text if i == 0 else _DTMI_HEAD.sub(f'"dtmi:copy{i}:', text)
            texts.append((f"{path}#{i}", renamed))
    return texts


def bench_texts(name: str, texts: list[tuple[str, str]], repeat: int,
                options: ParseOptions) -> None:
    load_s, _ = best_of(repeat, lambda: [json.loads(t) for _, t in texts])
    parse_s, result = best_of(repeat, lambda: parse_models(
        [ModelSource(t, n) for n, t in texts], options))
    count = len(result.registry)
    print(f"{name:13s} {len(texts):5d} files {count:5d} interfaces  "
          f"json.loads {load_s * 1000:8.1f} ms  parse+validate {parse_s * 1000:8.1f} ms  "
          f"{count / parse_s:9.0f} interfaces/s  ratio {parse_s / load_s:5.1f}x  "
          f"errors {len(result.errors)}")


def bench_corpus(shared: Path, repeat: int) -> None:
    files = sorted((shared / "dtdl" / "cases").rglob("*.json"))
    raw = [f.read_bytes().removeprefix(b"\xef\xbb\xbf") for f in files]
    load_s, _ = best_of(repeat, lambda: [json.loads(r) for r in raw])
    cases = list(Suite(((shared / "dtdl" / "cases"),)).cases())

    def run() -> int:
        return sum(len(parse_models(list(c.inputs), c.parse_options()).registry) for c in cases)

    parse_s, count = best_of(repeat, run)
    print(f"{'corpus':13s} {len(cases):5d} cases {count:5d} interfaces  "
          f"json.loads {load_s * 1000:8.1f} ms  parse+validate {parse_s * 1000:8.1f} ms  "
          f"{count / parse_s:9.0f} interfaces/s  ratio {parse_s / load_s:5.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path,
                        default=Path(os.environ.get("GRAPHTWIN_SHARED", ROOT.parent / "shared")))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--cpu", action="store_true",
                        help="measure process CPU time instead of wall time")
    args = parser.parse_args()
    global CPU_CLOCK
    CPU_CLOCK = args.cpu
    print(f"clock: {'process CPU time' if args.cpu else 'wall time'}, best of {args.repeat}")
    if not (args.shared / "ontologies").is_dir():
        print(f"shared files not found at {args.shared}", file=sys.stderr)
        return 2
    # The ontologies reference a few relationship targets they do not define.
    options = ParseOptions(allow_partial=False)
    bench_texts("ontologies", ontology_texts(args.shared, 1), args.repeat, options)
    bench_texts("ontologies4x", ontology_texts(args.shared, 4), args.repeat, options)
    if not args.skip_corpus:
        bench_corpus(args.shared, max(1, args.repeat // 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
