"""GraphiQL in a real browser, on the demo: type a query, press run, read the result pane.

The whole server runs in-process (the server suite's harness) with the demo loaded and
ingestion from the session's Mosquitto; Debian's Chromium is driven by Playwright.
The machine has no internet, so if the page loads GraphiQL from a CDN the test fails,
naming the requests that failed: a user behind a firewall would see a blank page too.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Reuse the server suite's in-process server and MQTT publisher rather than a second copy.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from _harness import InProcessServer, free_port, publish, wait_until

from server.config import IngestConfig, MqttConfig, Settings

pytestmark = [pytest.mark.browser, pytest.mark.mqtt]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A demo temperature sensor (server/demo/twins.py names them bldg-B-fF-rRR-temp).
SENSOR = "bldg-1-f1-r01-temp"
QUERY = f'{{ twin(id: "{SENSOR}") {{ id model properties }} }}'
SCREENSHOT_DIR = Path("/tmp")
UI_TIMEOUT_MS = 20_000


@pytest.fixture
def demo_server(tmp_path: Path, mqtt_url: str) -> Iterator[InProcessServer]:
    settings = Settings(
        store=str(tmp_path / "store"),
        mqtt=mqtt_url,
        port=free_port(),
        demo=True,
        # The simulator would overwrite the values this test publishes every second;
        # an hour between rounds keeps the sensor's value the one we sent.
        demo_interval=3600.0,
        ingest=IngestConfig(mqtt=MqttConfig(client_id=f"browser-{uuid.uuid4().hex[:8]}")),
    )
    with InProcessServer(settings) as srv:
        assert SENSOR in srv.runtime.demo_twin_ids, srv.runtime.demo_twin_ids[:5]
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


class GraphiQL:
    """The GraphiQL page as a user sees it, plus what went wrong while it loaded."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url
        self.failed_requests: list[str] = []
        self.console_errors: list[str] = []
        page.on(
            "requestfailed",
            lambda r: self.failed_requests.append(f"{r.url} ({r.failure})"),
        )
        page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )

    def screenshot(self, name: str) -> Path:
        path = SCREENSHOT_DIR / f"graphtwin-graphiql-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def open(self) -> None:
        response = self.page.goto(self.url, wait_until="load")
        assert response is not None and response.status == 200, response
        if not _appears(self.page.locator(".graphiql-execute-button")):
            shot = self.screenshot("not-loaded")
            body = self.page.locator("body").inner_text()[:200]
            pytest.fail(
                f"GraphiQL did not load at {self.url}: no run button after "
                f"{UI_TIMEOUT_MS} ms; the page shows {body!r} (screenshot {shot}).\n"
                f"failed requests: {self.failed_requests or 'none'}\n"
                f"console errors: {self.console_errors[:5] or 'none'}\n"
                "GraphiQL's scripts must be served by GraphTwin itself, not fetched from a CDN.",
                pytrace=False,
            )

    def type_query(self, query: str) -> None:
        editor = self.page.locator(".graphiql-query-editor .CodeMirror").first
        editor.click()
        self.page.keyboard.press("ControlOrMeta+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(query)
        self.page.keyboard.press("Escape")  # close any autocompletion popup
        typed = self._editor_value(".graphiql-query-editor .CodeMirror")
        # GraphiQL closes brackets as you type; typing over the closers keeps one of each.
        assert typed == query, f"the query editor holds {typed!r}, not {query!r}"

    def run_and_read(self, expect: str) -> dict[str, Any]:
        """Press the run button; the result pane's JSON once its text contains ``expect``."""
        self.page.locator(".graphiql-execute-button").click()
        pane = self.page.locator(".graphiql-response")
        if not _appears(pane.get_by_text(expect, exact=False).first):
            shot = self.screenshot("no-result")
            pytest.fail(
                f"the result pane never showed {expect!r}; it shows "
                f"{pane.inner_text()[:500]!r} (screenshot {shot})",
                pytrace=False,
            )
        return dict(json.loads(self._editor_value(".graphiql-response .CodeMirror")))

    def _editor_value(self, selector: str) -> str:
        return str(self.page.eval_on_selector(selector, "el => el.CodeMirror.getValue()"))


def _appears(locator: Any) -> bool:
    """Whether ``locator`` becomes visible within the UI timeout (no exception chain)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        locator.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    except PlaywrightTimeout:
        return False
    return True


def _temperature(result: dict[str, Any]) -> Any:
    assert not result.get("errors"), result["errors"]
    twin = result["data"]["twin"]
    assert twin["id"] == SENSOR and twin["model"] == "dtmi:com:graphtwin:demo:Sensor;1", twin
    return twin["properties"].get("temperature")


def test_graphiql_shows_a_demo_sensor_and_its_new_telemetry(
    demo_server: InProcessServer, mqtt_url: str, page: Any
) -> None:
    topic = f"twins/{SENSOR}/telemetry"
    publish(mqtt_url, [(topic, {"temperature": 21.625})])
    wait_until(
        lambda: (demo_server.twin_properties(SENSOR) or {}).get("temperature") == 21.625,
        timeout=5,
    )

    ui = GraphiQL(page, demo_server.base_url + "/graphql")
    ui.open()
    ui.type_query(QUERY)
    first = ui.run_and_read(SENSOR)
    assert _temperature(first) == 21.625
    assert "21.625" in page.locator(".graphiql-response").inner_text()
    ui.screenshot("first-run")

    publish(mqtt_url, [(topic, {"temperature": 27.375})])
    wait_until(
        lambda: (demo_server.twin_properties(SENSOR) or {}).get("temperature") == 27.375,
        timeout=5,
    )
    second = ui.run_and_read("27.375")
    assert _temperature(second) == 27.375
    ui.screenshot("second-run")
    assert not ui.failed_requests, ui.failed_requests
