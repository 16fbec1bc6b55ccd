"""The OpenAPI page (/docs) in a real browser: it must render offline and list the REST API.

FastAPI's default /docs page loads Swagger UI from a CDN; with no internet (this machine,
or a user behind a firewall) it stays blank. The failure names the requests that failed.
"""

from __future__ import annotations

from typing import Any

import pytest
from _browser import LoadWatch, appears
from _harness import InProcessServer

pytestmark = [pytest.mark.browser, pytest.mark.mqtt]


def test_openapi_page_lists_the_rest_operations(demo_server: InProcessServer, page: Any) -> None:
    watch = LoadWatch(page)
    response = page.goto(demo_server.base_url + "/docs", wait_until="load")
    assert response is not None and response.status == 200, response
    title = page.locator(".swagger-ui .info .title")
    if not appears(title):
        pytest.fail(
            watch.report("Swagger UI did not render: no API title", "openapi-not-loaded")
            + "\nThe page's scripts must be served by GraphTwin itself, not by a CDN.",
            pytrace=False,
        )
    assert "GraphTwin" in title.inner_text()
    # Every path of the OpenAPI document shows as an operation a user can expand.
    paths = demo_server.get("/openapi.json").json()["paths"]
    shown = page.locator(".opblock-summary-path").all_inner_texts()
    missing = [p for p in paths if not any(s.replace("\u200b", "") == p for s in shown)]
    assert not missing, f"operations not shown: {missing} (shown: {shown})"
    assert "/models" in paths and "/healthz" in paths, sorted(paths)
    watch.screenshot("openapi-page")
    assert not watch.failed_requests, watch.failed_requests
