"""The DTDL models the store contract suite writes twins of."""

from __future__ import annotations

from typing import Any

SPACE = "dtmi:test:Space;1"
ROOM = "dtmi:test:Room;1"
ROOM2 = "dtmi:test:Room;2"
OTHER_ROOM = "dtmi:other:Room;1"
DEVICE = "dtmi:test:Device;1"
THERMOSTAT = "dtmi:test:Thermostat;1"

MODELS: list[dict[str, Any]] = [
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": SPACE,
        "@type": "Interface",
        "contents": [
            {"@type": "Property", "name": "name", "schema": "string", "writable": True},
            {"@type": "Relationship", "name": "contains", "target": SPACE},
        ],
    },
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": THERMOSTAT,
        "@type": "Interface",
        "contents": [
            {"@type": "Property", "name": "setpoint", "schema": "double", "writable": True}
        ],
    },
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": DEVICE,
        "@type": "Interface",
        "contents": [
            {"@type": "Telemetry", "name": "temp", "schema": "double"},
            {"@type": "Property", "name": "firmware", "schema": "string"},
        ],
    },
    {
        "@context": "dtmi:dtdl:context;3",
        "@id": ROOM,
        "@type": "Interface",
        "extends": SPACE,
        "contents": [
            {"@type": "Telemetry", "name": "temperature", "schema": "double"},
            {"@type": "Property", "name": "area", "schema": "double", "writable": True},
            {"@type": "Property", "name": "serial", "schema": "string"},
            {
                "@type": "Property",
                "name": "mode",
                "writable": True,
                "schema": {
                    "@type": "Enum",
                    "valueSchema": "string",
                    "enumValues": [
                        {"name": "eco", "enumValue": "eco"},
                        {"name": "comfort", "enumValue": "comfort"},
                    ],
                },
            },
            {
                "@type": "Property",
                "name": "settings",
                "writable": True,
                "schema": {
                    "@type": "Object",
                    "fields": [
                        {"name": "target", "schema": "double"},
                        {"name": "label", "schema": "string"},
                    ],
                },
            },
            {
                "@type": "Property",
                "name": "tags",
                "writable": True,
                "schema": {
                    "@type": "Map",
                    "mapKey": {"name": "key", "schema": "string"},
                    "mapValue": {"name": "value", "schema": "string"},
                },
            },
            {
                "@type": "Property",
                "name": "codes",
                "writable": True,
                "schema": {"@type": "Array", "elementSchema": "integer"},
            },
            {"@type": "Component", "name": "thermostat", "schema": THERMOSTAT},
            {
                "@type": "Relationship",
                "name": "hasDevice",
                "target": DEVICE,
                "maxMultiplicity": 2,
                "properties": [{"@type": "Property", "name": "since", "schema": "string"}],
            },
        ],
    },
]

ROOM_V2 = {
    "@context": "dtmi:dtdl:context;3",
    "@id": ROOM2,
    "@type": "Interface",
    "extends": SPACE,
    "contents": [{"@type": "Property", "name": "area", "schema": "double", "writable": True}],
}

OTHER_ROOM_MODEL = {
    "@context": "dtmi:dtdl:context;3",
    "@id": OTHER_ROOM,
    "@type": "Interface",
    "contents": [{"@type": "Property", "name": "name", "schema": "string", "writable": True}],
}
