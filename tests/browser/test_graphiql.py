"""GraphiQL in a real browser, on the demo: type a query, press run, read the result pane.

The whole server runs in-process with the demo loaded and ingestion from the session's
Mosquitto (conftest.py); Debian's Chromium is driven by Playwright. The machine has no
internet, so a page that loads GraphiQL from a CDN fails here, naming the requests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from _browser import LoadWatch, appears
from _harness import InProcessServer, publish, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.mqtt]

# A demo temperature sensor (server/demo/twins.py names them bldg-B-fF-rRR-temp).
SENSOR = "bldg-1-f1-r01-temp"
QUERY = f'{{ twin(id: "{SENSOR}") {{ id model properties }} }}'


class GraphiQL:
    """The GraphiQL page as a user works it."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url
        self.watch = LoadWatch(page)

    def open(self) -> None:
        response = self.page.goto(self.url, wait_until="load")
        assert response is not None and response.status == 200, response
        if not appears(self.page.locator(".graphiql-execute-button")):
            pytest.fail(
                self.watch.report("GraphiQL did not load: no run button", "graphiql-not-loaded")
                + "\nGraphiQL's scripts must be served by GraphTwin itself, not by a CDN.",
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
        if not appears(pane.get_by_text(expect, exact=False).first):
            pytest.fail(
                self.watch.report(f"the result pane never showed {expect!r}", "graphiql-result")
                + f"\nresult pane: {pane.inner_text()[:500]!r}",
                pytrace=False,
            )
        return dict(json.loads(self._editor_value(".graphiql-response .CodeMirror")))

    def _editor_value(self, selector: str) -> str:
        return str(self.page.eval_on_selector(selector, "el => el.CodeMirror.getValue()"))


def _temperature(result: dict[str, Any]) -> Any:
    assert not result.get("errors"), result["errors"]
    twin = result["data"]["twin"]
    assert twin["id"] == SENSOR and twin["model"] == "dtmi:com:graphtwin:demo:Sensor;1", twin
    return twin["properties"].get("temperature")


def _publish_temperature(srv: InProcessServer, mqtt_url: str, value: float) -> None:
    publish(mqtt_url, [(f"twins/{SENSOR}/telemetry", {"temperature": value})])
    wait_until(lambda: (srv.twin_properties(SENSOR) or {}).get("temperature") == value, timeout=5)


def test_graphiql_shows_a_demo_sensor_and_its_new_telemetry(
    demo_server: InProcessServer, mqtt_url: str, page: Any
) -> None:
    assert SENSOR in demo_server.runtime.demo_twin_ids, demo_server.runtime.demo_twin_ids[:5]
    _publish_temperature(demo_server, mqtt_url, 21.625)

    ui = GraphiQL(page, demo_server.base_url + "/graphql")
    ui.open()
    ui.type_query(QUERY)
    first = ui.run_and_read(SENSOR)
    assert _temperature(first) == 21.625
    assert "21.625" in page.locator(".graphiql-response").inner_text()
    ui.watch.screenshot("graphiql-first-run")

    _publish_temperature(demo_server, mqtt_url, 27.375)
    second = ui.run_and_read("27.375")
    assert _temperature(second) == 27.375
    ui.watch.screenshot("graphiql-second-run")
    assert not ui.watch.failed_requests, ui.watch.failed_requests
