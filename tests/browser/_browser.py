"""What the browser tests share: Debian's Chromium, and a record of what failed to load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "UI_TIMEOUT_MS", "LoadWatch", "appears"]

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
SCREENSHOT_DIR = Path("/tmp")
UI_TIMEOUT_MS = 20_000


def appears(locator: Any) -> bool:
    """Whether ``locator`` becomes visible within the UI timeout (no exception chain)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        locator.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    except PlaywrightTimeout:
        return False
    return True


class LoadWatch:
    """Requests that failed and console errors on ``page``, for failure messages.

    The machine has no internet: a page that fetches its scripts from a CDN fails
    here exactly as it would for a user behind a firewall, and these name the URLs.
    """

    def __init__(self, page: Any) -> None:
        self.page = page
        self.failed_requests: list[str] = []
        self.console_errors: list[str] = []
        page.on("requestfailed", lambda r: self.failed_requests.append(f"{r.url} ({r.failure})"))
        page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )

    def screenshot(self, name: str) -> Path:
        path = SCREENSHOT_DIR / f"graphtwin-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def report(self, what: str, shot_name: str) -> str:
        """Why ``what`` is not on the page: its text, a screenshot, what failed to load."""
        shot = self.screenshot(shot_name)
        body = self.page.locator("body").inner_text()[:200]
        return (
            f"{what} on {self.page.url}; the page shows {body!r} (screenshot {shot}).\n"
            f"failed requests: {self.failed_requests or 'none'}\n"
            f"console errors: {self.console_errors[:5] or 'none'}"
        )
