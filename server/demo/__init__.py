"""The demo: a small DTDL v3 model set, a twin graph of a campus, and a telemetry simulator.

``graphtwin serve --demo`` loads all three, so that a newcomer sees a live twin
graph without writing a model.  Everything here is deterministic except the
simulator's clock.

The models (``server/demo/models/*.json``, prefix ``dtmi:com:graphtwin:demo:``)
------------------------------------------------------------------------------
=====================  ===================================================================
``Space;1``            base of the spatial hierarchy; writable ``name``
``Site;1``             extends Space; ``address``, ``location`` (GeoJSON point),
                       ``timeZone``; ``contains`` -> Building
``Building;1``         extends Space; ``yearBuilt``, ``grossArea`` (m²), ``usage`` (enum);
                       ``contains`` -> Floor
``Floor;1``            extends Space; ``level``; ``contains`` -> Room
``Room;1``             extends Space; writable ``roomType`` (enum ``RoomType;1``),
                       ``area`` (m²), ``capacity``, ``targetTemperature`` (°C),
                       ``openingHours`` (object of two ``time`` fields)
``Sensor;1``           ``serialNumber``, ``manufacturer``, ``installedOn`` (date), writable
                       ``reportingInterval`` (duration); telemetry ``temperature`` (°C);
                       ``isLocatedIn`` -> Room (at most one, property ``mounting``)
``AirQualitySensor;1`` extends Sensor; telemetry ``humidity`` (%), ``co2`` (ppm)
``OccupancySensor;1``  extends Sensor; telemetry ``occupancy`` (integer), ``occupied``
``HvacUnit;1``         writable ``name`` and ``mode`` (enum ``HvacMode;1``), ``ratedPower``
                       (kW); telemetry ``supplyAirTemperature``, ``power``;
                       ``isLocatedIn`` -> Floor, ``serves`` -> Room; command ``setMode``
=====================  ===================================================================

Units and semantic types come from the ``dtmi:dtdl:extension:quantitativeTypes;1``
context.

The twin graph (:func:`build_twin_graph`)
-----------------------------------------
One site ``site-1`` contains two buildings, ``bldg-1`` (4 floors, offices) and
``bldg-2`` (3 floors, laboratories).  Floors are ``bldg-1-f1`` ... ``bldg-1-f4``,
each with twelve rooms ``bldg-1-f2-r01`` ... ``bldg-1-f2-r12`` and one HVAC unit
``bldg-1-f2-hvac`` that ``serves`` every room of its floor.  Every room has a
temperature sensor ``<room>-temp``; about half also have an air quality sensor
``<room>-air``, and meeting rooms (and a few others) an occupancy sensor
``<room>-occ``.  That is 271 twins and 354 relationships with the default seed.
Relationship ids are ``<name>-<target>`` (``contains-bldg-1-f2``), unique per
source twin.

The simulator (:mod:`server.demo.simulator`)
--------------------------------------------
Publishes every second, for each sensor and HVAC twin, a JSON object of its
telemetry plus ``ts`` (RFC 3339 UTC) to ``twins/{twinId}/telemetry``, e.g.
``{"temperature": 22.4, "humidity": 41.0, "co2": 612.0, "ts": "2026-11-21T21:00:00.000Z"}``.
Values follow a day cycle plus a seeded, slowly drifting random walk per twin.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from server.demo.twins import (
    AIR_QUALITY_SENSOR_MODEL,
    BUILDING_MODEL,
    FLOOR_MODEL,
    HVAC_MODEL,
    OCCUPANCY_SENSOR_MODEL,
    ROOM_MODEL,
    SENSOR_MODEL,
    SITE_MODEL,
    SPACE_MODEL,
    build_twin_graph,
    telemetry_model_of,
)

__all__ = [
    "AIR_QUALITY_SENSOR_MODEL",
    "BUILDING_MODEL",
    "FLOOR_MODEL",
    "HVAC_MODEL",
    "MODEL_FILES",
    "OCCUPANCY_SENSOR_MODEL",
    "ROOM_MODEL",
    "SENSOR_MODEL",
    "SITE_MODEL",
    "SPACE_MODEL",
    "build_twin_graph",
    "load_models",
    "telemetry_model_of",
]

# Bases before the interfaces that extend or target them: the parser accepts any
# order, but a reader of the folder (or a store that uploads one by one) need not.
MODEL_FILES: tuple[str, ...] = (
    "Space.json",
    "Site.json",
    "Building.json",
    "Floor.json",
    "Room.json",
    "Sensor.json",
    "AirQualitySensor.json",
    "OccupancySensor.json",
    "HvacUnit.json",
)


def load_models() -> list[dict[str, Any]]:
    """The demo's DTDL documents, one interface each, in :data:`MODEL_FILES` order."""
    folder = resources.files(__name__).joinpath("models")
    return [json.loads(folder.joinpath(name).read_text(encoding="utf-8")) for name in MODEL_FILES]
