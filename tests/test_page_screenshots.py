"""A marked picture in real Chromium screenshots of pages (a body margin insetting a header bar
and a sidebar, a card with a shadow and rounded corners and text above and below, text floated
around the picture beside a coloured panel; a 450x300 picture in a card between paragraphs, light
and dark): found through the library's path from the
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


def _marked_src() -> str:
    """coffee.jpg marked with IDENTIFIER, as a PNG data URL for an <img>."""
    marked = embed_rgb(np.asarray(Image.open(SAMPLES / "coffee.jpg").convert("RGB")), IDENTIFIER)
    png = io.BytesIO()
    Image.fromarray(marked).save(png, "PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()


def _found_where_it_is(shot: bytes, fmt: str, rect: dict, scale: int, case: object) -> None:
    """The screenshot (as PNG, or re-saved as JPEG 85) decodes, and the region searched is the
    picture's (``rect``, CSS pixels at ``scale``), taken in a little: inside it, most of it."""
    if fmt == "JPEG":
        out = io.BytesIO()
        Image.open(io.BytesIO(shot)).convert("RGB").save(out, "JPEG", quality=85)
        shot = out.getvalue()
    found = detect_bytes(shot)
    assert found.payload == f"{IDENTIFIER:010x}", (case, found)
    assert found.region is not None
    x, y, w, h = found.region
    px, py = rect["x"] * scale, rect["y"] * scale
    pw, ph = rect["width"] * scale, rect["height"] * scale
    assert px - 2 <= x and py - 2 <= y and x + w <= px + pw + 2 and y + h <= py + ph + 2
    assert w * h >= 0.7 * pw * ph


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize(("scale", "fmt"), [(1, "PNG"), (2, "JPEG")])
def test_marked_picture_in_a_page_screenshot_is_found_where_it_is(chromium, layout, scale, fmt):
    src = _marked_src()
    # The picture (600x400) at 60 % of the viewport's height, at 1x and 2x device pixels.
    page = chromium.new_page(viewport={"width": 1280, "height": 667}, device_scale_factor=scale)
    try:
        page.set_content("<!doctype html>" + LAYOUTS[layout].format(img=f"<img id=p src='{src}'>"))
        rect = page.eval_on_selector("#p", "e => e.getBoundingClientRect().toJSON()")
        shot = page.screenshot()
    finally:
        page.close()
    _found_where_it_is(shot, fmt, rect, scale, layout)


#: A card between paragraphs of text, as a feed or a blog shows a picture: the picture 450 CSS
#: px wide (about 450x300) in a 1280x800 viewport. Closed over, its text joins the picture into
#: one hole twice the picture's height, narrowed past TIGHT_LEAST: missed before such a hole was
#: searched narrowed too.
CARD_WITH_TEXT = (
    "<body style='font-family:sans-serif;font-size:15px;margin:0;background:{bg};color:{ink}'>"
    "<div style='padding:10px 20px;background:{card}'>Feed</div>"
    "<div style='width:{width}px;margin:24px auto;background:{card};border-radius:10px;"
    "box-shadow:0 1px 6px #888;padding:14px'><p>" + TEXT + "</p><p>" + TEXT[:200] + "</p>"
    "{img}<p>" + TEXT + "</p></div></body>"
)
THEMES = {
    "light": {"bg": "#f0f2f5", "card": "#ffffff", "ink": "#1c1e21"},
    "dark": {"bg": "#18191a", "card": "#242526", "ink": "#e4e6eb"},
}


@pytest.mark.parametrize("theme", sorted(THEMES))
@pytest.mark.parametrize("width", [450, 650])
@pytest.mark.parametrize(("scale", "fmt"), [(1, "PNG"), (2, "PNG"), (2, "JPEG")])
def test_a_picture_between_paragraphs_in_a_card_is_found(chromium, theme, width, scale, fmt):
    src = _marked_src()
    img = f"<img id=p src='{src}' style='width:450px;display:block;margin:8px auto'>"
    page = chromium.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=scale)
    try:
        page.set_content(
            "<!doctype html>" + CARD_WITH_TEXT.format(img=img, width=width, **THEMES[theme])
        )
        rect = page.eval_on_selector("#p", "e => e.getBoundingClientRect().toJSON()")
        shot = page.screenshot()
    finally:
        page.close()
    assert rect["y"] + rect["height"] < 800, "the picture is to be on screen whole"
    _found_where_it_is(shot, fmt, rect, scale, (theme, width))
