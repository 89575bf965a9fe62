"""A marked picture in real Chromium screenshots of pages (a body margin insetting a header bar
and a sidebar, a card with a shadow and rounded corners and text above and below, text floated
around the picture beside a coloured panel): found through the library's path from the
screenshot's bytes, and where it is.

Needs /usr/bin/chromium (`.ci/run` installs it); skipped, saying so, where it is absent."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from provenance.watermark import detect_bytes, embed_rgb

from .conftest import SAMPLES
from .extension_browser import CHROMIUM

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install chromium)"
)

IDENTIFIER = 0x00C0FFEE42
TEXT = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. " * 6

#: Page layouts around ``{img}`` (the picture at its own size): each missed before the box
#: search told a page inset by its margin from a picture and cut a card's text off the picture.
LAYOUTS = {
    "inset sidebar": (
        "<body style='font-family:sans-serif;margin:20px'>"
        "<header style='background:#234;color:#fff;padding:10px'>News site</header>"
        "<div style='display:flex;gap:20px'><aside style='width:200px;background:#eee'>Sidebar"
        "</aside><main><h1>A picture</h1>{img}<p>Some text.</p></main></div></body>"
    ),
    "card": (
        "<body style='font-family:sans-serif;margin:0;background:#f0f2f5'>"
        "<div style='background:#fff;border-bottom:1px solid #ddd;padding:12px'>Feed</div>"
        "<div style='margin:24px auto;width:fit-content;background:#fff;border-radius:12px;"
        "box-shadow:0 2px 12px rgba(0,0,0,.25);padding:16px'><div>Posted by someone</div>"
        "<div style='border-radius:8px;overflow:hidden;margin:8px 0'>{img}</div>"
        "<div>12 likes</div></div></body>"
    ),
    "floated text": (
        "<body style='font-family:sans-serif;margin:0'><div style='display:flex'>"
        "<div style='flex:1;padding:16px'><h2>Article</h2>"
        "<div style='float:left;margin:0 16px 8px 0'>{img}</div><p>" + TEXT + "</p></div>"
        "<aside style='width:220px;background:#e8eef7;padding:12px'>Related</aside></div>"
        "<footer style='background:#ccc;padding:8px'>Footer</footer></body>"
    ),
}


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize(("scale", "fmt"), [(1, "PNG"), (2, "JPEG")])
def test_marked_picture_in_a_page_screenshot_is_found_where_it_is(chromium, layout, scale, fmt):
    marked = embed_rgb(np.asarray(Image.open(SAMPLES / "coffee.jpg").convert("RGB")), IDENTIFIER)
    png = io.BytesIO()
    Image.fromarray(marked).save(png, "PNG")
    src = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    # The picture (600x400) at 60 % of the viewport's height, at 1x and 2x device pixels.
    page = chromium.new_page(viewport={"width": 1280, "height": 667}, device_scale_factor=scale)
    try:
        page.set_content("<!doctype html>" + LAYOUTS[layout].format(img=f"<img id=p src='{src}'>"))
        rect = page.eval_on_selector("#p", "e => e.getBoundingClientRect().toJSON()")
        shot = page.screenshot()
    finally:
        page.close()
    if fmt == "JPEG":
        out = io.BytesIO()
        Image.open(io.BytesIO(shot)).convert("RGB").save(out, "JPEG", quality=85)
        shot = out.getvalue()
    found = detect_bytes(shot)
    assert found.payload == f"{IDENTIFIER:010x}", (layout, found)
    # The region searched is the picture's, taken in a little: inside it, and most of it.
    assert found.region is not None
    x, y, w, h = found.region
    px, py = rect["x"] * scale, rect["y"] * scale
    pw, ph = rect["width"] * scale, rect["height"] * scale
    assert px - 2 <= x and py - 2 <= y and x + w <= px + pw + 2 and y + h <= py + ph + 2
    assert w * h >= 0.7 * pw * ph
