"""Semantic types and units of DTDL (v2 core context and the quantitativeTypes extension).

Each table maps a semantic type term to its unit type, and a unit type to its unit terms.
Transcribed from the DTDL specifications (the semantic-type and unit tables of DTDL v2 and of
the quantitativeTypes extension v1-v3); kept as data so the parser needs no files at runtime.
"""

from __future__ import annotations

__all__ = ["SEMANTIC_TYPES", "UNITS", "UNIT_PREFIXES"]

# The prefix Enums of quantitativeTypes (the same in each version): Enum term -> prefix terms.
UNIT_PREFIXES: dict[str, tuple[str, ...]] = {
    "DecimalPrefix": ("deci", "centi", "milli", "micro", "nano", "pico", "femto", "atto", "zepto",
                      "yocto", "deca", "hecto", "kilo", "mega", "giga", "tera", "peta", "exa",
                      "zetta", "yotta"),
    "BinaryPrefix": ("kibi", "mebi", "gibi", "tebi", "pebi", "exbi", "zebi", "yobi"),
}

# Each version of the tables only adds to the one before it, so they are written as the DTDL
# v2 core tables plus what each quantitativeTypes version adds (tests/ontology/
# test_quantities.py checks the result against the specifications' own tables).
_VERSIONS = (
    "dtmi:dtdl:context;2",
    "dtmi:dtdl:extension:quantitativeTypes;1",
    "dtmi:dtdl:extension:quantitativeTypes;2",
    "dtmi:dtdl:extension:quantitativeTypes;3",
)

_SEMANTIC_ADDED: dict[str, dict[str, str]] = {}
_UNITS_ADDED: dict[str, dict[str, tuple[str, ...]]] = {}

_SEMANTIC_ADDED["dtmi:dtdl:context;2"] = {
    "Acceleration": "AccelerationUnit",
    "Angle": "AngleUnit",
    "AngularAcceleration": "AngularAccelerationUnit",
    "AngularVelocity": "AngularVelocityUnit",
    "Area": "AreaUnit",
    "Capacitance": "CapacitanceUnit",
    "Current": "CurrentUnit",
    "DataRate": "DataRateUnit",
    "DataSize": "DataSizeUnit",
    "Density": "DensityUnit",
    "Distance": "LengthUnit",
    "ElectricCharge": "ChargeUnit",
    "Energy": "EnergyUnit",
    "Force": "ForceUnit",
    "Frequency": "FrequencyUnit",
    "Humidity": "DensityUnit",
    "Illuminance": "IlluminanceUnit",
    "Inductance": "InductanceUnit",
    "Latitude": "AngleUnit",
    "Length": "LengthUnit",
    "Longitude": "AngleUnit",
    "Luminance": "LuminanceUnit",
    "Luminosity": "PowerUnit",
    "LuminousFlux": "LuminousFluxUnit",
    "LuminousIntensity": "LuminousIntensityUnit",
    "MagneticFlux": "MagneticFluxUnit",
    "MagneticInduction": "MagneticInductionUnit",
    "Mass": "MassUnit",
    "MassFlowRate": "MassFlowRateUnit",
    "Power": "PowerUnit",
    "Pressure": "PressureUnit",
    "RelativeHumidity": "Unitless",
    "Resistance": "ResistanceUnit",
    "SoundPressure": "SoundPressureUnit",
    "Temperature": "TemperatureUnit",
    "Thrust": "ForceUnit",
    "TimeSpan": "TimeUnit",
    "Torque": "TorqueUnit",
    "Velocity": "VelocityUnit",
    "Voltage": "VoltageUnit",
    "Volume": "VolumeUnit",
    "VolumeFlowRate": "VolumeFlowRateUnit",
}
_UNITS_ADDED["dtmi:dtdl:context;2"] = {
    "AccelerationUnit": ("centimetrePerSecondSquared", "gForce", "metrePerSecondSquared",),
    "AngleUnit": ("degreeOfArc", "minuteOfArc", "radian", "secondOfArc", "turn",),
    "AngularAccelerationUnit": ("radianPerSecondSquared",),
    "AngularVelocityUnit": (
        "degreePerSecond", "radianPerSecond", "revolutionPerMinute", "revolutionPerSecond",
    ),
    "AreaUnit": (
        "acre", "hectare", "squareCentimetre", "squareFoot", "squareInch",
        "squareKilometre", "squareMetre", "squareMillimetre",
    ),
    "CapacitanceUnit": ("farad", "microfarad", "millifarad", "nanofarad", "picofarad",),
    "ChargeUnit": ("coulomb",),
    "CurrentUnit": ("ampere", "microampere", "milliampere",),
    "DataRateUnit": (
        "bitPerSecond", "bytePerSecond", "exbibitPerSecond", "exbibytePerSecond",
        "gibibitPerSecond", "gibibytePerSecond", "kibibitPerSecond", "kibibytePerSecond",
        "mebibitPerSecond", "mebibytePerSecond", "tebibitPerSecond", "tebibytePerSecond",
        "yobibitPerSecond", "yobibytePerSecond", "zebibitPerSecond", "zebibytePerSecond",
    ),
    "DataSizeUnit": (
        "bit", "byte", "exbibit", "exbibyte", "gibibit", "gibibyte", "kibibit", "kibibyte",
        "mebibit", "mebibyte", "tebibit", "tebibyte", "yobibit", "yobibyte", "zebibit",
        "zebibyte",
    ),
    "DensityUnit": ("gramPerCubicMetre", "kilogramPerCubicMetre",),
    "EnergyUnit": (
        "electronvolt", "gigajoule", "joule", "kilojoule", "kilowattHour",
        "megaelectronvolt", "megajoule",
    ),
    "ForceUnit": ("newton", "ounce", "pound", "ton",),
    "FrequencyUnit": ("gigahertz", "hertz", "kilohertz", "megahertz",),
    "IlluminanceUnit": ("footcandle", "lux",),
    "InductanceUnit": ("henry", "microhenry", "millihenry",),
    "LengthUnit": (
        "astronomicalUnit", "centimetre", "foot", "inch", "kilometre", "metre",
        "micrometre", "mile", "millimetre", "nanometre", "nauticalMile",
    ),
    "LuminanceUnit": ("candelaPerSquareMetre",),
    "LuminousFluxUnit": ("lumen",),
    "LuminousIntensityUnit": ("candela",),
    "MagneticFluxUnit": ("maxwell", "weber",),
    "MagneticInductionUnit": ("tesla",),
    "MassFlowRateUnit": ("gramPerHour", "gramPerSecond", "kilogramPerHour", "kilogramPerSecond",),
    "MassUnit": ("gram", "kilogram", "microgram", "milligram", "slug", "tonne",),
    "PowerUnit": (
        "gigawatt", "horsepower", "kilowatt", "kilowattHourPerYear", "megawatt",
        "microwatt", "milliwatt", "watt",
    ),
    "PressureUnit": (
        "bar", "inchesOfMercury", "inchesOfWater", "kilopascal", "millibar",
        "millimetresOfMercury", "pascal", "poundPerSquareInch",
    ),
    "ResistanceUnit": ("kiloohm", "megaohm", "milliohm", "ohm",),
    "SoundPressureUnit": ("bel", "decibel",),
    "TemperatureUnit": ("degreeCelsius", "degreeFahrenheit", "kelvin",),
    "TimeUnit": (
        "day", "hour", "microsecond", "millisecond", "minute", "nanosecond", "second",
        "year",
    ),
    "TorqueUnit": ("newtonMetre",),
    "Unitless": ("percent", "unity",),
    "VelocityUnit": (
        "centimetrePerSecond", "kilometrePerHour", "kilometrePerSecond", "knot",
        "metrePerHour", "metrePerSecond", "milePerHour", "milePerSecond",
    ),
    "VoltageUnit": ("kilovolt", "megavolt", "microvolt", "millivolt", "volt",),
    "VolumeFlowRateUnit": (
        "litrePerHour", "litrePerSecond", "millilitrePerHour", "millilitrePerSecond",
    ),
    "VolumeUnit": (
        "cubicCentimetre", "cubicFoot", "cubicInch", "cubicMetre", "fluidOunce", "gallon",
        "litre", "millilitre",
    ),
}

_SEMANTIC_ADDED["dtmi:dtdl:extension:quantitativeTypes;1"] = {
    "ApparentEnergy": "ApparentEnergyUnit",
    "ApparentPower": "ApparentPowerUnit",
    "Concentration": "Unitless",
    "EnergyRate": "PowerUnit",
    "IonizingRadiationDose": "IonizingRadiationDoseUnit",
    "Irradiance": "IrradianceUnit",
    "Radioactivity": "RadioactivityUnit",
    "ReactiveEnergy": "ReactiveEnergyUnit",
    "ReactivePower": "ReactivePowerUnit",
    "RelativeDensity": "Unitless",
}
_UNITS_ADDED["dtmi:dtdl:extension:quantitativeTypes;1"] = {
    "ApparentEnergyUnit": (
        "gigavoltAmpereHour", "kilovoltAmpereHour", "megavoltAmpereHour", "voltAmpereHour",
    ),
    "ApparentPowerUnit": (
        "gigavoltAmpere", "kilovoltAmpere", "megavoltAmpere", "millivoltAmpere",
        "voltAmpere",
    ),
    "ChargeUnit": ("ampereHour", "milliampereHour",),
    "CurrentUnit": ("kiloampere",),
    "DensityUnit": ("microgramPerCubicMetre", "milligramPerCubicMetre",),
    "EnergyUnit": (
        "britishThermalUnit", "gigawattHour", "kiloBritishThermalUnit", "megawattHour",
        "milliwattHour", "terawattHour", "wattHour",
    ),
    "FrequencyUnit": ("millihertz",),
    "IonizingRadiationDoseUnit": (
        "gray", "microgray", "microsievert", "milligray", "millisievert", "sievert",
    ),
    "IrradianceUnit": ("wattPerSquareMetre",),
    "MagneticInductionUnit": ("gauss",),
    "MassFlowRateUnit": ("massPoundPerHour",),
    "MassUnit": ("massPound",),
    "PowerUnit": (
        "britishThermalUnitPerHour", "gigajoulePerHour", "joulePerHour", "joulePerSecond",
        "kiloBritishThermalUnitPerHour", "kilojoulePerHour", "kilojoulePerSecond",
        "megajoulePerHour", "tonOfRefrigeration",
    ),
    "PressureUnit": ("decapascal", "hectopascal",),
    "RadioactivityUnit": ("becquerel", "gigabecquerel", "kilobecquerel", "megabecquerel",),
    "ReactiveEnergyUnit": (
        "gigavoltAmpereReactiveHour", "kilovoltAmpereReactiveHour",
        "megavoltAmpereReactiveHour", "voltAmpereReactiveHour",
    ),
    "ReactivePowerUnit": (
        "gigavoltAmpereReactive", "kilovoltAmpereReactive", "megavoltAmpereReactive",
        "millivoltAmpereReactive", "voltAmpereReactive",
    ),
    "Unitless": ("partsPerBillion", "partsPerMillion", "partsPerQuadrillion", "partsPerTrillion",),
    "VolumeFlowRateUnit": (
        "cubicFootPerMinute", "cubicMetrePerHour", "cubicMetrePerMinute",
        "cubicMetrePerSecond", "gallonPerHour", "gallonPerMinute", "litrePerMinute",
        "millilitrePerMinute",
    ),
}

_SEMANTIC_ADDED["dtmi:dtdl:extension:quantitativeTypes;2"] = {}
_UNITS_ADDED["dtmi:dtdl:extension:quantitativeTypes;2"] = {}

_SEMANTIC_ADDED["dtmi:dtdl:extension:quantitativeTypes;3"] = {
    "DynamicViscosity": "DynamicViscosityUnit",
    "Efficiency": "Unitless",
    "GasLeakageRate": "GasLeakageRateUnit",
    "KinematicViscosity": "KinematicViscosityUnit",
    "ReciprocalLength": "ReciprocalLengthUnit",
    "ReciprocalTime": "ReciprocalTimeUnit",
    "RelativeMeasure": "Unitless",
    "Scale": "Unitless",
    "Throttle": "Unitless",
}
_UNITS_ADDED["dtmi:dtdl:extension:quantitativeTypes;3"] = {
    "AccelerationUnit": ("kilometrePerSecondSquared", "millimetrePerSecondSquared",),
    "ApparentEnergyUnit": ("millivoltAmpereHour",),
    "CurrentUnit": ("nanoampere", "picoampere",),
    "DynamicViscosityUnit": (
        "centipoise", "millipascalSecond", "millipoise", "pascalSecond", "poise",
    ),
    "GasLeakageRateUnit": (
        "decapascalCubicMetrePerSecond", "hectopascalCubicMetrePerSecond",
        "kilopascalCubicMetrePerSecond", "pascalCubicMetrePerSecond",
    ),
    "KinematicViscosityUnit": ("centistokes", "squareMetrePerSecond", "stokes",),
    "ReciprocalLengthUnit": (
        "reciprocalCentimetre", "reciprocalKilometre", "reciprocalMetre",
        "reciprocalMicrometre", "reciprocalMillimetre", "reciprocalNanometre",
    ),
    "ReciprocalTimeUnit": ("reciprocalMinute", "reciprocalSecond",),
    "VelocityUnit": ("millimetrePerSecond",),
    "VolumeFlowRateUnit": ("cubicCentimetrePerMinute", "cubicCentimetrePerSecond",),
}


def _accumulate() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, tuple[str, ...]]]]:
    semantic: dict[str, dict[str, str]] = {}
    units: dict[str, dict[str, tuple[str, ...]]] = {}
    sem_so_far: dict[str, str] = {}
    units_so_far: dict[str, tuple[str, ...]] = {}
    for context in _VERSIONS:
        sem_so_far = {**sem_so_far, **_SEMANTIC_ADDED[context]}
        units_so_far = {
            unit_type: tuple(sorted({*units_so_far.get(unit_type, ()), *added}))
            for unit_type, added in {
                **{t: () for t in units_so_far}, **_UNITS_ADDED[context]}.items()
        }
        semantic[context] = dict(sorted(sem_so_far.items()))  # sorted: hints list them
        units[context] = dict(sorted(units_so_far.items()))
    return semantic, units


# context -> {semantic type term: unit type term}; context -> {unit type term: unit terms}
SEMANTIC_TYPES, UNITS = _accumulate()
