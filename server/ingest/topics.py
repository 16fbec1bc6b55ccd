"""Topic mapping: which MQTT topics feed which twin, and which subscriptions that needs.

A rule's topic pattern names whole topic levels with ``{placeholders}``
(``plant/{line}/{machine}/temp``); the twin id and, optionally, the property
name are templates over those placeholders.  Three sources of rules, tried in
this order: the ingestion config file's ``rules``, topics declared by models
with DTDL's Mqtt extension (``telemetryTopic`` with ``{senderId}`` as the twin
id), and the default convention ``twins/{twinId}/telemetry`` and
``twins/{twinId}/properties``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ontology.model import Interface
from server.config import ConfigError, TopicRule

__all__ = ["DEFAULT_RULES", "Route", "TopicRouter", "model_topic_rules"]

DEFAULT_RULES = (
    TopicRule(topic="twins/{twinId}/telemetry", twin="{twinId}", kind="telemetry"),
    TopicRule(topic="twins/{twinId}/properties", twin="{twinId}", kind="properties"),
)

_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_:]*)\}$")


@dataclass(frozen=True, slots=True)
class Route:
    """Where one message goes: the twin, and the property when the payload is a bare value."""

    twin_id: str
    property: str | None
    value_field: str | None
    kind: str


class _CompiledRule:
    __slots__ = ("filter", "levels", "property_template", "rule", "twin_template")

    def __init__(self, rule: TopicRule) -> None:
        self.rule = rule
        # Each level is (literal, None) or (None, placeholder name).
        levels: list[tuple[str | None, str | None]] = []
        names: list[str] = []
        for level in rule.topic.split("/"):
            if "+" in level or "#" in level:
                raise ConfigError(
                    f"topic rule {rule.topic!r}: use {{name}} placeholders, not MQTT wildcards"
                )
            m = _PLACEHOLDER.match(level)
            if m:
                levels.append((None, m.group(1)))
                names.append(m.group(1))
            elif "{" in level or "}" in level:
                raise ConfigError(
                    f"topic rule {rule.topic!r}: a placeholder must fill a whole topic level"
                )
            else:
                levels.append((level, None))
        self.levels = tuple(levels)
        self.filter = "/".join("+" if lit is None else lit for lit, _ in levels)
        for template, what in ((rule.twin, "twin"), (rule.property, "property")):
            used = {f for _, f, _, _ in string.Formatter().parse(template or "") if f}
            missing = used - set(names)
            if missing:
                raise ConfigError(
                    f"topic rule {rule.topic!r}: {what} template uses undefined {sorted(missing)}"
                )
        self.twin_template = rule.twin
        self.property_template = rule.property

    def match(self, parts: list[str]) -> Route | None:
        if len(parts) != len(self.levels):
            return None
        captured: dict[str, str] = {}
        for part, (literal, name) in zip(parts, self.levels, strict=True):
            if literal is None:
                if not part:
                    return None
                captured[name] = part  # type: ignore[index]
            elif part != literal:
                return None
        twin = self.twin_template.format_map(captured)
        prop = self.property_template.format_map(captured) if self.property_template else None
        return Route(twin, prop, self.rule.value_field, self.rule.kind)


class TopicRouter:
    """Routes a topic to the first rule that matches it."""

    def __init__(self, rules: Iterable[TopicRule]) -> None:
        self._rules = [_CompiledRule(r) for r in rules]
        # Devices publish to the same topics again and again: remember their routes.
        self._cache: dict[str, Route | None] = {}

    @property
    def filters(self) -> list[str]:
        """The subscription filters, without duplicates, in rule order."""
        return list(dict.fromkeys(r.filter for r in self._rules))

    def route(self, topic: str) -> Route | None:
        try:
            return self._cache[topic]
        except KeyError:
            pass
        if len(self._cache) >= 100_000:
            self._cache.clear()
        route = self._cache[topic] = self._route(topic)
        return route

    def _route(self, topic: str) -> Route | None:
        parts = topic.split("/")
        for rule in self._rules:
            route = rule.match(parts)
            if route is not None:
                return route
        return None


def model_topic_rules(interfaces: Mapping[str, Interface]) -> list[TopicRule]:
    """Rules from models that carry DTDL's Mqtt extension (``@type`` includes ``Mqtt``).

    ``telemetryTopic`` names the twin with ``{senderId}``; ``{telemetryName}``,
    when present, makes each topic carry one telemetry's bare value; other
    tokens (``{modelId}``, ``{ex:...}``) match any level.
    """
    rules: list[TopicRule] = []
    for iface in interfaces.values():
        if "Mqtt" not in iface.types:
            continue
        pattern = iface.source_document.get("telemetryTopic")
        if not isinstance(pattern, str) or "{senderId}" not in pattern:
            continue
        has_name = "{telemetryName}" in pattern
        rules.append(
            TopicRule(
                topic=pattern,
                twin="{senderId}",
                property="{telemetryName}" if has_name else None,
                kind="telemetry",
            )
        )
    return rules
