"""The browser extension end to end: Debian's Chromium (driven by Playwright) with the extension
loaded, the real server, and a local page holding signed, watermarked-then-stripped, tampered
and plain images and a signed paragraph. Embedded credentials must be judged in the browser (the
c2pa WASM build), the rest by the service. Screenshots land in tests/artifacts/.

Needs /usr/bin/chromium (`.ci/run` installs it); skipped, saying so, where it is absent.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from aiohttp import web
from PIL import Image, ImageOps

from extension_api import Settings
from provenance import ManifestRegistry, ManifestSpec, SignOptions, TrustPolicy, sign, verify
from provenance.errors import MalformedAssetError, ManifestError
from provenance.text_manifest import sign_text
from provenance.verdict import CUT_SHORT
from provenance.watermark import embed_rgb

from .conftest import PHOTOS, ROOT, SHARED_FIXTURES
from .extension_browser import CHROMIUM, TO_TAB, extension_browser, extension_id
from .server import LiveServer
from .test_sign_verify import _flip_scan_byte

ARTIFACTS = ROOT / "tests" / "artifacts"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install chromium)"
)
NO_ALG = SHARED_FIXTURES / "c2pa-rs" / "sdk" / "tests" / "fixtures" / "no_alg.jpg"
AI = SignOptions(ManifestSpec(generator="Acme Diffusion", model="2"))
PARAGRAPH = (
    "The harbour festival drew record crowds on Sunday; this report was drafted by a "
    "language model and checked by the news desk."
)


@pytest.fixture(scope="module")
def backend(tmp_path_factory, credentials, keys):
    registry_location = tmp_path_factory.mktemp("e2e") / "m.sqlite3"
    registry = ManifestRegistry(registry_location)
    signed = sign(PHOTOS[0].read_bytes(), credentials, AI, registry=registry).asset or b""
    buf = io.BytesIO()
    Image.open(io.BytesIO(signed)).convert("RGB").save(buf, format="JPEG", quality=80)
    files = {
        "signed.jpg": signed,
        "stripped.jpg": buf.getvalue(),
        "tampered.jpg": _flip_scan_byte(sign(PHOTOS[1].read_bytes(), credentials, AI).asset or b""),
        "plain.jpg": PHOTOS[3].read_bytes(),
    }
    paragraph = sign_text(PARAGRAPH, credentials, AI.manifest).text
    settings = Settings(
        registry_location=registry_location,
        trust=TrustPolicy.from_files([keys.root]),
        rate_limit=0,
        fetch_allow=("127.0.0.1", "localhost"),
    )
    with LiveServer(settings) as live:
        yield live, files, paragraph


@pytest.fixture(scope="module")
def site(backend):
    _, files, paragraph = backend
    app = web.Application()
    images = "".join(
        f'<figure><img src="/{n}" alt="{n}" width="320"><figcaption>{n}</figcaption></figure>'
        for n in files
    )
    # One more image from another origin (localhost vs 127.0.0.1) that sends no CORS headers:
    # the content script cannot read its bytes and must ask the service by URL.
    foreign = (
        '<figure><img src="http://localhost:PORT/signed.jpg" alt="foreign" width="320">'
        "<figcaption>cross-origin</figcaption></figure>"
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>News</title></head><body>"
        f"<h1>Test page</h1>{images}{foreign}<p id='story'>{paragraph}</p></body></html>"
    )
    opted_out = page.replace("<head>", '<head><meta name="CR-allow-UI-injection" content="false">')
    # A manifest c2pa cannot read (unknown algorithm): read here from this origin, and sent by
    # URL to the service from the other one (where the service answers with an error).
    unreadable = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Unreadable</title></head><body>"
        '<img src="/no_alg.jpg" alt="here" width="320">'
        '<img src="http://localhost:PORT/no_alg.jpg" alt="foreign" width="320"></body></html>'
    )

    def handler(body: bytes, content_type: str):
        async def serve(_: web.Request) -> web.Response:
            return web.Response(body=body, content_type=content_type)

        return serve

    async def index(request: web.Request) -> web.Response:
        return web.Response(
            text=page.replace("PORT", str(request.url.port)), content_type="text/html"
        )

    async def unreadable_page(request: web.Request) -> web.Response:
        return web.Response(
            text=unreadable.replace("PORT", str(request.url.port)), content_type="text/html"
        )

    app.router.add_get("/", index)
    app.router.add_get("/unreadable", unreadable_page)
    app.router.add_get("/no_alg.jpg", handler(NO_ALG.read_bytes(), "image/jpeg"))
    app.router.add_get("/optout", handler(opted_out.encode(), "text/html"))
    for name, data in files.items():
        app.router.add_get(f"/{name}", handler(data, "image/jpeg"))
    with LiveServer(factory=lambda: app) as live:
        yield live


@pytest.fixture(scope="module")
def browser(backend, keys):
    pytest.importorskip("playwright.sync_api")
    live, _, _ = backend
    # The reader adds the test root as an anchor of their own, as the service trusts it.
    with extension_browser(live.url, user_anchors=keys.root.read_text()) as (context, worker):
        yield context, worker


def _one_image_page(html: str, name: str, jpeg: bytes) -> web.Application:
    """A site whose page "/" is ``html`` and whose "/``name``" is the JPEG ``jpeg``."""
    app = web.Application()

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    async def image(_: web.Request) -> web.Response:
        return web.Response(body=jpeg, content_type="image/jpeg")

    app.router.add_get("/", index)
    app.router.add_get(f"/{name}", image)
    return app


def _badge(page, name: str):
    """The badge of the page's own image ``name`` (same origin as the page)."""
    url = urlsplit(page.url)
    return page.locator(f'provenance-overlay .badge[data-src="{url.scheme}://{url.netloc}/{name}"]')


def test_badges_summaries_selection_and_popup(browser, site):
    context, worker = browser
    ARTIFACTS.mkdir(exist_ok=True)
    page = context.new_page()
    page.goto(site.url + "/")
    signed = _badge(page, "signed.jpg")
    signed.wait_for(timeout=20000)
    assert signed.inner_text() == "AI-generated"
    stripped = _badge(page, "stripped.jpg")
    stripped.wait_for(timeout=20000)
    assert stripped.inner_text() == "AI-generated"
    tampered = _badge(page, "tampered.jpg")
    tampered.wait_for(timeout=20000)
    assert tampered.inner_text() == "Credentials invalid"
    # Images are checked as they come into view: scroll to the last ones, wait until the
    # content script has checked all five, then make sure the plain one got no badge.
    page.locator('img[alt="foreign"]').scroll_into_view_if_needed()
    for _ in range(100):
        counts = worker.evaluate(TO_TAB, [site.url + "/", {"kind": "counts"}])
        if counts["checked"] == 5:
            break
        page.wait_for_timeout(200)
    assert counts["checked"] == 5 and counts["ai"] == 3 and counts["invalid"] == 1
    # Embedded credentials (signed, tampered) were judged in the browser; the stripped copy
    # (watermark recovery), the plain photo (nothing embedded) and the cross-origin image
    # (unreadable here) went to the service.
    assert (counts["browser"], counts["service"], counts["skipped"]) == (2, 3, 0)
    assert signed.get_attribute("data-where") == "browser"
    assert tampered.get_attribute("data-where") == "browser"
    assert stripped.get_attribute("data-where") == "service"
    assert _badge(page, "plain.jpg").count() == 0
    # The cross-origin image went through /v1/verify-url and was recognised all the same.
    foreign = page.locator('provenance-overlay .badge[data-src^="http://localhost"]')
    assert foreign.inner_text() == "AI-generated"
    page.evaluate("window.scrollTo(0, 0)")

    signed.hover()
    panel = page.locator("provenance-overlay .panel").first
    panel.wait_for()
    text = panel.inner_text()
    assert "Generated with an AI tool (Acme Diffusion 2)" in text
    assert "the signature is trusted" in text and "Acme Ltd" in text
    assert "Checked in this browser" in text and "embedded in the file" in text
    assert "a trust anchor you configured" in text  # the list that vouches: the reader's own
    assert panel.locator(".top img").count() == 1  # the manifest's thumbnail
    page.screenshot(path=str(ARTIFACTS / "badge.png"))
    # The full report of a local check is the extension's own page (the service never saw it).
    assert "/report.html?sha256=" in panel.locator("a").get_attribute("href")
    with context.expect_page() as opened:
        panel.locator("a").click()
    report = opened.value
    report.locator("#c2pa-report").wait_for()
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(report.locator("#summary")).to_contain_text("Generated with an AI tool (Acme")
    assert "c2pa.actions" in report.locator("#c2pa-report").inner_text()
    # The trust list in words, as on the card (it read "user").
    assert re.search(
        r"Trust list\s+a trust anchor you configured", report.locator("#fields").inner_text()
    )
    report.close()
    page.bring_to_front()
    page.mouse.move(0, 0)
    if page.locator("provenance-overlay .panel").count():
        page.locator("provenance-overlay .panel").first.dispatch_event("mouseleave")

    stripped.click()
    recovered = page.locator("provenance-overlay .panel").last
    recovered.wait_for()
    assert "recovered from the watermark" in recovered.inner_text().lower()
    # How far the copy agrees, as the reader's page and the CLI say it.
    alike = r"recovered through the invisible watermark \(\d+% alike\)"
    assert re.search(alike, recovered.inner_text())
    assert "Checked by the provenance service" in recovered.inner_text()
    assert "/report/" in recovered.locator("a").get_attribute("href")

    # "Check provenance" on the selected paragraph (the menu itself is native UI; send its
    # message the way the service worker does).
    page.evaluate("""() => { const r = document.createRange();
        r.selectNodeContents(document.getElementById('story'));
        const s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }""")
    worker.evaluate(TO_TAB, [site.url + "/", {"kind": "check-selection"}])
    toast = page.locator("provenance-overlay #provenance-selection")
    toast.wait_for(timeout=20000)
    assert (
        toast.locator(".summary")
        .inner_text()
        .startswith("Generated with an AI tool (Acme Diffusion 2)")
    )
    # The image card's frame: the state, and where the check ran.
    assert toast.locator("header .state").inner_text() == "Trusted"
    assert "Checked in this browser" in toast.locator(".where").inner_text()

    popup = _popup_over(context, worker, page)
    expect(popup.locator("#checked")).to_have_text("5", timeout=10000)
    assert popup.locator("#browser").inner_text() == "2"
    assert popup.locator("#service").inner_text() == "3"
    assert popup.locator("#ai").inner_text() == "3"
    assert popup.locator("#invalid").inner_text() == "1"
    # The count is of the "Credentials" badges (intact, no AI declared); labelled "With
    # credentials", it read 0 beside AI-generated images that carry credentials.
    assert popup.locator("dt").nth(2).inner_text() == "Credentials, no AI declared"
    assert "checked in this browser" in popup.locator("#state").inner_text()
    shipped = json.loads((ROOT / "provenance" / "data" / "trust" / "SOURCES.json").read_text())
    lists = popup.locator("#lists").inner_text()
    assert f"the official C2PA list ({shipped['c2pa']['date']})" in lists
    popup.set_viewport_size({"width": 320, "height": 600})
    popup.screenshot(path=str(ARTIFACTS / "popup.png"), full_page=True)
    popup.close()
    page.close()


def test_opt_out_page_gets_no_badges(browser, site):
    context, _ = browser
    page = context.new_page()
    page.goto(site.url + "/optout")
    page.wait_for_timeout(2500)
    assert page.locator("provenance-overlay").count() == 0
    page.close()


def test_with_the_service_off_only_the_browser_checks(browser, site):
    """The reader's setting (off by default in private windows, whose tabs Chromium here cannot
    open for an extension loaded from the command line): nothing goes to the service."""
    context, worker = browser
    worker.evaluate("chrome.storage.sync.set({useService: false})")
    try:
        page = context.new_page()
        page.goto(site.url + "/")
        signed = _badge(page, "signed.jpg")
        signed.wait_for(timeout=20000)
        assert signed.get_attribute("data-where") == "browser"
        page.locator('img[alt="foreign"]').scroll_into_view_if_needed()
        for _ in range(100):
            counts = worker.evaluate(TO_TAB, [site.url + "/", {"kind": "counts"}])
            # Wait for all seven answers: stopping at five let a slow machine assert early.
            if counts["browser"] + counts["skipped"] >= 7:
                break
            page.wait_for_timeout(200)
        # signed, tampered: judged here; stripped, plain: no credentials, not looked up;
        # the cross-origin image: not read at all.
        assert counts["service"] == 0
        assert (counts["browser"], counts["skipped"]) == (4, 3)
        assert _badge(page, "stripped.jpg").count() == 0
        page.close()
    finally:
        worker.evaluate("chrome.storage.sync.set({useService: true})")


def test_badges_come_back_after_the_worker_is_stopped(browser, site):
    """MV3 stops service workers at will: the next page restarts it, and the WASM module with it."""
    context, _ = browser
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("ServiceWorker.enable")
    cdp.send("ServiceWorker.stopAllWorkers")
    page.goto(site.url + "/")
    signed = _badge(page, "signed.jpg")
    signed.wait_for(timeout=30000)
    assert signed.get_attribute("data-where") == "browser"
    page.close()


def test_unreachable_backend_is_shown(browser, backend):
    context, worker = browser
    live, _, _ = backend
    worker.evaluate("chrome.storage.sync.set({backend: 'http://127.0.0.1:9'})")
    try:
        popup = context.new_page()
        popup.goto(f"chrome-extension://{extension_id(worker)}/popup.html")
        state = popup.locator("#state.unreachable")
        state.wait_for(timeout=10000)
        assert "unreachable" in state.inner_text()
        popup.close()
    finally:
        worker.evaluate(f"chrome.storage.sync.set({{backend: '{live.url}'}})")


def _counts_when(worker, page, url: str, done) -> dict:
    """The content script's counts once ``done(counts)`` holds (or after 20 s)."""
    for _ in range(100):
        counts = worker.evaluate(TO_TAB, [url, {"kind": "counts"}])
        if done(counts):
            break
        page.wait_for_timeout(200)
    return counts


def _popup_over(context, worker, page):
    """The extension's popup, opened in its own tab and refreshed for ``page`` (brought to the
    front first: the popup counts the active tab's images)."""
    popup = context.new_page()
    popup.goto(f"chrome-extension://{extension_id(worker)}/popup.html")
    page.bring_to_front()
    popup.evaluate("refresh()")
    return popup


def test_unreadable_manifests_get_a_badge_and_a_count(browser, site):
    """An image whose manifest c2pa cannot read got no badge and no count: the content script
    dropped any answer without a verdict. Now both routes (this browser, the service by URL)
    give the library's words as a sentence; c2pa's own reason (which the card showed as the
    sentence's middle, "(C2pa(UnknownAlgorithm))") only on a details line."""
    context, worker = browser
    page = context.new_page()
    page.goto(site.url + "/unreadable")
    counts = _counts_when(
        worker, page, site.url + "/unreadable", lambda c: c.get("unreadable", 0) >= 2
    )
    assert (counts["checked"], counts.get("unreadable")) == (2, 2), counts
    assert (counts["browser"], counts["service"]) == (1, 1), counts
    here = _badge(page, "no_alg.jpg")
    foreign = page.locator('provenance-overlay .badge[data-src^="http://localhost"]')
    for badge, where in ((here, "browser"), (foreign, "service")):
        assert badge.inner_text() == "Credentials unreadable"
        assert badge.get_attribute("data-where") == where
    here.hover()
    panel = page.locator("provenance-overlay .panel").first
    panel.wait_for()
    assert "Checked in this browser" in panel.inner_text()
    said_here = panel.locator(".summary").inner_text()
    detail_here = panel.locator(".detail").inner_text()
    page.screenshot(path=str(ARTIFACTS / "unreadable.png"))
    page.mouse.move(0, 0)
    panel.dispatch_event("mouseleave")
    foreign.click()
    panel = page.locator("provenance-overlay .panel").last
    panel.wait_for()
    assert "Checked by the provenance service" in panel.inner_text()
    # One wording, the library's (as the CLI prints it: "content: the C2PA manifest cannot be
    # read (<c2pa's reason>) (<hint>)"), without the upload's name and c2pa's reason, which
    # differs by build: its WASM build gives "C2pa(UnknownAlgorithm)", c2pa-python "Other:
    # unknown algorithm".
    with pytest.raises(ManifestError) as library:
        verify(NO_ALG.read_bytes())
    hint = "it may be from a pre-release or unsupported C2PA version"
    reason = "Other: unknown algorithm"
    assert str(library.value) == f"content: the C2PA manifest cannot be read ({reason}) ({hint})"
    sentence = f"The C2PA manifest cannot be read ({hint})."
    assert said_here == panel.locator(".summary").inner_text() == sentence
    assert "C2pa(" not in said_here and "Other:" not in said_here
    assert detail_here == "Details: C2pa(UnknownAlgorithm)"
    assert panel.locator(".detail").inner_text() == f"Details: {reason}"

    popup = _popup_over(context, worker, page)
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(popup.locator("#unreadable")).to_have_text("2", timeout=10000)
    assert popup.locator("#checked").inner_text() == "2"
    popup.close()
    page.close()


def test_signed_files_cut_short_read_as_incomplete_copies_in_the_browser(
    browser, credentials, trusted
):
    """A signed JPEG, PNG and WebP cut short (an interrupted download), read in the browser.
    The JPEG's card said "the content was changed after it was signed", the PNG's and WebP's
    "the C2PA manifest cannot be read (C2pa(InvalidAsset(...))) (it may be from a pre-release
    ...)": the library calls all three an incomplete copy, and so must the card, in its words."""
    context, worker = browser
    files = {}
    for suffix, fmt in ((".jpg", "JPEG"), (".png", "PNG"), (".webp", "WEBP")):
        buf = io.BytesIO()
        Image.open(PHOTOS[0]).convert("RGB").save(buf, fmt)
        signed = sign(buf.getvalue(), credentials, AI).asset or b""
        files[f"cut{suffix}"] = signed[: len(signed) * 9 // 10]
    app = web.Application()
    html = "<!doctype html><body>" + "".join(
        f"<img src='/{n}' alt='{n}' width='300'>" for n in files
    )

    async def index(request: web.Request) -> web.Response:
        # The PNG once more from the other loopback name (no CORS): the service reads it.
        other = f"<img src='http://localhost:{request.url.port}/cut.png' width='300'>"
        return web.Response(text=html + other, content_type="text/html")

    def image(data: bytes, name: str):
        async def serve(_: web.Request) -> web.Response:
            return web.Response(body=data, content_type=f"image/{name.split('.')[1]}")

        return serve

    app.router.add_get("/", index)
    for name, data in files.items():
        app.router.add_get(f"/{name}", image(data, name.replace("jpg", "jpeg")))
    with LiveServer(factory=lambda: app) as site:
        page = context.new_page()
        page.set_viewport_size({"width": 1000, "height": 700})
        page.goto(site.url + "/")
        counts = _counts_when(worker, page, site.url + "/", lambda c: c["checked"] >= 4)
        assert (counts["checked"], counts["browser"], counts["invalid"]) == (4, 3, 1), counts
        assert (counts["unreadable"], counts["service"]) == (3, 1), counts
        # The service's answer for it reads the same: its library refuses it as cut short.
        there = page.locator('provenance-overlay .badge[data-src^="http://localhost"]')
        assert there.inner_text() == "Incomplete file"
        there.dispatch_event("mouseenter")
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        assert panel.locator(".summary").inner_text() == f"T{CUT_SHORT[1:]}."
        assert "Checked by the provenance service" in panel.inner_text()
        panel.dispatch_event("mouseleave")
        jpeg = verify(files["cut.jpg"], policy=trusted)
        assert "the file is cut short (an incomplete copy: get a complete one)" in jpeg.summary
        _badge(page, "cut.jpg").hover()
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        assert panel.locator(".summary").inner_text() == jpeg.summary
        assert "changed after it was signed" not in panel.inner_text()
        # Acme's certificate chains to the reader's anchor: the card said "Trust list: none
        # (signer not on a trust list)" for a trusted signer's incomplete copy.
        assert re.search(
            r"Trust list\s+the signer is on one, but these credentials are invalid",
            panel.inner_text(),
        )
        page.mouse.move(0, 690)
        panel.dispatch_event("mouseleave")
        for name in ("cut.png", "cut.webp"):
            with pytest.raises(MalformedAssetError) as library:
                verify(files[name], policy=trusted)
            assert str(library.value) == f"content: {CUT_SHORT}"
            badge = _badge(page, name)
            assert badge.inner_text() == "Incomplete file"
            badge.hover()
            panel = page.locator("provenance-overlay .panel").last
            panel.wait_for()
            assert panel.locator(".summary").inner_text() == f"T{CUT_SHORT[1:]}."
            assert "pre-release" not in panel.inner_text()
            assert "InvalidAsset" in panel.locator(".detail").inner_text()  # the reason, apart
            if name == "cut.png":
                page.screenshot(path=str(ARTIFACTS / "cut-short.png"))
            page.mouse.move(0, 690)
            panel.dispatch_event("mouseleave")
        page.close()


def test_awkward_images_get_badges_that_fit(browser, backend):
    """What a reader met on real pages: a file whose credentials are stored online got no badge
    at all (as if it carried nothing); a thumbnail shown 48 px wide lay under a label twice its
    width; an image in a web component's (open) shadow root, or a CSS background (a hero
    picture), was never checked; and the card of an image low in the window ran off the
    window's bottom edge. Our own overlay (an open shadow root whose cards hold thumbnails) is
    never checked."""
    context, worker = browser
    _, files, _ = backend
    cloud = (SHARED_FIXTURES / "c2pa-rs/sdk/tests/fixtures/cloud.jpg").read_bytes()
    app = web.Application()
    html = (
        "<!doctype html><body style='margin:8px;font:14px sans-serif'>"
        "<img src='/cloud.jpg' width='200' alt='cloud'>"
        "<img src='/tiny.jpg' width='48' alt='tiny'>"
        "<div id='host'></div>"
        "<div style='width:300px;height:180px;background:url(/hero.jpg) center/cover'></div>"
        "<span style='display:inline-block;width:16px;height:16px;background:url(/hero.jpg)'>"
        "</span>"
        "<div style='height:260px'></div><img src='/low.jpg' width='300' alt='low'>"
        "<div style='height:800px'></div>"
        "<script>document.getElementById('host').attachShadow({mode: 'open'}).innerHTML ="
        " \"<img src='/shadow.jpg' width='200'>\";</script></body>"
    )

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    def image(data: bytes):
        async def serve(_: web.Request) -> web.Response:
            return web.Response(body=data, content_type="image/jpeg")

        return serve

    app.router.add_get("/", index)
    app.router.add_get("/cloud.jpg", image(cloud))
    for name in ("tiny.jpg", "shadow.jpg", "low.jpg", "hero.jpg"):
        app.router.add_get(f"/{name}", image(files["signed.jpg"]))
    with LiveServer(factory=lambda: app) as site:
        page = context.new_page()
        page.set_viewport_size({"width": 900, "height": 700})
        page.goto(site.url + "/")
        counts = _counts_when(worker, page, site.url + "/", lambda c: c["checked"] >= 5)
        # Each checked image in one of the popup's rows (the online one was in none); the
        # 16-pixel background is an icon, not checked.
        assert (counts["checked"], counts["ai"], counts["remote"]) == (5, 4, 1), counts
        assert _badge(page, "hero.jpg").inner_text() == "AI-generated"
        remote = _badge(page, "cloud.jpg")
        assert remote.inner_text() == "Credentials online"
        remote.hover()
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        assert "Stored online at" in panel.inner_text()
        assert "https://cai-manifests.adobe.com/" in panel.inner_text()
        # Its full report is kept too (the link said "This report is no longer kept").
        href = panel.locator("a").get_attribute("href")
        report = context.new_page()
        report.goto(href)
        report.locator("#fields").wait_for()
        assert "Stored online at" in report.locator("#fields").inner_text()
        assert "no longer kept" not in report.locator("#summary").inner_text()
        report.close()
        page.bring_to_front()
        page.mouse.move(890, 690)
        panel.dispatch_event("mouseleave")
        tiny = _badge(page, "tiny.jpg")
        assert "compact" in (tiny.get_attribute("class") or "")
        assert tiny.bounding_box()["width"] <= 30
        assert tiny.get_attribute("title").startswith("AI-generated")
        assert _badge(page, "shadow.jpg").inner_text() == "AI-generated"
        _badge(page, "low.jpg").hover()
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        box = panel.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 700, box
        page.screenshot(path=str(ARTIFACTS / "awkward-images.png"))
        # The cards opened (with their thumbnails) added nothing to check.
        page.wait_for_timeout(1500)
        after = worker.evaluate(TO_TAB, [site.url + "/", {"kind": "counts"}])
        assert after["checked"] == 5, after
        assert page.locator("provenance-overlay .badge").count() == 5
        page.close()


def test_images_in_iframes_get_badges_and_count_in_the_popup(browser, backend):
    """An article or an embedded post in an iframe: its images got no badge (the content script
    ran in the top frame only). Each frame now draws its own, and the top frame's counts, which
    the popup shows, add up every frame's, from this origin and from another."""
    context, worker = browser
    _, files, _ = backend
    app = web.Application()

    async def index(request: web.Request) -> web.Response:
        other = f"http://localhost:{request.url.port}/frame"
        html = (
            "<!doctype html><body><img src='/top.jpg' width='240'>"
            "<iframe src='/frame' width='300' height='260'></iframe>"
            f"<iframe src='{other}' width='300' height='260'></iframe></body>"
        )
        return web.Response(text=html, content_type="text/html")

    async def frame(_: web.Request) -> web.Response:
        html = "<!doctype html><body style='margin:0'><img src='/inner.jpg' width='280'></body>"
        return web.Response(text=html, content_type="text/html")

    async def image(_: web.Request) -> web.Response:
        return web.Response(body=files["signed.jpg"], content_type="image/jpeg")

    app.router.add_get("/", index)
    app.router.add_get("/frame", frame)
    app.router.add_get("/top.jpg", image)
    app.router.add_get("/inner.jpg", image)
    with LiveServer(factory=lambda: app) as site:
        page = context.new_page()
        page.set_viewport_size({"width": 1000, "height": 600})
        page.goto(site.url + "/")
        # Every frame's answer first (each frame reads its image in its own time; a loaded
        # machine can take longer than the counts' 20 s), then the counts.
        expect = pytest.importorskip("playwright.sync_api").expect
        for frame_ in page.frames:
            badge = frame_.locator("provenance-overlay .badge")
            expect(badge).to_have_text("AI-generated", timeout=60000)
        assert len(page.frames) == 3
        counts = _counts_when(worker, page, site.url + "/", lambda c: c["checked"] >= 3)
        assert (counts["checked"], counts["ai"], counts["browser"]) == (3, 3, 3), counts
        # (A card taller than the frame is kept in it, over the badge: hover by the event.)
        page.frames[2].locator("provenance-overlay .badge").dispatch_event("mouseenter")
        panel = page.frames[2].locator("provenance-overlay .panel")
        panel.wait_for()
        # The card fits the frame (300x260): it is scrolled within rather than cut off.
        size = panel.evaluate("p => [p.offsetWidth, p.offsetHeight]")
        assert size[0] <= 300 and size[1] <= 260, size
        page.screenshot(path=str(ARTIFACTS / "iframes.png"))
        popup = _popup_over(context, worker, page)
        expect(popup.locator("#checked")).to_have_text("3", timeout=10000)
        assert popup.locator("#ai").inner_text() == "3"
        popup.close()
        page.close()


def test_an_image_the_service_could_not_fetch_is_not_called_unreadable(browser, backend):
    """A cross-origin image whose server refuses the service's fetch (hotlink protection): the
    badge said "Credentials unreadable" and the popup counted it so, though nothing was read.
    It is "Not checked", the card gives the service's reason, and the popup counts it apart."""
    context, worker = browser
    _, files, _ = backend
    app = web.Application()

    async def index(request: web.Request) -> web.Response:
        # From the other loopback name: cross-origin, and no CORS answer, so the content
        # script cannot read it and asks the service to fetch it by URL.
        html = (
            "<!doctype html><body>"
            f"<img src='http://localhost:{request.url.port}/guarded.jpg' alt='g' width='320'>"
            "</body>"
        )
        return web.Response(text=html, content_type="text/html")

    async def guarded(request: web.Request) -> web.Response:
        if request.headers.get("User-Agent", "").startswith("provenance-verifier"):
            raise web.HTTPForbidden()
        return web.Response(body=files["stripped.jpg"], content_type="image/jpeg")

    app.router.add_get("/", index)
    app.router.add_get("/guarded.jpg", guarded)
    with LiveServer(factory=lambda: app) as site:
        page = context.new_page()
        page.goto(site.url + "/")
        counts = _counts_when(
            worker, page, site.url + "/", lambda c: c.get("refused", 0) + c["unreadable"] >= 1
        )
        assert (counts["refused"], counts["unreadable"], counts["checked"]) == (1, 0, 0), counts
        badge = page.locator("provenance-overlay .badge")
        assert badge.inner_text() == "Not checked"
        badge.click()
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        text = panel.inner_text()
        assert "localhost answered HTTP 403 when the provenance service fetched it" in text, text
        assert "the provenance service could not check this image" in text, text
        assert "Unreadable" not in text
        page.screenshot(path=str(ARTIFACTS / "refused.png"))
        popup = _popup_over(context, worker, page)
        expect = pytest.importorskip("playwright.sync_api").expect
        expect(popup.locator("#refused")).to_have_text("1", timeout=10000)
        assert popup.locator("#unreadable").inner_text() == "0"
        popup.close()
        page.close()


def test_a_watermark_naming_nothing_stored_is_not_called_a_possible_match(browser):
    """A watermarked image whose identifier this service never registered (another service's,
    or a watermark embedded alone): the badge said "Possible match" over a card saying "no
    stored credentials match it". The badge says what was found."""
    context, _ = browser
    marked = embed_rgb(np.asarray(Image.open(PHOTOS[2]).convert("RGB")), 0x00C0FFEE42)
    buf = io.BytesIO()
    Image.fromarray(marked).save(buf, format="JPEG", quality=90)
    html = "<!doctype html><body><img src='/marked.jpg' alt='w' width='400'></body>"
    app = _one_image_page(html, "marked.jpg", buf.getvalue())
    with LiveServer(factory=lambda: app) as site:
        page = context.new_page()
        page.goto(site.url + "/")
        badge = _badge(page, "marked.jpg")
        badge.wait_for(timeout=20000)
        assert badge.inner_text() == "Watermark found"
        badge.click()
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        assert "(payload 00c0ffee42); no stored credentials match it." in panel.inner_text()
        page.screenshot(path=str(ARTIFACTS / "watermark_no_match.png"))
        page.close()


def test_images_the_unreachable_service_was_needed_for_are_counted(browser, backend, site):
    """With the service down, the images that needed it were in none of the popup's counts
    and got no badge; now they are counted as not checked and their badge says why."""
    context, worker = browser
    live, _, _ = backend
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback
    worker.evaluate(f"chrome.storage.sync.set({{backend: '{closed}'}})")
    try:
        page = context.new_page()
        page.goto(site.url + "/")
        page.locator('img[alt="foreign"]').scroll_into_view_if_needed()
        counts = _counts_when(
            worker, page, site.url + "/", lambda c: c["checked"] + c.get("unreachable", 0) >= 5
        )
        # signed, tampered: judged here; stripped, plain and the cross-origin one needed the
        # service.
        assert (counts["checked"], counts["browser"], counts["service"]) == (2, 2, 0), counts
        assert counts.get("unreachable") == 3, counts
        stripped = _badge(page, "stripped.jpg")
        assert stripped.inner_text() == "Not checked: service unreachable"
        assert _badge(page, "plain.jpg").inner_text() == "Not checked: service unreachable"
        stripped.scroll_into_view_if_needed()
        stripped.hover()
        panel = page.locator("provenance-overlay .panel").first
        panel.wait_for()
        assert f"The provenance service at {closed} does not answer" in panel.inner_text()
        assert "then press “Check this page now” there" in panel.inner_text()
        page.screenshot(path=str(ARTIFACTS / "unreachable.png"))

        popup = _popup_over(context, worker, page)
        expect = pytest.importorskip("playwright.sync_api").expect
        expect(popup.locator("#unreachable")).to_have_text("3", timeout=10000)
        assert popup.locator("#checked").inner_text() == "2"
        assert "unreachable" in popup.locator("#state").inner_text()
        popup.set_viewport_size({"width": 320, "height": 700})
        popup.screenshot(path=str(ARTIFACTS / "popup-unreachable.png"), full_page=True)
        popup.close()
        page.close()
    finally:
        worker.evaluate(f"chrome.storage.sync.set({{backend: '{live.url}'}})")


def test_check_this_page_now_checks_every_image_again(browser, backend, site):
    """The popup's "Check this page now" looked only for images not checked yet, so once the
    service was back the images it had been needed for stayed "Not checked" until a reload.
    Now it checks the page again from nothing: the badges and counts are the new round's."""
    context, worker = browser
    live, _, _ = backend
    worker.evaluate("chrome.storage.sync.set({backend: 'http://127.0.0.1:9'})")
    try:
        page = context.new_page()
        page.goto(site.url + "/")
        page.locator('img[alt="foreign"]').scroll_into_view_if_needed()
        counts = _counts_when(worker, page, site.url + "/", lambda c: c["unreachable"] >= 3)
        assert (counts["checked"], counts["unreachable"]) == (2, 3), counts
    finally:
        worker.evaluate(f"chrome.storage.sync.set({{backend: '{live.url}'}})")
    popup = _popup_over(context, worker, page)
    popup.click("#scan")
    page.evaluate("window.scrollTo(0, 0)")
    page.locator('img[alt="foreign"]').scroll_into_view_if_needed()
    counts = _counts_when(worker, page, site.url + "/", lambda c: c["checked"] >= 5)
    # As on a first visit with the service up (test_badges_summaries_selection_and_popup).
    got = tuple(counts[k] for k in ("checked", "unreachable", "ai", "invalid"))
    assert got == (5, 0, 3, 1), counts
    assert (counts["browser"], counts["service"]) == (2, 3), counts
    stripped = _badge(page, "stripped.jpg")
    assert stripped.count() == 1 and stripped.inner_text() == "AI-generated"
    assert _badge(page, "plain.jpg").count() == 0  # its "Not checked" badge is gone
    assert page.locator("provenance-overlay .badge").count() == 4
    results = worker.evaluate(TO_TAB, [site.url + "/", {"kind": "results"}])
    assert len(results) == 5 and not any(r["error"] for r in results), results
    popup.close()
    page.close()


def _bordered(files: dict[str, bytes]) -> tuple[io.BytesIO, Image.Image, Image.Image, int]:
    """The registered image in a white border (as a square pad or a page puts it), as a JPEG:
    (its bytes, the canvas, the registered picture, the border's width)."""
    border = 96
    signed = Image.open(io.BytesIO(files["signed.jpg"])).convert("RGB")
    canvas = ImageOps.expand(signed, border=border, fill="white")
    buf = io.BytesIO()
    canvas.save(buf, format="JPEG", quality=90)
    return buf, canvas, signed, border


def _within(box: dict, img: dict, canvas: Image.Image, picture: Image.Image, border: int) -> None:
    """``box`` (an outline on the page) lies inside the picture's place on the shown ``img``,
    and covers most of it."""
    k = img["width"] / canvas.width
    left, top = img["x"] + border * k, img["y"] + border * k
    right, bottom = left + picture.width * k, top + picture.height * k
    assert left - 3 <= box["x"] and top - 3 <= box["y"], (box, img)
    assert box["x"] + box["width"] <= right + 3 and box["y"] + box["height"] <= bottom + 3
    assert box["width"] * box["height"] >= 0.8 * (picture.width * k) * (picture.height * k)


def test_a_registered_picture_inside_a_canvas_is_outlined_as_a_possible_match(browser, backend):
    """A bordered copy of the registered image (as a screenshot or a square pad makes it): the
    card named only an opaque manifest id and gave the picture's place in the file's pixels,
    which a reader cannot find on a scaled image. It now says whose registered credentials
    possibly match, that they are not applied, and outlines the picture while it is open."""
    context, _ = browser
    _, files, _ = backend
    buf, canvas, signed, border = _bordered(files)
    shown = 400  # the page shows it scaled
    html = f"<!doctype html><body><img src='/bordered.jpg' alt='b' width='{shown}'></body>"
    app = _one_image_page(html, "bordered.jpg", buf.getvalue())
    with LiveServer(factory=lambda: app) as site:
        page = context.new_page()
        page.goto(site.url + "/")
        badge = _badge(page, "bordered.jpg")
        badge.wait_for(timeout=20000)
        assert badge.inner_text() == "Possible match"
        assert page.locator("provenance-overlay .region").count() == 0  # only with the card
        badge.click()
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        text = panel.inner_text()
        assert "credentials registered by Acme Ltd" in text and "not applied to this image" in text
        assert "the outlined picture only, not the whole image" in text
        outline = page.locator("provenance-overlay .region")
        assert outline.count() == 1
        box, img = outline.bounding_box(), page.locator("img").bounding_box()
        assert box is not None and img is not None
        _within(box, img, canvas, signed, border)
        page.screenshot(path=str(ARTIFACTS / "canvas_card.png"))
        panel.dispatch_event("mouseleave")
        assert outline.count() == 0
        page.close()


def _covered(a: dict, b: dict) -> float:
    """The area two bounding boxes share."""
    wide = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    high = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(0.0, wide) * max(0.0, high)


@pytest.mark.parametrize(
    ("style", "shown"),
    [
        pytest.param("", 400, id="small picture, left"),
        pytest.param("float:right", 400, id="small picture, right"),
        pytest.param("", 260, id="smaller picture, left"),
        pytest.param("display:block;margin:0 auto", 1000, id="across the page"),
    ],
)
def test_the_card_never_covers_the_outline_it_points_to(browser, backend, style, shown):
    """The card said "the outlined picture only" and lay over that outline: on a picture shown
    at 400 px, the 320 px card hid nearly all of it. It now goes beside the outline (right,
    left, below or above, whichever fits the window), never over it."""
    context, _ = browser
    _, files, _ = backend
    buf, canvas, signed, border = _bordered(files)
    html = (
        "<!doctype html><body style='margin:8px'><p>A story.</p>"
        f"<img src='/bordered.jpg' alt='b' width='{shown}' style='{style}'></body>"
    )
    app = _one_image_page(html, "bordered.jpg", buf.getvalue())
    with LiveServer(factory=lambda: app) as site:
        page = context.new_page()
        page.set_viewport_size({"width": 1280, "height": 720})
        page.goto(site.url + "/")
        badge = _badge(page, "bordered.jpg")
        badge.wait_for(timeout=20000)
        badge.click()
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        outline = page.locator("provenance-overlay .region")
        card, box, img = (
            panel.bounding_box(),
            outline.bounding_box(),
            page.locator("img").bounding_box(),
        )
        assert card is not None and box is not None and img is not None
        _within(box, img, canvas, signed, border)
        # Inside the window (boxes are in the window's coordinates), beside the outline where
        # there is room for it; on a picture as wide as the window, over its edge only.
        assert card["x"] >= 0 and card["x"] + card["width"] <= 1280, card
        assert card["y"] >= 0 and card["y"] + card["height"] <= 720, card
        if shown < 1000:
            assert _covered(card, box) == 0, (card, box)
        else:
            assert _covered(card, box) <= 0.15 * card["width"] * card["height"], (card, box)
        name = re.sub(r"\W+", "_", f"{style or 'left'}_{shown}")
        page.screenshot(path=str(ARTIFACTS / f"card_beside_outline_{name}.png"))
        page.close()


def test_a_mirrored_copy_says_so_on_the_card_and_the_readers_page(browser, backend):
    """A stripped, mirrored copy of the signed image recovers its credentials; the card and the
    reader's page (beside the signed original's thumbnail) say it is a mirrored copy, in the
    verdict's words, where they said nothing about why it looks reversed."""
    context, _ = browser
    live, files, _ = backend
    buf = io.BytesIO()
    signed = Image.open(io.BytesIO(files["signed.jpg"])).convert("RGB")
    ImageOps.mirror(signed).save(buf, format="JPEG", quality=85)
    html = "<!doctype html><body><img src='/mirrored.jpg' alt='m' width='400'></body>"
    app = _one_image_page(html, "mirrored.jpg", buf.getvalue())
    with LiveServer(factory=lambda: app) as site:
        page = context.new_page()
        page.goto(site.url + "/")
        badge = _badge(page, "mirrored.jpg")
        badge.wait_for(timeout=20000)
        assert badge.inner_text() == "AI-generated"
        badge.click()
        panel = page.locator("provenance-overlay .panel").last
        panel.wait_for()
        text = panel.inner_text()
        assert "recovered from the watermark of a copy mirrored left to right." in text
        assert re.search(r"This copy\s+mirrored left to right", text), text
        page.screenshot(path=str(ARTIFACTS / "mirrored_card.png"))
        page.close()
    page = context.new_page()
    page.goto(live.url + "/")
    tmp = Path(tempfile.mkdtemp()) / "mirrored.jpg"
    tmp.write_bytes(buf.getvalue())
    page.set_input_files("#file", str(tmp))
    page.click("button[type=submit]")
    page.locator("#compare").wait_for(timeout=20000)
    captions = page.locator("#compare figcaption").all_inner_texts()
    assert captions[0] == "Submitted — a copy mirrored left to right", captions
    page.wait_for_function(
        "[...document.querySelectorAll('#compare img')].every(i => i.naturalWidth > 0)"
    )
    page.screenshot(path=str(ARTIFACTS / "mirrored_reader.png"), full_page=True)
    page.close()


def test_reader_page_says_what_to_do_with_an_empty_file_or_form(browser, backend):
    """Both reached the API, and the page showed its words for a client ("the request body is
    empty; send the file as the body"), or nothing at all for an empty form."""
    context, _ = browser
    live, _, _ = backend
    page = context.new_page()
    page.goto(live.url + "/")
    page.click("button[type=submit]")
    assert page.locator("#error").inner_text().startswith("Nothing to check: choose a file")
    empty = Path(tempfile.mkdtemp()) / "empty.jpg"
    empty.write_bytes(b"")
    page.set_input_files("#file", str(empty))
    page.click("button[type=submit]")
    assert page.locator("#error").inner_text() == (
        "empty.jpg: the file is empty (a copy or download may have failed: choose a complete "
        "copy of the file)"
    )
    page.close()


def test_reader_page(browser, backend):
    context, _ = browser
    live, files, _ = backend
    page = context.new_page()
    page.goto(live.url + "/")
    tmp = Path(tempfile.mkdtemp()) / "stripped.jpg"
    tmp.write_bytes(files["stripped.jpg"])
    page.set_input_files("#file", str(tmp))
    page.click("button[type=submit]")
    page.locator("#summary").wait_for(timeout=20000)
    assert (
        page.locator("#summary")
        .inner_text()
        .startswith("Generated with an AI tool (Acme Diffusion 2).")
    )
    assert "recovered from the watermark" in page.locator("#summary").inner_text()
    compare = page.locator("#compare img")
    assert compare.count() == 2
    page.wait_for_function(
        "[...document.querySelectorAll('#compare img')].every(i => i.naturalWidth > 0)"
    )
    assert "/report/" in page.url
    page.screenshot(path=str(ARTIFACTS / "reader.png"), full_page=True)
    page.reload()  # the report page, as the extension links to it
    page.locator("#summary").wait_for(timeout=10000)
    assert "recovered from the watermark" in page.locator("#summary").inner_text()
    page.close()


def test_reader_page_outlines_a_picture_inside_a_canvas(browser, backend):
    """The reader's page showed a bordered copy of the registered image beside the registered
    original, without saying where the watermark was found or who registered the credentials
    it possibly matches: it outlines the picture, and names the registrant."""
    context, _ = browser
    live, files, _ = backend
    buf, canvas, signed, border = _bordered(files)
    page = context.new_page()
    page.goto(live.url + "/")
    tmp = Path(tempfile.mkdtemp()) / "bordered.jpg"
    tmp.write_bytes(buf.getvalue())
    page.set_input_files("#file", str(tmp))
    page.click("button[type=submit]")
    page.locator("#summary").wait_for(timeout=20000)
    assert "a possible match only" in page.locator("#summary").inner_text()
    page.wait_for_function(
        "[...document.querySelectorAll('#compare img')].every(i => i.naturalWidth > 0)"
    )
    captions = page.locator("#compare figcaption").all_inner_texts()
    assert captions[0] == "Submitted — the watermark is in the outlined picture only"
    assert captions[1].startswith("Registered original, registered by Acme Ltd — similarity")
    box = page.locator("#region").bounding_box()
    img = page.locator('#compare img[alt="submitted"]').bounding_box()
    assert box is not None and img is not None
    _within(box, img, canvas, signed, border)
    page.screenshot(path=str(ARTIFACTS / "reader_canvas.png"), full_page=True)
    page.close()


def test_local_files_get_badges_with_file_access(browser, backend, tmp_path):
    """A local page (file://) gets badges when the reader allows the extension file access.

    Chromium grants it to unpacked extensions loaded from the command line; toggling it here
    (chrome://extensions) reloads the extension, which this Chromium then disables as an
    "unsupported developer extension", so only the granted side is tested.
    """
    context, worker = browser
    _, files, _ = backend
    (tmp_path / "signed.jpg").write_bytes(files["signed.jpg"])
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>local</title><img src='signed.jpg' width='320'>"
    )
    page = context.new_page()
    page.goto((tmp_path / "index.html").as_uri())
    badge = page.locator("provenance-overlay .badge")
    badge.wait_for(timeout=20000)
    assert badge.inner_text() == "AI-generated"
    assert badge.get_attribute("data-where") == "browser"  # read from disk by the background
    page.close()
    # Only a local page's own images are read from disk: anything else asking is refused.
    popup = context.new_page()
    popup.goto(f"chrome-extension://{extension_id(worker)}/popup.html")
    answer = popup.evaluate(
        "(url) => chrome.runtime.sendMessage({kind: 'verify-file', url})",
        (tmp_path / "signed.jpg").as_uri(),
    )
    assert "local page" in answer["error"] and "verdict" not in answer
    popup.close()


LINES = (
    "The harbour festival drew record crowds on Sunday,\n"
    "the report says; a language model drafted it\n"
    "and the news desk checked it."
)


@pytest.fixture(scope="module")
def text_site(credentials):
    """Signed multi-line text shown the ways web pages show it: in a <p> (the browser renders
    its newlines as spaces), in a <div> with <br>, indented inside a list item; and a <p> of
    the same text with one word changed."""
    signed = sign_text(LINES, credentials, AI.manifest).text
    body, wrapper = signed.split("\ufeff", 1)
    indented = signed.replace("\n", "\n      ")
    formatted = body.replace("\n", "<br>\n  ")  # a <br>, then the page's own line break
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Texts</title></head><body>"
        f"<p id='multi'>{signed}</p>\n"
        f"<div id='br'>{body.replace(chr(10), '<br>')}\ufeff{wrapper}</div>\n"
        f"<div id='br-formatted'>\n  {formatted}\ufeff{wrapper}\n</div>\n"
        f"<ul>\n  <li id='item'>\n      {indented}\n  </li>\n</ul>\n"
        f"<p id='tampered'>{signed.replace('record', 'modest')}</p>"
        "</body></html>"
    )

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    with LiveServer(factory=lambda: app) as live:
        yield live, signed


def test_selected_text_is_checked_as_written(browser, text_site):
    context, worker = browser
    live, signed = text_site
    page = context.new_page()
    page.goto(live.url + "/")

    def check(element_id: str) -> tuple[str, str]:
        rendered = page.evaluate(
            """(id) => { const r = document.createRange();
            r.selectNodeContents(document.getElementById(id));
            const s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
            return s.toString(); }""",
            element_id,
        )
        answer = worker.evaluate(TO_TAB, [live.url + "/", {"kind": "check-selection"}])
        # Embedded text credentials are judged in the browser (c2pa's WASM Reader), not sent on.
        assert answer["where"] == "browser", (element_id, answer)
        toast = page.locator("provenance-overlay #provenance-selection")
        toast.wait_for(timeout=20000)
        # The answer lies beside the selected text, in the window, not over it (it sat in the
        # window's top left corner, over the page's first paragraph when that was selected).
        box, selected = toast.bounding_box(), page.locator(f"#{element_id}").bounding_box()
        assert box is not None and selected is not None
        assert _covered(box, selected) == 0, (element_id, box, selected)
        window = page.viewport_size or {"height": 0}
        assert box["y"] >= 0 and box["y"] + box["height"] <= window["height"], (element_id, box)
        return rendered, toast.locator(".summary").inner_text()

    note = "differs from the signed text only in whitespace/line breaks"
    for element_id in ("multi", "item"):
        rendered, said = check(element_id)
        assert rendered.strip() != signed  # what the browser shows is not what was signed
        assert said.startswith("Generated with an AI tool (Acme Diffusion 2)"), (element_id, said)
        assert "the signature is trusted" in said and note in said, (element_id, said)
    for element_id in ("br", "br-formatted"):  # <br>, and <br> + a newline in the source
        _, said = check(element_id)
        assert said.startswith("Generated with an AI tool (Acme Diffusion 2)"), said
        assert "trusted" in said
    _, said = check("tampered")
    assert "changed after it was signed" in said and note not in said, said
    page.screenshot(path=str(ARTIFACTS / "selection.png"))
    page.close()
