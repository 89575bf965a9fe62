"""Invisible watermarks: embed an identifier into pixels, find it again after uploads.

Knows nothing of C2PA. The default method is the project's codec (``codec``, soft-binding
algorithm ``org.provenance.ssw.1``); invisible-watermark's methods are available by name.

Payload (``--payload HEX``): a 40-bit identifier, 10 hex digits. The codec adds a 4-bit version
and 20 keyed check bits and a convolutional code (see ``payload``); invisible-watermark's methods
carry the identifier's low 32 bits unprotected (RivaGAN's fixed capacity).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import os
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
from PIL import Image

from ..errors import InputError, TooManyPixelsError, UnsupportedMediaError, WatermarkSizeError
from ..files import write_output
from ..label import encode_like
from ..media import (
    MAX_PIXELS,
    media_type_of,
    open_image,
    paste_rgb,
    pixel_array,
    read_input,
    too_many_pixels,
    unmarkable,
)
from ..verdict import Doc, Orientation, orientation_of
from . import codec, imwm, payload
from .canvas import Canvas

ALG = codec.ALG
METHODS = ("ssw", *imwm.METHODS)
MIN_SIDE = codec.MIN_SIDE
DETECT_MIN_SIDE = codec.DETECT_MIN_SIDE
#: A file holding this deployment's secret watermark key (any bytes, at least 16). Unset: the
#: public key, so anyone can detect the watermark, and anyone can embed any identifier.
KEY_ENV = "PROVENANCE_WATERMARK_KEY_FILE"
MIN_KEY_BYTES = 16


def watermark_key() -> bytes:
    """The codec key in use: the secret one ``$PROVENANCE_WATERMARK_KEY_FILE`` names, else the
    public default.

    Trade-off (README, "What a recovered verdict proves"): with a secret key nobody without it
    can embed a payload (no forged watermarks) or estimate the exact pattern to remove it; but
    nobody without it can detect it either (other verifiers, the offline CLI), marks made under
    one key are invisible under another, and a leaked key is the public case again.

    Every embed and detect asks for it, so the file is read and hashed once per version of it:
    the key is cached under the file's path, modification time, size and inode, which a key
    rewritten in place or replaced by a rename changes, so the new key is picked up on the next
    call. (On a filesystem with coarse timestamps, a rewrite to the same size within one tick of
    its clock is seen at the file's next change.)
    """
    path = os.environ.get(KEY_ENV)
    if not path:
        return codec.DEFAULT_KEY
    try:
        found = os.stat(path)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    return _secret_key(path, found.st_mtime_ns, found.st_size, found.st_ino)


def _unreadable(path: str, exc: OSError) -> InputError:
    return InputError(f"{KEY_ENV}={path}: cannot read the watermark key ({exc.strerror})")


@functools.lru_cache(maxsize=8)
def _secret_key(path: str, mtime_ns: int, size: int, inode: int) -> bytes:
    """The codec key from the key file at ``path``, as it is at that ``os.stat`` (the other
    arguments key the cache; errors are not cached)."""
    try:
        key = Path(path).read_bytes().strip()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if len(key) < MIN_KEY_BYTES:
        raise InputError(
            f"{KEY_ENV}={path}: the watermark key is {len(key)} bytes",
            hint=f"use at least {MIN_KEY_BYTES} random bytes, e.g. `openssl rand -hex 32 > FILE`",
        )
    # The codec keys a BLAKE2s MAC (at most 32 bytes): a digest of the file fits any length.
    return hashlib.sha256(b"org.provenance.ssw.1 secret key\0" + key).digest()


@dataclass(frozen=True)
class WatermarkResult:
    detected: bool
    payload: str | None
    confidence: float
    method: str
    #: The geometry the detector found (see ``codec.Detection``), to undo before comparing
    #: pixels with the registered image; not part of the verdict (nor of its schema).
    scale: float = field(default=1.0, metadata={"internal": True})
    angle: float = field(default=0.0, metadata={"internal": True})
    #: How many standard deviations the sync peak stands up (``codec.Detection.sync_z``): how
    #: far a detection is from being lost (signing's check of the watermark it embeds).
    sync_z: float = field(default=0.0, metadata={"internal": True})
    #: How the image was mirrored or turned by right angles (``codec.orient``; 0: as marked).
    orientation: int = field(default=0, metadata={"internal": True})
    #: Where the marked picture lies inside a larger canvas (a border, a screenshot of a page),
    #: or without a detection the picture searched in vain (``codec.Detection.region``):
    #: (x, y, width, height) in the pixels the detector read (a JPEG's reduced decode, see
    #: ``decode_for_detection``), for ``evidence.compare`` on the same decode.
    grid_region: tuple[int, int, int, int] | None = field(default=None, metadata={"internal": True})
    #: Where the watermark was found when it lies in a picture inside a larger canvas (a
    #: border, a screenshot of a page): [x, y, width, height] in the image's own pixels
    #: (:func:`detect_decoded`); null when it spans the image, or was not found.
    region: list[int] | None = None
    #: How this copy is mirrored or turned compared with the marked image, in the verdict's
    #: words (``verdict.Orientation``): null when it is as marked, or nothing was found.
    mirrored_or_turned: Annotated[
        Orientation | None,
        Doc(
            "how this copy is mirrored or turned compared with the marked image, in words "
            "(e.g. 'mirrored left to right'); null when it is as marked or nothing was found"
        ),
    ] = None
    #: A resize without the aspect ratio (``codec.Detection.aspect``): y's scale over x's.
    aspect: float = field(default=1.0, metadata={"internal": True})

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        del d["scale"], d["angle"], d["sync_z"], d["orientation"], d["grid_region"], d["aspect"]
        if self.mirrored_or_turned is not None:
            d["mirrored_or_turned"] = self.mirrored_or_turned.value  # the plain string in JSON
        return d

    @property
    def identifier(self) -> int | None:
        return int(self.payload, 16) if self.payload else None


def payload_hex(identifier: int) -> str:
    return f"{identifier:010x}"


def parse_payload(text: str) -> int:
    """A 40-bit identifier from hex (``0x`` prefix optional)."""
    # Both errors say what an identifier looks like: "is not hexadecimal" alone left the user
    # to guess how many digits it takes.
    hint = f"an identifier is 1 to {payload.ID_BITS // 4} hexadecimal digits, e.g. 0123456789"
    try:
        value = int(text.lower().removeprefix("0x"), 16)
    except ValueError:
        raise InputError(f"payload {text!r} is not hexadecimal", hint=hint) from None
    if not 0 <= value <= payload.MAX_ID:
        raise InputError(f"payload {text!r} does not fit in {payload.ID_BITS} bits", hint=hint)
    return value


def binding_value(identifier: int) -> str:
    """The soft-binding value recorded in the manifest: base64 of the 5 identifier bytes."""
    return base64.b64encode(identifier.to_bytes(5, "big")).decode()


def identifier_from_binding(value: str) -> int | None:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    return int.from_bytes(raw, "big") if len(raw) == 5 else None


def _check_size(width: int, height: int, name: str, minimum: int = MIN_SIDE) -> None:
    """Embedding needs a short side of MIN_SIDE; detection (``minimum=DETECT_MIN_SIDE``) less."""
    if min(width, height) < minimum:
        raise WatermarkSizeError(
            f"{name}: {width}x{height} is too small for a watermark",
            hint=f"the short side must be at least {minimum} px",
        )


def embed_rgb(
    rgb: np.ndarray, identifier: int, method: str = "ssw", *, out: np.ndarray | None = None
) -> np.ndarray:
    """Watermark an RGB uint8 array (``out=rgb``: in place, ssw only)."""
    _check_size(rgb.shape[1], rgb.shape[0], "image")
    if method == "ssw":
        return codec.embed(rgb, identifier, key=watermark_key(), out=out)
    bits = np.array([(identifier >> (31 - i)) & 1 for i in range(32)], dtype=np.uint8)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    return np.ascontiguousarray(imwm.embed(bgr, bits, method)[..., ::-1])


def embed_image(
    image: Image.Image, identifier: int, method: str = "ssw", *, in_place: bool = False
) -> Image.Image:
    """Watermark a Pillow image, keeping its mode (and alpha, RGBA's or LA's).

    One writable RGB copy of the pixels is made and marked in place. ``in_place=True`` lets
    ``image`` go: an RGB or RGBA image gets the marked pixels written back into it and is
    returned; any other is closed once its pixels are copied (its ``info`` and ``size`` stay
    readable). Either way at most one full-size image and the copy exist at a time, which
    bounds signing's peak memory; and writing back is cheaper than building a new image (at
    12 MP a new one is 48 MB of fresh memory to fault in: 26 ms, against 7 ms to paste the
    bands back).
    """
    rgb = pixel_array(image, "RGB")
    rgb = embed_rgb(rgb, identifier, method, out=rgb)
    if in_place and image.mode in ("RGB", "RGBA"):
        paste_rgb(image, rgb)
        return image
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    mode = "RGB" if image.mode == "RGBA" else "L" if image.mode == "LA" else image.mode
    if in_place:
        image.close()
    marked = Image.fromarray(rgb)
    del rgb
    if mode != "RGB":
        marked = marked.convert(mode)
    if alpha is not None:
        marked.putalpha(alpha)
    return marked


def detect_rgb(
    rgb: np.ndarray,
    method: str = "ssw",
    *,
    resync: bool = True,
    canvas: Canvas | None = None,
) -> WatermarkResult:
    """Look for a watermark in an RGB (H, W, 3) or luminance (H, W) uint8 array
    (``resync``, ``canvas``: see :func:`codec.detect`)."""
    h, w = rgb.shape[:2]
    _check_size(w, h, "image", DETECT_MIN_SIDE if method == "ssw" else MIN_SIDE)
    if method == "ssw":
        return _result(codec.detect(rgb, key=watermark_key(), resync=resync, canvas=canvas))
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    bits = imwm.decode(np.ascontiguousarray(rgb[..., ::-1]), 32, method)
    # These methods carry no check bits: any 32 bits come out, so none counts as detected.
    value = int("".join(str(int(b)) for b in bits), 2)
    return WatermarkResult(False, payload_hex(value), 0.0, f"imwatermark.{method}")


def _result(found: codec.Detection) -> WatermarkResult:
    return WatermarkResult(
        found.detected,
        payload_hex(found.identifier) if found.identifier is not None else None,
        round(found.confidence, 3),
        ALG,
        found.scale,
        found.angle,
        round(found.sync_z, 2),
        found.orientation,
        found.region,
        list(found.region) if found.detected and found.region else None,
        # Without a detection, the orientation is only where noise peaked highest.
        orientation_of(found.orientation) if found.detected else None,
        aspect=found.aspect,
    )


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Decoded:
    """An image decoded once for detection and for the evidence against a registered one
    (``evidence.compare`` and ``evidence.clipped_mask``): its luminance, and its colours on the
    same grid, converted to RGB only when asked for (:meth:`rgb`)."""

    #: (H, W) uint8: what the detector reads.
    luminance: np.ndarray
    #: What the decode gave beside it: a colour JPEG's (H, W, 3) YCbCr planes (``luminance`` is
    #: their Y, libjpeg's own, so detection reads exactly what a grey decode gives), another
    #: image as Pillow decoded it, or None for a grey image.
    colours: np.ndarray | Image.Image | None = None

    def rgb(self) -> np.ndarray:
        """The colours as (H, W, 3) uint8 RGB on the luminance's grid; a grey image's
        luminance (H, W) as it is."""
        if self.colours is None:
            return self.luminance
        if isinstance(self.colours, Image.Image):
            image = self.colours
            return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        # OpenCV orders the planes Y, Cr, Cb; its conversion matches libjpeg's RGB decode
        # within one level (measured: 0.1 % of pixels differ, none by more).
        y, cb, cr = cv2.split(self.colours)
        return cv2.cvtColor(cv2.merge((y, cr, cb)), cv2.COLOR_YCrCb2RGB)


def decode_for_detection(data: bytes, name: str = "image") -> Decoded:
    """Decode just enough of an image for detection, and its colours with it (for the evidence,
    which must know which colours an edit clipped): JPEGs at reduced scale.

    The detector works on a 256 px grid, so a JPEG is decoded at the smallest of libjpeg's DCT
    scales (1/2, 1/4, 1/8) that keeps that much: a 1 MP one at 1/2, a 12 MP one at 1/8, in a
    fraction of the time of a full decode. Its colour planes are kept as decoded, YCbCr (a
    third more than a luminance-only decode at 1 MP; a second decode for the colours cost as
    much as the first).
    """
    return _decode(data, name, "YCbCr")


def load_for_detection(data: bytes, name: str = "image") -> np.ndarray:
    """The luminance :func:`decode_for_detection` gives, for a caller that needs no colours:
    a JPEG's luminance alone is decoded (its colour planes are not)."""
    return _decode(data, name, "L").luminance


def _decode(data: bytes, name: str, jpeg_mode: str, min_side: int = MIN_SIDE) -> Decoded:
    """The decode of :func:`decode_for_detection`, a colour JPEG decoded in ``jpeg_mode``
    (YCbCr, or L: then the result has no colours, and only its luminance is to be used), its
    short side reduced to no less than ``min_side``."""
    try:
        with warnings.catch_warnings():
            # The pixel limit below replaces Pillow's bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                _check_size(width, height, name, DETECT_MIN_SIDE)
                if width * height > MAX_PIXELS:
                    raise too_many_pixels(name, width, height)
                if probe.format == "JPEG":
                    # libjpeg scales by 1/2, 1/4 or 1/8 while decoding; the short side stays
                    # at least MIN_SIDE (the detector's grid is 256 px). A colour JPEG comes
                    # out in ``jpeg_mode`` with no colour conversion; grey and CMYK ones in
                    # their own mode.
                    factor = max(1, min(width, height) // min_side)
                    probe.draft(jpeg_mode, (width // factor, height // factor))
                    probe.load()
                    if probe.mode == "YCbCr":
                        planes = np.asarray(probe)
                        return Decoded(np.ascontiguousarray(planes[..., 0]), planes)
                    return _decoded(probe.copy())  # the probe's pixels go when it closes
    except (WatermarkSizeError, TooManyPixelsError):
        raise
    except (OSError, ValueError, Image.DecompressionBombError):
        pass  # open_image below gives the clear error
    image = open_image(data, name)
    _check_size(image.width, image.height, name, DETECT_MIN_SIDE)
    return _decoded(image)


def _decoded(image: Image.Image) -> Decoded:
    if image.mode == "L":
        return Decoded(np.asarray(image))
    return Decoded(np.asarray(image.convert("L")), image)


#: A canvas (``canvas.content_box``) whose reduced decode shows nothing is decoded again with a
#: short side of at least CANVAS_SIDE px: a JPEG screenshot of a 1920x1080 page is decoded
#: at 480x270 for detection, where a picture filling half its height is 135 px and its
#: watermark's pixels under half a pixel (and its box hard to tell from the text around it).
CANVAS_SIDE = 1024
#: ... if the reduced decode shows a block that may be a picture (at most CANVAS_BLOCK of it)
#: whose short side is under CANVAS_FINER px there: a larger one has its watermark's pixels
#: a pixel or more wide, and was searched already. (A photo of a thing against a black sky
#: looks like a picture on a black page; its decode again costs it ~15 ms at 1 MP.)
CANVAS_BLOCK = 0.97
CANVAS_FINER = 320


def detect_decoded(luminance: np.ndarray, data: bytes, name: str = "image") -> WatermarkResult:
    """The watermark in ``luminance``, ``data`` decoded for detection (``load_for_detection``),
    with its ``region`` in the image's own pixels and ``grid_region`` in ``luminance``'s.

    The reduced decode is enough for an image the watermark spans; a picture inside a larger
    canvas (a screenshot) may be too small in it, and is then read from a finer decode.
    """
    # The canvas's frame and box, measured once for the search and for the test below.
    canvas = Canvas(luminance)
    found = detect_rgb(luminance, canvas=canvas)
    if found.grid_region is None and (found.detected or min(luminance.shape) >= CANVAS_SIDE):
        # Nothing to place in the image's pixels and no finer decode to try: the header need
        # not be read again for the image's width (most uploads, marked or not).
        return found
    # Any of the boxes searched (a page may show two photos) or, failing them, a block: one
    # small enough for a finer decode to show more. Asked first (the canvas has measured its
    # frame already): without a region to place and without such a box, nothing below needs
    # the image's width, and an unmarked upload does not read its header a third time.
    finer_boxes = (
        not found.detected
        and min(luminance.shape) < CANVAS_SIDE
        and any(
            min(box[2:]) < CANVAS_FINER
            for box in canvas.boxes() or canvas.boxes(CANVAS_BLOCK, least=1)
        )
    )
    if found.grid_region is None and not finer_boxes:
        return found
    with warnings.catch_warnings():
        # ``_decode`` enforced the pixel limit already; Pillow's bomb warning would reach
        # the CLI's user as a stray library line.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as probe:
            width = probe.width
    factor = width / luminance.shape[1]
    if finer_boxes and factor > 1:
        finer = _decode(data, name, "L", min_side=CANVAS_SIDE).luminance
        if finer.shape[1] > luminance.shape[1]:
            # The whole canvas was searched: its picture alone is, finer.
            again = _result(codec.detect_picture(finer, key=watermark_key()))
            if again.detected:
                scale = width / finer.shape[1]
                return _in_pixels(again, scale, luminance.shape[1] / finer.shape[1])
    return _in_pixels(found, factor, 1.0)


def _in_pixels(found: WatermarkResult, to_image: float, to_grid: float) -> WatermarkResult:
    """``found``'s region (in the pixels it was detected on) scaled by ``to_image`` into the
    image's own pixels, and by ``to_grid`` into the grid the evidence is compared on."""
    if found.grid_region is None:
        return found
    x, y, w, h = found.grid_region
    return replace(
        found,
        region=[round(v * to_image) for v in (x, y, w, h)] if found.region else None,
        grid_region=(
            round(x * to_grid),
            round(y * to_grid),
            round(w * to_grid),
            round(h * to_grid),
        ),
    )


def detect_bytes(data: bytes, name: str = "image", method: str = "ssw") -> WatermarkResult:
    if method == "ssw":
        return detect_decoded(load_for_detection(data, name), data, name)
    return detect_rgb(np.asarray(open_image(data, name).convert("RGB")), method)


def detect_file(path: Path, method: str = "ssw") -> WatermarkResult:
    """Look for a watermark in the image file at ``path``."""
    return detect_bytes(read_input(path), str(path), method)


def embed_file(
    source: Path, output: Path, identifier: int, method: str = "ssw", *, overwrite: bool = False
) -> None:
    """Watermark the image file ``source`` into ``output`` (written atomically, in the format its
    suffix names, else the source's; an existing ``output`` only replaced if ``overwrite``)."""
    data = read_input(source)
    media_type = media_type_of(data, str(source))
    original = open_image(data, str(source))
    kind = unmarkable(original, data)
    if kind is not None:
        raise UnsupportedMediaError(
            f"{source}: {kind} cannot carry a watermark (the marked pixels would be written "
            "back into the same kind of image)",
            hint="convert it to 8-bit RGB first",
        )
    marked = embed_image(original, identifier, method)
    out_type = media_type_of(b"", str(output)) if output.suffix else media_type
    encoded = encode_like(marked, out_type, original, source=data)
    write_output(output, encoded, replace=overwrite)


__all__ = [
    "ALG",
    "DETECT_MIN_SIDE",
    "KEY_ENV",
    "METHODS",
    "MIN_SIDE",
    "Decoded",
    "WatermarkResult",
    "WatermarkSizeError",
    "binding_value",
    "decode_for_detection",
    "detect_bytes",
    "detect_decoded",
    "detect_file",
    "detect_rgb",
    "embed_file",
    "embed_image",
    "embed_rgb",
    "identifier_from_binding",
    "load_for_detection",
    "parse_payload",
    "payload_hex",
    "watermark_key",
]
