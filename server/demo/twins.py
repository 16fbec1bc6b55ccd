"""A deterministic generator of the demo twin graph (see :mod:`server.demo` for its shape)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from graph.base import RelationshipUpsert, TwinUpsert

__all__ = [
    "AIR_QUALITY_SENSOR_MODEL",
    "BUILDING_MODEL",
    "FLOOR_MODEL",
    "HVAC_MODEL",
    "OCCUPANCY_SENSOR_MODEL",
    "ROOM_MODEL",
    "SENSOR_MODEL",
    "SITE_MODEL",
    "SPACE_MODEL",
    "build_twin_graph",
    "telemetry_model_of",
]

_PREFIX = "dtmi:com:graphtwin:demo:"
SPACE_MODEL = _PREFIX + "Space;1"
SITE_MODEL = _PREFIX + "Site;1"
BUILDING_MODEL = _PREFIX + "Building;1"
FLOOR_MODEL = _PREFIX + "Floor;1"
ROOM_MODEL = _PREFIX + "Room;1"
SENSOR_MODEL = _PREFIX + "Sensor;1"
AIR_QUALITY_SENSOR_MODEL = _PREFIX + "AirQualitySensor;1"
OCCUPANCY_SENSOR_MODEL = _PREFIX + "OccupancySensor;1"
HVAC_MODEL = _PREFIX + "HvacUnit;1"

# The last dash-separated part of a twin id says which telemetry-producing model
# it is; the simulator relies on this to know what to publish for an id.
_SUFFIX_MODELS = {
    "temp": SENSOR_MODEL,
    "air": AIR_QUALITY_SENSOR_MODEL,
    "occ": OCCUPANCY_SENSOR_MODEL,
    "hvac": HVAC_MODEL,
}

# (id, name, usage, yearBuilt, floors)
_BUILDINGS = (
    ("bldg-1", "North Building", "office", 1998, 4),
    ("bldg-2", "Lab Building", "laboratory", 2012, 3),
)
_ROOMS_PER_FLOOR = 12
_MANUFACTURERS = ("Sensirion", "Bosch", "Honeywell", "Siemens")
_HOURS = {"opens": "07:00:00+01:00", "closes": "19:00:00+01:00"}  # RFC 3339: with offset


def telemetry_model_of(twin_id: str) -> str | None:
    """The model of a demo sensor or HVAC twin, judged by its id; None for other ids."""
    return _SUFFIX_MODELS.get(twin_id.rsplit("-", 1)[-1])


class _GraphBuilder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.twins: list[TwinUpsert] = []
        self.rels: list[RelationshipUpsert] = []

    def twin(self, twin_id: str, model: str, **properties: Any) -> str:
        self.twins.append(TwinUpsert(id=twin_id, model=model, properties=properties))
        return twin_id

    def rel(self, source: str, name: str, target: str, **properties: Any) -> None:
        self.rels.append(
            RelationshipUpsert(
                source=source,
                id=f"{name}-{target}",
                name=name,
                target=target,
                properties=properties,
            )
        )

    def room_type(self, usage: str, number: int) -> str:
        if number == 1:
            return "corridor"
        if number == 2:
            return "kitchen"
        if number == _ROOMS_PER_FLOOR:
            return "storage"
        main = "laboratory" if usage == "laboratory" else "office"
        return self.rng.choices((main, "office", "meetingRoom"), weights=(5, 2, 3))[0]

    def sensor(self, room: str, kind: str, model: str) -> None:
        rng = self.rng
        installed = date(2019, 1, 1) + timedelta(days=rng.randrange(5 * 365))
        sensor_id = self.twin(
            f"{room}-{kind}",
            model,
            serialNumber=f"{kind.upper()}-{rng.randrange(16**6):06X}",
            manufacturer=rng.choice(_MANUFACTURERS),
            installedOn=installed.isoformat(),
            reportingInterval="PT1S",
        )
        mounting = "ceiling" if kind == "occ" else rng.choice(("wall", "wall", "desk"))
        self.rel(sensor_id, "isLocatedIn", room, mounting=mounting)

    def room(self, floor: str, usage: str, number: int) -> tuple[str, float]:
        rng = self.rng
        room_type = self.room_type(usage, number)
        area = round(rng.uniform(12.0, 60.0) if room_type != "corridor" else 80.0, 1)
        properties: dict[str, Any] = {
            "name": f"Room {floor.rsplit('-f', 1)[-1]}.{number:02d}",
            "roomType": room_type,
            "area": area,
            "capacity": 0 if room_type in ("corridor", "storage") else max(1, int(area / 6)),
            "targetTemperature": rng.choice((20.5, 21.0, 21.5, 22.0)),
        }
        if room_type not in ("corridor", "storage"):
            properties["openingHours"] = dict(_HOURS)
        room_id = self.twin(f"{floor}-r{number:02d}", ROOM_MODEL, **properties)
        self.rel(floor, "contains", room_id)
        self.sensor(room_id, "temp", SENSOR_MODEL)
        if room_type not in ("corridor", "storage") and rng.random() < 0.6:
            self.sensor(room_id, "air", AIR_QUALITY_SENSOR_MODEL)
        if room_type == "meetingRoom" or rng.random() < 0.2:
            self.sensor(room_id, "occ", OCCUPANCY_SENSOR_MODEL)
        return room_id, area

    def floor(self, building: str, usage: str, level: int) -> float:
        floor_id = self.twin(
            f"{building}-f{level}", FLOOR_MODEL, name=f"Level {level}", level=level
        )
        self.rel(building, "contains", floor_id)
        rooms = [self.room(floor_id, usage, n) for n in range(1, _ROOMS_PER_FLOOR + 1)]
        hvac = self.twin(
            f"{floor_id}-hvac",
            HVAC_MODEL,
            name=f"AHU {building.upper()}-{level}",
            mode=self.rng.choice(("heating", "ventilation")),
            ratedPower=round(self.rng.uniform(8.0, 25.0), 1),
        )
        self.rel(hvac, "isLocatedIn", floor_id)
        for room_id, _ in rooms:
            self.rel(hvac, "serves", room_id)
        return sum(area for _, area in rooms)

    def site(self) -> None:
        site = self.twin(
            "site-1",
            SITE_MODEL,
            name="Riverside Campus",
            address="1 Riverside Way, Berlin",
            location={"type": "Point", "coordinates": [13.4050, 52.5200]},
            timeZone="Europe/Berlin",
        )
        for building, name, usage, year, floors in _BUILDINGS:
            self.twin(building, BUILDING_MODEL, name=name, usage=usage, yearBuilt=year)
            self.rel(site, "contains", building)
            area = sum(self.floor(building, usage, level) for level in range(1, floors + 1))
            # The building twin was appended before its floors; its gross area is
            # known only now (net room area plus walls and shafts).
            index = next(i for i, t in enumerate(self.twins) if t.id == building)
            props = {**self.twins[index].properties, "grossArea": round(area * 1.2, 1)}
            self.twins[index] = TwinUpsert(id=building, model=BUILDING_MODEL, properties=props)


def build_twin_graph(seed: int = 7) -> tuple[list[TwinUpsert], list[RelationshipUpsert]]:
    """The demo twins and relationships; the same ``seed`` gives the same graph.

    Twins come parents first, so a store that checks relationship targets on
    insert can take the twins in order before the relationships.
    """
    builder = _GraphBuilder(seed)
    builder.site()
    return builder.twins, builder.rels
