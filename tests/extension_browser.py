"""Debian's Chromium (driven by Playwright) with the extension loaded, for tests and benches.

Recipe: ../shared/docs/browser-tests.md. Playwright's own browser download does not work here,
so the executable is /usr/bin/chromium; ``headless=True`` is Chromium's new headless mode, which
runs extensions.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
EXTENSION = ROOT / "extension"
#: Run in the service worker: send a message to the content script of the tab at a URL.
TO_TAB = """async ([url, message]) => {
    const [tab] = await chrome.tabs.query({url});
    return chrome.tabs.sendMessage(tab.id, message);
}"""


@contextmanager
def extension_browser(
    backend: str, user_anchors: str | None = None, **settings: Any
) -> Iterator[tuple[Any, Any]]:
    """(context, service worker) of a fresh profile with the extension, set to ``backend``."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="provenance-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=[
                    f"--disable-extensions-except={EXTENSION}",
                    f"--load-extension={EXTENSION}",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-quic",
                ],
            )
            worker = (
                context.service_workers[0]
                if context.service_workers
                else context.wait_for_event("serviceworker")
            )
            initial = {"backend": backend, "autoScan": True, **settings}
            worker.evaluate("(s) => chrome.storage.sync.set(s)", initial)
            if user_anchors:
                worker.evaluate("(p) => chrome.storage.local.set({userAnchors: p})", user_anchors)
            yield context, worker
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def extension_id(worker: Any) -> str:
    return str(worker.url.split("/")[2])
