"""``graphtwin export`` / ``graphtwin import``: a store copied through NDJSON files."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_test_models import DEVICE, MODELS, ROOM

from graph import open_graph
from server.cli import main


def test_export_then_import_into_another_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst, dump = tmp_path / "src", tmp_path / "dst", tmp_path / "dump.ndjson"
    with open_graph(f"embedded:{src}") as g:
        g.add_models(MODELS)
        g.create_twin("r", ROOM, {"area": 3.0, "tags": {"a": "b"}})
        g.create_twin("d", DEVICE, {})
        g.create_relationship("r", "h", "hasDevice", "d", {"since": "x"})
    assert main(["export", "--store", str(src), "-o", str(dump)]) == 0
    assert len(dump.read_bytes().splitlines()) == 4 + 2 + 1
    assert main(["import", "--store", str(dst), str(dump)]) == 0
    assert "imported 3 items, 0 refused" in capsys.readouterr().err
    with open_graph(f"embedded:{dst}") as g:
        assert g.get_twin("r").properties == {"area": 3.0, "tags": {"a": "b"}}
        assert g.get_relationship("r", "h").properties == {"since": "x"}


def test_import_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"kind": "twin", "id": "x"}\n')
    assert main(["import", "--store", str(tmp_path / "s"), str(bad)]) == 1
    assert "line 1" in capsys.readouterr().err
