"""Open a page in Debian's headless Chromium through Playwright, with the network off.

Playwright's Python package drives the browser that ``scripts/install_browser.sh``
installs (``/usr/bin/chromium``, or ``$SMLITE_CHROMIUM``); no browser is
downloaded.  The context is offline, host names resolve nowhere, and every
request the page makes is recorded, so a test can assert that a page loads
nothing but itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("SMLITE_CHROMIUM", "/usr/bin/chromium")
# The flags that work on this kind of machine (no sandbox as root, no GPU, none of
# Chromium's own background connections).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


@dataclass
class PageLog:
    """What a page did while it was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def browser() -> Iterator[Any]:
    """A launched Chromium (Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def open_page(
    chromium: Any, page_file: Path, *, width: int = 1280
) -> Iterator[tuple[Any, PageLog]]:
    """``page_file`` opened offline; yields the page once its script has run, and its log."""
    context = chromium.new_context(offline=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    log = PageLog()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("request", lambda r: log.requests.append(r.url))
    try:
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        yield page, log
    finally:
        context.close()
