"""The previews a re-encoded image carries, made again from the pixels written: EXIF's
thumbnail (IFD1's JPEG) and Photoshop's thumbnail resource.

File browsers, phone galleries and many viewers show a JPEG's EXIF thumbnail rather than decode
the image: carried over as it was, it showed the pixels from before signing, without the label.
It is made again from the signed pixels, at its own size, as Photoshop does when it saves (the
files it saved among the peer fixtures carry one thumbnail in both places) and GIMP's JPEG
export does with "Save thumbnail" (``jhead -rgt`` does it by hand). Only the thumbnail's own
bytes and IFD1's two entries that point to them change: nothing before the thumbnail moves, so
the offsets inside the other IFDs and the maker notes (which many cameras write as offsets from
the start of the TIFF header) still hold. Where that cannot be done (the thumbnail is not a
JPEG within the block, or a new one would not fit in a JPEG's 64 KB APP1), IFD1 is unlinked and
the old thumbnail's bytes are zeroed: no preview rather than a false one (as
``exiftool -IFD1:all=`` removes it).

Photoshop's image resources (a JPEG's APP13, a TIFF's tag 34377) hold their own thumbnail
(resource 1036, and 1033 in Photoshop 4's BGR form), which Adobe's browsers show: it is made
again too, at its own size, or left out where it cannot be.
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
#: The longest side a thumbnail is made again at (EXIF's are 160 px, some cameras' 320 or 640,
#: Photoshop's 160 or 256): a header that gives more is not a thumbnail's, and a hostile one
#: would have a picture of any size made.
MAX_SIDE = 1024
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
            if size is not None and max(size) > MAX_SIDE:
                size = None  # no thumbnail's: a new one of that size is not made
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


#: Photoshop's image resources: a JPEG's APP13 opens with this, then the resource blocks.
PHOTOSHOP = b"Photoshop 3.0\x00"
#: The thumbnail resources: RGB (Photoshop 5 on), BGR (Photoshop 4).
_THUMBNAIL_RGB, _THUMBNAIL_BGR = 0x040C, 0x0409
#: A thumbnail resource's header (format, width, height, row bytes, total and compressed size,
#: bits per pixel, planes) before its JPEG: 28 bytes.
_HEADER = 28


def _resources(blocks: bytes) -> list[tuple[int, bytes, bytes]] | None:
    """(id, name field, data) of each of the image resource blocks ``blocks`` ("8BIM", id,
    even-padded Pascal name, size, even-padded data); None unless they fill ``blocks`` exactly
    (a resource split over two APP13 segments, or damage)."""
    found, pos = [], 0
    while pos < len(blocks):
        if blocks[pos : pos + 4] != b"8BIM" or pos + 7 > len(blocks):
            return None
        name_end = pos + 6 + (blocks[pos + 6] + 2) // 2 * 2
        if name_end + 4 > len(blocks):
            return None
        size = int.from_bytes(blocks[name_end : name_end + 4], "big")
        end = name_end + 4 + size
        if end > len(blocks):
            return None
        found.append(
            (
                int.from_bytes(blocks[pos + 4 : pos + 6], "big"),
                blocks[pos + 6 : name_end],
                blocks[name_end + 4 : end],
            )
        )
        pos = end + size % 2
    return found


def _photoshop_thumbnail(
    data: bytes, pixels: Image.Image | np.ndarray, bgr: bool, room: int
) -> bytes | None:
    """A thumbnail resource's data made again from ``pixels`` at the size its header gives, in
    at most ``room`` bytes; None if its header gives no size or none fits."""
    if len(data) < _HEADER:
        return None
    width, height = (int.from_bytes(data[at : at + 4], "big") for at in (4, 8))
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        return None
    picture = thumbnail_picture(pixels, (width, height))
    if bgr:
        picture = Image.merge("RGB", picture.split()[::-1])
    row = (width * 24 + 31) // 32 * 4
    for quality in _QUALITIES:
        jpeg = _jpeg(picture, quality)
        if _HEADER + len(jpeg) <= room:
            numbers = (1, width, height, row, row * height, len(jpeg))
            header = b"".join(n.to_bytes(4, "big") for n in numbers) + bytes((0, 24, 0, 1))
            return header + jpeg
    return None


def _block(rid: int, name: bytes, data: bytes) -> bytes:
    """One whole image resource block (``name``: its even-padded Pascal string)."""
    size = len(data).to_bytes(4, "big")
    return b"8BIM" + rid.to_bytes(2, "big") + name + size + data + bytes(len(data) % 2)


def with_new_photoshop_thumbnail(
    blocks: bytes, pixels: Image.Image | np.ndarray, *, limit: int | None = None
) -> bytes:
    """Photoshop's image resource blocks ``blocks`` with their thumbnail resources made again
    from ``pixels`` (left out where that cannot be), all the other resources as they were, in
    at most ``limit`` bytes (an APP13's room); as they are if they hold no thumbnail, or do not
    parse."""
    resources = _resources(blocks)
    thumbnails = (_THUMBNAIL_RGB, _THUMBNAIL_BGR)
    if resources is None or not any(rid in thumbnails for rid, _, _ in resources):
        return blocks
    others = b"".join(_block(*each) for each in resources if each[0] not in thumbnails)
    out = []
    for rid, name, data in resources:
        if rid in thumbnails:
            room = 1 << 20 if limit is None else limit - len(others) - len(name) - 11
            new = _photoshop_thumbnail(data, pixels, rid == _THUMBNAIL_BGR, room)
            if new is None:
                continue
            data = new
        out.append(_block(rid, name, data))
    made = b"".join(out)
    # Two thumbnails may not fit beside each other: then neither.
    return others if limit is not None and len(made) > limit else made


def with_new_photoshop_segments(segments: bytes, pixels: Image.Image | np.ndarray) -> bytes:
    """The whole JPEG segments ``segments`` (``media.jpeg_kept_segments``) with the thumbnail
    in each Photoshop APP13 made again from ``pixels`` (``with_new_photoshop_thumbnail``)."""
    out, pos = [], 0
    while pos + 4 <= len(segments):
        end = pos + 2 + int.from_bytes(segments[pos + 2 : pos + 4], "big")
        segment = segments[pos:end]
        if segment[1] == 0xED and segment[4:].startswith(PHOTOSHOP):
            room = 0xFFFF - 2 - len(PHOTOSHOP)
            blocks = with_new_photoshop_thumbnail(segment[4 + len(PHOTOSHOP) :], pixels, limit=room)
            data = PHOTOSHOP + blocks
            segment = b"\xff\xed" + (len(data) + 2).to_bytes(2, "big") + data
        out.append(segment)
        pos = end
    return b"".join(out) + segments[pos:]
