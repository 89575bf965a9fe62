"""The EXIF thumbnail (IFD1's JPEG) of a re-encoded image, made again from the pixels written.

File browsers, phone galleries and many viewers show a JPEG's EXIF thumbnail rather than decode
the image: carried over as it was, it showed the pixels from before signing, without the label.
It is made again from the signed pixels, at its own size, as GIMP, darktable and Photoshop do
when they save an edited image (``jhead -rgt``, ``exiv2 -it`` by hand). Only the thumbnail's own
bytes and IFD1's two entries that point to them change: nothing before the thumbnail moves, so
the offsets inside the other IFDs and the maker notes (which many cameras write as offsets from
the start of the TIFF header, or from the note itself) still hold. Where that cannot be done
(the thumbnail is not a JPEG within the block, or a new one would not fit in a JPEG's 64 KB
APP1), IFD1 is unlinked and the old thumbnail's bytes are zeroed: no preview rather than a
false one (``exiftool -IFD1:all=`` removes it the same way, but moves the rest).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from .media import SEGMENT_EXIF

#: How a JPEG's APP1 holds EXIF: this header, then the TIFF structure (a PNG's eXIf chunk and
#: often a WebP's EXIF chunk hold the TIFF structure alone).
EXIF_HEADER = b"Exif\x00\x00"

_THUMBNAIL_OFFSET, _THUMBNAIL_LENGTH = 0x0201, 0x0202  # JPEGInterchangeFormat(Length)
_LONG, _SHORT = 4, 3
#: The qualities tried for a new thumbnail, best first, until the block fits in one JPEG APP1
#: segment (``SEGMENT_EXIF``, its header included).
_QUALITIES = (85, 70, 50)


@dataclass(frozen=True)
class ExifThumbnail:
    """Where IFD1's JPEG thumbnail lies in an EXIF block (offsets from the TIFF header)."""

    #: Where the TIFF structure starts in the block (after ``EXIF_HEADER``, if there is one).
    tiff: int
    little_endian: bool
    #: The offset of IFD0's link to IFD1 (4 bytes).
    link: int
    #: The offsets of IFD1's entries for the thumbnail's offset and length (12 bytes each).
    offset_entry: int
    length_entry: int
    #: The thumbnail's bytes (offset, length).
    offset: int
    length: int
    #: Its width and height, from its own header; None if it is no readable JPEG.
    size: tuple[int, int] | None


def find_thumbnail(exif: bytes) -> ExifThumbnail | None:
    """Where the EXIF block ``exif`` (with or without ``EXIF_HEADER``) holds IFD1's JPEG
    thumbnail; None if it has no IFD1 or its IFD1 points to none (or the block is damaged)."""
    tiff = len(EXIF_HEADER) if exif.startswith(EXIF_HEADER) else 0
    body = memoryview(exif)[tiff:]
    if bytes(body[:4]) not in (b"II*\x00", b"MM\x00*"):
        return None
    little = body[0] == ord("I")
    order: Literal["little", "big"] = "little" if little else "big"

    def number(at: int, size: int) -> int | None:
        return int.from_bytes(body[at : at + size], order) if at + size <= len(body) else None

    ifd0 = number(4, 4)
    count0 = None if ifd0 is None else number(ifd0, 2)
    if ifd0 is None or count0 is None:
        return None
    link = ifd0 + 2 + 12 * count0
    ifd1 = number(link, 4)
    count1 = None if not ifd1 else number(ifd1, 2)
    if ifd1 is None or count1 is None:
        return None
    entries: dict[int, tuple[int, int]] = {}  # tag -> (entry offset, value)
    for entry in range(ifd1 + 2, ifd1 + 2 + 12 * count1, 12):
        tag, kind, many = number(entry, 2), number(entry + 2, 2), number(entry + 4, 4)
        if tag in (_THUMBNAIL_OFFSET, _THUMBNAIL_LENGTH) and many == 1 and kind in (_LONG, _SHORT):
            value = number(entry + 8, 4 if kind == _LONG else 2)
            if value is not None:
                entries[tag] = (entry, value)
    if _THUMBNAIL_OFFSET not in entries or _THUMBNAIL_LENGTH not in entries:
        return None
    (offset_entry, offset), (length_entry, length) = (
        entries[_THUMBNAIL_OFFSET],
        entries[_THUMBNAIL_LENGTH],
    )
    size = None
    if offset + length <= len(body) and bytes(body[offset : offset + 2]) == b"\xff\xd8":
        try:
            with Image.open(io.BytesIO(body[offset : offset + length])) as thumbnail:
                size = thumbnail.size if thumbnail.format == "JPEG" else None
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            size = None
    return ExifThumbnail(
        tiff, little, tiff + link, tiff + offset_entry, tiff + length_entry, offset, length, size
    )


def fitted_size(image: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The size of ``image`` (width, height) scaled to fit in ``box``: the box itself when their
    shapes agree to within a pixel of the box (how thumbnails are rounded)."""
    (w, h), (bw, bh) = image, box
    if abs(bw * h - bh * w) <= max(w, h):
        return bw, bh
    scale = min(bw / w, bh / h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def thumbnail_picture(pixels: Image.Image | np.ndarray, box: tuple[int, int]) -> Image.Image:
    """``pixels`` (an image, or an RGB array) as an RGB picture of ``box``'s size: scaled to fit
    it, centred on black where their shapes differ, as DCF cameras letterbox a 3:2 photo in a
    160x120 thumbnail."""
    if isinstance(pixels, np.ndarray):
        h, w = pixels.shape[:2]
        fit = fitted_size((w, h), box)
        small = Image.fromarray(cv2.resize(pixels, fit, interpolation=cv2.INTER_AREA))
    else:
        fit = fitted_size(pixels.size, box)
        # A box reduction first (one pass over the full-size pixels), then a fine resample.
        factor = max(1, math.floor(min(pixels.width / fit[0], pixels.height / fit[1]) / 2))
        image = pixels if pixels.mode in ("RGB", "RGBA", "L", "LA") else pixels.convert("RGB")
        if factor > 1:
            image = image.reduce(factor)
        small = image.convert("RGB").resize(fit, Image.Resampling.LANCZOS)
    if fit == box:
        return small
    framed = Image.new("RGB", box)
    framed.paste(small, ((box[0] - fit[0]) // 2, (box[1] - fit[1]) // 2))
    return framed


def _jpeg(picture: Image.Image, quality: int) -> bytes:
    """A baseline JPEG (what EXIF asks a thumbnail to be), without a JFIF segment."""
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=quality)
    data = out.getvalue()
    if data[2:4] == b"\xff\xe0":  # Pillow's JFIF segment: the thumbnail needs none
        data = data[:2] + data[4 + int.from_bytes(data[4:6], "big") :]
    return data


def with_new_thumbnail(exif: bytes, pixels: Image.Image | np.ndarray) -> bytes:
    """The EXIF block ``exif`` with IFD1's JPEG thumbnail made again from ``pixels`` (the
    pixels written, in the orientation stored: the IFD0 orientation applies to both), at its
    own size; the block as it is when it has none. See the module's docstring."""
    found = find_thumbnail(exif)
    if found is None:
        return exif
    block = bytearray(exif)
    order: Literal["little", "big"] = "little" if found.little_endian else "big"
    start, end = found.tiff + found.offset, found.tiff + found.offset + found.length
    inside = end <= len(block)
    if found.size is not None:
        picture = thumbnail_picture(pixels, found.size)
        # At the end of the block (as cameras and editors put it), the new one takes its place;
        # elsewhere the old one is zeroed and the new one goes at the end, word-aligned.
        at_end = end == len(block)
        base = block[:start] if at_end else block + b"\x00" * ((len(block) - found.tiff) % 2)
        for quality in _QUALITIES:
            thumbnail = _jpeg(picture, quality)
            if len(base) + len(thumbnail) <= SEGMENT_EXIF:
                if not at_end:
                    base[start:end] = bytes(found.length)
                for entry, value in (
                    (found.offset_entry, len(base) - found.tiff),
                    (found.length_entry, len(thumbnail)),
                ):
                    # LONG, one value (a SHORT one might not hold the new offset).
                    base[entry + 2 : entry + 12] = (
                        _LONG.to_bytes(2, order) + (1).to_bytes(4, order) + value.to_bytes(4, order)
                    )
                return bytes(base + thumbnail)
    # No thumbnail to make (or none that fits): IFD1 is unlinked, the old one's bytes zeroed.
    block[found.link : found.link + 4] = bytes(4)
    if inside:
        block[start:end] = bytes(found.length)
    return bytes(block)
