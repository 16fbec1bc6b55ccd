"""Fixtures of the browser tests: the demo server in-process, and a Chromium page."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _browser import CHROMIUM, CHROMIUM_ARGS

# Reuse the server suite's in-process server rather than a second copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from _harness import InProcessServer, free_port

from server.config import IngestConfig, MqttConfig, Settings

__all__: list[str] = []  # fixtures are found by pytest, not imported


@pytest.fixture(scope="module")
def demo_server(
    tmp_path_factory: pytest.TempPathFactory, mqtt_url: str
) -> Iterator[InProcessServer]:
    """``graphtwin serve --demo`` with ingestion from the session's Mosquitto."""
    settings = Settings(
        store=str(tmp_path_factory.mktemp("browser") / "store"),
        mqtt=mqtt_url,
        port=free_port(),
        demo=True,
        # The simulator would overwrite the values a test publishes every second;
        # an hour between rounds keeps a sensor's value the one the test sent.
        demo_interval=3600.0,
        ingest=IngestConfig(mqtt=MqttConfig(client_id=f"browser-{uuid.uuid4().hex[:8]}")),
    )
    with InProcessServer(settings) as srv:
        yield srv


@pytest.fixture
def page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test does this as root)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            yield context.new_page()
        finally:
            browser.close()
