"""The ingestion metrics' fast paths give what prometheus_client's own calls give."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from server.metrics import observe_many

BUCKETS = (0.001, 0.01, 0.1, 1, 10)


def _histogram() -> tuple[CollectorRegistry, Histogram]:
    registry = CollectorRegistry()
    return registry, Histogram("lag_seconds", "lag", buckets=BUCKETS, registry=registry)


def test_observe_many_renders_like_observe_one_by_one() -> None:
    rng = random.Random(5)
    # Values on the bounds too: a value equal to a bound belongs to that bucket.
    values = [*BUCKETS, 0.0, 99.0, *(rng.uniform(0, 20) for _ in range(500))]
    one_registry, one = _histogram()
    many_registry, many = _histogram()
    for v in values:
        one.observe(v)
    observe_many(many, values[:100])
    observe_many(many, values[100:])
    observe_many(many, [])
    got, expected = _samples(many_registry), _samples(one_registry)
    assert got.pop("lag_seconds_sum") == pytest.approx(expected.pop("lag_seconds_sum"))
    assert got == expected
    assert got['lag_seconds_bucket{le="0.001"}'] == 2.0  # 0.0 and 0.001
    assert got['lag_seconds_bucket{le="+Inf"}'] == len(values)


def _samples(registry: CollectorRegistry) -> dict[str, float]:
    """name{labels} -> value, without the creation time (which differs between the two)."""
    out = {}
    for line in generate_latest(registry).decode().splitlines():
        if line and not line.startswith("#") and "_created" not in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out
