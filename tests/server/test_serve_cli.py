"""`graphtwin serve`'s settings: flags over environment over defaults, and clear startup errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graph.uri import store_uri_from_arg
from server.cli import build_parser
from server.config import DEFAULT_STORE_DIR, ConfigError, Settings, parse_mqtt_url
from server.serve_cli import settings_from_args

REPO = Path(__file__).resolve().parents[2]


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `graphtwin serve` on a fresh store under ``tmp_path`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--store", str(tmp_path / "s"), *args],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )


def _settings(argv: list[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for key in (
        "GRAPHTWIN_STORE",
        "GRAPHTWIN_MQTT",
        "GRAPHTWIN_NEO4J_USER",
        "GRAPHTWIN_NEO4J_PASSWORD",
    ):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return settings_from_args(build_parser().parse_args(["serve", *argv]))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _settings([], monkeypatch, {})
    assert (s.store, s.mqtt, s.mqtt_port, s.host, s.port) == (
        DEFAULT_STORE_DIR,
        None,
        1883,
        "127.0.0.1",
        8000,
    )
    assert not s.demo and not s.open_mode


def test_environment_then_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "GRAPHTWIN_STORE": "bolt://db:7687",
        "GRAPHTWIN_MQTT": "mqtt://broker:1884",
        "GRAPHTWIN_NEO4J_USER": "neo4j",
        "GRAPHTWIN_NEO4J_PASSWORD": "secret",
    }
    s = _settings([], monkeypatch, env)
    assert (s.store, s.mqtt, s.neo4j_user, s.neo4j_password) == (
        "bolt://db:7687",
        "mqtt://broker:1884",
        "neo4j",
        "secret",
    )
    s = _settings(
        ["--store", "/data/twins", "--mqtt", "mqtt://other:1883", "--demo"], monkeypatch, env
    )
    assert (s.store, s.mqtt, s.neo4j_user, s.demo) == (
        "/data/twins",
        "mqtt://other:1883",
        "neo4j",
        True,
    )


def test_ingest_config_flag_loads_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "ingest.toml"
    cfg.write_text('[mqtt]\nclient_id = "line-2"\nshared_group = "plant"\n')
    s = _settings(["--ingest-config", str(cfg)], monkeypatch, {})
    assert (s.ingest.mqtt.client_id, s.ingest.mqtt.shared_group) == ("line-2", "plant")


def test_store_and_broker_addresses() -> None:
    assert store_uri_from_arg("neo4j://h:7687") == "neo4j://h:7687"
    assert store_uri_from_arg("/var/lib/gt") == "embedded:/var/lib/gt"
    assert parse_mqtt_url("mqtt://u:p@broker:1884") == ("broker", 1884, "u", "p")
    assert parse_mqtt_url("broker") == ("broker", 1883, None, None)
    with pytest.raises(ConfigError, match="only mqtt://"):
        parse_mqtt_url("http://broker")


def test_bad_ingest_config_stops_startup_with_the_reason(tmp_path: Path) -> None:
    cfg = tmp_path / "ingest.yaml"
    cfg.write_text("batch:\n  max_sise: 10\n")
    run = _serve(tmp_path, "--ingest-config", str(cfg))
    assert run.returncode == 2
    assert f"{cfg}: batch: unknown key(s) max_sise" in run.stderr


def test_models_dir_that_is_not_json_is_reported(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "broken.json").write_text("{")
    (models / "ok.json").write_text(json.dumps({"@id": "x"}))
    run = _serve(tmp_path, "--models", str(models))
    assert run.returncode == 2
    assert "broken.json: not a readable JSON file" in run.stderr


def test_invalid_dtdl_model_is_reported_with_its_location(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    bad = {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:x:Bad;1",
        "@type": "Interface",
        "contents": [{"@type": "Telemetry", "name": "t", "schema": "doubel"}],
    }
    (models / "bad.json").write_text(json.dumps(bad, indent=1))
    run = _serve(tmp_path, "--models", str(models))
    assert run.returncode == 2, run.stderr
    assert "bad.json:" in run.stderr and "doubel" in run.stderr


def test_embedded_broker_port_in_use_is_reported(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = _serve(tmp_path, "--mqtt-port", str(port), "--port", "0")
    assert run.returncode != 0
    assert f"embedded MQTT broker cannot listen on 127.0.0.1:{port}" in run.stderr
    assert "use --mqtt-port or --mqtt" in run.stderr
    # The one clear line, not amqtt's tracebacks before it.
    assert "Traceback" not in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) <= 3, run.stderr


def test_demo_interval_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _settings(["--demo"], monkeypatch, {}).demo_interval == 1.0
    assert _settings(["--demo", "--demo-interval", "0.25"], monkeypatch, {}).demo_interval == 0.25
    assert _settings(["--demo", "--demo-interval", "0"], monkeypatch, {}).demo_interval == 0.0
    for bad in ("-1", "soon", "nan"):
        with pytest.raises(SystemExit):
            _settings(["--demo-interval", bad], monkeypatch, {})


def test_ctrl_c_stops_cleanly_without_a_traceback(tmp_path: Path) -> None:
    import signal

    import httpx
    from _harness import free_port, wait_until

    port = free_port()
    argv = ["serve", "--store", str(tmp_path / "s"), "--mqtt-port", str(free_port())]
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", *argv, "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, timeout=30, interval=0.2)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "Application shutdown complete" in err  # the lifespan ran to its end


def test_default_client_id_is_stable_per_store_and_distinct_between_stores() -> None:
    from server.config import default_client_id

    assert default_client_id("/data/a") == default_client_id("embedded:/data/a")
    assert default_client_id("/data/a") != default_client_id("/data/b")
    assert default_client_id("bolt://db:7687").startswith("graphtwin-")
