"""A visible "AI-generated" label drawn onto the pixels, for explicit labelling."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from .errors import UnsupportedMediaError

DEFAULT_LABEL = "AI-generated"

#: Pillow format names for the media types whose pixels can be rewritten (label, watermark).
WRITABLE = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/tiff": "TIFF",
    "image/gif": "GIF",
    "image/avif": "AVIF",
}


def draw_label(image: Image.Image, text: str = DEFAULT_LABEL) -> Image.Image:
    """A copy of ``image`` with ``text`` in a dark box at the bottom-left corner.

    The text height is about 1/22 of the short side (at least 12 px), so the label stays legible
    on small images and unobtrusive on large ones.
    """
    base = image.convert("RGBA")
    size = max(12, min(base.size) // 22)
    font = ImageFont.load_default(size=size)
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    pad = max(4, size // 3)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
    x0, y0 = pad, base.height - box_h - pad
    draw.rounded_rectangle((x0, y0, x0 + box_w, y0 + box_h), radius=pad, fill=(0, 0, 0, 170))
    draw.text((x0 + pad - left, y0 + pad - top), text, font=font, fill=(255, 255, 255, 255))
    labelled = Image.alpha_composite(base, overlay)
    return (
        labelled
        if image.mode == "RGBA"
        else labelled.convert(image.mode if image.mode in ("RGB", "L") else "RGB")
    )


def encode_like(image: Image.Image, media_type: str, original: Image.Image) -> bytes:
    """Encode ``image`` in ``media_type``, keeping the original's ICC profile and EXIF."""
    fmt = WRITABLE.get(media_type)
    if fmt is None:
        raise UnsupportedMediaError(f"cannot rewrite the pixels of {media_type} content")
    params: dict[str, object] = {}
    for key in ("icc_profile", "exif"):
        if original.info.get(key):
            params[key] = original.info[key]
    if fmt in ("JPEG", "WEBP", "AVIF"):
        params["quality"] = 95
    if fmt == "PNG":
        # zlib level 1: at 12 MP seconds faster than Pillow's default 6, for ~10 % more bytes.
        params["compress_level"] = 1
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()
