"""Held-out attacks on the image watermark: what people do to images that bench/robustness.py
does not try. Mirror flips, right-angle rotations, borders and letterboxing, padding to a
square, and screenshots (the image shown in a page, at a display scale, with the page's chrome
and text around it, saved as PNG or JPEG), alone and with JPEG 75.

Same photos as bench/robustness.py (``photos()``: the samples and ../shared's fixtures at
1 MP), each marked with ``--ids`` identifiers. Detection reads the attacked pixels
(``codec.detect``), and where the attack ends in an encoding, its bytes as the library reads
them too (``detect_bytes``: a JPEG decoded at reduced scale). False detections: the same
attacks on the unmarked photos. Table to stdout, JSON to bench/results/attacks.json.

    uv run python -m bench.attacks [--ids 2] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from bench._common import table, write_json
from bench.robustness import photos
from provenance.watermark import codec, detect_bytes, embed_rgb

RNG = np.random.default_rng(1212)

Attack = Callable[[Image.Image], Image.Image]


class _Encoded:
    """An attack's last step that encodes: the decoded image, and the bytes kept on it
    (``encoded``) for the library's own path (``detect_bytes``: a JPEG is read at reduced
    scale)."""

    def __init__(self, fmt: str, **kw: Any) -> None:
        self.fmt, self.kw = fmt, kw

    def __call__(self, im: Image.Image) -> Image.Image:
        buf = io.BytesIO()
        im.save(buf, format=self.fmt, **self.kw)
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        out.info["encoded"] = buf.getvalue()
        return out


def _jpeg(quality: int) -> Attack:
    return _Encoded("JPEG", quality=quality)


def _then(first: Attack, second: Attack) -> Attack:
    return lambda im: second(first(im))


def _transpose(how: Image.Transpose) -> Attack:
    return lambda im: im.transpose(how)


def _border(share: float, colour: tuple[int, int, int]) -> Attack:
    """A border of ``share`` of each side's length on every side."""

    def attack(im: Image.Image) -> Image.Image:
        dx, dy = round(im.width * share), round(im.height * share)
        out = Image.new("RGB", (im.width + 2 * dx, im.height + 2 * dy), colour)
        out.paste(im, (dx, dy))
        return out

    return attack


def _square(colour: tuple[int, int, int]) -> Attack:
    """Padded to a square, centred (what a platform's square feed does to a landscape photo)."""

    def attack(im: Image.Image) -> Image.Image:
        side = max(im.size)
        out = Image.new("RGB", (side, side), colour)
        out.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
        return out

    return attack


def _screenshot(display: float, share: float) -> Attack:
    """The image shown at ``display`` of its size in a page, its short side ``share`` of the
    screenshot's short side: a browser's chrome (tab strip, address bar), a caption and lines
    of text around it on a white page, the image at a random place among them."""

    def attack(im: Image.Image) -> Image.Image:
        shown = im.resize(
            (round(im.width * display), round(im.height * display)), Image.Resampling.BILINEAR
        )
        chrome = 88
        height = max(round(min(shown.size) / share), shown.height + chrome + 40)
        width = max(round(height * 16 / 9), shown.width + 80)
        page = Image.new("RGB", (width, height), (255, 255, 255))
        draw = ImageDraw.Draw(page)
        draw.rectangle((0, 0, width, 40), fill=(222, 225, 230))  # tab strip
        draw.rectangle((12, 6, 260, 40), fill=(255, 255, 255))  # the active tab
        draw.text((24, 16), "Photo - Example Gallery", fill=(40, 40, 40))
        draw.rectangle((0, 40, width, chrome), fill=(247, 248, 250))
        draw.rounded_rectangle((90, 48, width - 90, 80), radius=16, fill=(233, 236, 240))
        draw.text((110, 58), "https://gallery.example.org/photos/2026/11/26/view", fill=(60,) * 3)
        left = int(RNG.integers(20, max(21, width - shown.width - 20)))
        top = int(RNG.integers(chrome + 10, max(chrome + 11, height - shown.height - 10)))
        # Lines of text wherever the image is not: a caption column, paragraphs below.
        for y in range(chrome + 16, height - 12, 22):
            for x0, x1 in ((20, left - 16), (left + shown.width + 16, width - 20)):
                if x1 - x0 > 40:
                    length = int(RNG.integers((x1 - x0) // 2, x1 - x0 + 1))
                    words = " ".join(["lorem ipsum dolor sit amet"] * (length // 150 + 1))
                    draw.text((x0, y), words[: length // 6], fill=(30, 30, 30))
        draw.rectangle((0, height - 6, width, height), fill=(200, 200, 200))  # a scroll bar
        page.paste(shown, (left, top))
        return page

    return attack


#: Page layouts (``_layout``): flat panels of other colours than the page's around the picture.
LAYOUTS = (
    "sidebar left",
    "sidebar right",
    "header and footer",
    "two columns",
    "dark",
    "two photos",
)
_COMPANION: list[Image.Image] = []


def _companion() -> Image.Image:
    """An unmarked photo shown beside the marked one (the first of ``photos()``, turned so it
    is not the marked one's own pixels when that photo is the one marked)."""
    if not _COMPANION:
        _COMPANION.append(Image.fromarray(photos()[0][1]).transpose(Image.Transpose.ROTATE_180))
    return _COMPANION[0]


def _layout(kind: str, share: float) -> Attack:
    """A page of layout ``kind`` (LAYOUTS) with the image shown at its own size, its short side
    ``share`` of the page's short side: a browser's bars above, then, by kind, a grey sidebar
    of links on the left or a blue-grey one on the right, a dark header bar and a footer, a
    column of text beside the picture, a dark-mode page, or a second (unmarked) photo beside
    it of about the marked one's size."""

    def attack(im: Image.Image) -> Image.Image:
        dark = kind == "dark"
        bg, ink = ((24, 24, 27), (220, 220, 225)) if dark else ((255, 255, 255), (30, 30, 30))
        chrome = 88
        height = max(round(min(im.size) / share), im.height + chrome + 40)
        width = round(height * 16 / 9)
        other = None
        if kind == "two photos":
            c = _companion()
            k = min(im.height / c.height, 1.0) * float(RNG.uniform(0.8, 1.05))
            other = c.resize((round(c.width * k), round(c.height * k)), Image.Resampling.BILINEAR)
        side = round(width * 0.2) if kind.startswith("sidebar") else 0
        beside = round(width * 0.3) if kind == "two columns" else 0
        need = im.width + side + beside + 80 + (other.width + 40 if other else 0)
        width = max(width, need)
        page = Image.new("RGB", (width, height), bg)
        draw = ImageDraw.Draw(page)
        draw.rectangle((0, 0, width, 40), fill=(53, 54, 58) if dark else (222, 225, 230))
        draw.rectangle((0, 40, width, chrome), fill=(41, 42, 45) if dark else (247, 248, 250))
        draw.rounded_rectangle(
            (90, 48, width - 90, 80), radius=16, fill=(32, 33, 36) if dark else (233, 236, 240)
        )
        draw.text((110, 58), "https://news.example.org/2026/11/26/story", fill=ink)
        x0, x1, top, bottom = 0, width, chrome, height
        if kind == "sidebar left":
            draw.rectangle((0, chrome, side, height), fill=(236, 238, 241))
            for y in range(chrome + 20, height - 20, 30):
                draw.text((16, y), "Section link", fill=(50, 60, 80))
            x0 = side
        elif kind == "sidebar right":
            draw.rectangle((width - side, chrome, width, height), fill=(214, 222, 235))
            for y in range(chrome + 20, height - 20, 30):
                draw.text((width - side + 16, y), "Related story", fill=(20, 40, 90))
            x1 = width - side
        elif kind == "header and footer":
            draw.rectangle((0, chrome, width, chrome + 56), fill=(33, 37, 41))
            draw.text((24, chrome + 20), "EXAMPLE NEWS   World  Sport  Culture", fill=(250,) * 3)
            draw.rectangle((0, height - 48, width, height), fill=(60, 64, 72))
            draw.text((24, height - 30), "(c) 2026 Example News - About - Contact", fill=(200,) * 3)
            top, bottom = chrome + 56, height - 48
        room = x1 - x0 - im.width - beside - (other.width + 40 if other else 0)
        left = x0 + int(RNG.integers(20, max(21, room - 20)))
        place = int(RNG.integers(top + 10, max(top + 11, bottom - im.height - 10)))
        # Lines of text wherever no picture is: beside it, and in the column of a two-column page.
        taken = [(left, left + im.width)]
        if other is not None:
            taken.append((left + im.width + 40, left + im.width + 40 + other.width))
        free, at = [], x0 + 20
        for a, b in sorted(taken):
            free.append((at, a - 16))
            at = b + 16
        free.append((at, x1 - 20))
        for y in range(top + 16, bottom - 12, 22):
            for f0, f1 in free:
                if f1 - f0 > 40:
                    length = int(RNG.integers((f1 - f0) // 2, f1 - f0 + 1))
                    words = " ".join(["lorem ipsum dolor sit amet"] * (length // 150 + 1))
                    draw.text((f0, y), words[: length // 6], fill=ink)
        page.paste(im, (left, place))
        if other is not None:
            page.paste(other, (left + im.width + 40, place))
        return page

    return attack


def _full_hd(im: Image.Image) -> Image.Image:
    """The page as a 1920 px wide screen shows it (bilinear)."""
    return im.resize((1920, round(im.height * 1920 / im.width)), Image.Resampling.BILINEAR)


_png = _Encoded("PNG")


BLACK, WHITE = (0, 0, 0), (255, 255, 255)
J75 = _jpeg(75)
ATTACKS: dict[str, Attack] = {
    "flip H": _transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "flip V": _transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    "rotate 90": _transpose(Image.Transpose.ROTATE_90),
    "rotate 180": _transpose(Image.Transpose.ROTATE_180),
    "rotate 270": _transpose(Image.Transpose.ROTATE_270),
    "flip H + jpeg 75": _then(_transpose(Image.Transpose.FLIP_LEFT_RIGHT), J75),
    "rotate 90 + jpeg 75": _then(_transpose(Image.Transpose.ROTATE_90), J75),
    "transpose + jpeg 75": _then(_transpose(Image.Transpose.TRANSPOSE), J75),
    "border 5% black": _border(0.05, BLACK),
    "border 5% white": _border(0.05, WHITE),
    "border 15% black": _border(0.15, BLACK),
    "border 15% white": _border(0.15, WHITE),
    "border 15% white + jpeg 75": _then(_border(0.15, WHITE), J75),
    "pad to square black": _square(BLACK),
    "pad to square white + jpeg 75": _then(_square(WHITE), J75),
    "screenshot 100%, 80% of side, png": _then(_screenshot(1.0, 0.8), _png),
    "screenshot 75%, 60% of side, png": _then(_screenshot(0.75, 0.6), _png),
    "screenshot 50%, 45% of side, png": _then(_screenshot(0.5, 0.45), _png),
    "screenshot 100%, 70% of side, jpeg 85": _then(_screenshot(1.0, 0.7), _jpeg(85)),
    "screenshot 75%, 50% of side, jpeg 85": _then(_screenshot(0.75, 0.5), _jpeg(85)),
    "screenshot 75%, 60% of side, jpeg 75": _then(_screenshot(0.75, 0.6), J75),
    "screenshot 1920 wide, 75%, 50% of side, jpeg 85": _then(
        _then(_screenshot(0.75, 0.5), _full_hd), _jpeg(85)
    ),
    "screenshot 1920 wide, 100%, 45% of side, jpeg 75": _then(
        _then(_screenshot(1.0, 0.45), _full_hd), J75
    ),
    **{
        f"page {kind}, {round(100 * share)}% of side, {fmt}": _then(_layout(kind, share), enc)
        for kind in LAYOUTS
        for share in (0.45, 0.8)
        for fmt, enc in (("png", _png), ("jpeg 85", _jpeg(85)))
    },
    "flip H + border 10% black + jpeg 75": _then(
        _then(_transpose(Image.Transpose.FLIP_LEFT_RIGHT), _border(0.1, BLACK)), J75
    ),
}


def run(attacks: dict[str, Attack], ids: int, unmarked: bool, name: str) -> None:
    """Each attack on each photo marked with ``ids`` identifiers, read from its pixels and (when
    it ends in an encoding) its bytes; then, with ``unmarked``, the same attacks on the unmarked
    photos. Table to stdout, JSON to bench/results/``name``.json."""
    if not attacks:
        raise SystemExit("no attack's name has what --only asked for: see the names in ATTACKS")
    pics = photos()
    print(f"{len(pics)} photos at 1 MP, {ids} identifiers each\n")
    hits: dict[str, list[bool]] = {n: [] for n in attacks}
    # Through the library's path from the encoded bytes, where the attack ends in an encoding.
    hits_bytes: dict[str, list[bool]] = {n: [] for n in attacks}
    zs: dict[str, list[float]] = {n: [] for n in attacks}
    seconds: dict[str, list[float]] = {n: [] for n in attacks}
    misses: list[str] = []
    for photo, rgb in pics:
        for _ in range(ids):
            identifier = int(RNG.integers(0, 1 << 40))
            marked = Image.fromarray(embed_rgb(rgb, identifier))
            for attack, fn in attacks.items():
                out = fn(marked)
                attacked = np.asarray(out.convert("RGB"))
                start = time.perf_counter()
                found = codec.detect(attacked)
                seconds[attack].append(time.perf_counter() - start)
                if "encoded" in out.info:
                    read = detect_bytes(out.info["encoded"])
                    hits_bytes[attack].append(read.identifier == identifier)
                hits[attack].append(found.identifier == identifier)
                zs[attack].append(found.sync_z)
                if found.identifier != identifier:
                    misses.append(f"{attack} / {photo} (z {found.sync_z:.1f})")
    rows: list[dict[str, Any]] = []
    for attack in attacks:
        rows.append(
            {
                "attack": attack,
                "decoded": f"{100 * np.mean(hits[attack]):5.1f}%",
                "from bytes": (
                    f"{100 * np.mean(hits_bytes[attack]):5.1f}%" if hits_bytes[attack] else ""
                ),
                "median sync z": f"{statistics.median(zs[attack]):.1f}",
                "median detect ms": f"{1000 * statistics.median(seconds[attack]):.0f}",
            }
        )
    print(table(rows, ["attack", "decoded", "from bytes", "median sync z", "median detect ms"]))
    print(f"\nmisses ({len(misses)}): " + "; ".join(misses[:80]))
    false_hits, z_max, count = 0, 0.0, 0
    if unmarked:
        for _, rgb in pics:
            image = Image.fromarray(rgb)
            for fn in attacks.values():
                out = fn(image)
                found = codec.detect(np.asarray(out.convert("RGB")))
                false_hits += found.detected
                z_max = max(z_max, found.sync_z)
                if "encoded" in out.info:
                    false_hits += detect_bytes(out.info["encoded"]).identifier is not None
                count += 1
        print(
            f"\nFalse detections on {count} unmarked attacked photos (pixels and bytes): "
            f"{false_hits} (highest sync z {z_max:.2f})"
        )
    path = write_json(
        name,
        {
            "photos": [n for n, _ in pics],
            "identifiers_per_photo": ids,
            "rows": rows,
            "misses": misses,
            "unmarked": count,
            "false_detections": false_hits,
            "max_unmarked_sync_z": z_max,
        },
    )
    print(f"\nwrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids", type=int, default=2, help="identifiers per photo")
    parser.add_argument("--only", default="", help="run only the attacks whose name has this")
    parser.add_argument("--unmarked", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    run({n: a for n, a in ATTACKS.items() if args.only in n}, args.ids, args.unmarked, "attacks")


if __name__ == "__main__":
    main()
