"""DTDL v2-v4 parser, validator and model registry. No network I/O."""

from ontology.errors import DtdlError, DtdlParseError
from ontology.model import Interface, ModelRegistry, SourceLocation
from ontology.parser import ModelSource, ParseOptions, ParseResult, ResolverHook, parse_models

__all__ = [
    "DtdlError",
    "DtdlParseError",
    "Interface",
    "ModelRegistry",
    "ModelSource",
    "ParseOptions",
    "ParseResult",
    "ResolverHook",
    "SourceLocation",
    "parse_models",
]
