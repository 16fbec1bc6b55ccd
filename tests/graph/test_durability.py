"""Durability and whole-store export: reopen, kill -9 (embedded), NDJSON round trip (both)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from graph_test_models import DEVICE, MODELS, ROOM, SPACE

from graph import PropertyUpdate, TwinGraph, open_graph
from graph.embedded import EmbeddedGraph
from graph.layout import NX_MODEL, NX_NAME, NX_PROPS
from graph.ndjson import export_ndjson, import_ndjson

REPO = Path(__file__).resolve().parents[2]


def _populate(g: TwinGraph) -> None:
    g.add_models(MODELS)
    g.create_twin("site", SPACE, {"name": "site"})
    g.create_twin(
        "room",
        ROOM,
        {
            "area": 4.0,
            "settings": {"target": 20.0, "label": "x"},
            "tags": {"a": "b"},
            "codes": [1],
            "thermostat": {"setpoint": 19.0},
        },
    )
    g.create_twin("dev", DEVICE, {})
    g.create_relationship("site", "c", "contains", "room")
    g.create_relationship("room", "h", "hasDevice", "dev", {"since": "2026"})
    g.apply_property_updates(
        [PropertyUpdate("room", {"temperature": 21.5}, "2026-01-01T00:00:00Z")]
    )
    g.decommission_model(DEVICE)


def test_reopen_keeps_everything(store_uri: str) -> None:
    with open_graph(store_uri) as g:
        _populate(g)
        room = g.get_twin("room")
    with open_graph(store_uri) as g:
        again = g.get_twin("room")
        assert again.properties == room.properties and again.etag == room.etag
        assert again.metadata == room.metadata
        assert g.get_relationship("room", "h").properties == {"since": "2026"}
        assert [r.source for r in g.list_incoming("room")] == ["site"]
        assert g.get_model(DEVICE).decommissioned


def test_ndjson_round_trip(store_uri: str, tmp_path: Path) -> None:
    with open_graph(store_uri) as g:
        _populate(g)
        buf = io.BytesIO()
        lines = export_ndjson(g, buf)
        assert lines == 4 + 3 + 2
        before = {t.id: dict(t.properties) for t in g.iter_twins()}
    with open_graph(f"embedded:{tmp_path / 'copy'}") as copy:
        results = import_ndjson(copy, buf.getvalue().splitlines())
        assert all(r.ok for r in results) and len(results) == 5
        assert {t.id: dict(t.properties) for t in copy.iter_twins()} == before
        assert copy.get_relationship("room", "h").target == "dev"
        assert copy.get_model(DEVICE).decommissioned
        with pytest.raises(Exception, match="line 2"):
            import_ndjson(copy, [b'{"kind": "model", "id": "x", "document": {}}', b"not json"])


def test_read_view_follows_layout(tmp_path: Path) -> None:
    with EmbeddedGraph(tmp_path) as g:
        _populate(g)
        with g.read_view() as nxg:
            assert nxg.nodes["room"][NX_MODEL] == ROOM
            assert nxg.nodes["room"][NX_PROPS]["temperature"] == 21.5
            assert nxg.edges["room", "dev", "h"][NX_NAME] == "hasDevice"


_WRITER = textwrap.dedent("""
    import sys
    sys.path[:0] = [{repo!r}]
    from graph import open_graph, PropertyUpdate, TwinUpsert
    g = open_graph(sys.argv[1])
    i = 0
    while True:  # acknowledge each committed write on stdout, until killed
        if i % 2:
            g.upsert_batch([TwinUpsert(f"t{{i}}", {room!r}, {{"area": float(i)}})])
        else:
            g.apply_property_updates([PropertyUpdate("r", {{"temperature": float(i)}},
                                                     f"2026-01-01T00:00:00.{{i:06d}}Z")])
        print(i, flush=True)
        i += 1
""")


def test_kill_9_loses_no_acknowledged_write(tmp_path: Path) -> None:
    uri = f"embedded:{tmp_path / 'store'}"
    with open_graph(uri) as g:
        g.add_models(MODELS)
        g.create_twin("r", ROOM, {})
    script = _WRITER.format(repo=str(REPO), room=ROOM)
    proc = subprocess.Popen([sys.executable, "-c", script, uri], stdout=subprocess.PIPE, text=True)
    acked = -1
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while acked < 400 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert acked >= 400, "the writer did not get going"
    with open_graph(uri) as g:
        last_even = acked if acked % 2 == 0 else acked - 1
        assert g.get_twin("r").properties["temperature"] >= float(last_even)
        for i in range(1, acked + 1, 2):
            assert g.get_twin(f"t{i}").properties == {"area": float(i)}
