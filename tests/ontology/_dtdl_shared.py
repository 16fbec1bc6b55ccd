"""Where the shared reference files are (``GRAPHTWIN_SHARED``, default ``../shared``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["SHARED", "need_shared"]

_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("GRAPHTWIN_SHARED", _ROOT.parent / "shared")).resolve()


def need_shared(*parts: str) -> Path:
    """The path under the shared folder, or skip the test with a reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared reference files not found at {path} (set GRAPHTWIN_SHARED)")
    return path
