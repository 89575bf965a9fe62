"""A visible "AI-generated" label drawn onto the pixels, for explicit labelling."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, TiffImagePlugin

from .errors import UnsupportedMediaError
from .media import (
    ChromaSubsampling,
    PlainJpeg,
    chroma_subsampling,
    icc_fits,
    is_progressive,
    jpeg_kept_segments,
    pixel_array,
    png_chunk_kinds,
    png_kept_chunks,
    rgb_of_cmyk,
    tiff_kept_tags,
    with_jpeg_segments,
    with_png_chunk_data,
    with_png_chunks,
)
from .previews import (
    EXIF_HEADER,
    with_new_photoshop_segments,
    with_new_photoshop_thumbnail,
    with_new_thumbnail,
)

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
    """A copy of ``image`` with ``text`` in a dark box at the bottom-left corner: greyscale
    (with its alpha) if it was, else RGB, or RGBA if it had any transparency.

    The text height is about 1/22 of the short side (at least 12 px), so the label stays legible
    on small images and unobtrusive on large ones.
    """
    base = (rgb_of_cmyk(image) if image.mode == "CMYK" else image).convert("RGBA")
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
    transparent = "A" in image.mode or "transparency" in image.info
    if image.mode in ("L", "LA"):
        return labelled.convert("LA" if transparent else "L")
    # Anything else with transparency (an alpha channel, a palette's or a colour key) keeps
    # it as RGBA: a palette cannot take the label's new colours, and a colour key could
    # happen to match some of them.
    return labelled if transparent else labelled.convert("RGB")


#: The TIFF compressions a re-encode keeps: the lossless ones that any pixels can take (not
#: JPEG's, a second lossy pass; nor fax coding, for 1-bit pixels only).
_TIFF_LOSSLESS = frozenset({"tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits"})


def encode_like(
    image: Image.Image,
    media_type: str,
    original: Image.Image,
    *,
    release: bool = False,
    source: bytes | None = None,
) -> bytes:
    """Encode ``image`` in ``media_type``, keeping the original's ICC profile and EXIF (and
    XMP in WebP and AVIF; a JPEG's chroma subsampling, ``media.chroma_subsampling``, and
    progressive coding). The thumbnails among them (EXIF's, Photoshop's) are made again from
    ``image`` (``previews``): they show the pixels written.

    A JPEG written from a JPEG gets its pixel density, XMP, Photoshop (IPTC-IIM) and comment
    segments (``media.jpeg_kept_segments``); a TIFF its resolution, IPTC-IIM, Photoshop and XMP
    tags (``media.tiff_kept_tags``) and lossless compression. ``source``: the bytes
    ``original`` was decoded from. A PNG written from a PNG gets its text, colour space, DPI and
    EXIF chunks (``media.png_kept_chunks``: a generator's prompt and settings, XMP, gamma, ICC
    profile...) as they were; Pillow decodes them but writes few back, OpenCV none.

    ``release=True`` lets the encoder close ``image`` once it has copied its pixels (the PNG
    encoder copies them for OpenCV): at 12 MP its 48 MB go before the encoder's own memory.
    """
    fmt = WRITABLE.get(media_type)
    if fmt is None:
        raise UnsupportedMediaError(f"cannot rewrite the pixels of {media_type} content")
    params: dict[str, object] = {}
    # WebP and AVIF hold XMP beside the pixels, and Pillow writes it only when given (JPEG's
    # and PNG's are kept whole from the source below).
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    keys = ("icc_profile", "exif", "xmp") if fmt in ("WEBP", "AVIF") else ("icc_profile", "exif")
    for key in keys:
        if original.info.get(key):
            params[key] = original.info[key]
    if isinstance(exif := params.get("exif"), bytes):
        # Its thumbnail shows the pixels written, not the original's (``previews``).
        params["exif"] = with_new_thumbnail(exif, image)
    profile = original.info.get("icc_profile")
    if profile and image.mode != original.mode and not icc_fits(profile, image.mode):
        # Not the original's profile on pixels now in a mode it does not describe: a labelled
        # CMYK image is RGB, converted to sRGB (``media.rgb_of_cmyk``), which a file without a
        # profile means. (None: nor Pillow's default, the image's own.)
        params["icc_profile"] = None
    if fmt in ("JPEG", "WEBP", "AVIF"):
        params["quality"] = 95
    text = png_kept_chunks(source) if fmt == "PNG" and source else b""
    if text:
        text = with_png_chunk_data(text, b"eXIf", lambda exif: with_new_thumbnail(exif, image))
        # The ICC profile and EXIF chunks kept are the source's own: not a second copy from the
        # encoder (Pillow writes ``image.info``'s profile unless told not to).
        kinds = png_chunk_kinds(text)
        if b"iCCP" in kinds:
            params["icc_profile"] = None
        if b"eXIf" in kinds:
            params.pop("exif", None)
    if fmt == "PNG" and image.mode in ("RGB", "RGBA") and "transparency" not in image.info:
        # (Pillow also writes an RGB image's colour key, tRNS: those stay with Pillow below.)
        return _png(image, params, text, release=release)
    if fmt == "PNG":
        # zlib level 1: at 12 MP seconds faster than Pillow's default 6, for ~10 % more bytes.
        params["compress_level"] = 1
    if fmt == "JPEG" and image.mode == "RGB" and (kept := chroma_subsampling(original)):
        params["subsampling"] = kept.value  # else Pillow's default, 4:2:0 at quality 95
    # Photoshop's thumbnail too shows the pixels written (``previews``).
    kept_segments = jpeg_kept_segments(original) if fmt == "JPEG" else b""
    segments = with_new_photoshop_segments(kept_segments, image)
    if segments:
        # The comments are among them: not a second copy from ``image.info``.
        params["comment"] = b""
    if fmt == "JPEG" and is_progressive(original):
        params["progressive"] = True
    if fmt == "TIFF":
        params["tiffinfo"] = tags = tiff_kept_tags(original)
        chunk = TiffImagePlugin.PHOTOSHOP_CHUNK
        if isinstance(resources := tags.get(chunk), bytes):
            tags[chunk] = with_new_photoshop_thumbnail(resources, image)
            if isinstance(image, TiffImagePlugin.TiffImageFile) and chunk in image.tag_v2:
                # Pillow writes the tags of the TIFF it opened over ``tiffinfo``'s.
                image.tag_v2[chunk] = tags[chunk]
        if original.info.get("compression") in _TIFF_LOSSLESS:
            params["compression"] = original.info["compression"]
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    if segments:
        return with_jpeg_segments(out.getbuffer(), segments)
    return with_png_chunks(out.getbuffer(), text) if text else out.getvalue()


#: How RGB(A) PNGs are written: through OpenCV's libpng, every row with the Up filter, zlib
#: level 1. Pillow's PNG encoder has no filter setting and tries all five filters on every row,
#: which at 12 MP takes 260 ms before zlib even starts (1.4 s in all at its default level 6,
#: 0.45 s at level 1); the Up filter alone is half that at level 1 and, on photographs, smaller
#: than Pillow's level 1 (bench/sign_verify.py --pipeline-only prints the table).
_PNG_PARAMS = [
    cv2.IMWRITE_PNG_COMPRESSION,
    1,
    cv2.IMWRITE_PNG_FILTER,
    cv2.IMWRITE_PNG_FILTER_UP,
    cv2.IMWRITE_PNG_ZLIBBUFFER_SIZE,
    1 << 16,
]


def _png(image: Image.Image, params: dict[str, object], text: bytes, *, release: bool) -> bytes:
    """An RGB or RGBA image as PNG (``_PNG_PARAMS``), with the ICC profile and EXIF in
    ``params`` (``iCCP`` and ``eXIf`` chunks, as Pillow writes them) and the whole chunks
    ``text``."""
    pixels = pixel_array(image, opencv_order=True)
    if release:
        image.close()
    kinds, chunks = [], []
    icc, exif = params.get("icc_profile"), params.get("exif")
    if isinstance(icc, bytes):
        kinds.append(cv2.IMAGE_METADATA_ICCP)
        chunks.append(np.frombuffer(icc, np.uint8))
    if isinstance(exif, bytes):
        # A PNG's eXIf chunk holds the TIFF structure alone, without JPEG's APP1 header.
        kinds.append(cv2.IMAGE_METADATA_EXIF)
        chunks.append(np.frombuffer(exif.removeprefix(EXIF_HEADER), np.uint8))
    ok, encoded = cv2.imencodeWithMetadata(".png", pixels, kinds, chunks, _PNG_PARAMS)
    if not ok:  # pragma: no cover - libpng writes any 8-bit RGB(A) array
        raise UnsupportedMediaError("cannot encode the image as PNG")
    return with_png_chunks(encoded.reshape(-1).data, text)


_JPEG_PARAMS = [cv2.IMWRITE_JPEG_QUALITY, 95]
_JPEG_SAMPLING = {
    ChromaSubsampling.S444: cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    ChromaSubsampling.S422: cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
    ChromaSubsampling.S420: cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
}


def encode_rgb_jpeg(jpeg: PlainJpeg) -> bytes:
    """A plain JPEG's RGB array as a quality-95 JPEG, with what ``jpeg`` says a re-encode keeps:
    the ICC profile and EXIF (each within one segment, see ``media.decode_plain_jpeg``), the
    chroma subsampling (by default 4:2:0), progressive coding, and the whole segments
    (``media.jpeg_kept_segments``) after them, their thumbnails made again from the array
    (``previews``): the same libjpeg-turbo encode as
    :func:`encode_like` (same tables and subsampling; the pixels decode identically), from the
    array in hand. The array is consumed: its channels are swapped to OpenCV's order in place,
    a band of rows at a time (a whole-image swap allocates a full-size temporary)."""
    rgb = jpeg.rgb
    # Its thumbnail shows the pixels written, not the original's (``previews``).
    exif = with_new_thumbnail(jpeg.exif, rgb) if jpeg.exif else None
    segments = with_new_photoshop_segments(jpeg.segments, rgb)
    for top in range(0, rgb.shape[0], 64):
        band = rgb[top : top + 64]
        cv2.cvtColor(band, cv2.COLOR_RGB2BGR, dst=band)
    kinds, chunks = [], []
    if jpeg.icc_profile:
        kinds.append(cv2.IMAGE_METADATA_ICCP)
        chunks.append(np.frombuffer(jpeg.icc_profile, np.uint8))
    if exif:
        # OpenCV writes the APP1 header itself.
        kinds.append(cv2.IMAGE_METADATA_EXIF)
        chunks.append(np.frombuffer(exif.removeprefix(EXIF_HEADER), np.uint8))
    sampling = _JPEG_SAMPLING[jpeg.subsampling or ChromaSubsampling.S420]
    params = [*_JPEG_PARAMS, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling]
    if jpeg.progressive:
        params += [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
    ok, encoded = cv2.imencodeWithMetadata(".jpg", rgb, kinds, chunks, params)
    if not ok:  # pragma: no cover - libjpeg writes any 8-bit RGB array
        raise UnsupportedMediaError("cannot encode the image as JPEG")
    return with_jpeg_segments(encoded.reshape(-1).data, segments)
