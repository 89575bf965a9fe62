"""The extension in Firefox: Debian's firefox-esr, headless, driven over WebDriver BiDi.

Playwright's Firefox needs its own patched build (not downloadable here) and Debian ships no
geckodriver, but Firefox speaks WebDriver BiDi itself (``--remote-debugging-port``), which can
install an unpacked extension as a temporary add-on. The page holds a real Adobe Firefly image;
its credentials must be validated inside Firefox (the WASM build in the background script) and
trusted through the interim list the extension ships, with no service running at all.

Needs /usr/bin/firefox-esr (`apt-get install firefox-esr`); skipped, saying so, where absent.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from .conftest import ROOT

FIREFOX = Path("/usr/bin/firefox-esr")
pytestmark = pytest.mark.skipif(
    not FIREFOX.exists(), reason="Firefox is not installed (apt-get install firefox-esr)"
)
FIREFLY = "example-assets/images/Firefly_tabby_cat.jpg"
#: Run in the page: the badge the content script drew, and the L2 card it opens.
BADGE = """(() => {
    const host = document.querySelector('provenance-overlay');
    const badge = host && host.shadowRoot.querySelector('.badge');
    if (!badge) return null;
    badge.dispatchEvent(new MouseEvent('mouseenter'));
    const panel = host.shadowRoot.querySelector('.panel');
    return [badge.textContent, badge.dataset.where, panel ? panel.textContent : ''];
})()"""


class BiDi:
    """The few WebDriver BiDi commands the test needs, over one WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.n = ws, 0

    async def __call__(self, method: str, **params: Any) -> dict[str, Any]:
        self.n += 1
        await self.ws.send_json({"id": self.n, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=60)
            if message.get("id") == self.n:
                assert message["type"] == "success", message
                return dict(message["result"])


async def _badge_in_firefox(image: bytes) -> list[str] | None:
    app = web.Application()

    async def page(_: web.Request) -> web.Response:
        html = "<!doctype html><title>ff</title><img src='/cat.jpg' width='320'>"
        return web.Response(text=html, content_type="text/html")

    async def cat(_: web.Request) -> web.Response:
        return web.Response(body=image, content_type="image/jpeg")

    app.router.add_get("/", page)
    app.router.add_get("/cat.jpg", cat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    profile = tempfile.mkdtemp(prefix="provenance-firefox-")
    firefox = await asyncio.create_subprocess_exec(
        str(FIREFOX),
        *("--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert firefox.stderr is not None
        url = None
        while url is None:
            line = (await asyncio.wait_for(firefox.stderr.readline(), 60)).decode()
            assert line, "Firefox exited before it listened"
            found = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
            url = found.group(1) if found else None
        async with aiohttp.ClientSession() as http, http.ws_connect(url + "/session") as ws:
            bidi = BiDi(ws)
            await bidi("session.new", capabilities={})
            await bidi(
                "webExtension.install",
                extensionData={"type": "path", "path": str(ROOT / "extension")},
            )
            context = (await bidi("browsingContext.getTree"))["contexts"][0]["context"]
            await bidi(
                "browsingContext.navigate",
                context=context,
                url=f"http://127.0.0.1:{port}/",
                wait="complete",
            )
            for _ in range(120):
                answer = await bidi(
                    "script.evaluate",
                    expression=BADGE,
                    target={"context": context},
                    awaitPromise=False,
                )
                if answer["result"]["type"] == "array":
                    return [item["value"] for item in answer["result"]["value"]]
                await asyncio.sleep(0.5)
            return None
    finally:
        firefox.terminate()
        await firefox.wait()
        await runner.cleanup()
        shutil.rmtree(profile, ignore_errors=True)


def test_firefox_validates_embedded_credentials_in_the_browser(shared):
    badge = asyncio.run(_badge_in_firefox((shared / FIREFLY).read_bytes()))
    assert badge is not None, "no badge in Firefox"
    label, where, card = badge
    assert label == "AI-generated"
    assert where == "browser"  # no service was running: the WASM build judged it
    assert "the legacy interim trust list" in card  # the expectation in EXPECTED.md
    assert "Generated with an AI tool" in card
