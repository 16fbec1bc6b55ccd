"""The embedded journal's update log: logged property updates replay after a crash,
never over a newer write of the same twin, and folding keeps the log bounded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from graph_test_models import MODELS, ROOM

from graph import PropertyUpdate, Twin, TwinUpsert
from graph.embedded import EmbeddedGraph


def _update(twin_id: str, value: float, second: int) -> PropertyUpdate:
    return PropertyUpdate(twin_id, {"temperature": value}, f"2026-01-01T00:00:{second:02d}Z")


def _state(g: EmbeddedGraph) -> dict[str, Twin]:
    return {t.id: t for t in g.iter_twins()}


def _logged_rows(directory: Path) -> int:
    with sqlite3.connect(directory / "graphtwin.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM updates").fetchone()[0])


def test_logged_updates_replay_without_a_clean_close(tmp_path: Path) -> None:
    # A second store opened on the directory sees what a crash would leave: the
    # first one has not closed, so nothing was folded.
    first = EmbeddedGraph(tmp_path)
    first.add_models(MODELS)
    first.create_twin("a", ROOM, {"area": 1.0})
    first.apply_property_updates([_update("a", 20.0, 1), _update("a", 21.0, 2)])
    first.apply_property_updates([_update("a", 19.0, 0)])  # older: changes nothing
    assert _logged_rows(tmp_path) == 1
    with EmbeddedGraph(tmp_path) as second:
        assert _state(second) == _state(first)
        assert second.get_twin("a").properties == {"area": 1.0, "temperature": 21.0}
    first.close()


def test_a_replaced_twin_does_not_get_older_logged_values_back(tmp_path: Path) -> None:
    first = EmbeddedGraph(tmp_path)
    first.add_models(MODELS)
    first.create_twin("a", ROOM, {"area": 1.0})
    first.create_twin("b", ROOM, {"area": 2.0})
    first.create_twin("c", ROOM, {"area": 3.0})  # its logged update keeps the log row
    updates = [_update("a", 20.0, 1), _update("b", 30.0, 1), _update("c", 40.0, 1)]
    first.apply_property_updates(updates)
    first.create_twin("a", ROOM, {"area": 5.0}, replace=True)
    first.delete_twin("b")
    first.create_twin("b", ROOM, {"area": 6.0})
    assert _logged_rows(tmp_path) == 1
    with EmbeddedGraph(tmp_path) as second:
        assert second.get_twin("a").properties == {"area": 5.0}
        assert second.get_twin("b").properties == {"area": 6.0}
        assert second.get_twin("c").properties == {"area": 3.0, "temperature": 40.0}
        assert _state(second) == _state(first)
    first.close()


def test_folding_bounds_the_log_and_loses_nothing(tmp_path: Path) -> None:
    first = EmbeddedGraph(tmp_path, log_limit=10, fold_cap=3)
    first.add_models(MODELS)
    first.upsert_batch([TwinUpsert(f"t{i}", ROOM, {"area": float(i)}) for i in range(8)])
    for second in range(1, 40):
        batch = [_update(f"t{(second * 3 + k) % 8}", second * 10.0 + k, second) for k in range(4)]
        assert all(r.ok for r in first.apply_property_updates(batch))
    # 39 batches of 4 changes, at most 10 kept waiting (plus what a fold of 3 twins
    # per commit has not caught up with yet).
    assert _logged_rows(tmp_path) <= 6
    with EmbeddedGraph(tmp_path) as again:
        assert _state(again) == _state(first)
    first.close()
    assert _logged_rows(tmp_path) == 0  # a clean close folds everything
    with EmbeddedGraph(tmp_path) as again:
        assert _state(again)["t0"].properties["temperature"] == _state(first)["t0"].properties[
            "temperature"
        ]
