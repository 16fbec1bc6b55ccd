"""Source positions for JSON pointers, computed lazily.

Documents are decoded with a fast C parser that records no positions.  Only when
an error needs a line and column do we scan the original text along the JSON
pointer, skipping every sibling value without building it.  For inputs that came
as Python values (no text), the value is serialised once, indented, so errors
still point somewhere a person can read.
"""

from __future__ import annotations

import bisect
import json
import re
from itertools import accumulate
from typing import Any

from ontology.model import SourceLocation

__all__ = ["SourceText", "escape_pointer_token"]

_WS = " \t\r\n"
_SLASH = re.compile("/")
# The json module's C scanner: (value, end offset) of the JSON value at an offset.
_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def escape_pointer_token(token: str | int) -> str:
    text = str(token)
    if "~" not in text and "/" not in text:
        return text
    return text.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class SourceText:
    """One submitted document: its name, its text (if any) and its decoded value."""

    __slots__ = ("_cursors", "_line_starts", "_text", "_values", "name", "value")

    def __init__(self, name: str | None, text: str | None, value: Any) -> None:
        self.name = name
        self._text = text
        self.value = value
        self._line_starts: list[int] | None = None
        self._values: dict[str, int] = {}  # pointer -> offset of its value
        self._cursors: dict[str, tuple[int, int]] = {}  # array pointer -> (index, offset)

    @property
    def text(self) -> str:
        if self._text is None:
            try:
                self._text = json.dumps(self.value, indent=2, ensure_ascii=False)
            except (TypeError, ValueError, RecursionError):
                self._text = ""
        return self._text

    def location(self, pointer: str) -> SourceLocation:
        offset = self._offset_of(pointer)
        line, column = self.line_column(offset)
        return SourceLocation(self.name, line, column, pointer)

    def line_column(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            lengths = map((1).__add__, map(len, self.text.split("\n")))  # all at C speed
            self._line_starts = [0, *accumulate(lengths)]
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    # ------------------------------------------------------------------ scanning

    def _offset_of(self, pointer: str) -> int:
        """Offset of the value at ``pointer``; the nearest enclosing value if not found.

        When the last token names an object member, the offset is that member's key,
        which is where a reader expects an error about the member.  Offsets of the
        values passed on the way are cached, and so is the last item reached in each
        array, so locating every element of a document in order stays linear.
        """
        text = self.text
        cache = self._values
        if not cache:
            pos = self._skip_ws(text, 0)
            if pos < len(text) and text[pos] == "\ufeff":
                pos = self._skip_ws(text, pos + 1)
            cache[""] = pos
        if not pointer:
            return cache[""]
        cuts = [m.start() for m in _SLASH.finditer(pointer)] + [len(pointer)]
        # Resume from the longest prefix already located.
        k = len(cuts) - 1
        while k > 0 and pointer[:cuts[k]] not in cache:
            k -= 1
        pos = cache[pointer[:cuts[k]]]
        try:
            for j in range(k, len(cuts) - 1):
                here, prefix = pointer[:cuts[j]], pointer[:cuts[j + 1]]
                token = _unescape(pointer[cuts[j] + 1:cuts[j + 1]])
                last = j == len(cuts) - 2
                if text[pos] == "{":
                    found = self._find_member(text, pos, token)
                    if found is None:
                        return pos
                    key_pos, pos = found
                    cache[prefix] = pos
                    if last:
                        return key_pos
                elif text[pos] == "[" and token.isdigit():
                    item = self._find_item_from(text, here, pos, int(token))
                    if item is None:
                        return pos
                    pos = cache[prefix] = item
                else:
                    return pos
        except (IndexError, ValueError):
            return min(pos, max(len(text) - 1, 0))
        return pos

    def _find_item_from(self, text: str, array_ptr: str, array_pos: int, index: int) -> int | None:
        """Like ``_find_item`` but resumes from the last item reached in this array."""
        start_index, pos = self._cursors.get(array_ptr, (0, -1))
        if pos < 0 or index < start_index:
            start_index, pos = 0, self._skip_ws(text, array_pos + 1)
        i = start_index
        while text[pos] != "]":
            if i == index:
                self._cursors[array_ptr] = (i, pos)
                return pos
            pos = self._skip_ws(text, self._skip_value(text, pos))
            if text[pos] == ",":
                pos = self._skip_ws(text, pos + 1)
            i += 1
        return None

    @staticmethod
    def _skip_ws(text: str, pos: int) -> int:
        n = len(text)
        while pos < n and text[pos] in _WS:
            pos += 1
        return pos

    def _find_member(self, text: str, pos: int, key: str) -> tuple[int, int] | None:
        pos = self._skip_ws(text, pos + 1)
        while text[pos] != "}":
            key_pos = pos
            name, end = _SCAN(text, pos)
            pos = self._skip_ws(text, end)
            pos = self._skip_ws(text, pos + 1)  # the colon
            if name == key:
                return key_pos, pos
            pos = self._skip_ws(text, self._skip_value(text, pos))
            if text[pos] == ",":
                pos = self._skip_ws(text, pos + 1)
        return None

    @staticmethod
    def _skip_string(text: str, pos: int) -> int:
        """Offset just past the string starting at ``pos`` (which holds the quote)."""
        i = pos + 1
        while True:
            q = text.index('"', i)
            backslashes = 0
            j = q - 1
            while text[j] == "\\":
                backslashes += 1
                j -= 1
            if backslashes % 2 == 0:
                return q + 1
            i = q + 1

    def _skip_value(self, text: str, pos: int) -> int:
        """Offset just past the value starting at ``pos``.

        The C scanner of the json module decodes the value and reports where it ends;
        that is far quicker than stepping over it in Python.  Very deep values fall
        back to an iterative token scan.
        """
        try:
            return _SCAN(text, pos)[1]
        except (StopIteration, ValueError, RecursionError):
            pass
        ch = text[pos]
        if ch not in "[{":
            n = len(text)
            while pos < n and text[pos] not in ",]}" and text[pos] not in _WS:
                pos += 1
            return pos
        depth = 0
        for m in _TOKEN.finditer(text, pos):  # strings and brackets, matched at C speed
            ch = text[m.start()]
            if ch == '"':
                continue
            if ch in "[{":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return m.end()
        return len(text)
