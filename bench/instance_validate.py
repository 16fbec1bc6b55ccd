"""Instance validation speed on the demo models, against jsonschema and json.loads in the same run.

    .venv/bin/python bench/instance_validate.py [--messages 20000] [--repeat 3]

Workloads (all from server/demo, parsed with ontology.parse_models):
  telemetry        the demo simulator's messages (its ``ts`` field removed, as ingestion
                   does), validate_telemetry(registry, model, payload) per message
  telemetry-bad    the same messages with one fault each (a string for a number, a
                   misspelt name, an integer out of range or a boolean for a number)
  twins            the demo's 271 twin documents, validate_twin per document, repeated

Each workload is timed three ways over the same documents:
  json.loads   decoding the message bytes, the floor any ingestion pays anyway
  jsonschema   Draft202012Validator.iter_errors on a JSON Schema generated here from the
               same DTDL interface (types, 32-bit integer bounds, enums, closed objects,
               ``$`` system keys allowed); date/time/duration use the same format
               predicates as ontology.values, so only the validation machinery differs
  graphtwin    ontology.instance, which also builds the located error messages
Figures are the best of --repeat runs; ratios are graphtwin against each baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jsonschema  # noqa: E402

from ontology import parse_models  # noqa: E402
from ontology.instance import validate_telemetry, validate_twin  # noqa: E402
from ontology.model import (  # noqa: E402
    ArraySchema,
    Component,
    EnumSchema,
    Interface,
    MapSchema,
    ModelRegistry,
    ObjectSchema,
    PrimitiveSchema,
    Property,
    Schema,
    Telemetry,
)
from ontology.values import is_date, is_datetime, is_duration, is_time  # noqa: E402
from server import demo  # noqa: E402
from server.config import PayloadConfig  # noqa: E402
from server.demo.simulator import TelemetrySimulator  # noqa: E402

__all__ = ["interface_json_schema", "main"]

_INT32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
_PRIMITIVES: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"},
    "double": {"type": "number"},
    "float": {"type": "number"},
    "integer": _INT32,
    "long": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
    "string": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "dateTime": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
    "duration": {"type": "string", "format": "duration"},
    "point": {
        "type": "object",
        "required": ["type", "coordinates"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "Point"},
            "coordinates": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 3,
            },
        },
    },
}
# The same predicates ontology.values uses, so both sides do the same format work.
FORMATS = jsonschema.FormatChecker(formats=())
for _name, _test in (
    ("date", is_date),
    ("date-time", is_datetime),
    ("time", is_time),
    ("duration", is_duration),
):
    FORMATS.checks(_name)(_test)


def schema_json(schema: Schema) -> dict[str, Any]:
    """One DTDL schema as JSON Schema (the kinds the demo models use, plus map and array)."""
    if isinstance(schema, PrimitiveSchema):
        if schema.name not in _PRIMITIVES:
            raise ValueError(f"no JSON Schema for the DTDL primitive {schema.name!r}")
        return _PRIMITIVES[schema.name]
    if isinstance(schema, EnumSchema):
        return {"enum": [v.value for v in schema.values]}
    if isinstance(schema, ObjectSchema):
        return _closed_object({f.name: schema_json(f.schema) for f in schema.fields})
    if isinstance(schema, MapSchema):
        return {"type": "object", "additionalProperties": schema_json(schema.value_schema)}
    if isinstance(schema, ArraySchema):
        return {"type": "array", "items": schema_json(schema.element_schema)}
    raise ValueError(f"no JSON Schema for {type(schema).__name__}")


def _closed_object(properties: dict[str, Any], system_keys: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if system_keys:  # $metadata, $dtId...: never checked, as in ontology.instance
        out["patternProperties"] = {"^\\$": {}}
    return out


def interface_json_schema(
    registry: ModelRegistry, interface: Interface, *, telemetry: bool
) -> dict[str, Any]:
    """A twin document (``telemetry=False``) or device message schema for ``interface``."""
    properties: dict[str, Any] = {}
    for name, content in interface.contents.items():
        if isinstance(content, Property) or (telemetry and isinstance(content, Telemetry)):
            properties[name] = schema_json(content.schema)
        elif isinstance(content, Component):
            properties[name] = interface_json_schema(
                registry, registry[content.schema], telemetry=telemetry
            )
    return _closed_object(properties, system_keys=True)


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def telemetry_messages(count: int) -> list[tuple[str, bytes]]:
    """(model, message bytes) from the demo simulator, without its timestamp field."""
    twins, _ = demo.build_twin_graph()
    model_of = {t.id: t.model for t in twins}
    simulator = TelemetrySimulator("127.0.0.1", 1, list(model_of), seed=1)  # never started
    drop = PayloadConfig().timestamp_fields
    out: list[tuple[str, bytes]] = []
    while len(out) < count:
        for twin_id, payload in simulator.next_payloads().items():
            body = {k: v for k, v in payload.items() if k not in drop}
            out.append((model_of[twin_id], json.dumps(body).encode()))
    return out[:count]


def broken(messages: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Each message with one fault, cycling through three kinds a device gets wrong."""
    out = []
    for i, (model, raw) in enumerate(messages):
        body = json.loads(raw)
        name = next(iter(body))
        if i % 3 == 0:
            body[name] = "hot"  # wrong type
        elif i % 3 == 1:
            body[name + "x"] = body.pop(name)  # misspelt name
        elif "occupancy" in body:
            body["occupancy"] = 2**40  # out of the 32-bit integer range
        else:
            body[name] = True  # a boolean for a number
        out.append((model, json.dumps(body).encode()))
    return out


def run_workload(
    name: str,
    registry: ModelRegistry,
    docs: list[tuple[str, bytes]],
    validate: Callable[[ModelRegistry, str, Any], list[Any]],
    telemetry: bool,
    repeat: int,
) -> None:
    validators = {
        model: jsonschema.Draft202012Validator(
            interface_json_schema(registry, registry[model], telemetry=telemetry),
            format_checker=FORMATS,
        )
        for model in {m for m, _ in docs}
    }
    decoded = [(m, json.loads(raw)) for m, raw in docs]

    def loads() -> int:
        return sum(1 for _, raw in docs if json.loads(raw) is not None)

    # Each returns how many documents it refused: both must agree, or the schemas differ.
    def with_jsonschema() -> int:
        return sum(1 for m, doc in decoded if list(validators[m].iter_errors(doc)))

    def with_graphtwin() -> int:
        return sum(1 for m, doc in decoded if validate(registry, m, doc))

    loads()  # warm-up: the first pass pays for allocator growth
    loads_s, _ = best_of(repeat, loads)
    schema_s, schema_refused = best_of(repeat, with_jsonschema)
    ours_s, our_refused = best_of(repeat, with_graphtwin)
    n = len(docs)
    print(
        f"{name:14s} {n:6d} docs ({our_refused} refused)  json.loads {n / loads_s:8.0f}/s  "
        f"jsonschema {n / schema_s:7.0f}/s  graphtwin {n / ours_s:7.0f}/s  "
        f"graphtwin vs jsonschema {schema_s / ours_s:5.1f}x faster  "
        f"graphtwin time / json.loads time {ours_s / loads_s:4.2f}"
    )
    if schema_refused != our_refused:
        print(f"  WARNING: jsonschema refused {schema_refused} documents, graphtwin {our_refused}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    result = parse_models(demo.load_models())
    if not result.ok:
        print("demo models do not parse:", *result.errors, sep="\n  ", file=sys.stderr)
        return 1
    registry = result.registry
    messages = telemetry_messages(args.messages)
    twins, _ = demo.build_twin_graph()
    twin_docs = [(t.model, json.dumps(dict(t.properties)).encode()) for t in twins]
    twin_docs = (twin_docs * (args.messages // len(twin_docs) + 1))[: args.messages]

    def telemetry(reg: ModelRegistry, model: str, doc: Any) -> list[Any]:
        return validate_telemetry(reg, model, doc)

    def twin(reg: ModelRegistry, model: str, doc: Any) -> list[Any]:
        return validate_twin(reg, model, doc)

    print(
        f"python {sys.version.split()[0]}, jsonschema {_version('jsonschema')}, "
        f"best of {args.repeat}"
    )
    run_workload("telemetry", registry, messages, telemetry, True, args.repeat)
    run_workload("telemetry-bad", registry, broken(messages), telemetry, True, args.repeat)
    run_workload("twins", registry, twin_docs, twin, False, args.repeat)
    return 0


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


if __name__ == "__main__":
    raise SystemExit(main())
