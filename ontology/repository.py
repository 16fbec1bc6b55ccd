"""A resolver hook that reads missing models from a DTMI repository folder.

The layout is the public convention of model repositories: the DTMI
``dtmi:com:example:Thermostat;1`` lives in ``dtmi/com/example/thermostat-1.json``
(lower case, colons become folders, the version follows a dash).  Files may hold
one interface or an array (an "expanded" file); either is fine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ontology.parser import ModelSource

__all__ = ["DtmiRepository", "dtmi_to_path"]


def dtmi_to_path(dtmi: str) -> str:
    """``dtmi:com:example:Thermostat;1`` -> ``dtmi/com/example/thermostat-1.json``."""
    body, _, version = dtmi.lower().partition(";")
    return body.replace(":", "/") + (f"-{version}" if version else "") + ".json"


class DtmiRepository:
    """Callable resolver: ``ParseOptions(resolver=DtmiRepository(root))``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __call__(self, dtmis: frozenset[str]) -> Iterator[ModelSource]:
        for dtmi in sorted(dtmis):
            path = self.root / dtmi_to_path(dtmi)
            # The path comes from a validated DTMI (letters, digits, underscores), so it
            # cannot escape the root; still, resolve and check to be safe with symlinks.
            try:
                resolved = path.resolve()
                if not resolved.is_relative_to(self.root.resolve()) or not resolved.is_file():
                    continue
                yield ModelSource(resolved.read_bytes(), str(path))
            except OSError:
                continue
