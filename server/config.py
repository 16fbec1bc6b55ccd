"""Server settings: CLI flags over environment variables over defaults, plus the ingestion file.

Precedence is the usual one: a flag given on the command line wins, then the
environment (``GRAPHTWIN_STORE``, ``GRAPHTWIN_MQTT``, ``GRAPHTWIN_NEO4J_USER``,
``GRAPHTWIN_NEO4J_PASSWORD``), then the defaults below.  The ingestion
configuration (topic mappings, payload rules, batching, MQTT session options)
lives in a YAML or TOML file given with ``--ingest-config``; its format is
documented in ``docs/ingestion.md`` and checked here, so a mistake is reported
with the file and the key at startup instead of surfacing as a quiet misroute.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from graph.uri import store_uri_from_arg

__all__ = [
    "DEFAULT_STORE_DIR",
    "BatchConfig",
    "ConfigError",
    "DeadLetterConfig",
    "IngestConfig",
    "MqttConfig",
    "PayloadConfig",
    "Settings",
    "TopicRule",
    "default_client_id",
    "load_ingest_config",
    "parse_mqtt_url",
]

DEFAULT_STORE_DIR = "./.graphtwin/store"


class ConfigError(ValueError):
    """A setting or an ingestion config file that cannot be used; says what and where."""


@dataclass(frozen=True, slots=True)
class TopicRule:
    """Maps MQTT topics matching ``topic`` to a twin (and optionally one property).

    ``topic`` uses ``{name}`` placeholders for whole topic levels, e.g.
    ``plant/{line}/{machine}/temp``; ``twin`` is a template over those names
    (``{line}-{machine}``).  Without ``property`` the payload is a JSON object
    of names to values; with it the payload is that one property's value (or,
    with ``value_field``, an object holding it there beside a timestamp).
    ``kind`` is ``telemetry`` or ``properties`` (reported properties).
    """

    topic: str
    twin: str
    property: str | None = None
    value_field: str | None = None
    kind: str = "telemetry"


@dataclass(frozen=True, slots=True)
class MqttConfig:
    # None: "graphtwin-<host>-<hash of the store URI>", stable across restarts of one
    # server (so its persistent session is found again), distinct between servers.
    client_id: str | None = None
    protocol: str = "5"  # "5" or "3.1.1"; the embedded broker speaks 3.1.1 only
    qos: int = 1
    keepalive: int = 30
    # MQTT 5 shared subscription group: several servers split one topic's load.
    shared_group: str | None = None
    username: str | None = None
    password: str | None = None
    session_expiry: int = 86400  # seconds the broker keeps our session while we are away
    # MQTT 5: unacknowledged QoS 1 messages the broker may send. Twice batch.max_size, so one
    # batch is written while the next one fills (docs/ingestion.md).
    receive_maximum: int = 4000
    reconnect_min_delay: int = 1
    reconnect_max_delay: int = 30


@dataclass(frozen=True, slots=True)
class PayloadConfig:
    timestamp_fields: tuple[str, ...] = ("ts", "timestamp")
    max_bytes: int = 65536
    # Apply the valid values of a message whose other values are refused.
    accept_partial: bool = False


@dataclass(frozen=True, slots=True)
class BatchConfig:
    max_size: int = 2000
    max_delay_ms: float = 10.0
    # Received-but-unapplied messages held at most; beyond this the MQTT thread
    # waits (back-pressure reaches the broker through TCP and unacked QoS 1).
    max_pending: int = 50000


@dataclass(frozen=True, slots=True)
class DeadLetterConfig:
    max_records: int = 10000
    excerpt_bytes: int = 512


@dataclass(frozen=True, slots=True)
class IngestConfig:
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    default_topics: bool = True  # twins/{twinId}/telemetry and twins/{twinId}/properties
    model_topics: bool = True  # topics declared with DTDL's Mqtt extension
    rules: tuple[TopicRule, ...] = ()
    payload: PayloadConfig = field(default_factory=PayloadConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    deadletters: DeadLetterConfig = field(default_factory=DeadLetterConfig)


@dataclass(frozen=True, slots=True)
class Settings:
    store: str = DEFAULT_STORE_DIR
    mqtt: str | None = None  # None: start the embedded broker
    mqtt_port: int = 1883  # the embedded broker's port
    neo4j_user: str | None = None
    neo4j_password: str | None = None
    models_dir: str | None = None
    demo: bool = False
    demo_interval: float = 1.0
    host: str = "127.0.0.1"
    port: int = 8000
    auth_file: str | None = None
    open_mode: bool = False
    ingest: IngestConfig = field(default_factory=IngestConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the environment, then ``overrides`` that are not None."""
        env = os.environ if env is None else env
        base = cls(
            store=env.get("GRAPHTWIN_STORE") or DEFAULT_STORE_DIR,
            mqtt=env.get("GRAPHTWIN_MQTT") or None,
            neo4j_user=env.get("GRAPHTWIN_NEO4J_USER") or None,
            neo4j_password=env.get("GRAPHTWIN_NEO4J_PASSWORD") or None,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def default_client_id(store: str) -> str:
    digest = hashlib.sha1(store_uri_from_arg(store).encode()).hexdigest()[:8]
    return f"graphtwin-{socket.gethostname()[:32]}-{digest}"


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None]:
    """``mqtt://[user:pass@]host[:port]`` -> (host, port, user, password)."""
    parts = urlsplit(url if "://" in url else "mqtt://" + url)
    if parts.scheme not in ("mqtt", "tcp"):
        raise ConfigError(
            f"--mqtt {url!r}: only mqtt://host:port is supported (got scheme {parts.scheme!r})"
        )
    if not parts.hostname:
        raise ConfigError(f"--mqtt {url!r}: no host")
    return parts.hostname, parts.port or 1883, parts.username, parts.password


# --------------------------------------------------------------------------- the ingestion file


def load_ingest_config(path: str | Path) -> IngestConfig:
    """Read a YAML (``.yaml``/``.yml``) or TOML (``.toml``) ingestion config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the ingestion config: {exc.strerror}") from exc
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        else:
            data = yaml.safe_load(text) or {}
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return ingest_config_from_dict(data, where=str(path))


def ingest_config_from_dict(data: Mapping[str, Any], *, where: str = "<config>") -> IngestConfig:
    _check_keys(data, IngestConfig, where)
    sections: dict[str, Any] = {}
    for name, cls in (
        ("mqtt", MqttConfig),
        ("payload", PayloadConfig),
        ("batch", BatchConfig),
        ("deadletters", DeadLetterConfig),
    ):
        if name in data:
            sections[name] = _section(data[name], cls, f"{where}: {name}")
    rules = []
    for i, raw in enumerate(data.get("rules") or ()):
        rules.append(_section(raw, TopicRule, f"{where}: rules[{i}]"))
        rule = rules[-1]
        if rule.kind not in ("telemetry", "properties"):
            raise ConfigError(
                f"{where}: rules[{i}].kind must be 'telemetry' or 'properties', not {rule.kind!r}"
            )
        if rule.value_field and not rule.property:
            raise ConfigError(f"{where}: rules[{i}]: value_field needs property")
    mqtt = sections.get("mqtt")
    if mqtt is not None and mqtt.protocol not in ("5", "3.1.1"):
        raise ConfigError(f"{where}: mqtt.protocol must be '5' or '3.1.1', not {mqtt.protocol!r}")
    if mqtt is not None and mqtt.qos not in (0, 1):
        raise ConfigError(f"{where}: mqtt.qos must be 0 or 1, not {mqtt.qos!r}")
    return IngestConfig(
        default_topics=bool(data.get("default_topics", True)),
        model_topics=bool(data.get("model_topics", True)),
        rules=tuple(rules),
        **sections,
    )


def _check_keys(data: Mapping[str, Any], cls: type, where: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)};"
            f" expected some of {', '.join(sorted(known))}"
        )


def _section(raw: Any, cls: type, where: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping, got {type(raw).__name__}")
    _check_keys(raw, cls, where)
    values = dict(raw)
    if cls is MqttConfig and "protocol" in values:
        values["protocol"] = str(values["protocol"])
    if cls is PayloadConfig and "timestamp_fields" in values:
        values["timestamp_fields"] = tuple(values["timestamp_fields"])
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
