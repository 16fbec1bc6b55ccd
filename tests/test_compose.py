"""docker-compose.yml, the Dockerfile and their config files fit together.

No Docker engine runs here, so these read the files as a user's ``docker compose``
would and check what would make the stack fail to start or fail to connect.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from services import REPO_ROOT


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = _load(REPO_ROOT / "docker-compose.yml")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _published(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port, from "host:container" entries."""
    ports = {}
    for entry in service.get("ports", []):
        host, _, container = str(entry).rpartition(":")
        ports[int(container.split("/")[0])] = int(host.rpartition(":")[2] or container)
    return ports


def _interpolated(value: str, env: dict[str, str]) -> str:
    """Compose-style ${VAR}, ${VAR:-default}, ${VAR:?error} substitution."""

    def sub(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"${{{name}}} is required: {arg}")
        return arg

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", sub, value)


def _env_example() -> dict[str, str]:
    pairs = {}
    for line in (REPO_ROOT / "deploy" / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            pairs[key.strip()] = value.strip()
    return pairs


def test_the_three_services_use_the_agreed_images(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"neo4j", "mosquitto", "graphtwin"}
    assert services["neo4j"]["image"] == "neo4j:5.26-community"
    assert services["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert services["graphtwin"]["build"]["context"] == "."
    assert services["graphtwin"]["build"].get("dockerfile", "Dockerfile") == "Dockerfile"


def test_ports_published_for_browser_bolt_mqtt_and_http(
    services: dict[str, dict[str, Any]],
) -> None:
    assert _published(services["neo4j"]) == {7474: 7474, 7687: 7687}
    assert _published(services["mosquitto"]) == {1883: 1883}
    assert _published(services["graphtwin"]) == {8000: 8000}


def test_neo4j_password_comes_from_the_env_file(services: dict[str, dict[str, Any]]) -> None:
    example = _env_example()
    assert len(example["NEO4J_PASSWORD"]) >= 8, "Neo4j refuses passwords under 8 characters"
    neo4j_auth = _interpolated(_env(services["neo4j"])["NEO4J_AUTH"], example)
    assert neo4j_auth == f"neo4j/{example['NEO4J_PASSWORD']}"
    with pytest.raises(AssertionError, match="NEO4J_PASSWORD"):
        _interpolated(_env(services["neo4j"])["NEO4J_AUTH"], {})
    server_env = {k: _interpolated(v, example) for k, v in _env(services["graphtwin"]).items()}
    assert server_env["GRAPHTWIN_NEO4J_USER"] == "neo4j"
    assert server_env["GRAPHTWIN_NEO4J_PASSWORD"] == example["NEO4J_PASSWORD"]


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose.get("volumes") or {})
    mounts = {
        name: {str(v).split(":")[1]: str(v).split(":")[0] for v in svc.get("volumes", [])}
        for name, svc in services.items()
    }
    assert mounts["neo4j"]["/data"] in declared
    assert mounts["mosquitto"]["/mosquitto/data"] in declared


def test_mosquitto_uses_the_repo_config_file(services: dict[str, dict[str, Any]]) -> None:
    mounts = [str(v).split(":") for v in services["mosquitto"]["volumes"]]
    config = [src for src, dst, *_ in mounts if dst == "/mosquitto/config/mosquitto.conf"]
    assert config == ["./deploy/mosquitto/mosquitto.conf"]
    text = (REPO_ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    directives = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    assert ["listener", "1883", "0.0.0.0"] in directives  # reachable from the server container
    assert ["persistence", "true"] in directives
    assert ["persistence_location", "/mosquitto/data/"] in directives


def test_server_env_points_at_the_other_services(services: dict[str, dict[str, Any]]) -> None:
    env = _env(services["graphtwin"])
    store, broker = urlparse(env["GRAPHTWIN_STORE"]), urlparse(env["GRAPHTWIN_MQTT"])
    assert store.scheme in {"neo4j", "bolt"}
    assert (store.hostname, store.port) == ("neo4j", 7687)
    assert store.port in _published(services["neo4j"])
    assert broker.scheme == "mqtt"
    assert (broker.hostname, broker.port) == ("mosquitto", 1883)
    assert broker.port in _published(services["mosquitto"])


def test_server_waits_for_healthy_dependencies(services: dict[str, dict[str, Any]]) -> None:
    depends = services["graphtwin"]["depends_on"]
    assert depends == {
        "neo4j": {"condition": "service_healthy"},
        "mosquitto": {"condition": "service_healthy"},
    }


@pytest.mark.parametrize("name", ["neo4j", "mosquitto", "graphtwin"])
def test_every_service_has_a_health_check(services: dict[str, dict[str, Any]], name: str) -> None:
    check = services[name]["healthcheck"]
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert len(check["test"]) > 1
    assert check.get("interval") and check.get("retries")


def test_server_health_check_asks_healthz(services: dict[str, dict[str, Any]]) -> None:
    command = " ".join(services["graphtwin"]["healthcheck"]["test"][1:])
    assert "http://127.0.0.1:8000/healthz" in command


def test_server_auth_file_is_mounted_and_the_example_parses(
    services: dict[str, dict[str, Any]],
) -> None:
    command = services["graphtwin"]["command"]
    auth_path = command[command.index("--auth") + 1]
    mounts = {
        dst: src for src, dst, *_ in (str(v).split(":") for v in services["graphtwin"]["volumes"])
    }
    assert auth_path in mounts
    example = _load(REPO_ROOT / "deploy" / "keys.example.yaml")
    assert {key["role"] for key in example["keys"]} <= {"reader", "writer", "admin"}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (REPO_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _exec_form(argument: str) -> list[str]:
    argument = argument.strip()
    return list(json.loads(argument)) if argument.startswith("[") else shlex.split(argument)


def test_dockerfile_builds_from_python_311_slim_and_runs_graphtwin_serve(
    services: dict[str, dict[str, Any]],
) -> None:
    instructions = _dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert any(op == "RUN" and "pip install ." in arg for op, arg in instructions)
    entrypoint = [_exec_form(arg) for op, arg in instructions if op == "ENTRYPOINT"][-1]
    cmd = [_exec_form(arg) for op, arg in instructions if op == "CMD"][-1]
    assert entrypoint + cmd == ["graphtwin", "serve", "--host", "0.0.0.0", "--port", "8000"]
    # Compose's command replaces CMD and keeps the entrypoint.
    assert (entrypoint + services["graphtwin"]["command"])[:2] == ["graphtwin", "serve"]
    assert "0.0.0.0" in services["graphtwin"]["command"]


def test_dockerfile_copies_every_package_the_wheel_includes() -> None:
    import tomllib

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in patterns}
    copied = {
        source.strip("./")
        for op, arg in _dockerfile_instructions()
        if op == "COPY"
        for source in arg.split()[:-1]  # the last word is the destination
    }
    assert packages <= copied
    assert "pyproject.toml" in copied and "README.md" in copied
