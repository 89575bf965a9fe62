"""What the worker processes run: the library's calls, with the per-request budgets applied.

Each worker calls :func:`init` once with the server's Settings, then these functions with the
state it returned. Everything here runs outside the event loop's process.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass
from typing import Any

import cv2
from PIL import Image

from provenance import (
    WATERMARK_TOO_SMALL,
    ManifestRegistry,
    Match,
    RegisteredManifest,
    TooManyPixelsError,
    WatermarkSizeError,
    declared_size,
    find_matches,
    media_type_of,
    megapixels,
    register_manifest,
    verify,
)

from .settings import Settings


@dataclass(frozen=True)
class WorkerState:
    settings: Settings
    registry: ManifestRegistry


def init(settings: Settings) -> WorkerState:
    # The pool runs one call per process, as many processes as cores: OpenCV's own threads
    # on top only contend with the other workers (measured: 1.2x the CPU per detection with
    # two threads on two busy cores, 1.7x the wall time).
    cv2.setNumThreads(1)
    # One call at a time, so one thread uses the registry: a PostgreSQL pool of one connection
    # (the library's default is 8, which put up to 8 x --threads connections behind the
    # server's own --threads). SQLite takes the bound and needs none.
    return WorkerState(settings, ManifestRegistry(settings.registry_location, max_connections=1))


def check_pixels(data: bytes, budget: int) -> None:
    """Refuse an image whose header declares more than ``budget`` pixels, before decoding it.

    Reads the header only (Pillow opens lazily); content Pillow does not recognise is left to
    the library, which says what it is.
    """
    if budget <= 0:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        # Pillow refuses to open it and says only "more than N pixels": read the size its
        # header declares without that check (None only if no reader can).
        size = declared_size(data)
        declared = (
            megapixels(*size)
            if size
            else f"more than {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels"
        )
        raise TooManyPixelsError(
            f"the image is refused as a decompression bomb: it declares {declared}",
            hint=f"the limit is {budget / 1e6:g} megapixels; send a smaller rendition",
        ) from None
    except Exception:  # not an image, or a header Pillow cannot read: the library decides
        return
    if width * height > budget:
        raise TooManyPixelsError(
            f"the image is {megapixels(width, height)}, more than this server decodes per request",
            hint=f"the limit is {budget / 1e6:g} megapixels; send a smaller rendition",
        )


@dataclass(frozen=True)
class EncodedVerdict:
    """A verdict as the server answers it: its JSON text, encoded once (in the worker, off the
    event loop's process), then stored in the verdict cache and sent as it is; with the fields
    the server's log line and metrics read, so that the server never decodes it."""

    sha256: str
    json: str
    state: str | None
    ai_generated: bool | None

    @classmethod
    def of(cls, verdict: dict[str, Any]) -> EncodedVerdict:
        # json.dumps's defaults, as web.json_response encoded it: the bytes clients got before.
        return cls._read(verdict, json.dumps(verdict))

    @classmethod
    def decode(cls, text: str) -> EncodedVerdict:
        """One the cache kept (the text is sent as it was stored)."""
        return cls._read(json.loads(text), text)

    @classmethod
    def _read(cls, verdict: dict[str, Any], text: str) -> EncodedVerdict:
        return cls(
            str(verdict["sha256"]),
            text,
            verdict["credentials"]["state"],
            verdict["ai"]["generated"],
        )


def verify_content(
    state: WorkerState,
    data: bytes,
    media_type: str | None,
    digest: str | None,
    name: str | None = None,
    declared: str | None = None,
) -> EncodedVerdict:
    """The verdict, JSON-encoded; ``digest``: the content's SHA-256 if the caller has it;
    ``declared``: the Content-Type the client gave."""
    if media_type is None:
        check_pixels(data, state.settings.max_pixels)
        # From the bytes alone: the client's file name and Content-Type word messages but are
        # no evidence (and verdicts are cached by content, whatever name it came with).
        media_type = media_type_of(data, name or "content", by_name=False, declared=declared)
    verdict = verify(
        data,
        name=name,
        policy=state.settings.trust,
        registry=state.registry,
        sha256=digest,
        media_type=media_type,
        text_detectors=state.settings.text_detectors,
    )
    return EncodedVerdict.of(verdict.to_dict())


def match_content(
    state: WorkerState,
    data: bytes,
    limit: int,
    media_type: str | None,
    name: str | None = None,
    declared: str | None = None,
) -> tuple[list[Match], str | None]:
    """(matches, why none were looked for): an image too small to carry the watermark is not
    bad input but one that nothing can be found for, as ``verify`` says of it
    (``watermark_skipped``). ``name``, ``declared``: as for :func:`verify_content`."""
    if media_type is None:
        check_pixels(data, state.settings.max_pixels)
        # The bytes' type, refused as /v1/verify refuses it: text sent as an image was told "in
        # no format this tool reads" here, and "its bytes are text ... give its type as
        # text/plain" there.
        media_type_of(data, name or "content", by_name=False, declared=declared)
    try:
        _, matches = find_matches(data, state.registry, limit=limit, media_type=media_type)
    except WatermarkSizeError:
        return [], WATERMARK_TOO_SMALL
    return matches, None


def register_content(
    state: WorkerState, manifest: bytes, asset: bytes, client: str
) -> RegisteredManifest:
    """``client``: who registers (only the client a watermark id was issued to may)."""
    check_pixels(asset, state.settings.max_pixels)
    return register_manifest(
        manifest, asset, state.registry, client=client, policy=state.settings.trust
    )
