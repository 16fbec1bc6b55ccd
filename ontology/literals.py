"""Literal property values: strings, booleans, integers, language strings, JSON-LD value objects.

DTDL documents are JSON-LD, so a literal may be written plainly (``"writable": true``),
as a value object (``{"@value": true, "@type": "xsd:boolean"}``), or for language
strings as a map of languages or an array of texts and value objects.  These rules
accept exactly the forms the specification allows and check datatype, length,
pattern and range.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ontology.errors import Codes
from ontology.metamodel import Metamodel, PropDef
from ontology.problem import Problem, json_kind

__all__ = ["check_literal", "lang_map", "literal_value", "plain_literal", "unwrap_value"]

# BCP 47 language tag, as far as DTDL needs: a primary subtag and optional subtags.
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


def check_literal(pdef: PropDef, value: Any, mm: Metamodel) -> Iterator[Problem]:
    """Datatype, length, pattern and range of a literal property value."""
    if isinstance(value, list) and not value:
        return  # an empty array is the same as leaving the property out
    if pdef.kind != "langString":
        value, problem = unwrap_value(pdef, value, mm.version)
        if problem is not None:
            yield problem
            return
    if isinstance(value, list) and pdef.kind != "langString":
        if len(value) != 1:
            yield Problem(Codes.TOO_MANY_VALUES if value else Codes.TOO_FEW_VALUES,
                          f"'{pdef.name}' takes one value, not an array of {len(value)}.",
                          "Give a single value.")
            return
        value = value[0]
    kind = pdef.kind
    if kind == "langString":
        yield from _check_lang_string(pdef, value, mm.version)
    elif kind in ("string", "dtmi"):
        if not isinstance(value, str):
            yield Problem(Codes.BAD_VALUE_TYPE, f"'{pdef.name}' must be a string, not "
                          f"{json_kind(value)}.", "")
            return
        if pdef.max_length is not None and len(value) > pdef.max_length:
            yield Problem(Codes.STRING_TOO_LONG, f"'{pdef.name}' is {len(value)} characters "
                          f"long; the limit is {pdef.max_length}.", "Shorten it.")
        if pdef.values and value not in pdef.values:
            shown = ", ".join(pdef.values[:8]) + (", ..." if len(pdef.values) > 8 else "")
            yield Problem(Codes.BAD_TERM, f"'{value}' is not allowed for '{pdef.name}'.",
                          f"Use one of: {shown}.")
        if pdef.pattern is not None and not pdef.pattern.match(value):
            desc = pdef.pattern_desc or ("a DTMI" if kind == "dtmi" else "the required form")
            yield Problem(Codes.BAD_STRING, f"'{value}' is not a valid value for "
                          f"'{pdef.name}'; it must be {desc}.",
                          f"Rename it, e.g. '{_suggest_name(value)}'." if pdef.name == "name"
                          else "")
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield Problem(Codes.BAD_VALUE_TYPE, f"'{pdef.name}' must be true or false, not "
                          f"{json_kind(value)}.", "")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            yield Problem(Codes.BAD_VALUE_TYPE, f"'{pdef.name}' must be an integer, not "
                          f"{json_kind(value)}.", "")
            return
        if pdef.min_value is not None and value < pdef.min_value:
            yield Problem(Codes.VALUE_OUT_OF_RANGE, f"'{pdef.name}' is {value}; the minimum is "
                          f"{pdef.min_value}.", "")
        if pdef.max_value is not None and value > pdef.max_value:
            yield Problem(Codes.VALUE_OUT_OF_RANGE, f"'{pdef.name}' is {value}; the maximum is "
                          f"{pdef.max_value}.", "")
    elif kind == "literal" and (not isinstance(value, int | str) or isinstance(value, bool)):
        yield Problem(Codes.BAD_VALUE_TYPE, f"'{pdef.name}' must be an integer or a string, not "
                      f"{json_kind(value)}.", "")


# Keywords that would make a value object a node, which DTDL never allows.
_NODE_KEYWORDS = frozenset({"@id", "@context", "@graph"})
_XSD = {"string": "string", "dtmi": "string", "boolean": "boolean", "integer": "integer"}


def unwrap_value(pdef: PropDef, value: Any, version: int) -> tuple[Any, Problem | None]:
    """Unwrap a JSON-LD value object ``{"@value": v, "@type": "xsd:..."}`` to ``v``."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict) or "@value" not in value or pdef.kind == "dtmi":
        return value, None
    if isinstance(value["@value"], list | dict):
        return None, Problem(Codes.BAD_VALUE_TYPE, f"The @value of '{pdef.name}' must be a "
                             f"plain value, not {json_kind(value['@value'])}.", "")
    extra = set(value) - {"@value", "@type"}
    if extra and (version >= 3 or extra & _NODE_KEYWORDS):  # v2 ignores other keywords
        return None, Problem(Codes.BAD_VALUE_TYPE, f"The value object of '{pdef.name}' has "
                             "keys other than @value and @type.", "Remove the extra keys.")
    if "@type" in value:
        dtype = value["@type"]
        if isinstance(dtype, list) and len(dtype) == 1:
            dtype = dtype[0]
        xsds = ("integer", "string") if pdef.kind == "literal" else (_XSD.get(pdef.kind, ""),)
        xsd = xsds[0]
        if not any(dtype in (f"xsd:{x}", f"http://www.w3.org/2001/XMLSchema#{x}") for x in xsds):
            return None, Problem(Codes.BAD_VALUE_TYPE, f"The @type of the value of '{pdef.name}' "
                                 f"must be xsd:{xsd or 'string'}.", "Or give the plain value.")
    return value["@value"], None


def _lang_entries(value: Any, in_array: bool = False,
                  version: int = 2) -> Iterator[tuple[str | None, Any] | Problem]:
    """(language, text) pairs of a language string in any of its JSON-LD forms."""
    if isinstance(value, str):
        yield None, value
    elif isinstance(value, dict) and "@value" in value and in_array:
        extra = set(value) - {"@value", "@language"}
        if extra and (version >= 3 or extra & _NODE_KEYWORDS):
            yield Problem(Codes.BAD_VALUE_TYPE, "A language value object may only have @value "
                          "and @language.", "Remove the other keys.")
            return
        lang = value.get("@language")
        if lang is not None and not isinstance(lang, str):
            yield Problem(Codes.BAD_LANGUAGE, "@language must be a string.", "")
            return
        yield lang, value["@value"]
    elif isinstance(value, dict) and not in_array and "@value" not in value:
        yield from value.items()
    elif isinstance(value, list) and not in_array:
        for item in value:
            yield from _lang_entries(item, True, version)
    else:
        yield Problem(Codes.BAD_VALUE_TYPE, f"A language string cannot be {json_kind(value)}.",
                      'E.g. "Thermostat" or {"en": "Thermostat"}.')


def lang_map(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in _lang_entries(value):
        if isinstance(entry, tuple) and isinstance(entry[1], str):
            out.setdefault(entry[0] or "en", entry[1])
    return out


def _check_lang_string(pdef: PropDef, value: Any, version: int) -> Iterator[Problem]:
    texts: list[str] = []
    seen: set[str | None] = set()
    for entry in _lang_entries(value, False, version):
        if isinstance(entry, Problem):
            yield entry
            return
        lang, text = entry
        lang = lang or "en"  # text without a language is in the default language, English
        if lang in seen:
            yield Problem(Codes.DUPLICATE_VALUE, f"'{pdef.name}' has two texts for "
                          f"language {lang!r}.",
                          "Give one text per language.")
        seen.add(lang)
        if lang is not None and not _LANGUAGE.match(lang):
            yield Problem(Codes.BAD_LANGUAGE, f"'{lang}' in '{pdef.name}' is not a language "
                          "code.", "Use codes such as en, en-US or de.")
        if not isinstance(text, str):
            yield Problem(Codes.BAD_VALUE_TYPE, f"The '{lang}' text of '{pdef.name}' must be "
                          f"a string, not {json_kind(text)}.", "")
        else:
            texts.append(text)
    for text in texts:
        if pdef.max_length is not None and len(text) > pdef.max_length:
            yield Problem(Codes.STRING_TOO_LONG, f"'{pdef.name}' is {len(text)} characters "
                          f"long; the limit is {pdef.max_length}.", "Shorten it.")


def plain_literal(pdef: PropDef, value: Any) -> Any:
    """The value of a plainly valid literal (a short string, a boolean...), else None.

    A fast path for what most documents contain; anything unusual goes through
    :func:`check_literal`.
    """
    kind = pdef.kind
    vtype = type(value)
    if vtype is str:
        if pdef.max_length is not None and len(value) > pdef.max_length:
            return None
        if kind == "langString":
            return {"en": value}
        if kind in ("string", "literal", "dtmi") and (
                pdef.pattern is None or pdef.pattern.match(value)) and (
                not pdef.values or value in pdef.values):
            return value
        return None
    if vtype is bool:
        return value if kind == "boolean" else None
    in_range = vtype is int and (pdef.min_value is None or value >= pdef.min_value) and (
        pdef.max_value is None or value <= pdef.max_value)
    return value if in_range and kind in ("integer", "literal") else None


def literal_value(pdef: PropDef, value: Any) -> Any:
    if pdef.kind == "langString":
        return lang_map(value)
    return unwrap_value(pdef, value, 2)[0]


def _suggest_name(value: str) -> str:
    """A legal DTDL name close to ``value`` (for hints)."""
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", value).strip("_") or "name"
    if not cleaned[0].isalpha():
        cleaned = "n" + cleaned
    return cleaned
