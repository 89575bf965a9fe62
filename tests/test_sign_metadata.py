"""Signing loses nothing a creator's file carried: a JPEG's XMP and comments, a PNG's colour,
resolution and EXIF chunks, the precision of a 16-bit image, a labelled image's alpha."""

from __future__ import annotations

import hashlib
import io
import itertools
import mimetypes
import zlib
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import (
    ExifTags,
    Image,
    ImageCms,
    IptcImagePlugin,
    JpegImagePlugin,
    TiffImagePlugin,
    TiffTags,
)

from provenance import ManifestSpec, SignOptions, TrustPolicy, sign, verify
from provenance._internal import c2pa_adapter
from provenance.cli.inputs import expand_inputs
from provenance.errors import MalformedAssetError, UnsupportedMediaError
from provenance.label import draw_label
from provenance.media import (
    EMBEDDABLE,
    SEGMENT_EXIF,
    _png_chunks,
    decode_plain_jpeg,
    jpeg_kept_segments,
    media_type_of,
    named_media_type,
    output_suffixes,
    png_kept_chunks,
)
from provenance.previews import (
    EXIF_HEADER,
    PHOTOSHOP,
    _resources,
    find_thumbnail,
    fitted_size,
    thumbnail_picture,
    with_new_photoshop_thumbnail,
    with_new_thumbnail,
)
from provenance.sign import prior_credentials
from provenance.watermark import detect_bytes, detect_file, embed_file

from .conftest import png_chunk

AI = ManifestSpec(generator="Acme Diffusion")
WID = 0x12_3456_789A


# -- JPEG: XMP (standard and extended) and comments ---------------------------------------------


def _segment(marker: int, data: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(data) + 2).to_bytes(2, "big") + data


_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_EXTENDED = b"http://ns.adobe.com/xmp/extension/\x00"


def _xmp_segments() -> bytes:
    """XMP as generators and editors write it: IPTC's digital source type and the creator in
    the standard packet, which points (xmpNote:HasExtendedXMP) to an Extended XMP packet of
    100 KB split over two APP1 segments; and two comments."""
    extended = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:acme="http://acme.example/ns/" acme:workflow="'
        + b"n" * 100_000
        + b'"/></rdf:RDF></x:xmpmeta>'
    )
    guid = hashlib.md5(extended).hexdigest().upper().encode()
    standard = (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        b'xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
        b'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
        b'trainedAlgorithmicMedia" xmpNote:HasExtendedXMP="' + guid + b'">'
        b"<dc:creator><rdf:Seq><rdf:li>Ada Example</rdf:li></rdf:Seq></dc:creator>"
        b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    parts = [extended[:60_000], extended[60_000:]]
    return b"".join(
        [
            _segment(0xE1, _XMP + standard),
            *(
                _segment(
                    0xE1,
                    _EXTENDED
                    + guid
                    + len(extended).to_bytes(4, "big")
                    + (60_000 * i).to_bytes(4, "big")
                    + part,
                )
                for i, part in enumerate(parts)
            ),
            _segment(0xFE, b"made with Acme Diffusion 2"),
            _segment(0xFE, "seed 42 — ünïcode".encode()),
        ]
    )


def _jpeg_with_xmp(image: Image.Image) -> bytes:
    """A JPEG with an ICC profile and EXIF (Pillow writes those) and ``_xmp_segments`` after
    them."""
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0131] = "Acme Diffusion"  # Software
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, icc_profile=icc, exif=exif.tobytes())
    data = out.getvalue()
    at = data.index(b"\xff\xdb")  # the first quantisation table: after the APPn segments
    return data[:at] + _xmp_segments() + data[at:]


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
@pytest.mark.parametrize("mode", ["RGB", "L"])  # unlabelled RGB: OpenCV's encode; else Pillow's
def test_a_signed_jpeg_keeps_its_xmp_and_comments(credentials, trusted, photo, mode, label):
    data = _jpeg_with_xmp(Image.open(photo).convert(mode))
    assert (decode_plain_jpeg(data) is not None) is (mode == "RGB")
    kept = _kept(data)
    assert kept.endswith(_xmp_segments())  # after the JFIF density
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    assert _kept(signed) == kept  # every one, byte for byte, once, in order
    with Image.open(io.BytesIO(signed)) as out:
        assert isinstance(out, JpegImagePlugin.JpegImageFile)
        assert b"trainedAlgorithmicMedia" in out.info["xmp"]
        comments = [data for name, data in out.applist if name == "COM"]
        assert comments == [b"made with Acme Diffusion 2", "seed 42 — ünïcode".encode()]
        assert out.info.get("icc_profile") and out.getexif().get(0x0131) == "Acme Diffusion"
        assert [name for name, _ in out.applist].count("APP11") >= 1  # c2pa's, beside them
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


def _kept(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return jpeg_kept_segments(image)


def test_jpeg_kept_segments_are_only_density_xmp_photoshop_and_comments(photo):
    data = _jpeg_with_xmp(Image.open(photo))
    jfif = photo.read_bytes()[2:20]
    assert _kept(photo.read_bytes()) == jfif  # the sample has no XMP or comment
    assert jpeg_kept_segments(Image.new("RGB", (8, 8))) == b""  # not a JPEG
    # An APP1 that is neither EXIF nor XMP, and an APP13 that is not Photoshop's, stay out.
    other = _segment(0xE1, b"http://example.com/other\x00data") + _segment(
        0xED, b"Adobe_CM\x00data"
    )
    photoshop = _segment(0xED, b"Photoshop 3.0\x00" + _iptc_resource())
    at = data.index(b"\xff\xdb")
    with_others = data[:at] + other + photoshop + data[at:]
    assert _kept(with_others) == data[2:20] + _xmp_segments() + photoshop


# -- JPEG: IPTC-IIM (Photoshop's APP13): captions, credit, copyright ----------------------------


def _iptc_resource() -> bytes:
    """A Photoshop image resource block holding IPTC-IIM (resource 0x0404), as Photoshop,
    Lightroom and newsroom tools write it: caption, credit, copyright, keywords."""
    records = b"".join(
        b"\x1c\x02" + bytes((tag,)) + len(value).to_bytes(2, "big") + value
        for tag, value in (
            (120, "A fox in snow — Acme Diffusion".encode()),  # caption/abstract
            (110, b"Acme Newsroom"),  # credit
            (116, b"(c) 2026 Ada Example"),  # copyright notice
            (25, b"fox"),  # keywords
            (25, b"winter"),
        )
    )
    padded = records + b"\x00" * (len(records) % 2)
    return b"8BIM\x04\x04\x00\x00" + len(records).to_bytes(4, "big") + padded


def _iptc(data: bytes) -> dict[tuple[int, int], bytes | list[bytes]] | None:
    """The IPTC-IIM records as Pillow reads them (what a user's tools show)."""
    with Image.open(io.BytesIO(data)) as image:
        return IptcImagePlugin.getiptcinfo(image)


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
@pytest.mark.parametrize("mode", ["RGB", "L"])  # unlabelled RGB: OpenCV's encode; else Pillow's
def test_a_signed_jpeg_keeps_its_iptc(credentials, trusted, photo, mode, label):
    out = io.BytesIO()
    Image.open(photo).convert(mode).save(out, format="JPEG", quality=90)
    data = out.getvalue()
    at = data.index(b"\xff\xdb")
    data = data[:at] + _segment(0xED, b"Photoshop 3.0\x00" + _iptc_resource()) + data[at:]
    before = _iptc(data)
    assert before is not None and before[(2, 116)] == b"(c) 2026 Ada Example"
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    assert _iptc(signed) == before
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
def test_a_photoshop_jpeg_keeps_its_resources_and_stays_progressive(
    credentials, trusted, shared, label
):
    """A real file from Photoshop (c2pa-rs's fixtures): progressive, 4:4:4, with an APP13 of
    image resources. All three stay as they were, but for the thumbnail resource of a
    re-encoded file, made from its pixels."""
    data = (shared / "c2pa-rs" / "sdk" / "tests" / "fixtures" / "no_manifest.jpg").read_bytes()
    with Image.open(io.BytesIO(data)) as before:
        assert isinstance(before, JpegImagePlugin.JpegImageFile)
        resources = [d for name, d in before.applist if name == "APP13"]
        assert before.info.get("progressive") and resources
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    with Image.open(io.BytesIO(signed)) as after:
        assert isinstance(after, JpegImagePlugin.JpegImageFile)
        assert after.info.get("progressive")
        now = [d for name, d in after.applist if name == "APP13"]
        assert [_but_thumbnail(d) for d in now] == [_but_thumbnail(d) for d in resources]
        assert (now == resources) is (label is None)  # unlabelled: its bytes as they were
        assert [(h, v) for _, h, v, _ in after.layer] == [(1, 1)] * 3
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    # This page is almost all white, where the watermark is not found: it is signed without
    # one, unlabelled with its bytes as they were, labelled re-encoded (with the label only).
    # The re-encode of a progressive JPEG with a watermark: test_sign_pipeline.py.


def _photoshop_resources(app13: bytes) -> list[tuple[int, bytes, bytes]]:
    """(id, name, data) of each image resource in a Photoshop APP13's data."""
    assert app13.startswith(PHOTOSHOP)
    resources = _resources(app13[len(PHOTOSHOP) :])
    assert resources is not None
    return resources


def _but_thumbnail(app13: bytes) -> list[tuple[int, bytes, bytes]]:
    return [each for each in _photoshop_resources(app13) if each[0] != 0x040C]


def _photoshop_thumbnail(data: bytes) -> bytes | None:
    """The JPEG of the thumbnail resource (1036) of a JPEG's APP13 (its 28-byte header checked
    against it), or None."""
    with Image.open(io.BytesIO(data)) as image:
        found = [
            resource
            for name, app13 in getattr(image, "applist", [])
            if name == "APP13" and app13.startswith(PHOTOSHOP)
            for rid, _, resource in _photoshop_resources(app13)
            if rid == 0x040C
        ]
    if not found:
        return None
    header, jpeg = found[0][:28], found[0][28:]
    numbers = [int.from_bytes(header[at : at + 4], "big") for at in range(0, 24, 4)]
    with Image.open(io.BytesIO(jpeg)) as picture:
        width, height = picture.size
    row = (width * 24 + 31) // 32 * 4
    assert numbers == [1, width, height, row, row * height, len(jpeg)]
    assert header[24:] == b"\x00\x18\x00\x01"  # 24 bits, one plane
    return jpeg


def _with_jfif(data: bytes, units: int, across: int, down: int, thumbnail: int = 0) -> bytes:
    """``data`` with its JFIF segment replaced: pixel density and an RGB thumbnail's side."""
    assert data[2:4] == b"\xff\xe0"
    end = 4 + int.from_bytes(data[4:6], "big")
    jfif = (
        b"JFIF\x00\x01\x02"
        + bytes((units,))
        + across.to_bytes(2, "big")
        + down.to_bytes(2, "big")
        + bytes((thumbnail, thumbnail))
        + bytes(range(256)) * (thumbnail * thumbnail * 3 // 256)
    )
    return data[:2] + _segment(0xE0, jfif) + data[end:]


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
@pytest.mark.parametrize(
    ("units", "across", "down", "dpi"),
    [(1, 300, 300, (300, 300)), (2, 118, 59, (299.72, 149.86)), (0, 2, 1, None)],
    ids=["300 dpi", "per cm", "aspect only"],
)
def test_a_signed_jpeg_keeps_its_pixel_density(
    credentials, trusted, photo, units, across, down, dpi, label
):
    """JFIF says the pixels' size (DPI, dots per cm, or just their aspect); both encoders wrote
    their own default instead. The density stays; a JFIF thumbnail (the unsigned pixels) goes."""
    out = io.BytesIO()
    Image.open(photo).save(out, format="JPEG", quality=90)
    data = _with_jfif(out.getvalue(), units, across, down, thumbnail=16)
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    with Image.open(io.BytesIO(signed)) as image:
        assert isinstance(image, JpegImagePlugin.JpegImageFile)
        assert image.info["jfif_unit"] == units
        assert image.info["jfif_density"] == (across, down)
        assert image.info.get("dpi") == (pytest.approx(dpi, abs=0.01) if dpi else None)
        assert [name for name, _ in image.applist].count("APP0") == 1
    assert signed[2:20] == _with_jfif(data, units, across, down)[2:20]  # first, no thumbnail
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


# -- PNG: colour space, DPI and EXIF chunks --------------------------------------------------


_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


_EXIF = Image.Exif()
_EXIF[0x0131] = "Acme Diffusion"  # Software
_COLOUR = {
    # Gamma 1/2.2, the sRGB primaries and white point, the perceptual rendering intent, and
    # cICP's BT.709 primaries with the sRGB transfer function, full range.
    "srgb": png_chunk(b"gAMA", (45455).to_bytes(4, "big"))
    + png_chunk(
        b"cHRM",
        b"".join(
            v.to_bytes(4, "big") for v in (31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)
        ),
    )
    + png_chunk(b"sRGB", b"\x00")
    + png_chunk(b"cICP", bytes((1, 13, 0, 1))),
    "icc": png_chunk(b"iCCP", b"Acme sRGB\x00\x00" + zlib.compress(_ICC)),
}
#: 300 DPI (11811 pixels per metre), and the EXIF.
_PHYS_EXIF = png_chunk(b"pHYs", (11811).to_bytes(4, "big") * 2 + b"\x01") + png_chunk(
    b"eXIf", _EXIF.tobytes()
)


def _png_with(image: Image.Image, chunks: bytes) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    at = 8 + 25  # after the signature and IHDR: where the colour chunks belong
    return data[:at] + chunks + data[at:]


def _kinds(png: bytes) -> list[bytes]:
    return [kind for kind, _, _ in _png_chunks(png)]


@pytest.mark.parametrize("colour", ["srgb", "icc"])
@pytest.mark.parametrize(
    ("mode", "label"),
    # RGB(A): OpenCV's PNG encode; L and a labelled palette image (written as RGB): Pillow's.
    # (An unlabelled palette image is signed as it is, without a re-encode.)
    [("RGB", None), ("RGB", "AI"), ("RGBA", None), ("RGBA", "AI"), ("L", None), ("P", "AI")],
)
def test_a_signed_png_keeps_its_colour_dpi_and_exif(
    credentials, trusted, photo, mode, label, colour
):
    image = Image.open(photo).convert(mode)
    chunks = _COLOUR[colour] + _PHYS_EXIF + png_chunk(b"tEXt", b"Software\x00Acme Diffusion 2")
    data = _png_with(image, chunks)
    assert png_kept_chunks(data) == chunks
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    assert png_kept_chunks(signed) == chunks  # every one, byte for byte, once, in order
    kinds = _kinds(signed)
    first = min(kinds.index(k) for k in (b"PLTE", b"IDAT") if k in kinds)
    assert all(kinds.index(k) < first for k in _kinds(b"\x89PNG\r\n\x1a\n" + chunks))
    with Image.open(io.BytesIO(signed)) as out:
        assert out.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert out.getexif().get(0x0131) == "Acme Diffusion"
        if colour == "srgb":
            assert out.info["gamma"] == pytest.approx(0.45455)
            assert out.info["srgb"] == 0 and len(out.info["chromaticity"]) == 8
        else:
            assert out.info["icc_profile"] == _ICC
    # libpng (OpenCV) reads it without complaint: chunks in their place, CRCs right.
    assert cv2.imdecode(np.frombuffer(signed, np.uint8), cv2.IMREAD_UNCHANGED) is not None
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


def test_png_kept_chunks_keeps_the_first_of_a_chunk_allowed_once(photo):
    gamma = png_chunk(b"gAMA", (45455).to_bytes(4, "big"))
    again = png_chunk(b"gAMA", (100000).to_bytes(4, "big"))
    data = _png_with(Image.open(photo), gamma + again + png_chunk(b"tIME", bytes(7)))
    assert png_kept_chunks(data) == gamma  # tIME: signing changes the image


# -- 16-bit colour images: Pillow decodes them to 8 bits --------------------------------------


def _sixteen_bit(photo, channels: int, ext: str) -> bytes:
    """A 16-bit image whose low 8 bits say something, with ``channels`` channels, as ``ext``."""
    rgb = np.asarray(Image.open(photo).convert("RGB").resize((320, 320)), np.uint16) << 8
    rgb[..., 0] |= np.arange(320, dtype=np.uint16)[None, :] % 256
    if channels == 2:  # OpenCV writes no grey+alpha PNG (and Pillow only 8-bit ones)
        return _png16_grey_alpha(np.dstack([rgb[..., 1], rgb[..., 0]]))
    ok, encoded = cv2.imencode(ext, rgb if channels == 3 else np.dstack([rgb, rgb[..., 0]]))
    assert ok
    return encoded.tobytes()


def _png16_grey_alpha(pixels: np.ndarray) -> bytes:
    """A 16-bit grey+alpha PNG (colour type 4), unfiltered."""
    height, width = pixels.shape[:2]
    rows = pixels.astype(">u2").reshape(height, width * 2)
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows.view(np.uint8)]).tobytes()
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes((16, 4, 0, 0, 0))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def _decoded16(data: bytes) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert pixels is not None and pixels.dtype == np.uint16
    return pixels


@pytest.mark.parametrize(
    ("channels", "ext"),
    [(3, ".png"), (4, ".png"), (2, ".png"), (3, ".tif"), (4, ".tif")],
    ids=["RGB PNG", "RGBA PNG", "grey+alpha PNG", "RGB TIFF", "RGBA TIFF"],
)
def test_a_16_bit_colour_image_is_signed_as_it_is(
    tmp_path, credentials, trusted, photo, channels, ext
):
    """Pillow decodes these to 8 bits per channel: re-encoded, they lost their low 8 bits,
    silently. They are signed as 16-bit greyscale is: without a watermark, with a note, their
    pixels untouched; a label is refused; ``watermark embed`` refuses them."""
    data = _sixteen_bit(photo, channels, ext)
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode in ("RGB", "RGBA", "LA")  # what Pillow makes of them
    result = sign(data, credentials, SignOptions(AI, watermark_id=WID))
    assert result.watermark is None
    assert result.notes == ["no watermark: images of more than 8 bits per channel cannot carry one"]
    assert result.asset is not None
    assert np.array_equal(_decoded16(result.asset), _decoded16(data))
    assert verify(result.asset, policy=trusted).credentials.state == "Trusted"
    with pytest.raises(UnsupportedMediaError, match="more than 8 bits per channel"):
        sign(data, credentials, SignOptions(AI, label="AI"))
    source = tmp_path / f"in{ext}"
    source.write_bytes(data)
    with pytest.raises(UnsupportedMediaError, match="more than 8 bits per channel"):
        embed_file(source, tmp_path / f"out{ext}", WID)


def _mdat(avif: bytes) -> bytes:
    """The media data box of an AVIF (ISO BMFF): the coded image."""
    at = 0
    while at < len(avif):
        size = int.from_bytes(avif[at : at + 4], "big")
        if avif[at + 4 : at + 8] == b"mdat":
            return avif[at : at + size]
        at += size
    raise AssertionError("no mdat box")


@pytest.mark.parametrize("depth", [10, 12])
def test_a_deep_avif_is_signed_as_it_is(tmp_path, credentials, trusted, photo, depth):
    """Pillow decodes a 10- or 12-bit AVIF (HDR, wide gamut) to 8 bits and writes 8 bits (so
    does pillow-avif-plugin): re-encoded, it came out 8-bit, silently. It is signed as a 16-bit
    PNG is: its pixels untouched, without a watermark, and the note says why."""
    rgb = np.asarray(Image.open(photo).convert("RGB").resize((320, 320)), np.uint16)
    deep = (rgb << (depth - 8)) | (
        np.arange(320, dtype=np.uint16)[None, :, None] % (1 << (depth - 8))
    )
    ok, encoded = cv2.imencode(
        ".avif", deep[..., ::-1], [cv2.IMWRITE_AVIF_DEPTH, depth, cv2.IMWRITE_AVIF_QUALITY, 100]
    )
    assert ok
    data = encoded.tobytes()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "AVIF" and image.mode == "RGB"  # what Pillow makes of it
    result = sign(data, credentials, SignOptions(AI, watermark_id=WID))
    assert result.watermark is None
    assert result.notes == ["no watermark: images of more than 8 bits per channel cannot carry one"]
    assert result.asset is not None
    # The coded image is the one given, byte for byte (c2pa adds its box beside it; OpenCV's
    # AVIF decoder reads no signed AVIF, 8-bit or not, so the depth is not read back here).
    assert _mdat(result.asset) == _mdat(data)
    with Image.open(io.BytesIO(result.asset)) as out, Image.open(io.BytesIO(data)) as original:
        assert np.array_equal(np.asarray(out), np.asarray(original))
    assert verify(result.asset, policy=trusted).credentials.state == "Trusted"
    with pytest.raises(UnsupportedMediaError, match="more than 8 bits per channel"):
        sign(data, credentials, SignOptions(AI, label="AI"))
    source = tmp_path / "in.avif"
    source.write_bytes(data)
    with pytest.raises(UnsupportedMediaError, match="more than 8 bits per channel"):
        embed_file(source, tmp_path / "out.avif", WID)


def test_an_8_bit_avif_is_still_watermarked(credentials, photo):
    ok, encoded = cv2.imencode(".avif", np.asarray(Image.open(photo))[..., ::-1])
    assert ok
    result = sign(encoded.tobytes(), credentials, SignOptions(AI, watermark_id=WID))
    assert result.notes == [] and result.asset is not None
    assert detect_bytes(result.asset).identifier == WID


# -- a label keeps the image's transparency ----------------------------------------------------


def _alpha_gradient(size: tuple[int, int]) -> Image.Image:
    return Image.linear_gradient("L").resize(size)


def _transparent(photo, kind: str) -> Image.Image:
    image = Image.open(photo).resize((600, 400))
    if kind == "LA":
        image = image.convert("LA")
        image.putalpha(_alpha_gradient(image.size))
        return image
    # A palette with a transparent entry (tRNS), as PNG and GIF hold them.
    image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=255)
    palette = image.getpalette() or []
    pixels = np.asarray(image).copy()
    pixels[:100] = 255  # the top quarter: the transparent entry
    image = Image.fromarray(pixels, "P")
    image.putpalette(palette + [0, 0, 0] * (256 - len(palette) // 3))
    image.info["transparency"] = 255
    return image


def _alpha(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGBA").getchannel("A"))


@pytest.mark.parametrize(
    ("kind", "fmt", "label"),
    [
        ("LA", "PNG", "AI"),
        ("LA", "PNG", None),  # the watermark alone dropped the alpha of grey+alpha too
        ("LA", "TIFF", "AI"),
        ("P", "PNG", "AI"),
        ("P", "GIF", "AI"),
    ],
)
def test_a_signed_image_keeps_its_transparency(credentials, trusted, photo, kind, fmt, label):
    image = _transparent(photo, kind)
    out = io.BytesIO()
    image.save(out, format=fmt, transparency=image.info.get("transparency"))
    data = out.getvalue()
    before = _alpha(data)
    assert before.min() == 0 and before.max() == 255
    result = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID))
    assert result.asset is not None
    top = slice(0, 300)  # above the label, at the bottom-left
    assert np.array_equal(_alpha(result.asset)[top], before[top])
    with Image.open(io.BytesIO(result.asset)) as signed:
        assert signed.mode == {"LA": "LA", "P": "RGBA"}[kind] or fmt == "GIF"
    assert verify(result.asset, policy=trusted).credentials.state == "Trusted"
    if fmt != "GIF":  # (a GIF's palette cannot carry a watermark)
        assert detect_bytes(result.asset).identifier == WID


@pytest.mark.parametrize("mode", ["LA", "PA", "RGBA"])
def test_draw_label_keeps_alpha(photo, mode):
    image = Image.open(photo).convert("RGBA")
    image.putalpha(_alpha_gradient(image.size))
    image = image.convert(mode)
    labelled = draw_label(image, "AI")
    assert labelled.mode == {"LA": "LA"}.get(mode, "RGBA")
    top = (0, 0, image.width, image.height // 2)
    want = np.asarray(image.convert("RGBA").getchannel("A").crop(top))
    assert np.array_equal(np.asarray(labelled.convert("RGBA").getchannel("A").crop(top)), want)


# -- errors name the file -------------------------------------------------------------------


def test_an_undecodable_image_error_names_the_file(tmp_path, photo):
    out = io.BytesIO()
    Image.open(photo).save(out, format="TIFF", compression="tiff_lzw")
    source = tmp_path / "scan.tif"
    source.write_bytes(out.getvalue()[:200])  # a TIFF header, and its directory cut off
    with pytest.raises(MalformedAssetError) as caught:
        detect_file(source)
    message = str(caught.value)
    assert "BytesIO" not in message and " at 0x" not in message
    assert message.startswith(f"{source}: cannot decode the image (")


# -- file names: the same on every machine ------------------------------------------------------

_SUFFIXES = {
    "image/jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "image/png": {".png"},
    "image/webp": {".webp"},
    "image/tiff": {".tif", ".tiff"},
    "image/gif": {".gif"},
    "image/avif": {".avif"},
    "image/heic": {".heic"},
    "image/heif": {".heif", ".heic", ".hif"},
    "image/jxl": {".jxl"},
    "image/svg+xml": {".svg"},
    "image/x-adobe-dng": {".dng"},
    "video/mp4": {".mp4", ".m4v"},
    "video/quicktime": {".mov", ".qt"},
    "video/x-msvideo": {".avi"},
    "audio/wav": {".wav"},
    "audio/mpeg": {".mp3"},
    "audio/mp4": {".m4a"},
    "audio/flac": {".flac"},
    "application/pdf": {".pdf"},
}


def test_file_names_do_not_depend_on_the_machines_mime_types(monkeypatch, tmp_path):
    """``mimetypes`` reads /etc/mime.types: directory scans and name checks differed between
    machines. A machine whose table knows nothing, or other names, changes nothing."""

    def elsewhere(*_: object, **__: object) -> object:
        raise AssertionError("the machine's MIME table was read")

    for function in ("guess_type", "guess_all_extensions", "guess_extension"):
        monkeypatch.setattr(mimetypes, function, elsewhere)
    assert {t: set(output_suffixes(t)) for t in EMBEDDABLE} == _SUFFIXES
    assert output_suffixes("text/plain") == frozenset()
    for media_type, suffixes in _SUFFIXES.items():
        for suffix in suffixes - ({".heic"} if media_type == "image/heif" else set()):
            assert named_media_type(f"x{suffix.upper()}") == media_type
            assert media_type_of(b"", f"x{suffix.upper()}") == media_type  # an output's type
    for name in ("a.jpg", "b.webp", "c.flac", "d.mpga", "e.svgz", "f.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p, _ in expand_inputs([tmp_path])] == ["a.jpg", "b.webp", "c.flac"]


# -- judging a file's own credentials: one Context per process ----------------------------------


def test_reading_a_files_own_credentials_reuses_the_process_context(
    monkeypatch, credentials, photo
):
    """Each read made a c2pa Context of its own, parsing the trust lists' certificates again;
    the settings are the verifier's (``TrustPolicy.from_env``), whose Context each process
    makes once."""
    signed = sign(photo.read_bytes(), credentials, SignOptions(AI)).asset
    assert signed is not None
    assert prior_credentials(signed, "image/jpeg", "a") is not None  # the Context is made
    made: list[object] = []
    real = c2pa_adapter.new_context

    def counted(settings: dict[str, Any]) -> Any:
        made.append(settings)
        return real(settings)

    monkeypatch.setattr(c2pa_adapter, "new_context", counted)
    for data in (signed, photo.read_bytes(), signed):
        prior_credentials(data, "image/jpeg", "a")
    assert made == []
    assert TrustPolicy.from_env(allow_remote=False).context() is TrustPolicy.from_env().context()


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
@pytest.mark.parametrize("fmt", ["WEBP", "AVIF"])
def test_a_signed_webp_or_avif_keeps_its_xmp(credentials, trusted, photo, fmt, label):
    xmp = _xmp_segments()[4 + len(_XMP) :].split(b"\xff\xe1")[0]  # the standard packet
    out = io.BytesIO()
    Image.open(photo).save(out, format=fmt, xmp=xmp, quality=90)
    signed = sign(out.getvalue(), credentials, SignOptions(AI, label=label, watermark_id=WID))
    assert signed.asset is not None
    with Image.open(io.BytesIO(signed.asset)) as image:
        assert image.info["xmp"] == xmp
    assert verify(signed.asset, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed.asset).identifier == WID


# -- TIFF: resolution, IPTC-IIM, Photoshop and XMP tags ------------------------------------------


def _iptc_records() -> bytes:
    resource = _iptc_resource()
    return resource[12 : 12 + int.from_bytes(resource[8:12], "big")]


def _tiff_with_tags(image: Image.Image, iptc_type: int) -> bytes:
    """A TIFF as Photoshop and DAM tools write them: 300 DPI, XMP, IPTC-IIM (typed UNDEFINED,
    or LONG as Photoshop types it), Photoshop's image resources, LZW."""
    xmp = _xmp_segments()[4 + len(_XMP) :].split(b"\xff\xe1")[0]
    records = _iptc_records()
    records += b"\x00" * (-len(records) % 4)  # LONG: whole 4-byte numbers
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[700], tags.tagtype[700] = xmp, TiffTags.BYTE
    tags[33723], tags.tagtype[33723] = records, TiffTags.UNDEFINED
    tags[34377], tags.tagtype[34377] = _iptc_resource(), TiffTags.BYTE
    out = io.BytesIO()
    image.save(out, format="TIFF", dpi=(300, 300), tiffinfo=tags, compression="tiff_lzw")
    data = out.getvalue()
    if iptc_type == TiffTags.LONG:  # Pillow writes no such tag: its directory entry, retyped
        entry = (33723).to_bytes(2, "little") + (TiffTags.UNDEFINED).to_bytes(2, "little")
        at = data.index(entry + len(records).to_bytes(4, "little"))
        retyped = (TiffTags.LONG).to_bytes(2, "little") + (len(records) // 4).to_bytes(4, "little")
        data = data[: at + 2] + retyped + data[at + 8 :]
    return data


@pytest.mark.parametrize(
    "iptc_type", [TiffTags.UNDEFINED, TiffTags.LONG], ids=["IPTC", "LONG IPTC"]
)
@pytest.mark.parametrize(
    ("mode", "label"),
    # Unlabelled RGB: Pillow saves the image it opened (it keeps some tags itself); L, and any
    # labelled image: a new image, which kept none.
    [("RGB", None), ("RGB", "AI"), ("L", None), ("L", "AI")],
)
def test_a_signed_tiff_keeps_its_resolution_xmp_and_iptc(
    credentials, trusted, photo, mode, label, iptc_type
):
    data = _tiff_with_tags(Image.open(photo).convert(mode), iptc_type)
    with Image.open(io.BytesIO(data)) as before:
        assert isinstance(before, TiffImagePlugin.TiffImageFile)
        xmp, photoshop = before.tag_v2[700], before.tag_v2[34377]
        iptc = IptcImagePlugin.getiptcinfo(before)
        assert before.tag_v2.tagtype[33723] == iptc_type
        assert iptc is not None and iptc[(2, 116)] == b"(c) 2026 Ada Example"
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    with Image.open(io.BytesIO(signed)) as after:
        assert isinstance(after, TiffImagePlugin.TiffImageFile)
        assert after.info["dpi"] == pytest.approx((300, 300))
        assert after.tag_v2[700] == xmp and after.tag_v2[34377] == photoshop
        assert IptcImagePlugin.getiptcinfo(after) == iptc
        assert after.info["compression"] == "tiff_lzw"
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


# -- a labelled CMYK image: its colours through its own profile --------------------------------


def _s15(value: float) -> bytes:
    return round(value * 65536).to_bytes(4, "big", signed=True)


def _cmyk_profile() -> bytes:
    """A real CMYK ICC profile (v2 output profile, CMYK to Lab through a 2-point-per-ink lut16)
    whose inks are not the plain complements of RGB that Pillow's conversion assumes: its cyan
    absorbs blue and its yellow red. LittleCMS converts through it like any printer's profile."""
    corners = list(itertools.product((0, 1), repeat=4))  # C, M, Y, K; the last varies fastest
    rgb = Image.new("RGB", (len(corners), 1))
    for i, (c, m, y, k) in enumerate(corners):
        rgb.putpixel((i, 0), tuple(round(255 * (1 - ink) * (1 - k)) for ink in (y, m, c)))
    srgb, lab = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
    lab_corners = np.asarray(ImageCms.profileToProfile(rgb, srgb, lab, outputMode="LAB"))[0]
    # lut16 Lab: L 0-100 as 0-0xFF00, a and b (+128) times 256.
    clut = b"".join(
        (round(L / 255 * 0xFF00) << 32 | int(a) << 24 | int(b) << 8).to_bytes(6, "big")
        for L, a, b in lab_corners
    )
    ramp = (0).to_bytes(2, "big") + (0xFFFF).to_bytes(2, "big")
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    a2b0 = b"mft2" + bytes(4) + bytes((4, 3, 2, 0)) + identity + bytes((0, 2, 0, 2))
    a2b0 += ramp * 4 + clut + ramp * 3
    name = b"Acme CMYK"
    desc = b"desc" + bytes(4) + (len(name) + 1).to_bytes(4, "big") + name + bytes(1 + 8 + 3 + 67)
    d50 = _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    tags = [(b"desc", desc), (b"wtpt", b"XYZ " + bytes(4) + d50), (b"A2B0", a2b0)]
    at, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + (at + len(body)).to_bytes(4, "big") + len(data).to_bytes(4, "big")
        body += data
    header = (at + len(body)).to_bytes(4, "big") + b"lcms" + bytes((2, 0x10, 0, 0))
    header += b"prtr" + b"CMYK" + b"Lab " + bytes(12) + b"acsp" + bytes(28) + d50
    header += bytes(128 - len(header))
    return header + len(tags).to_bytes(4, "big") + table + body


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
@pytest.mark.parametrize("profile", [True, False], ids=["with its profile", "without"])
def test_a_labelled_cmyk_image_is_rgb_in_the_colours_its_profile_gives(
    credentials, trusted, photo, fmt, profile
):
    """A label makes a CMYK image RGB. Its colours were Pillow's plain conversion, and the
    CMYK profile stayed on the RGB pixels (colour-managed viewers showed wrong colours). They
    are now converted through the profile, and the RGB file carries no CMYK profile."""
    icc = _cmyk_profile()
    out = io.BytesIO()
    Image.open(photo).convert("CMYK").save(out, format=fmt, icc_profile=icc if profile else None)
    cmyk = Image.open(io.BytesIO(out.getvalue()))  # as decoded (JPEG: after its losses)
    assert cmyk.mode == "CMYK"
    as_viewed = cmyk.convert("RGB")  # without a profile: Pillow's plain conversion
    if profile:
        through = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(cmyk, through, srgb, outputMode="RGB")
        assert converted is not None
        as_viewed = converted
    assert _mean_difference(as_viewed, cmyk.convert("RGB")) > 20 or not profile
    signed = sign(out.getvalue(), credentials, SignOptions(AI, label="AI", watermark_id=WID))
    assert signed.asset is not None
    with Image.open(io.BytesIO(signed.asset)) as image:
        assert image.mode == "RGB"
        assert image.info.get("icc_profile") is None
        top = (0, 0, image.width, image.height * 3 // 4)  # above the label
        # (A JPEG re-encode alone, at quality 95 and 4:2:0, is ~4.5 off these colours.)
        assert _mean_difference(image.crop(top), as_viewed.crop(top)) < 6
    assert verify(signed.asset, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed.asset).identifier == WID


def test_a_pdf_with_bytes_before_its_header_is_read_as_pdf_readers_read_it(credentials, trusted):
    """A PDF whose ``%PDF-`` came after a few other bytes (a mail gateway's, a spooler's) was
    refused as "bytes in no format this tool reads". Acrobat takes a header anywhere in the
    first 1024 bytes, and c2pa reads and signs such a file: so does this tool now."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(out, format="PDF")
    pdf = b"\x00junk from a mail gateway\r\n" + out.getvalue()
    assert media_type_of(pdf, "report.pdf") == "application/pdf"
    assert verify(pdf, policy=trusted).credentials.present is False
    signed = sign(pdf, credentials, SignOptions(AI)).asset or b""
    assert signed.startswith(b"%PDF-")  # c2pa writes it back from its header on
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    # Further on, "%PDF-" is no header: the bytes are still in no format.
    with pytest.raises(UnsupportedMediaError, match="are not PDF"):
        media_type_of(b"\x00" * 1024 + out.getvalue(), "report.pdf")


# -- EXIF: IFD1's thumbnail shows the signed pixels ----------------------------------------------


def _exif_thumbnail(data: bytes) -> tuple[bytes, int, int, bytes] | None:
    """A file's EXIF block (as Pillow gives it), its IFD1 thumbnail's offset and length (from
    the TIFF header) and that thumbnail's bytes, as viewers find it; None without one."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.info.get("exif") or b""
        ifd1 = image.getexif().get_ifd(ExifTags.IFD.IFD1)
    if 0x0201 not in ifd1:
        return None
    tiff = 6 if exif.startswith(EXIF_HEADER) else 0
    offset, length = ifd1[0x0201], ifd1[0x0202]
    return exif, offset, length, exif[tiff + offset : tiff + offset + length]


def _label_pixels(a: Image.Image, b: Image.Image) -> int:
    """How many pixels of two pictures of one size stand far apart where the label goes
    (bottom left): its white letters, which resampling and JPEG do not make."""
    box = (0, a.height * 4 // 5, a.width // 2, a.height)
    near, far = (np.asarray(p.crop(box).convert("L"), np.int16) for p in (a, b))
    return int((np.abs(near - far) > 64).sum())


def _assert_shows(thumbnail: bytes, signed: bytes, size: tuple[int, int]) -> Image.Image:
    """The thumbnail is a JPEG of ``size`` showing the signed file's pixels (stored orientation)."""
    with Image.open(io.BytesIO(thumbnail)) as picture, Image.open(io.BytesIO(signed)) as image:
        assert picture.format == "JPEG" and picture.size == size
        picture.load()
        expected = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        assert _mean_difference(picture.convert("RGB"), expected) < 8  # resampling, JPEG
        return picture.convert("RGB")


def _assert_only_thumbnail_changed(before: bytes, after: bytes, offset: int, length: int) -> None:
    """Every byte of ``after``'s EXIF block up to where ``before``'s thumbnail ended is as it
    was, but IFD1's two entries that locate the thumbnail (and its old bytes, zeroed if it
    moved): maker notes and sub-IFDs keep their offsets."""
    found = find_thumbnail(before)
    assert found is not None
    moved = after[found.tiff + offset : found.tiff + offset + 2] != b"\xff\xd8"
    expected = bytearray(before)
    for entry in (found.offset_entry, found.length_entry):
        expected[entry + 2 : entry + 12] = after[entry + 2 : entry + 12]
    if moved:
        expected[found.tiff + offset : found.tiff + offset + length] = bytes(length)
    end = found.tiff + offset + (length if moved else 0)
    assert after[:end] == bytes(expected[:end])


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
@pytest.mark.parametrize(
    "fixture",
    # At the end of the EXIF block; with other bytes after it; a rotated photo (orientation 6).
    ["earth_apollo17.jpg", "cloud.jpg", "no_alg.jpg"],
)
def test_a_signed_jpegs_exif_thumbnail_shows_the_signed_pixels(
    credentials, trusted, shared, fixture, label
):
    """File browsers and galleries show IFD1's thumbnail: it was the original's, without the
    label (and the watermark). It is made again from the signed pixels, at its own size and in
    the stored orientation, and nothing else in the EXIF block moves."""
    data = (shared / "c2pa-rs" / "sdk" / "tests" / "fixtures" / fixture).read_bytes()
    found = _exif_thumbnail(data)
    assert found is not None
    exif, offset, length, old = found
    with Image.open(io.BytesIO(old)) as picture, Image.open(io.BytesIO(data)) as image:
        size = picture.size
        unsigned = thumbnail_picture(image, size)  # the original's pixels, made alike
    options = SignOptions(AI, label=label, watermark_id=WID, drop_credentials=True)
    signed = sign(data, credentials, options).asset
    assert signed is not None
    now = _exif_thumbnail(signed)
    assert now is not None
    new_exif, _, _, thumbnail = now
    assert thumbnail != old
    shown = _assert_shows(thumbnail, signed, size)
    # The label shows in the preview (a dark box with white text), as it does in the image.
    assert (_label_pixels(shown, unsigned) > 10) is (label is not None)
    _assert_only_thumbnail_changed(exif, new_exif, offset, length)
    # Photoshop's own thumbnail (earth_apollo17.jpg and cloud.jpg have one) likewise.
    if (photoshop := _photoshop_thumbnail(data)) is not None:
        with Image.open(io.BytesIO(photoshop)) as picture:
            photoshop_size = picture.size
        remade = _photoshop_thumbnail(signed)
        assert remade is not None and remade != photoshop
        shown = _assert_shows(remade, signed, photoshop_size)
        with Image.open(io.BytesIO(data)) as image:
            unsigned = thumbnail_picture(image, photoshop_size)
        assert (_label_pixels(shown, unsigned) > 10) is (label is not None)
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(signed)) as after:
        for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
            # (repr: a NaN rational, as no_alg.jpg has, is unequal to itself)
            assert repr(after.getexif().get_ifd(ifd)) == repr(before.getexif().get_ifd(ifd))
        assert repr(dict(after.getexif())) == repr(dict(before.getexif()))  # IFD0
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


def _camera_exif(thumbnail: bytes, *, after: bytes = b"") -> bytes:
    """An EXIF block (little-endian TIFF, without the APP1 header) laid out as cameras write
    it: IFD0 (Make, a link to the Exif IFD), the Exif IFD with a maker note that holds an
    offset into the block (as Nikon's and Canon's notes do), then IFD1 and its
    JPEG thumbnail, then ``after``."""

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        return (
            tag.to_bytes(2, "little")
            + kind.to_bytes(2, "little")
            + count.to_bytes(4, "little")
            + value.to_bytes(4, "little")
        )

    make = b"Acme\x00\x00"  # at 38 (ASCII, 5 bytes and a pad)
    ifd0 = (2).to_bytes(2, "little") + entry(0x010F, 2, 5, 38) + entry(0x8769, 4, 1, 44)
    ifd0 += (120).to_bytes(4, "little")  # IFD1
    exif_ifd = (1).to_bytes(2, "little") + entry(0x927C, 7, 16, 62) + bytes(4)  # at 44
    note = b"ACMENOTE" + (38).to_bytes(4, "little") + b"\x01\x02\x03\x04"  # at 62, 16 bytes
    ifd1 = (
        (3).to_bytes(2, "little")
        + entry(0x0103, 3, 1, 6)
        + entry(0x0201, 4, 1, 162)
        + entry(0x0202, 4, 1, len(thumbnail))
        + bytes(4)
    )
    free = bytes(42)  # 78..120: unused (as between a camera's blocks)
    block = b"II*\x00" + (8).to_bytes(4, "little") + ifd0 + make + exif_ifd + note + free
    assert len(block) == 120
    block += ifd1
    assert len(block) == 162
    return block + thumbnail + after


def _jpeg_thumbnail(colour: tuple[int, int, int], size: tuple[int, int] = (160, 106)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=80)
    return out.getvalue()


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "AVIF"])
def test_exif_thumbnail_is_made_again_in_every_format_keeping_maker_notes(
    credentials, trusted, photo, fmt, label
):
    """A JPEG (OpenCV's encode unlabelled, Pillow's labelled), a PNG (its eXIf chunk kept byte
    for byte), a WebP and an AVIF carry an EXIF thumbnail that is nothing like the image (magenta):
    each signed file's shows the signed pixels, and the maker note's bytes and offset hold."""
    old = _jpeg_thumbnail((255, 0, 255))
    block = _camera_exif(old)
    image = Image.open(photo).convert("RGB").resize((480, 320))
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, format="PNG")
        data = _png_with(image, png_chunk(b"eXIf", block))
    else:
        image.save(out, format=fmt, quality=90, exif=EXIF_HEADER + block)
        data = out.getvalue()
    assert _exif_thumbnail(data) is not None
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    now = _exif_thumbnail(signed)
    assert now is not None
    new_block, _, _, thumbnail = now
    _assert_shows(thumbnail, signed, (160, 106))
    _assert_only_thumbnail_changed(block, new_block.removeprefix(EXIF_HEADER), 162, len(old))
    with Image.open(io.BytesIO(signed)) as after:
        exif = after.getexif()
        assert exif[0x010F] == "Acme"
        assert exif.get_ifd(ExifTags.IFD.Exif)[0x927C] == block[62:78]
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_watermark_embed_makes_the_exif_thumbnail_again(tmp_path, shared, suffix):
    """``provenance watermark embed`` re-encodes the pixels as signing does: the thumbnail of
    its output (a JPEG, or a PNG written from one) shows them too."""
    source = shared / "c2pa-rs" / "sdk" / "tests" / "fixtures" / "earth_apollo17.jpg"
    output = tmp_path / f"marked{suffix}"
    embed_file(source, output, WID)
    now = _exif_thumbnail(output.read_bytes())
    assert now is not None
    _assert_shows(now[3], output.read_bytes(), (160, 160))
    assert detect_file(output).identifier == WID


def test_exif_thumbnail_unlinked_where_a_new_one_cannot_be_made(photo):
    """IFD1 pointing to no JPEG (or one no thumbnail's size), or a block a new thumbnail would
    push past one APP1 segment:
    IFD1 is unlinked and the old thumbnail's bytes zeroed (no preview rather than a false
    one), the rest as it was. A block without IFD1 stays as it is."""
    pixels = Image.open(photo).convert("RGB")
    not_jpeg = b"\x00\x01not a jpeg" * 10
    huge = _jpeg_thumbnail((0, 0, 0), (16, 16))
    huge = huge.replace(
        b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10", b"\xff\xc0\x00\x11\x08\xff\xff\x00\x10"
    )
    assert Image.open(io.BytesIO(huge)).size == (16, 65535)
    for block in (
        _camera_exif(not_jpeg),
        _camera_exif(huge),  # its header says 16x65535: no thumbnail's size
        _camera_exif(_jpeg_thumbnail((0, 0, 0)), after=bytes(SEGMENT_EXIF - 2_000)),
    ):
        found = find_thumbnail(block)
        assert found is not None
        new = with_new_thumbnail(block, pixels)
        assert len(new) == len(block)
        assert new[found.link : found.link + 4] == bytes(4)  # IFD0 links to no IFD1
        assert new[162 : 162 + found.length] == bytes(found.length)
        assert new[: found.link] == block[: found.link]
        assert new[162 + found.length :] == block[162 + found.length :]
        exif = Image.Exif()
        exif.load(new)
        assert exif.get_ifd(ExifTags.IFD.IFD1) == {} and exif[0x010F] == "Acme"
    without = _camera_exif(b"")[:116] + bytes(4)  # IFD0's link to IFD1 is 0
    assert find_thumbnail(without) is None and with_new_thumbnail(without, pixels) == without


def test_exif_thumbnail_keeps_its_size_letterboxed_as_cameras_do():
    """A 3:2 photo in a 160x120 thumbnail (DCF): scaled to fit and centred on black; a
    thumbnail of the image's own shape is filled."""
    red = Image.new("RGB", (600, 400), (255, 0, 0))
    boxed = thumbnail_picture(red, (160, 120))
    assert boxed.size == (160, 120)
    assert boxed.getpixel((80, 2)) == (0, 0, 0) and boxed.getpixel((80, 60)) == (255, 0, 0)
    assert fitted_size((600, 400), (160, 107)) == (160, 107)
    assert fitted_size((1071, 1428), (89, 119)) == (89, 119)  # cards_trusted.jpg's
    array = np.zeros((400, 600, 3), np.uint8)
    assert thumbnail_picture(array, (160, 120)).size == (160, 120)


def _thumbnail_resource(jpeg: bytes, size: tuple[int, int], rid: int = 0x040C) -> bytes:
    """A Photoshop thumbnail resource block (1036, or 1033) holding ``jpeg`` of ``size``."""
    width, height = size
    row = (width * 24 + 31) // 32 * 4
    numbers = (1, width, height, row, row * height, len(jpeg))
    data = b"".join(n.to_bytes(4, "big") for n in numbers) + b"\x00\x18\x00\x01" + jpeg
    return (
        b"8BIM" + rid.to_bytes(2, "big") + b"\x00\x00" + len(data).to_bytes(4, "big") + data
    ) + bytes(len(data) % 2)


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
def test_a_signed_tiffs_photoshop_thumbnail_shows_the_signed_pixels(
    credentials, trusted, photo, label
):
    """A TIFF's Photoshop resources (tag 34377) hold a thumbnail (magenta, nothing like the
    image): it is made again from the signed pixels; the IPTC resource beside it stays."""
    magenta = _jpeg_thumbnail((255, 0, 255), (160, 107))
    resources = _iptc_resource() + _thumbnail_resource(magenta, (160, 107))
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[34377], tags.tagtype[34377] = resources, TiffTags.BYTE
    out = io.BytesIO()
    Image.open(photo).convert("RGB").resize((480, 320)).save(out, format="TIFF", tiffinfo=tags)
    signed = sign(out.getvalue(), credentials, SignOptions(AI, label=label, watermark_id=WID))
    assert signed.asset is not None
    with Image.open(io.BytesIO(signed.asset)) as image:
        assert isinstance(image, TiffImagePlugin.TiffImageFile)
        now = _resources(image.tag_v2[34377])
    assert now is not None
    before = _resources(resources) or []
    assert [r for r in now if r[0] != 0x040C] == [r for r in before if r[0] != 0x040C]
    (thumbnail,) = [data for rid, _, data in now if rid == 0x040C]
    _assert_shows(thumbnail[28:], signed.asset, (160, 107))
    assert verify(signed.asset, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed.asset).identifier == WID


def test_photoshop_thumbnail_left_out_where_it_cannot_be_made(photo):
    """Resources that do not parse stay as they are; a thumbnail that would not fit in the
    APP13 (or whose header gives no size) is left out, the other resources kept; the old
    BGR thumbnail (1033) is made again in BGR."""
    pixels = Image.open(photo).convert("RGB")
    iptc = _iptc_resource()
    thumbnail = _thumbnail_resource(_jpeg_thumbnail((0, 0, 0)), (160, 106))
    junk = iptc + thumbnail + b"junk"
    assert with_new_photoshop_thumbnail(junk, pixels) == junk
    assert with_new_photoshop_thumbnail(iptc, pixels) == iptc
    assert with_new_photoshop_thumbnail(iptc + thumbnail, pixels, limit=len(iptc) + 100) == iptc
    no_size = _thumbnail_resource(_jpeg_thumbnail((0, 0, 0)), (0, 0))
    assert with_new_photoshop_thumbnail(iptc + no_size, pixels) == iptc
    red = Image.new("RGB", (300, 200), (255, 0, 0))
    old = _thumbnail_resource(_jpeg_thumbnail((0, 0, 0), (150, 100)), (150, 100), rid=0x0409)
    remade = _resources(with_new_photoshop_thumbnail(iptc + old, red))
    assert remade is not None and remade[0][0] == 0x0404 and remade[1][0] == 0x0409
    with Image.open(io.BytesIO(remade[1][2][28:])) as picture:
        stored = np.asarray(picture.convert("RGB"))[50, 75]
        assert stored[2] > 240 and stored[0] < 15  # red, stored blue-green-red
