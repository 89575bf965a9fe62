"""Media types: sniffed from the bytes (extensions lie), and safe image decoding."""

from __future__ import annotations

import io
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, TiffImagePlugin, TiffTags
from PIL.JpegImagePlugin import JpegImageFile

from .errors import (
    InputError,
    MalformedAssetError,
    OutputError,
    Remedy,
    TooManyPixelsError,
    UnsupportedMediaError,
)

#: Formats c2pa-python can both read and embed a manifest into, by media type, with the
#: extension used for new files.
EMBEDDABLE: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "image/gif": ".gif",
    "image/avif": ".avif",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/jxl": ".jxl",
    "image/svg+xml": ".svg",
    "image/x-adobe-dng": ".dng",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/x-msvideo": ".avi",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/flac": ".flac",
    "application/pdf": ".pdf",
}

#: Other extensions the same media types go by. A fixed table, not ``mimetypes``: that reads
#: the machine's ``/etc/mime.types`` (or the Windows registry), so a directory scan picked up
#: other files on other machines (``.mpga`` and ``.svgz`` here, neither ``.webp`` nor ``.flac``
#: on a machine without the file).
_MORE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpeg", ".jpe", ".jfif"),
    "image/tiff": (".tiff",),
    "image/heif": (".heic", ".hif"),  # a HEIF (mif1) photo named .heic; Canon's .hif
    "video/mp4": (".m4v",),
    "video/quicktime": (".qt",),
}


def _by_suffix() -> dict[str, str]:
    """The media type each extension names: the first that goes by it (``.heic``: HEIC)."""
    named: dict[str, str] = {}
    for media_type, suffix in EMBEDDABLE.items():
        for each in (suffix, *_MORE_SUFFIXES.get(media_type, ())):
            named.setdefault(each, media_type)
    return named


_BY_SUFFIX = _by_suffix()

#: Images the project decodes into pixels (labels, watermarks, fingerprints).
PIXEL_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/tiff", "image/gif", "image/avif"}
)

#: Decoding refuses images above this many pixels (a decompression-bomb guard): 100 MP.
MAX_PIXELS = 100_000_000

_FTYP_BRANDS = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
}


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A PDF's header may stand after other bytes (a mail gateway's or a print spooler's): Acrobat
#: looks for it in the first 1024 bytes (PDF Reference 1.7, appendix H, note 13), and c2pa
#: reads and signs such a file (writing it back from its header on). Pillow's PDF parser
#: refuses one, but Pillow does not read PDFs here.
PDF_HEADER_WITHIN = 1024


def sniff(head: bytes) -> str | None:
    """The media type the leading bytes show, or None when they show none we know."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "video/mp4")
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "image/jxl"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    text = head.lstrip()[:256].lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "image/svg+xml"
    if b"%PDF-" in head[:PDF_HEADER_WITHIN]:  # last: never in place of a signature at the start
        return "application/pdf"
    return None


TEXT = "text/plain"
#: File names read as text (the content must also be UTF-8).
TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")


def is_text(data: bytes) -> bool:
    """UTF-8 without NUL bytes: text, as far as bytes can say."""
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes, label: str) -> str:
    """The content as text, as stored (not normalised: a manifest's offsets index it), or the
    one error every command gives bytes that are not UTF-8 text (``sign-text`` said only "not
    UTF-8 text", without what to do)."""
    if not is_text(data):
        raise MalformedAssetError(
            f"{label}: not UTF-8 text", hint="text is read as UTF-8: convert it to UTF-8 first"
        )
    return data.decode("utf-8")


#: Formats whose every file the bytes show (``sniff``) but these: SVG is XML text, which may
#: open with a comment or a doctype; a name that says SVG is taken for text that is one.
_NAMED_TEXT = frozenset({"image/svg+xml"})


def named_media_type(name: str) -> str | None:
    """The media type a file name's extension says (a fixed table, the same on every machine),
    or None."""
    return _BY_SUFFIX.get(Path(name).suffix.lower())


def _format_name(media_type: str) -> str | None:
    """What people call the format of ``media_type`` ("JPEG", "PNG", "MP4"); None if it is not
    one this tool reads."""
    if media_type not in EMBEDDABLE:
        return None
    short = EMBEDDABLE[media_type].lstrip(".")
    return {"jpg": "JPEG", "tif": "TIFF", "webp": "WebP"}.get(short, short.upper())


def media_type_of(
    data: bytes, name: str | None = None, *, by_name: bool = True, declared: str | None = None
) -> str:
    """The media type of ``data``, from its bytes; raises if they are in no format this tool
    reads, saying which format the name (or the ``declared`` type, e.g. a Content-Type) claimed.

    A name decides only what bytes cannot show: text (``.txt``, ``.md``, with UTF-8 content),
    SVG (text too), and the type of no bytes at all (an output still to be written).
    ``by_name=False``: the bytes alone decide; ``name`` labels the error and its extension only
    words it (a name someone else chose is no evidence).
    """
    found = sniff(data[:PDF_HEADER_WITHIN])
    if found is not None:
        return found
    label = name or "content"
    named = named_media_type(label)
    text = label.lower().endswith(TEXT_SUFFIXES)
    if by_name and name:
        if (text or named in _NAMED_TEXT) and is_text(data):
            return TEXT if text else str(named)
        if named and not data:
            return named
    if data and is_text(data):
        # Whatever the name says ("t.jpg"): "not JPEG, nor in any other format this tool
        # reads (... and UTF-8 text)" contradicted itself for a text.
        raise UnsupportedMediaError(
            f"{label}: its bytes are text, not in any media format this tool reads",
            hint="to check it as text, give its type as text/plain",
            remedy=Remedy.READ_AS_TEXT,
        )
    claimed = "UTF-8 text" if text else _format_name(named or declared or "")
    raise UnsupportedMediaError(
        f"{label}: its bytes are not {claimed}, nor in any other format this tool reads"
        if claimed
        else f"{label}: its bytes are in no format this tool reads",
        hint="it may be damaged, cut short or not a media file: use a complete copy of the "
        "original; this tool reads "
        + ", ".join(sorted(e.lstrip(".") for e in EMBEDDABLE.values()))
        + " and UTF-8 text",
    )


def declared_text(declared: str | None, data: bytes) -> bool:
    """Whether content declared ``text/plain`` (a Content-Type, parameters allowed) is read as
    text: unless its bytes are those of an image or other media file. A declared type can be
    wrong (a server that sends every file as text/plain, a client's guess); a text may hold
    "<svg" or "%PDF-", which ``sniff`` finds, and still be text, but binary media is not."""
    if (declared or "").split(";")[0].strip().lower() != TEXT:
        return False
    return sniff(data[:PDF_HEADER_WITHIN]) is None or is_text(data)


def output_suffixes(media_type: str) -> frozenset[str]:
    """The file-name extensions that say ``media_type`` (the same on every machine)."""
    if media_type not in EMBEDDABLE:
        return frozenset()
    return frozenset((EMBEDDABLE[media_type], *_MORE_SUFFIXES.get(media_type, ())))


def check_output_name(path: Path, media_type: str) -> None:
    """Refuse an output name whose extension says another format than the one written (a
    PNG named .jpg misleads every program that trusts the name)."""
    suffix = Path(path).suffix.lower()
    if suffix in output_suffixes(media_type):
        return
    right = EMBEDDABLE.get(media_type, "")
    raise OutputError(
        f"{path}: the signed file is {media_type}, but the name ends in {suffix or 'no extension'}",
        hint=f"name it {Path(path).with_suffix(right).name}"
        if right
        else "give it an extension that matches its format",
    )


def read_input(path: Path) -> bytes:
    """Read a whole input file, turning OS errors into one clear :class:`InputError`."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if not data:
        raise InputError(
            f"{path}: the file is empty",
            hint="a copy or download may have failed: use a complete copy of the file",
        )
    return data


def too_many_pixels(name: str, width: int, height: int) -> TooManyPixelsError:
    """The error for an image over MAX_PIXELS, the same from every decoder: what the limit is,
    and what to do."""
    return TooManyPixelsError(
        f"{name}: it declares {megapixels(width, height)}, more than this tool decodes",
        hint=f"the limit is {MAX_PIXELS // 1_000_000} megapixels: use a smaller rendition of it",
    )


def declared_size(data: bytes) -> tuple[int, int] | None:
    """The width and height an image's header declares, None if no Pillow format reads it.

    For an image Pillow refuses to open as a decompression bomb (``Image.open`` checks the size
    after reading the header, and says only "more than N pixels"): each format's reader, the
    way ``Image.open`` picks it, reads the header without that check; nothing is decoded."""
    Image.init()
    for kind in Image.ID:
        factory, accept = Image.OPEN[kind]
        if accept is not None and accept(data[:16]) is not True:
            continue
        try:
            with factory(io.BytesIO(data), "") as image:
                return image.size
        except Exception:  # not this format (each reader raises its own error): the next one
            continue
    return None


def megapixels(width: int, height: int) -> str:
    """A declared size in words: "2147483648x2147483648 pixels (4,611,686,018,427 megapixels)"."""
    count = width * height / 1e6
    # Whole megapixels, but two figures below ten (a lowered limit: not "0 megapixels").
    words = f"{count:,.0f}" if count >= 10 else f"{count:.2g}"
    return f"{width}x{height} pixels ({words} megapixels)"


def open_image(data: bytes, name: str = "image") -> Image.Image:
    """Decode an image fully, refusing decompression bombs and truncated files."""
    with warnings.catch_warnings():
        # Our own pixel limit below replaces Pillow's warning; its hard error still applies.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise too_many_pixels(name, image.width, image.height)
            image.load()
        except Image.DecompressionBombError:
            size = declared_size(data)
            if size is not None:
                raise too_many_pixels(name, *size) from None
            raise TooManyPixelsError(
                f"{name}: refused as a decompression bomb",
                hint=f"the limit is {MAX_PIXELS // 1_000_000} megapixels: if it is a real image, "
                "use a smaller rendition of it",
            ) from None
        except Image.UnidentifiedImageError:
            # Bytes in no format at all get the one error every command gives them (which
            # format they are not, what to do); Pillow's own message names its in-memory
            # buffer ("<_io.BytesIO object at 0x…>").
            media_type = media_type_of(data, name)
            if media_type not in PIXEL_TYPES:
                # A whole video, sound or document is not a damaged image: "the file may be
                # damaged or cut short" sent the user after a fault their file does not have.
                raise UnsupportedMediaError(
                    f"{name}: {media_type} content, whose pixels this tool does not decode",
                    hint="give a JPEG, PNG, WebP, TIFF, GIF or AVIF image",
                ) from None
            raise MalformedAssetError(
                f"{name}: cannot decode the image (its content is in no image format known here)"
            ) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise MalformedAssetError(f"{name}: cannot decode the image ({exc})") from None
    return image


def pixel_array(
    image: Image.Image, mode: str | None = None, rows: int = 64, *, opencv_order: bool = False
) -> np.ndarray:
    """A writable (H, W, bands) uint8 copy of an image in ``mode`` (RGB or RGBA; by default
    the image's own), copied and converted a band of rows at a time: ``np.array(image)`` goes
    through one ``tobytes()`` of the whole image first, and ``image.convert()`` makes a whole
    converted image (at 12 MP, 36 and 48 MB more at the peak). ``opencv_order``: BGR(A),
    swapped band by band (a whole-image ``cvtColor`` in place allocates a full-size temporary)."""
    mode = mode or image.mode
    w, h = image.size
    bands = len(mode)
    swap = cv2.COLOR_RGB2BGR if bands == 3 else cv2.COLOR_RGBA2BGRA
    out = np.empty((h, w, bands), dtype=np.uint8)
    for top in range(0, h, rows):
        band = image.crop((0, top, w, min(h, top + rows)))
        if band.mode != mode:
            band = band.convert(mode)
        pixels = np.frombuffer(band.tobytes(), np.uint8).reshape(band.height, w, bands)
        if opencv_order:
            cv2.cvtColor(pixels, swap, dst=out[top : top + band.height])
        else:
            out[top : top + band.height] = pixels
    return out


def unmarkable(image: Image.Image, data: bytes | memoryview = b"") -> str | None:
    """What kind of image ``image`` (decoded from ``data``) is if its pixels cannot carry a
    watermark (None if they can): marked pixels are 8-bit RGB, and writing them back into a
    palette or 1 bit per pixel quantises the mark away, into 16 or 32 bits clips the image to
    its darkest 256 levels, and a 16-bit RGB(A) file would lose its low byte."""
    if image.mode in ("P", "PA"):
        return "palette images"
    if image.mode == "1":
        return "1-bit images"
    if image.mode in ("I", "F") or image.mode.startswith("I;") or _deep_samples(image, data):
        return "images of more than 8 bits per channel"
    return None


def _deep_samples(image: Image.Image, data: bytes | memoryview) -> bool:
    """Whether the file has more than 8 bits per sample although Pillow decoded it into an
    8-bit mode: it opens 16-bit RGB, RGBA and grey-with-alpha PNGs and TIFFs as RGB, RGBA and
    LA, keeping only each sample's high byte, and 10- and 12-bit AVIFs (HDR, wide gamut) at 8
    bits; the mode no longer says so once loaded. (Neither Pillow's AVIF plugin nor
    pillow-avif-plugin writes more than 8 bits.)"""
    if bytes(data[:8]) == _PNG_SIGNATURE and bytes(data[12:16]) == b"IHDR" and len(data) > 24:
        return data[24] > 8  # IHDR's bit depth (IHDR is the first chunk, by the PNG spec)
    if image.format == "AVIF":
        return _avif_bits(data) > 8
    bits = getattr(image, "tag_v2", {}).get(258)  # a TIFF's BitsPerSample, kept after load
    return bits is not None and max(bits if isinstance(bits, tuple) else (bits,)) > 8


def _boxes(data: bytes | memoryview, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, content start, end) of each ISO BMFF box in ``data[start:end]``, up to the first
    that does not fit."""
    while start + 8 <= end:
        size, header = int.from_bytes(data[start : start + 4], "big"), 8
        kind = data[start + 4 : start + 8]
        if size == 1 and start + 16 <= end:  # a 64-bit size follows the type
            size, header = int.from_bytes(data[start + 8 : start + 16], "big"), 16
        elif size == 0:  # to the end
            size = end - start
        if size < header or start + size > end:
            return
        yield bytes(kind), start + header, start + size
        start += size


def _avif_bits(data: bytes | memoryview) -> int:
    """The most bits per channel that the images of an AVIF declare (its ``pixi`` properties,
    in meta/iprp/ipco, which AVIF requires of every image); 8 when none is found."""
    start, end = 0, len(data)
    for container, header in ((b"meta", 4), (b"iprp", 0), (b"ipco", 0)):  # meta: a full box
        found = next((b for b in _boxes(data, start, end) if b[0] == container), None)
        if found is None:
            return 8
        start, end = found[1] + header, found[2]
    most = 8
    for kind, content, box_end in _boxes(data, start, end):
        if kind == b"pixi" and content + 5 <= box_end:
            # Version and flags (4 bytes), the number of channels, then each one's bits.
            channels = data[content + 4]
            most = max([most, *data[content + 5 : min(box_end, content + 5 + channels)]])
    return most


#: The colour space an ICC profile describes (its header's bytes 16-20), by the image modes
#: whose pixels it can describe.
_ICC_SPACES = {
    b"RGB ": ("RGB", "RGBA", "P", "PA"),
    b"GRAY": ("L", "LA", "1", "I", "I;16"),
    b"CMYK": ("CMYK",),
}


def icc_fits(profile: bytes, mode: str) -> bool:
    """Whether the ICC ``profile`` describes pixels of ``mode`` (a CMYK profile on RGB pixels
    makes colour-managed viewers show wrong colours); a colour space not in ``_ICC_SPACES`` is
    given the benefit of the doubt."""
    modes = _ICC_SPACES.get(bytes(profile[16:20]))
    return modes is None or mode in modes


_SRGB = ImageCms.createProfile("sRGB")


def rgb_of_cmyk(image: Image.Image) -> Image.Image:
    """The CMYK ``image`` as sRGB pixels: through its own ICC profile when it has a usable CMYK
    one (the colours a colour-managed viewer shows), else by Pillow's plain conversion (inks as
    pure complements of RGB: all a CMYK image without a profile says)."""
    profile = image.info.get("icc_profile")
    if profile and icc_fits(profile, "CMYK"):
        try:
            cmyk = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(image, cmyk, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a damaged profile: as if there were none
        if converted is not None:
            return converted
    return image.convert("RGB")


def paste_rgb(image: Image.Image, rgb: np.ndarray, rows: int = 64) -> None:
    """Write an (H, W, 3) array back into the RGB channels of an RGB or RGBA image of its
    size, a band of rows at a time (an RGBA image keeps its alpha): the way back from
    :func:`pixel_array`, without a whole new image."""
    w, h = image.size
    for top in range(0, h, rows):
        pixels = rgb[top : top + rows]
        box = (0, top, w, top + pixels.shape[0])
        band = Image.frombuffer("RGB", (w, pixels.shape[0]), pixels, "raw", "RGB", 0, 1)
        if image.mode == "RGBA":
            band = Image.merge("RGBA", (*band.split(), image.crop(box).getchannel("A")))
        image.paste(band, box)


#: The PNG chunks that hold text (Latin-1, compressed, international): where generators write
#: their prompt and settings (Stable Diffusion UIs' ``parameters``, ComfyUI's ``prompt`` and
#: ``workflow``), and where XMP goes (``XML:com.adobe.xmp``, e.g. IPTC's digital source type).
PNG_TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt"})
#: The PNG chunks that say how to show the pixels: their colour space (gamma, primaries, the
#: sRGB rendering intent, an ICC profile, the coding-independent code points of HDR and wide
#: gamut images, and those images' mastering display and light levels), their physical pixel
#: size (DPI), and the EXIF. Each holds for the pixels whatever their values, so it holds as much
#: for the re-encoded ones. Not sBIT (a watermark writes the bits it says are empty), bKGD and
#: hIST (they follow the bit depth and palette, which a re-encode may change), nor tIME.
PNG_IMAGE_CHUNKS = frozenset(
    {b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCV", b"cLLI", b"pHYs", b"eXIf"}
)
#: What a re-encode of a PNG's pixels keeps from the PNG, as it was.
PNG_KEPT_CHUNKS = PNG_TEXT_CHUNKS | PNG_IMAGE_CHUNKS


def _png_chunks(png: bytes | memoryview) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each whole chunk of a PNG (length, type, data, CRC), up to IEND or
    the first chunk that does not fit in the bytes."""
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(png):
        end = pos + 12 + int.from_bytes(png[pos : pos + 4], "big")
        if end > len(png):
            return
        kind = bytes(png[pos + 4 : pos + 8])
        yield kind, pos, end
        if kind == b"IEND":
            return
        pos = end


def png_kept_chunks(data: bytes) -> bytes:
    """The chunks of the PNG ``data`` that a re-encode of its pixels keeps (``PNG_KEPT_CHUNKS``),
    whole and in order, as they are (compressed or not): neither OpenCV nor Pillow writes them
    back (but for the ICC profile and EXIF, which they are then not given), to be put back with
    :func:`with_png_chunks`. A chunk whose CRC does not match is left out; so is a second copy
    of a chunk PNG allows once (the first counts). Empty for other data."""
    if not data.startswith(_PNG_SIGNATURE):
        return b""
    view = memoryview(data)
    seen: set[bytes] = set()
    kept = []
    for kind, start, end in _png_chunks(view):
        if kind not in PNG_KEPT_CHUNKS or kind in seen:
            continue
        if zlib.crc32(view[start + 4 : end - 4]) != int.from_bytes(view[end - 4 : end], "big"):
            continue
        if kind in PNG_IMAGE_CHUNKS:
            seen.add(kind)
        kept.append(view[start:end])
    return b"".join(kept)


def png_chunk_kinds(chunks: bytes) -> frozenset[bytes]:
    """The types of the whole ``chunks`` (as :func:`png_kept_chunks` gives them)."""
    return frozenset(kind for kind, _, _ in _png_chunks(_PNG_SIGNATURE + chunks))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """A whole PNG chunk: length, type, data, CRC."""
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def with_png_chunk_data(chunks: bytes, kind: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """The whole ``chunks`` (as :func:`png_kept_chunks` gives them) with the data of each
    ``kind`` chunk passed through ``change`` (its length and CRC made again)."""
    view = memoryview(_PNG_SIGNATURE + chunks)
    return b"".join(
        png_chunk(kind, change(bytes(view[start + 8 : end - 4])))
        if each == kind
        else bytes(view[start:end])
        for each, start, end in _png_chunks(view)
    )


def with_png_chunks(png: bytes | memoryview, chunks: bytes) -> bytes:
    """The PNG ``png`` as bytes, with the whole ``chunks`` inserted before its palette (PLTE)
    or else its first IDAT, in the one copy that ``bytes(png)`` would make: the colour chunks
    must precede both, the others the pixels, and readers that stop at the pixels (as Pillow's
    ``Image.open`` does) still see text there."""
    if chunks:
        for kind, start, _ in _png_chunks(png):
            if kind in (b"PLTE", b"IDAT"):
                return b"".join((png[:start], chunks, png[start:]))
    return bytes(png)


_SOI, _SOS = b"\xff\xd8", 0xDA
#: The JPEG segments a re-encode of the pixels keeps as they were, by Pillow's name for their
#: marker (``JpegImageFile.applist``) and the identifier their data opens with: XMP (IPTC's
#: digital source type, e.g. ``trainedAlgorithmicMedia``, how many generators label their
#: output; creator and rights), the Extended XMP that continues a packet over 64 KB, Photoshop's
#: image resources (APP13), where IPTC-IIM keeps captions, credit and copyright, and comments.
#: The EXIF and ICC profile are written by the encoders themselves; c2pa writes its own APP11
#: (JUMBF) segments when it signs.
_KEPT_SEGMENTS: tuple[tuple[str, bytes], ...] = (
    ("APP1", b"http://ns.adobe.com/xap/1.0/\x00"),
    ("APP1", b"http://ns.adobe.com/xmp/extension/\x00"),
    ("APP13", b"Photoshop 3.0\x00"),
    ("COM", b""),
)


def _jpeg_segments(jpeg: bytes | memoryview) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment of a JPEG (marker, length, data) before its
    first scan (SOS), up to the first that does not fit in the bytes: where an encoder's own
    output puts its segments (a source's are read by Pillow, ``jpeg_kept_segments``)."""
    pos = len(_SOI)
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF:
        marker = jpeg[pos + 1]
        if marker == 0xFF:  # a fill byte before a marker
            pos += 1
            continue
        if marker == _SOS:
            return
        end = pos + 2 + int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        if end > len(jpeg):
            return
        yield marker, pos, end
        pos = end


def cut_short(data: bytes | memoryview, media_type: str) -> bool:
    """Whether the bytes end before the format's own end: a JPEG with no EOI after its first
    scan (or ending inside a header segment), a PNG without IEND, a WebP shorter than its RIFF
    header declares. The sign of an incomplete copy (an interrupted download or transfer), read
    from the structure alone in one pass (no decode). False for other formats and for bytes
    that are not the format at all (those are another error's to word)."""
    if media_type == "image/png" and bytes(data[:8]) == _PNG_SIGNATURE:
        kinds = [kind for kind, _, _ in _png_chunks(data)]
        return not kinds or kinds[-1] != b"IEND"
    if media_type == "image/webp" and bytes(data[:4]) == b"RIFF":
        return int.from_bytes(data[4:8], "little") + 8 > len(data)
    if media_type != "image/jpeg" or bytes(data[:2]) != _SOI:
        return False
    pos = max((end for _, _, end in _jpeg_segments(data)), default=len(_SOI))
    while pos + 1 < len(data) and data[pos] == 0xFF and data[pos + 1] == 0xFF:
        pos += 1  # fill bytes before a marker
    if pos + 4 > len(data):
        return True  # ends within the segments before the scan
    if data[pos] != 0xFF:
        return False  # not a marker where one belongs: damaged, not ours to name
    if data[pos + 1] != _SOS:
        return True  # the segment there runs past the end of the bytes
    # Entropy-coded data escapes every 0xFF (0xFF00), so the scan holds no EOI of its own.
    return bytes(data).find(b"\xff\xd9", pos) < 0


_JFIF = b"JFIF\x00"


def _segment(name: str, data: bytes) -> bytes:
    """The whole segment (marker, length, data) that Pillow lists as ``(name, data)``."""
    marker = 0xFE if name == "COM" else 0xE0 + int(name.removeprefix("APP"))
    return bytes((0xFF, marker)) + (len(data) + 2).to_bytes(2, "big") + data


def jpeg_kept_segments(image: Image.Image) -> bytes:
    """The segments of the JPEG ``image`` (as Pillow opened it: its header's ``applist``) that a
    re-encode of its pixels keeps: its JFIF pixel density (DPI, which the encoders write as
    their own default), without the JFIF thumbnail (the pixels before signing), then its XMP
    (standard and extended), Photoshop (IPTC-IIM) and comment segments (``_KEPT_SEGMENTS``)
    whole and in order, as they are (Pillow writes a comment back only from an unchanged image,
    OpenCV none; neither writes Extended XMP or APP13). To be put back with
    :func:`with_jpeg_segments`. Empty for other images."""
    if not isinstance(image, JpegImageFile):
        return b""
    kept = []
    for index, (name, data) in enumerate(image.applist):
        if index == 0 and name == "APP0" and data.startswith(_JFIF) and len(data) >= 14:
            # Version, units, across, down; no thumbnail.
            kept.append(_segment(name, data[: len(_JFIF) + 7] + b"\x00\x00"))
        elif any(name == wanted and data.startswith(opening) for wanted, opening in _KEPT_SEGMENTS):
            kept.append(_segment(name, data))
    return b"".join(kept)


def with_jpeg_segments(jpeg: bytes | memoryview, segments: bytes) -> bytes:
    """The JPEG ``jpeg`` as bytes, with the whole ``segments`` (``jpeg_kept_segments``) in, in
    the one copy that ``bytes(jpeg)`` would make: a JFIF segment first, in place of the
    encoder's (JFIF must follow the start of image), the others after the application segments
    the encoder wrote (EXIF, ICC profile), where writers put XMP, before the tables and frame."""
    if not segments:
        return bytes(jpeg)
    jfif = segments[:18] if segments[:2] == b"\xff\xe0" else b""
    cut = at = len(_SOI)
    for marker, start, end in _jpeg_segments(jpeg):
        if not 0xE0 <= marker <= 0xEF:
            break
        if jfif and marker == 0xE0 and start == len(_SOI):
            cut = end  # the encoder's own JFIF gives way
        at = end
    return b"".join((jpeg[: len(_SOI)], jfif, jpeg[cut:at], segments[len(jfif) :], jpeg[at:]))


#: The TIFF tags a re-encode of the pixels keeps, those Pillow keeps when it saves the very image
#: it opened (and no others): the resolution (DPI), IPTC-IIM (captions, credit, copyright),
#: Photoshop's image resources, and XMP. A labelled or converted image is a new one, which had
#: lost them.
_TIFF_KEPT_TAGS = (
    TiffImagePlugin.RESOLUTION_UNIT,
    TiffImagePlugin.X_RESOLUTION,
    TiffImagePlugin.Y_RESOLUTION,
    TiffImagePlugin.IPTC_NAA_CHUNK,
    TiffImagePlugin.PHOTOSHOP_CHUNK,
    TiffImagePlugin.XMP,
)


def tiff_kept_tags(image: Image.Image) -> TiffImagePlugin.ImageFileDirectory_v2:
    """The tags of the TIFF ``image`` that a re-encode keeps (``_TIFF_KEPT_TAGS``), with their
    types, for Pillow's ``tiffinfo``; empty for other images. IPTC-IIM is kept as the bytes it
    holds, typed UNDEFINED: Photoshop types it LONG, which Pillow reads as one number (its
    first four bytes) and then drops when it saves."""
    kept = TiffImagePlugin.ImageFileDirectory_v2()
    if not isinstance(image, TiffImagePlugin.TiffImageFile):
        return kept
    tags = image.tag_v2
    for tag in _TIFF_KEPT_TAGS:
        if tag not in tags:
            continue
        if tag == TiffImagePlugin.IPTC_NAA_CHUNK:
            # The tag's bytes as stored (as Pillow's own IPTC reader takes them).
            if stored := image.tag.tagdata.get(tag):
                kept[tag] = stored
                kept.tagtype[tag] = TiffTags.UNDEFINED
        else:
            kept[tag] = tags[tag]
            kept.tagtype[tag] = tags.tagtype[tag]
    return kept


#: The largest ICC profile and EXIF block OpenCV writes: one APP2 / APP1 segment each (Pillow
#: splits a larger profile over several segments; OpenCV refuses it).
SEGMENT_ICC = 65_519
SEGMENT_EXIF = 65_527


class ChromaSubsampling(StrEnum):
    """How many luma samples a JPEG's colour (chroma) samples cover, across and down: the
    three that libjpeg encoders are asked for (by these names in Pillow)."""

    S444 = "4:4:4"  # full colour resolution (what image editors write at high quality)
    S422 = "4:2:2"  # half across
    S420 = "4:2:0"  # half across and down (encoders' default)


#: (across, down) luma samples per chroma sample, coarsest first.
_CHROMA_RATIOS = (
    (ChromaSubsampling.S420, (2, 2)),
    (ChromaSubsampling.S422, (2, 1)),
    (ChromaSubsampling.S444, (1, 1)),
)


def chroma_subsampling(image: Image.Image) -> ChromaSubsampling | None:
    """The chroma subsampling a re-encode of the JPEG ``image`` keeps: its own (4:4:4, 4:2:2,
    4:2:0), else the coarsest of those that is no coarser than its own either way (4:4:0, e.g. a
    4:2:2 JPEG rotated without re-encoding, gives 4:4:4; 4:1:1 gives 4:2:2), as encoders write
    only those. None for other images, and for JPEGs without three components (grayscale, CMYK:
    there the encoder's default is right)."""
    layers = getattr(image, "layer", None) if isinstance(image, JpegImageFile) else None
    if not layers or len(layers) != 3:
        return None
    # Each layer: (component id, horizontal factor, vertical factor, quantisation table).
    (_, luma_h, luma_v, _), *chroma = layers
    across = min(luma_h / max(1, h) for _, h, _, _ in chroma)
    down = min(luma_v / max(1, v) for _, _, v, _ in chroma)
    for subsampling, (h, v) in _CHROMA_RATIOS:
        if h <= across and v <= down:
            return subsampling
    return ChromaSubsampling.S444  # colour sampled finer than brightness: keep all of it


def is_progressive(image: Image.Image) -> bool:
    """Whether the JPEG ``image`` is progressive (it shows coarse to fine while it loads, as
    web publishers choose it to): a re-encode keeps that."""
    return isinstance(image, JpegImageFile) and bool(image.info.get("progressive"))


@dataclass(frozen=True)
class PlainJpeg:
    """A JPEG decoded straight into an RGB array (``decode_plain_jpeg``), with what its
    re-encoding keeps: the ICC profile, EXIF, chroma subsampling, progressive coding, and the
    pixel density, XMP, Photoshop and comment segments (``jpeg_kept_segments``)."""

    rgb: np.ndarray
    icc_profile: bytes | None
    exif: bytes | None
    subsampling: ChromaSubsampling | None = None
    segments: bytes = b""
    progressive: bool = False


def decode_plain_jpeg(data: bytes) -> PlainJpeg | None:
    """Decode a plain JPEG (one frame, three colour components, complete, metadata that fits
    one segment each) into a writable RGB array with OpenCV, or None for any other file (then
    :func:`open_image` decodes it, and gives the clear errors).

    Same libjpeg-turbo decode as Pillow's (the pixels are identical), but straight into a
    3-byte-per-pixel array: no 4-byte-per-pixel Pillow image and no copy out of it, which at
    12 MP is 48 MB and ~10 ms. The EXIF orientation is not applied, as Pillow does not.
    """
    if sniff(data[:3]) != "image/jpeg":
        # Not a JPEG (Pillow's own test): no header parse here, which for a PNG would read and
        # inflate its text chunks once more before ``open_image`` does it again.
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as header:
                plain = (
                    header.format == "JPEG"  # an MPO's format is "MPO"
                    and header.mode == "RGB"
                    and header.width * header.height <= MAX_PIXELS
                )
                icc, exif = header.info.get("icc_profile"), header.info.get("exif")
                width, height = header.size
                subsampling = chroma_subsampling(header)
                segments, progressive = jpeg_kept_segments(header), is_progressive(header)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            return None
    # A truncated file has no end marker: Pillow refuses it, OpenCV would fill it in grey.
    complete = data.rfind(b"\xff\xd9", max(0, len(data) - 65_536)) != -1
    if not plain or not complete:
        return None
    if len(icc or b"") > SEGMENT_ICC or len(exif or b"") > SEGMENT_EXIF:
        return None
    rgb = cv2.imdecode(
        np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    )
    if rgb is None or rgb.shape[:2] != (height, width):
        return None
    return PlainJpeg(rgb, icc or None, exif or None, subsampling, segments, progressive)
