"""The signing pipeline around the watermark: PNG output through OpenCV, marking in place, the
encode beside the reduced copy's work, and the stage timings the bench prints."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import c2pa
import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, JpegImagePlugin, PngImagePlugin

from provenance import ManifestSpec, SignOptions, sign, verify
from provenance.concurrency import Beside
from provenance.errors import MalformedAssetError, UnsupportedMediaError
from provenance.label import encode_like
from provenance.media import decode_plain_jpeg, paste_rgb, pixel_array, png_kept_chunks
from provenance.registry import SQLiteRegistry
from provenance.stages import measured, stage
from provenance.watermark import detect_bytes, embed_file, embed_image, embed_rgb, payload_hex

from .conftest import png_chunk

AI = ManifestSpec(generator="Acme Diffusion")
WID = 0x12_3456_789A


def _metadata() -> tuple[bytes, bytes]:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0131] = "Acme Diffusion"  # Software
    return icc, exif.tobytes()


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_png_output_is_the_marked_pixels_with_icc_and_exif(
    tmp_path, credentials, trusted, photo, mode
):
    icc, exif = _metadata()
    image = Image.open(photo).convert(mode)
    if mode == "RGBA":  # a real alpha channel, not a constant one
        image.putalpha(Image.linear_gradient("L").resize(image.size))
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    image.save(src, icc_profile=icc, exif=exif)
    sign(src, credentials, SignOptions(AI, watermark_id=WID), output=out)

    # The same embed in memory: the PNG holds exactly those pixels (lossless), alpha untouched.
    expected = embed_rgb(pixel_array(image.convert("RGB")), WID)
    with Image.open(out) as signed:
        assert signed.mode == mode
        assert np.array_equal(np.asarray(signed.convert("RGB")), expected)
        if mode == "RGBA":
            assert np.array_equal(
                np.asarray(signed.getchannel("A")), np.asarray(image.getchannel("A"))
            )
        assert signed.info.get("icc_profile") == icc
        assert signed.getexif().get(0x0131) == "Acme Diffusion"
    assert verify(out, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(out.read_bytes()).identifier == WID


def test_png_with_a_colour_key_keeps_it(tmp_path, photo):
    image = Image.open(photo).convert("RGB")
    image.info["transparency"] = (0, 0, 0)
    data = encode_like(image, "image/png", image)
    with Image.open(io.BytesIO(data)) as again:
        assert again.info.get("transparency") == (0, 0, 0)


def test_png_encode_with_release_closes_the_image(photo):
    image = Image.open(photo).convert("RGB")
    data = encode_like(image, "image/png", image, release=True)
    with pytest.raises(ValueError, match="closed"):
        image.load()
    with Image.open(io.BytesIO(data)) as again:
        assert again.size == image.size


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_embed_in_place_marks_the_decoded_image_itself(photo, mode):
    image = Image.open(photo)
    image.load()
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(image.size))
    alpha = np.asarray(image.getchannel("A")) if mode == "RGBA" else None
    expected = embed_rgb(pixel_array(image, "RGB"), WID)
    marked = embed_image(image, WID, in_place=True)
    assert marked is image and image.info  # the same object, its info (EXIF, ICC) kept
    assert np.array_equal(np.asarray(marked.convert("RGB")), expected)
    if alpha is not None:
        assert np.array_equal(np.asarray(marked.getchannel("A")), alpha)


def test_pixel_array_converts_band_by_band(photo):
    image = Image.open(photo).convert("P")
    assert np.array_equal(pixel_array(image, "RGB"), np.asarray(image.convert("RGB")))


def test_pixel_array_in_opencv_order(photo):
    image = Image.open(photo).convert("RGBA")
    rgba = pixel_array(image)
    assert np.array_equal(rgba, np.asarray(image))
    assert np.array_equal(pixel_array(image, opencv_order=True), rgba[..., [2, 1, 0, 3]])


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_paste_rgb_writes_the_array_back_keeping_alpha(photo, mode):
    image = Image.open(photo).convert(mode)
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(image.size))
    alpha = np.asarray(image.getchannel("A")) if mode == "RGBA" else None
    rgb = 255 - pixel_array(image, "RGB")  # every pixel changes
    paste_rgb(image, rgb, rows=50)  # bands that do not divide the height
    assert image.mode == mode
    assert np.array_equal(np.asarray(image.convert("RGB")), rgb)
    if alpha is not None:
        assert np.array_equal(np.asarray(image.getchannel("A")), alpha)


def test_stages_of_a_sign_are_measured(tmp_path, credentials, photo):
    registry = SQLiteRegistry(tmp_path / "registry.db")
    with measured() as times:
        sign(photo, credentials, SignOptions(AI), output=tmp_path / "out.jpg", registry=registry)
    registry.close()
    expected = {
        "read credentials",
        "decode",
        "existing watermark",
        "embed",
        "describe",
        "thumbnail",
        "encode",  # measured on the thread it runs on
        "c2pa sign",
        "manifest id",
        "registry",
        "write + fsync + registry + link",
    }
    assert expected <= set(times), expected - set(times)
    assert all(wall > 0 and cpu >= 0 for wall, cpu in times.values())


def test_stages_are_off_unless_measured():
    # A stage after the measured block must not land in its dict (a stage before it could not:
    # each block starts a new one).
    with measured() as times:
        pass
    with stage("nothing"):
        pass
    assert times == {}


def test_beside_returns_reraises_and_keeps_the_context():
    main = threading.get_ident()
    with measured() as times:

        def work() -> int:
            with stage("beside"):
                assert threading.get_ident() != main
                return 7

        assert Beside(work).result() == 7
    assert "beside" in times

    def fail() -> None:
        raise KeyError("from the thread")

    with pytest.raises(KeyError, match="from the thread"):
        Beside(fail).result()


def test_existing_watermark_is_kept_not_doubled(tmp_path, credentials, photo):
    """A re-sign of our own stripped output: the pixels are not marked again (their bytes stay)."""
    first = sign(photo.read_bytes(), credentials, SignOptions(AI)).asset
    assert first is not None
    stripped = io.BytesIO()
    with Image.open(io.BytesIO(first)) as image:
        image.save(stripped, format="PNG")
    again = sign(stripped.getvalue(), credentials, SignOptions(AI))
    assert again.watermark_kept
    with Image.open(io.BytesIO(again.asset or b"")) as out, Image.open(stripped) as before:
        assert np.array_equal(np.asarray(out), np.asarray(before))


def test_sign_path_unchanged_by_timing(tmp_path: Path, credentials, photo):
    """Measuring does not change what is signed: the same watermark id gives the same pixels."""
    options = SignOptions(AI, watermark_id=WID)
    plain = sign(photo.read_bytes(), credentials, options).asset
    with measured():
        timed = sign(photo.read_bytes(), credentials, options).asset
    assert plain is not None and timed is not None
    with Image.open(io.BytesIO(plain)) as a, Image.open(io.BytesIO(timed)) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


# -- plain JPEGs: decoded into an array, marked and encoded by OpenCV ---------------------------


def _jpeg(image: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", **{"quality": 90, **params})
    return out.getvalue()


@pytest.mark.parametrize(
    "params",
    [{}, {"subsampling": 0}, {"subsampling": 1}, {"progressive": True}],
    ids=["4:2:0", "4:4:4", "4:2:2", "progressive"],
)
def test_plain_jpeg_decodes_as_pillow_does(photo, params):
    data = _jpeg(Image.open(photo), **params)
    plain = decode_plain_jpeg(data)
    assert plain is not None
    with Image.open(io.BytesIO(data)) as image:
        assert np.array_equal(plain.rgb, np.asarray(image))


def test_other_jpegs_take_pillows_path(photo):
    image = Image.open(photo)
    data = _jpeg(image)
    assert decode_plain_jpeg(_jpeg(image.convert("L"))) is None  # one component
    assert decode_plain_jpeg(_jpeg(image.convert("CMYK"))) is None
    assert decode_plain_jpeg(data[: len(data) // 2]) is None  # truncated: Pillow says so
    big_icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() + bytes(70_000)
    assert decode_plain_jpeg(_jpeg(image, icc_profile=big_icc)) is None  # two APP2 segments
    assert decode_plain_jpeg(b"not a jpeg") is None


def test_truncated_jpeg_is_still_refused(credentials, photo):
    data = photo.read_bytes()
    with pytest.raises(MalformedAssetError, match="cannot decode"):
        sign(data[: len(data) // 2], credentials, SignOptions(AI))


@pytest.mark.parametrize("subsampling", ["4:2:0", "4:4:4", "4:2:2"])
def test_plain_jpeg_signs_to_the_pixels_pillows_path_gives(
    tmp_path, credentials, trusted, photo, subsampling
):
    """The array path and Pillow's (``embed_image`` + ``encode_like``) write JPEGs that decode
    to the same pixels, with the ICC profile, EXIF and chroma subsampling kept."""
    icc, exif = _metadata()
    data = _jpeg(Image.open(photo), icc_profile=icc, exif=exif, subsampling=subsampling)
    assert decode_plain_jpeg(data) is not None
    signed = sign(data, credentials, SignOptions(AI, watermark_id=WID)).asset
    assert signed is not None
    original = Image.open(io.BytesIO(data))
    expected = encode_like(embed_image(original.copy(), WID), "image/jpeg", original)
    with Image.open(io.BytesIO(signed)) as out, Image.open(io.BytesIO(expected)) as want:
        assert np.array_equal(np.asarray(out), np.asarray(want))
        assert out.info.get("icc_profile") == icc
        assert out.getexif().get(0x0131) == "Acme Diffusion"
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


# -- chroma subsampling: a re-encoded JPEG keeps its source's -----------------------------------


def _sampling(data: bytes) -> list[tuple[int, int]]:
    """The (horizontal, vertical) sampling factors of a JPEG's components, from its frame."""
    with Image.open(io.BytesIO(data)) as image:
        assert isinstance(image, JpegImagePlugin.JpegImageFile)
        return [(h, v) for _, h, v, _ in image.layer]


_FACTORS = {"4:4:4": [(1, 1)] * 3, "4:2:2": [(2, 1), (1, 1), (1, 1)]}
_FACTORS["4:2:0"] = [(2, 2), (1, 1), (1, 1)]


@pytest.mark.parametrize("label", [None, "AI"], ids=["array path", "labelled, Pillow path"])
@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:2", "4:2:0"])
def test_a_signed_jpeg_keeps_its_chroma_subsampling(
    credentials, trusted, photo, subsampling, label
):
    data = _jpeg(Image.open(photo), subsampling=subsampling)
    assert _sampling(data) == _FACTORS[subsampling]
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    assert _sampling(signed) == _FACTORS[subsampling]
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


@pytest.mark.parametrize("label", [None, "AI"], ids=["array path", "labelled, Pillow path"])
@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:0"])
def test_a_progressive_jpeg_stays_progressive(credentials, trusted, photo, subsampling, label):
    """A progressive JPEG (what web publishers serve: it shows coarse to fine while loading)
    came out baseline. It stays progressive, with its chroma subsampling, at quality 95."""
    data = _jpeg(Image.open(photo), progressive=True, subsampling=subsampling)
    assert (decode_plain_jpeg(data) or pytest.fail("not plain")).progressive
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    with Image.open(io.BytesIO(signed)) as out:
        assert out.info.get("progressive")
    assert _sampling(signed) == _FACTORS[subsampling]
    # Quality 95, as for any re-encode: a baseline encode of the same pixels at 95 uses the
    # same quantisation tables.
    with Image.open(io.BytesIO(signed)) as out, Image.open(io.BytesIO(_jpeg(out, quality=95))) as q:
        assert isinstance(out, JpegImagePlugin.JpegImageFile)
        assert isinstance(q, JpegImagePlugin.JpegImageFile)
        assert out.quantization == q.quantization
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        (cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440, "4:4:4"),  # a 4:2:2 JPEG rotated losslessly
        (cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411, "4:2:2"),
    ],
    ids=["4:4:0", "4:1:1"],
)
def test_other_subsamplings_keep_all_their_colour_resolution(credentials, photo, written, kept):
    """Encoders write only 4:4:4, 4:2:2 and 4:2:0: a JPEG sampled otherwise gets the coarsest of
    those that loses none of its colour resolution."""
    bgr = np.asarray(Image.open(photo).convert("RGB"))[..., ::-1]
    ok, encoded = cv2.imencode(
        ".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, written]
    )
    assert ok
    signed = sign(encoded.tobytes(), credentials, SignOptions(AI, watermark_id=WID)).asset
    assert signed is not None
    assert _sampling(signed) == _FACTORS[kept]
    assert detect_bytes(signed).identifier == WID


# -- PNG text chunks: a generator's prompt and settings survive signing -------------------------


def _png_with_text(image: Image.Image) -> bytes:
    """A PNG as generators write them: the prompt in tEXt (Stable Diffusion UIs' "parameters"),
    a compressed zTXt, international iTXt (plain and compressed), and one more tEXt after the
    pixels (some tools append theirs)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a red fox in snow\nSteps: 20, Sampler: Euler a, Seed: 42")
    info.add_text("workflow", '{"nodes": [' + '{"id": 1}, ' * 200 + "]}", zip=True)
    info.add_itxt("Description", "一隻狐狸 — un renard", lang="zh", tkey="描述")
    info.add_itxt("Comment", "compressed international text " * 20, zip=True)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    data = out.getvalue()
    end = data.rindex(b"IEND") - 4
    return data[:end] + png_chunk(b"tEXt", b"Software\0Acme Diffusion 2") + data[end:]


@pytest.mark.parametrize("label", [None, "AI"], ids=["unlabelled", "labelled"])
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])  # OpenCV's PNG path, and Pillow's (L)
def test_signed_png_keeps_its_text_chunks(credentials, trusted, photo, mode, label):
    data = _png_with_text(Image.open(photo).convert(mode))
    chunks = png_kept_chunks(data)
    assert chunks.count(b"tEXt") == 2 and b"zTXt" in chunks and chunks.count(b"iTXt") == 2
    signed = sign(data, credentials, SignOptions(AI, label=label, watermark_id=WID)).asset
    assert signed is not None
    assert png_kept_chunks(signed) == chunks  # every one, byte for byte, in order
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(signed)) as after:
        assert isinstance(before, PngImagePlugin.PngImageFile)
        assert isinstance(after, PngImagePlugin.PngImageFile)
        assert after.info["parameters"] == before.info["parameters"]  # seen before the pixels
        assert after.text == before.text and len(after.text) == 5
        description = after.text["Description"]
        assert isinstance(description, PngImagePlugin.iTXt) and description.lang == "zh"
    assert verify(signed, policy=trusted).credentials.state == "Trusted"
    assert detect_bytes(signed).identifier == WID


def test_watermark_embed_keeps_png_kept_chunks(tmp_path, photo):
    source, output = tmp_path / "in.png", tmp_path / "out.png"
    source.write_bytes(_png_with_text(Image.open(photo).convert("RGB")))
    embed_file(source, output, WID)
    assert png_kept_chunks(output.read_bytes()) == png_kept_chunks(source.read_bytes())


def test_png_kept_chunks_leaves_out_a_damagedpng_chunk(photo):
    data = _png_with_text(Image.open(photo).convert("RGB"))
    at = data.index(b"Acme Diffusion")
    damaged = data[:at] + b"X" + data[at + 1 :]  # the CRC no longer matches
    assert png_kept_chunks(damaged).count(b"tEXt") == 1
    assert png_kept_chunks(photo.read_bytes()) == b""  # not a PNG


# -- pixels that cannot carry a watermark: palette, 1-bit, more than 8 bits ---------------------


def _encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def _grey16(photo: Path, size: int) -> Image.Image:
    grey = np.asarray(Image.open(photo).convert("L").resize((size, size)), np.uint16) * 257
    return Image.fromarray(grey)  # a 16-bit greyscale image, levels 0 to 65535


@pytest.mark.parametrize("size", [300, 600])  # 600: a short side the reduced copy halves
@pytest.mark.parametrize("kind", ["P", "1", "I;16"])
def test_unmarkable_pixels_are_signed_as_they_are(credentials, trusted, photo, kind, size):
    """A palette, 1-bit or 16-bit PNG: writing marked 8-bit RGB pixels back into it would lose
    the mark (or, at 16 bits, clip the image to its 256 darkest levels), and reducing it for the
    watermark check failed outright. It is signed without a watermark, its bytes untouched."""
    image = _grey16(photo, size) if kind == "I;16" else Image.open(photo).resize((size, size))
    data = _encoded(image if kind == "I;16" else image.convert(kind))
    result = sign(data, credentials, SignOptions(AI, watermark_id=WID))
    assert result.watermark is None
    assert result.notes == [
        "no watermark: "
        + {"P": "palette images", "1": "1-bit images"}.get(
            kind, "images of more than 8 bits per channel"
        )
        + " cannot carry one"
    ]
    assert result.asset is not None
    with Image.open(io.BytesIO(result.asset)) as out, Image.open(io.BytesIO(data)) as before:
        assert out.mode == before.mode
        assert np.array_equal(np.asarray(out), np.asarray(before))
    assert verify(result.asset, policy=trusted).credentials.state == "Trusted"


@pytest.mark.parametrize("ext", [".png", ".tiff"])
@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_colour_is_signed_as_it_is(credentials, trusted, photo, ext, channels):
    """Pillow opens a 16-bit RGB(A) PNG or TIFF as 8-bit RGB(A): the mode does not say it is
    deep, and signing used to watermark it and write it back at 8 bits, dropping every
    sample's low byte. It is signed without a watermark, its 16-bit pixels untouched."""
    bgr = np.asarray(Image.open(photo).convert("RGB").resize((300, 300)), np.uint16) * 257
    bgr[::2] += 100  # low bytes an 8-bit copy cannot hold
    if channels == 4:
        bgr = np.dstack([bgr, np.full(bgr.shape[:2], 60000, np.uint16)])
    data = cv2.imencode(ext, bgr)[1].tobytes()
    result = sign(data, credentials, SignOptions(AI, watermark_id=WID))
    assert result.watermark is None
    assert result.notes == ["no watermark: images of more than 8 bits per channel cannot carry one"]
    assert result.asset is not None
    out = cv2.imdecode(np.frombuffer(result.asset, np.uint8), cv2.IMREAD_UNCHANGED)
    assert out is not None and out.dtype == np.uint16 and np.array_equal(out, bgr)
    assert verify(result.asset, policy=trusted).credentials.state == "Trusted"


def test_a_labelled_palette_image_is_written_as_rgb_and_marked(credentials, photo):
    data = _encoded(Image.open(photo).resize((600, 600)).convert("P"))
    result = sign(data, credentials, SignOptions(AI, label="AI", watermark_id=WID))
    assert result.asset is not None and result.labelled
    with Image.open(io.BytesIO(result.asset)) as out:
        assert out.mode == "RGB"
    assert detect_bytes(result.asset).identifier == WID


def test_a_label_on_more_than_8_bits_is_refused(credentials, photo):
    data = _encoded(_grey16(photo, 300))
    with pytest.raises(UnsupportedMediaError, match="more than 8 bits per channel"):
        sign(data, credentials, SignOptions(AI, label="AI"))


def test_watermark_embed_refuses_a_palette_image(tmp_path, photo):
    source = tmp_path / "in.png"
    source.write_bytes(_encoded(Image.open(photo).convert("P")))
    with pytest.raises(UnsupportedMediaError, match="palette images cannot carry a watermark"):
        embed_file(source, tmp_path / "out.png", WID)
    assert not (tmp_path / "out.png").exists()


# -- the watermark check: no soft binding that the pixels do not back ---------------------------

#: A page about 97 % white (>= 250 levels, where the codec puts no pattern): its mark, embedded,
#: is not found again.
WHITE_PAGE = Path(__file__).parent / "data/peers/c2pa-rs/sdk/tests/fixtures/no_manifest.jpg"
TOO_UNIFORM = (
    "no watermark: this image is too uniform or too small to carry one (embedded, it was not "
    "found again); its credentials travel only in its metadata"
)


def _watermark_claims(asset: bytes, media_type: str = "image/jpeg") -> list[str]:
    """The active manifest's soft-binding assertions and c2pa.watermarked actions."""
    with c2pa.Reader(media_type, io.BytesIO(asset)) as reader:
        report = json.loads(reader.json())
    active = report["manifests"][report["active_manifest"]]
    claims = [a["label"] for a in active["assertions"] if a["label"].startswith("c2pa.soft")]
    for assertion in active["assertions"]:
        if assertion["label"].startswith("c2pa.actions"):
            actions = assertion["data"]["actions"]
            claims += [a["action"] for a in actions if a["action"] == "c2pa.watermarked"]
    return claims


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_a_white_page_is_signed_without_a_watermark_claim(tmp_path, credentials, trusted):
    """Its watermark is not detected once embedded: no soft binding (nothing could resolve it),
    no registry row, its pixels as they were, and a note saying why."""
    data = WHITE_PAGE.read_bytes()
    registry = SQLiteRegistry(tmp_path / "registry.db")
    with measured() as times:
        result = sign(data, credentials, SignOptions(AI, watermark_id=WID), registry=registry)
    assert "watermark check" in times
    assert result.watermark is None
    assert result.notes == [TOO_UNIFORM]
    assert result.asset is not None
    assert _watermark_claims(result.asset) == []
    assert registry.by_manifest_id(result.manifest_id) is None
    registry.close()
    assert np.array_equal(_pixels(result.asset), _pixels(data))  # not re-encoded
    assert not detect_bytes(result.asset).detected
    assert verify(result.asset, policy=trusted).credentials.state == "Trusted"


def test_a_labelled_white_page_gets_its_label_and_no_watermark(credentials):
    """The label is drawn; the unreadable mark is not left in the pixels (only damage there)."""
    data = WHITE_PAGE.read_bytes()
    result = sign(data, credentials, SignOptions(AI, label="AI", watermark_id=WID))
    unmarked = sign(data, credentials, SignOptions(AI, label="AI", watermark=False))
    assert result.watermark is None and result.notes == [TOO_UNIFORM]
    assert result.asset is not None and unmarked.asset is not None
    assert _watermark_claims(result.asset) == []
    assert np.array_equal(_pixels(result.asset), _pixels(unmarked.asset))


def _page_with_a_patch(photo: Path, side: int) -> bytes:
    """A white 1024x768 page with a ``side`` px square of ``photo`` on it, as PNG."""
    page = Image.new("RGB", (1024, 768), (255, 255, 255))
    with Image.open(photo) as image:
        page.paste(image.convert("RGB").resize((side, side)), (100, 100))
    out = io.BytesIO()
    page.save(out, format="PNG")
    return out.getvalue()


def test_a_photo_keeps_its_soft_binding_and_passes_the_check(credentials, photo):
    data = photo.read_bytes()
    with measured() as times:
        result = sign(data, credentials, SignOptions(AI, watermark_id=WID))
    assert "watermark check" in times
    assert result.watermark == payload_hex(WID) and result.notes == []
    assert result.asset is not None
    assert _watermark_claims(result.asset) == ["c2pa.soft-binding", "c2pa.watermarked"]
    assert detect_bytes(result.asset).payload == payload_hex(WID)


def test_a_mark_that_barely_reads_back_is_a_warning(credentials, photo):
    """A white page with a 160 px photo on it: the mark reads back (sync z 5.4-6.0 measured), so
    the soft binding stays, with a warning giving the margin; a 96 px one carries none."""
    result = sign(_page_with_a_patch(photo, 160), credentials, SignOptions(AI, watermark_id=WID))
    assert result.watermark == payload_hex(WID) and result.asset is not None
    assert _watermark_claims(result.asset, "image/png") == ["c2pa.soft-binding", "c2pa.watermarked"]
    [note] = result.notes
    assert note.startswith("weak watermark: it reads back, but its sync peak stands ")
    assert "from the 5 that finds it for sure" in note
    small = sign(_page_with_a_patch(photo, 96), credentials, SignOptions(AI, watermark_id=WID))
    assert small.watermark is None and small.notes == [TOO_UNIFORM]
