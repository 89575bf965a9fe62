"""The reader's page says where credentials came from, which trust list vouched for the signer,
and that an Invalid manifest's AI origin is only claimed — in real Chromium against the real
server with its default trust (the bundled lists) plus the test root."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from extension_api import Settings
from provenance import ManifestRegistry, ManifestSpec, SignOptions, TrustPolicy, sign

from .conftest import PHOTOS
from .server import LiveServer
from .test_sign_verify import _flip_scan_byte

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install chromium)"
)
AI = SignOptions(ManifestSpec(generator="Acme Diffusion", model="2"))


@pytest.fixture(scope="module")
def server(tmp_path_factory, credentials, keys):
    registry_location = tmp_path_factory.mktemp("reader") / "m.sqlite3"
    signed = sign(
        PHOTOS[0].read_bytes(), credentials, AI, registry=ManifestRegistry(registry_location)
    )
    buf = io.BytesIO()
    Image.open(io.BytesIO(signed.asset or b"")).convert("RGB").save(buf, "JPEG", quality=80)
    files = {
        "stripped.jpg": buf.getvalue(),
        "tampered.jpg": _flip_scan_byte(sign(PHOTOS[1].read_bytes(), credentials, AI).asset or b""),
    }
    settings = Settings(
        registry_location=registry_location,
        trust=TrustPolicy.from_env([keys.root], default_lists=True),
        rate_limit=0,
    )
    with LiveServer(settings) as live:
        yield live, files


@pytest.fixture(scope="module")
def page(server):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        yield page
        browser.close()


def _check(page, live, path: Path) -> dict[str, str]:
    page.goto(live.url + "/")
    page.set_input_files("#file", str(path))
    page.click("button[type=submit]")
    page.locator("#summary").wait_for(timeout=20000)
    found = {}
    for key in (
        "summary",
        "state",
        "ai",
        "source",
        "trust-list",
        "failing-ingredient",
        "watermark",
    ):
        node = page.locator(f"#{key}")
        found[key] = node.inner_text() if node.count() else ""
    return found


def _file(name: str, data: bytes) -> Path:
    path = Path(tempfile.mkdtemp()) / name
    path.write_bytes(data)
    return path


def test_trust_list_named(page, server, shared: Path) -> None:
    live, _ = server
    shown = _check(page, live, shared / "example-assets/images/Firefly_tabby_cat.jpg")
    assert shown["state"] == "Trusted"
    assert "legacy interim trust list" in shown["trust-list"]
    assert shown["source"] == "embedded in the file"
    google = _check(page, live, shared / "huminify-c2pa-detector/examples/videotest.mp4")
    assert "official C2PA trust list" in google["trust-list"]


def test_invalid_ai_is_claimed(page, server) -> None:
    live, files = server
    shown = _check(page, live, _file("tampered.jpg", files["tampered.jpg"]))
    assert shown["state"] == "Invalid" and shown["ai"].startswith("claimed")
    assert shown["trust-list"] == ""  # never a trust list for Invalid credentials


def test_recovered_is_not_embedded(page, server) -> None:
    live, files = server
    shown = _check(page, live, _file("stripped.jpg", files["stripped.jpg"]))
    assert shown["source"].startswith("not embedded: recovered")
    assert "recovered, not embedded" in shown["state"]
    assert shown["trust-list"] == "a trust anchor configured on this service"


def test_an_error_names_the_file(page, server) -> None:
    """The service's message names the file the reader chose, not "content"."""
    live, _ = server
    page.goto(live.url + "/")
    page.set_input_files("#file", str(_file("holiday notes.bin", b"plain text, not an image")))
    page.click("button[type=submit]")
    error = page.locator("#error")
    error.wait_for(timeout=20000)
    assert error.inner_text().startswith(
        "holiday notes.bin: its bytes are text, not in any media format"
    )


def test_a_small_image_says_it_was_not_searched_for_a_watermark(page, server) -> None:
    """As `provenance verify` prints it: the image is too small to carry the watermark."""
    live, _ = server
    buf = io.BytesIO()
    Image.open(PHOTOS[0]).resize((160, 120)).save(buf, "PNG")
    shown = _check(page, live, _file("icon.png", buf.getvalue()))
    assert shown["watermark"] == (
        "not looked for: the image is too small to carry the watermark "
        "(its short side is under 176 px)"
    )
    stripped = _check(page, live, _file("stripped.jpg", server[1]["stripped.jpg"]))
    assert stripped["watermark"] == ""  # searched (and found): no such line
