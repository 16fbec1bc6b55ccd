"""Topic mapping, payload decoding and the ingestion config file: what a user configures."""

from __future__ import annotations

from pathlib import Path

import pytest

from ontology.model import Interface
from server.config import ConfigError, IngestConfig, PayloadConfig, TopicRule, load_ingest_config
from server.ingest import DEFAULT_RULES, DecodeError, TopicRouter, decode_payload, model_topic_rules
from server.ingest.topics import Route

CFG = PayloadConfig()
TELEMETRY = Route("pump-1", None, None, "telemetry")


def test_default_topics_route_to_the_twin_in_the_topic() -> None:
    router = TopicRouter(DEFAULT_RULES)
    assert router.filters == ["twins/+/telemetry", "twins/+/properties"]
    assert router.route("twins/pump-7/telemetry") == Route("pump-7", None, None, "telemetry")
    assert router.route("twins/pump-7/properties") == Route("pump-7", None, None, "properties")
    assert router.route("twins/pump-7/other") is None
    assert router.route("twins//telemetry") is None  # an empty level is no twin id


def test_configured_rule_builds_twin_id_and_property_from_levels() -> None:
    rule = TopicRule(
        topic="plant/{line}/{machine}/temp", twin="{line}-{machine}", property="temperature"
    )
    router = TopicRouter([rule, *DEFAULT_RULES])
    assert router.filters[0] == "plant/+/+/temp"
    route = router.route("plant/L2/press4/temp")
    assert route == Route("L2-press4", "temperature", None, "telemetry")
    readings = decode_payload(b"71.5", route, CFG, received=1_700_000_000.0)
    assert [(r.twin_id, r.values) for r in readings] == [("L2-press4", {"temperature": 71.5})]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (TopicRule(topic="a/+/b", twin="x"), "placeholders"),
        (TopicRule(topic="a/x{y}/b", twin="x"), "whole topic level"),
        (TopicRule(topic="a/{y}/b", twin="{z}"), "undefined ['z']"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(rule: TopicRule, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        TopicRouter([rule])


def test_dtdl_mqtt_extension_declares_topics() -> None:
    iface = Interface(
        id="dtmi:com:example:Meter;1",
        dtdl_version=3,
        extends=(),
        contents={},
        types=("Interface", "Mqtt"),
        source_document={"telemetryTopic": "meters/{modelId}/{senderId}/telemetry"},
    )
    rules = model_topic_rules({iface.id: iface})
    router = TopicRouter(rules)
    assert router.filters == ["meters/+/+/telemetry"]
    assert router.route("meters/m1/meter-9/telemetry") == Route("meter-9", None, None, "telemetry")


def test_payload_object_with_timestamp_in_any_accepted_form() -> None:
    iso = decode_payload(
        b'{"temperature": 20, "ts": "2026-11-21T20:00:00+01:00"}', TELEMETRY, CFG, 0.0
    )
    assert iso[0].timestamp == "2026-11-21T19:00:00.000000Z"
    assert iso[0].values == {"temperature": 20}
    secs = decode_payload(b'{"temperature": 20, "timestamp": 1700000000.5}', TELEMETRY, CFG, 0.0)
    millis = decode_payload(b'{"temperature": 20, "ts": 1700000000500}', TELEMETRY, CFG, 0.0)
    assert secs[0].timestamp == millis[0].timestamp == "2023-11-14T22:13:20.500000Z"
    no_ts = decode_payload(b'{"temperature": 20}', TELEMETRY, CFG, received=1700000000.25)
    assert no_ts[0].timestamp == "2023-11-14T22:13:20.250000Z"


def test_array_of_readings_gives_one_reading_each() -> None:
    payload = b'[{"temperature": 1, "ts": 1700000001}, {"temperature": 2, "ts": 1700000002}]'
    readings = decode_payload(payload, TELEMETRY, CFG, 0.0)
    assert [(r.values["temperature"], r.epoch) for r in readings] == [
        (1, 1700000001.0),
        (2, 1700000002.0),
    ]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "unparseable"),
        (b'"just a string"', "not_object"),
        (b"[]", "empty"),
        (b'{"ts": 1700000000}', "empty"),
        (b'{"temperature": 1, "ts": "yesterday"}', "bad_timestamp"),
        (b'{"temperature": 1, "ts": "2026-11-21T20:00:00"}', "bad_timestamp"),  # no zone
        (b'[{"temperature": 1}, 5]', "not_object"),
        (b"\xff\xfe", "unparseable"),
    ],
)
def test_unusable_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_payload(payload, TELEMETRY, CFG, 0.0)
    assert info.value.reason == reason


def test_oversized_payload_is_refused_before_parsing() -> None:
    with pytest.raises(DecodeError) as info:
        decode_payload(b'{"x": "' + b"a" * 100 + b'"}', TELEMETRY, PayloadConfig(max_bytes=50), 0.0)
    assert info.value.reason == "oversized"
    assert "50" in info.value.detail


def test_ingest_config_file_yaml_and_toml(tmp_path: Path) -> None:
    yml = tmp_path / "ingest.yaml"
    yml.write_text(
        "mqtt:\n  client_id: gt-1\n  protocol: 3.1.1\n  shared_group: ingest\n"
        "rules:\n  - topic: plant/{line}/{machine}/temp\n    twin: '{line}-{machine}'\n"
        "    property: temperature\n"
        "payload:\n  timestamp_fields: [time]\n  accept_partial: true\n"
        "batch:\n  max_size: 10\n"
    )
    cfg = load_ingest_config(yml)
    assert (
        cfg.mqtt.client_id == "gt-1"
        and cfg.mqtt.protocol == "3.1.1"
        and cfg.mqtt.shared_group == "ingest"
    )
    assert cfg.rules[0].property == "temperature"
    assert cfg.payload.timestamp_fields == ("time",) and cfg.payload.accept_partial
    assert cfg.batch.max_size == 10 and cfg.batch.max_delay_ms == IngestConfig().batch.max_delay_ms
    toml = tmp_path / "ingest.toml"
    toml.write_text(
        'default_topics = false\n[[rules]]\ntopic = "a/{id}"\ntwin = "{id}"\nkind = "properties"\n'
    )
    cfg2 = load_ingest_config(toml)
    assert not cfg2.default_topics and cfg2.rules[0].kind == "properties"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mqtt:\n  clientid: x\n", "mqtt: unknown key\\(s\\) clientid"),
        ("rules:\n  - topic: a/{x}\n    twin: '{x}'\n    kind: events\n", "rules\\[0\\].kind"),
        ("mqtt:\n  qos: 2\n", "qos must be 0 or 1"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_ingest_config_mistakes_name_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_ingest_config(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"t": 1, "ts": 1e30}',
        b'{"t": 1, "ts": "9999-12-31T23:59:59.9999999+00:00"}',
        b'{"t": 1, "ts": "0001-01-01T00:00:00-14:00"}',
        b'{"t": 1, "ts": -5}',
        b'{"t": 1, "ts": true}',
        b'{"t": 1, "ts": [1]}',
        b'{"t": 1, "ts": "nan"}',
        b"[" * 2000 + b"]" * 2000,
        b'{"t": 1e400}',
    ],
)
def test_odd_payloads_are_refused_never_crash(payload: bytes) -> None:
    try:
        readings = decode_payload(payload, TELEMETRY, CFG, 0.0)
    except DecodeError as exc:
        assert exc.reason in ("bad_timestamp", "unparseable", "not_object")
    else:  # accepted: then with a well-formed timestamp
        assert all(len(r.timestamp) == 27 for r in readings)
