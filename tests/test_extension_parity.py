"""Same verdicts both ways: every peer file, checked by the extension in the browser (c2pa's
WASM build) and by the service (c2pa-python), with the same trust lists and anchors.

The files come from other implementations (tests/data/peers, see its EXPECTED.md), served
by a local page. Images go through the real path (the content script finds them on the page,
the background reads them); every file, images included, also goes to the background as the
content script would send it. Each answer must equal the service's in state, failures, AI
origin, signer, trust list and sentence; files the service cannot read must fail in the browser
too. Files with embedded credentials must have been judged in the browser, not sent on.

Text goes the same way: a text signed with `provenance sign-text` (test keys, whose root both
sides trust), tampered, stripped, truncated and otherwise altered copies, each checked by the
background as a selection is (c2pa's WASM Reader on the wrapper's manifest store, the hard
binding checked in the browser) and by the service's POST /v1/verify as text/plain.
"""

from __future__ import annotations

import json
import mimetypes
import subprocess
import sys
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import c2patxt
import pytest
from aiohttp import web

from extension_api import Settings
from provenance import TrustPolicy

from .extension_browser import CHROMIUM, TO_TAB, extension_browser, extension_id
from .server import LiveServer
from .test_text_manifest import (
    _DISCLOSURE,
    TEXT,
    _excluding_half_a_selector,
    _hand_signed,
    _peer_signer,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install chromium)"
)
ASSETS = (".jpg", ".png", ".webp", ".mp4", ".tiff", ".wav")
IMAGES = (".jpg", ".png", ".webp")
FIREFLY = "example-assets/images/Firefly_tabby_cat.jpg"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: Run in an extension page: send a file's bytes to the background as the content script does.
VERIFY_BYTES = """async ([url, type]) => {
    const buffer = new Uint8Array(await (await fetch(url)).arrayBuffer());
    let binary = "";
    for (let i = 0; i < buffer.length; i += 0x8000)
        binary += String.fromCharCode(...buffer.subarray(i, i + 0x8000));
    return chrome.runtime.sendMessage({kind: "verify-bytes", data: btoa(binary), type});
}"""


def _assets(shared: Path) -> list[str]:
    return sorted(
        str(p.relative_to(shared)) for p in shared.rglob("*") if p.suffix.lower() in ASSETS
    )


def _type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@pytest.fixture(scope="module")
def peer_text_signer(tmp_path_factory):
    """Another signer of text (c2patxt, Ed25519), whose root both sides trust."""
    return _peer_signer(tmp_path_factory.mktemp("peer-text"))


@pytest.fixture(scope="module")
def service(shared, keys, peer_text_signer, tmp_path_factory):
    # The bundled lists (the package's copy, of which the extension's is a build-time copy)
    # and the peer test anchors as the reader's own, on both sides.
    settings = Settings(
        registry_location=tmp_path_factory.mktemp("parity") / "m.sqlite3",
        trust=TrustPolicy.from_files(
            [shared / "test-anchors.pem", keys.root, peer_text_signer[0].root], default_lists=True
        ),
        rate_limit=0,
        fetch_allow=("127.0.0.1", "localhost"),
    )
    with LiveServer(settings) as live:
        yield live


@pytest.fixture(scope="module")
def site(shared):
    names = _assets(shared)
    app = web.Application()
    images = "".join(
        f'<img src="/f/{n}" alt="{n}" width="90" height="90">' for n in names if n.endswith(IMAGES)
    )
    page = f"<!doctype html><meta charset='utf-8'><title>Peer files</title><body>{images}</body>"

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in names:
            raise web.HTTPNotFound()
        return web.Response(body=(shared / name).read_bytes(), content_type=_type(name))

    async def firefly(_: web.Request) -> web.Response:
        html = (
            "<!doctype html><meta charset='utf-8'><title>A Firefly image</title>"
            "<body style='font:15px system-ui;margin:24px'><h2>Tabby cat</h2>"
            f"<img src='/f/{FIREFLY}' width='560'><p>Made with Adobe Firefly.</p></body>"
        )
        return web.Response(text=html, content_type="text/html")

    app.router.add_get("/", index)
    app.router.add_get("/firefly", firefly)
    app.router.add_get("/f/{name:.+}", asset)
    with LiveServer(factory=lambda: app) as live:
        yield live, names


def _service_verdict(url: str, data: bytes, name: str) -> dict[str, Any]:
    request = urllib.request.Request(
        url + "/v1/verify", data=data, headers={"Content-Type": _type(name)}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return {"verdict": json.loads(response.read())}
    except urllib.error.HTTPError as exc:
        return {"error": json.loads(exc.read())["error"]["message"]}


def _essentials(verdict: dict[str, Any]) -> dict[str, Any]:
    c, ai = verdict["credentials"], verdict["ai"]
    signer = c["signer"] or {}
    return {
        "present": c["present"],
        "source": c["source"],
        "trust_list": c["trust_list"],
        "state": c["state"],
        "failures": c["failures"],
        "ingredient_failures": c["ingredient_failures"],
        "signer": (signer.get("issuer"), signer.get("common_name")),
        "generator": c["generator"],
        "ai": (ai["generated"], ai["scope"], ai["claimed"], ai["evidence"]),
        "summary": verdict["summary"],
    }


def _compare(name: str, browser: dict[str, Any], service: dict[str, Any]) -> None:
    if "error" in service:
        assert browser.get("error") and not browser.get("verdict"), (name, browser, service)
        return
    assert browser.get("verdict"), (name, browser)
    theirs = service["verdict"]
    assert _essentials(browser["verdict"]) == _essentials(theirs), name
    if theirs["credentials"]["source"] == "embedded":
        assert browser["where"] == "browser", name  # embedded: judged here, not sent on


@pytest.fixture(scope="module")
def theirs(service, site, shared) -> dict[str, dict[str, Any]]:
    """The service's answer for every file, asked once."""
    _, names = site
    return {n: _service_verdict(service.url, (shared / n).read_bytes(), n) for n in names}


@pytest.fixture(scope="module")
def browser(service, shared, keys, peer_text_signer):
    pytest.importorskip("playwright.sync_api")
    anchors = "".join(
        p.read_text() for p in (shared / "test-anchors.pem", keys.root, peer_text_signer[0].root)
    )
    with extension_browser(service.url, user_anchors=anchors) as (context, worker):
        yield context, worker


def test_every_peer_file_gets_the_services_verdict(browser, theirs, site):
    context, worker = browser
    live, names = site
    page = context.new_page()
    page.goto(f"chrome-extension://{extension_id(worker)}/popup.html")
    compared = 0
    for name in names:
        ours = page.evaluate(VERIFY_BYTES, [f"{live.url}/f/{name}", _type(name)])
        _compare(name, ours, theirs[name])
        compared += 1
    assert compared == len(names) >= 35
    page.close()


@pytest.mark.slow
def test_images_on_a_page_get_the_services_verdict(browser, theirs, site):
    context, worker = browser
    live, _ = site
    page = context.new_page()
    page.goto(live.url + "/")
    page.wait_for_function("[...document.images].every(i => i.complete)")
    expected = page.evaluate(
        "[...document.images].filter(i => i.naturalWidth >= 64 && i.naturalHeight >= 64).length"
    )
    for _ in range(300):
        results = worker.evaluate(TO_TAB, [live.url + "/", {"kind": "results"}])
        if len(results) >= expected:
            break
        page.wait_for_timeout(200)
    assert len(results) == expected >= 20
    for result in results:
        name = result["src"].split("/f/", 1)[1]
        _compare(name, result, theirs[name])
    page.close()


def test_a_real_products_card(browser, site):
    """Adobe Firefly's credentials, as a reader sees them: checked in the browser, trusted
    through the interim list (EXPECTED.md), AI-generated, with the manifest's thumbnail."""
    context, _ = browser
    live, _ = site
    page = context.new_page()
    page.set_viewport_size({"width": 900, "height": 640})
    page.goto(live.url + "/firefly")
    badge = page.locator("provenance-overlay .badge")
    badge.wait_for(timeout=30000)
    assert badge.inner_text() == "AI-generated"
    badge.hover()
    card = page.locator("provenance-overlay .panel")
    card.wait_for()
    text = card.inner_text()
    assert "Trusted" in text and "the legacy interim list" in text
    assert "Checked in this browser" in text and "embedded in the file" in text
    # Its time is the signature's time-stamp, labelled so; never a bare "Date" that could be
    # only what the signer declared.
    assert "Time-stamped" in text and "\nDate\n" not in text
    assert card.locator(".top img").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "card-firefly.png"))
    page.close()


#: Run in an extension page: send a text to the background as the content script does.
VERIFY_TEXT = """text => chrome.runtime.sendMessage({kind: "verify-text", text})"""


@pytest.fixture(scope="module")
def texts(keys, credentials, peer_text_signer, tmp_path_factory) -> dict[str, str]:
    """A text signed by the CLI, what readers and editors do to it, and other signers' texts
    (SHA-384/512 hard bindings by c2patxt, the reference implementation's padded wrapper)."""
    folder = tmp_path_factory.mktemp("texts")
    source = folder / "note.txt"
    source.write_text(
        "Typhoon signal No. 8 is expected at 9 p.m.\nFerries stop at 8 p.m. 颱風 café\n",
        encoding="utf-8",
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "provenance",
            "sign-text",
            str(source),
            "--keys",
            str(keys.dir),
            "--no-registry",
            "--generator",
            "Acme Writer",
        ],
        check=True,
        capture_output=True,
    )
    signed = (folder / "note.signed.txt").read_text(encoding="utf-8")
    wrapper = signed.index("\ufeff")
    return {
        "signed": signed,
        "tampered": signed.replace("No. 8", "No. 3"),
        "stripped": signed[:wrapper],
        "truncated": signed[: wrapper + 400],
        "bom added": "\ufeff" + signed,
        "nfd copy": unicodedata.normalize("NFD", signed),
        "stray bom and selectors": "hello \ufeff\ufe0f\ufe01 world",
        "two pasted": signed + "\n" + signed,
        **{
            f"c2patxt {alg}": c2patxt.embed(
                TEXT,
                peer_text_signer[1],
                _DISCLOSURE,
                context=c2patxt.EmbedContext(algorithm=alg),
            )
            for alg in ("sha256", "sha384", "sha512")
        },
        "c2patxt sha384 tampered": c2patxt.embed(
            TEXT, peer_text_signer[1], _DISCLOSURE, context=c2patxt.EmbedContext(algorithm="sha384")
        ).replace("Café", "Cafe"),
        "padded wrapper": _hand_signed(credentials, TEXT, 12),
        "exclusion ends inside a selector": _excluding_half_a_selector(credentials),
    }


#: What each text is (from how it was made, not from either side's output): its state.
TEXT_STATES = {
    "signed": "Trusted",
    "tampered": "Invalid",
    "stripped": None,
    "truncated": "Invalid",
    "bom added": "Trusted",
    "nfd copy": "Invalid",
    "stray bom and selectors": None,
    "two pasted": "Invalid",
    "c2patxt sha256": "Trusted",
    "c2patxt sha384": "Trusted",
    "c2patxt sha512": "Trusted",
    "c2patxt sha384 tampered": "Invalid",
    "padded wrapper": "Trusted",
    "exclusion ends inside a selector": "Invalid",
}


def test_text_gets_the_services_verdict(browser, service, texts):
    context, worker = browser
    page = context.new_page()
    page.goto(f"chrome-extension://{extension_id(worker)}/popup.html")
    # The service off: what the browser alone says about every text, decided or not.
    worker.evaluate("chrome.storage.sync.set({useService: false})")
    try:
        for name, text in texts.items():
            ours = page.evaluate(VERIFY_TEXT, text)
            theirs = _service_verdict(service.url, text.encode("utf-8"), "t.txt")
            assert _essentials(ours["verdict"]) == _essentials(theirs["verdict"]), (name, ours)
            assert ours["where"] == "browser", name
            assert ours["verdict"]["credentials"]["state"] == TEXT_STATES[name], name
    finally:
        worker.evaluate("chrome.storage.sync.set({useService: true})")
    ours = page.evaluate(VERIFY_TEXT, texts["signed"])
    assert ours["verdict"]["credentials"]["state"] == "Trusted"
    assert ours["verdict"]["credentials"]["trust_list"] == "user"
    assert ours["where"] == "browser"  # a readable wrapper: never sent on
    # No wrapper: the service is asked (fingerprint recovery, language-model watermarks).
    assert page.evaluate(VERIFY_TEXT, texts["stripped"])["where"] == "service"
    page.close()
