"""Sign one asset: embed a C2PA manifest declaring its AI origin, made with c2pa's Builder.

A file's own credentials become the parent ingredient (the chain is kept) unless dropped; a
watermark already in the pixels is kept rather than overlaid (see ``lineage``).

The batch loop (many inputs, progress, summary) lives in the CLI; this module signs one asset,
from bytes or a file, and writes atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import secrets
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from PIL import Image

from . import evidence
from ._internal import c2pa_adapter
from ._internal.c2pa_adapter import Signer
from ._internal.renamed import renamed_keyword
from .concurrency import Beside
from .errors import (
    InputError,
    ManifestError,
    OutputError,
    Remedy,
    RemoteManifestError,
    UnsupportedMediaError,
)
from .files import atomic_output
from .fingerprint import image_hash
from .keys import SigningKeys
from .label import WRITABLE, draw_label, encode_like, encode_rgb_jpeg
from .lineage import lineage_conflict
from .manifest import (
    AI_SOURCE_TYPES,
    ManifestSpec,
    manifest_definition,
    parent_ingredient,
    soft_binding,
)
from .media import (
    EMBEDDABLE,
    PlainJpeg,
    check_output_name,
    decode_plain_jpeg,
    media_type_of,
    open_image,
    read_input,
    unmarkable,
)
from .register import registered_manifest
from .registry import ManifestRegistry
from .registry.pending import PendingRegistry
from .stages import stage
from .trust import TrustPolicy
from .verdict import NOT_DAMAGE, ai_origin
from .watermark import (
    ALG,
    MIN_SIDE,
    WatermarkResult,
    binding_value,
    detect_rgb,
    embed_image,
    embed_rgb,
    load_for_detection,
    payload_hex,
)
from .watermark.codec import SYNC_Z


class Thumbnail(StrEnum):
    """The claim thumbnail c2pa embeds in the manifest.

    ``small`` (the default) is a 256 px JPEG: enough to show what was signed when the
    credentials are recovered for a stripped copy, at a fraction of the cost of c2pa's default
    (``full``: 1024 px; at 1 MP about 4x the signing time and 6x the bytes of ``small``, see
    bench/sign_verify.py).
    """

    NONE = "none"
    SMALL = "small"
    FULL = "full"

    def settings(self) -> dict[str, Any]:
        if self is Thumbnail.NONE:
            return {"enabled": False}
        if self is Thumbnail.SMALL:
            return {"enabled": True, "long_edge": 256, "quality": "medium", "format": "jpeg"}
        return {"enabled": True}


@dataclass(frozen=True)
class SignOptions:
    """How to sign: what the manifest declares, plus label, ingredient, thumbnail, timestamp."""

    manifest: ManifestSpec = field(default_factory=ManifestSpec)
    ingredient: Path | None = None
    label: str | None = None
    thumbnail: Thumbnail = Thumbnail.SMALL
    tsa_url: str | None = None
    #: Embed the invisible watermark (soft binding) before signing, where the format allows.
    watermark: bool = True
    #: The watermark identifier to embed (one issued by the service that will hold the
    #: manifest, for registration there); by default a fresh random one.
    watermark_id: int | None = None
    #: Sign without the credentials the file already carries (by default they become the
    #: parent ingredient, as c2patool does, so the chain is kept).
    drop_credentials: bool = False


@dataclass(frozen=True)
class PriorCredentials:
    """Credentials a file already carried when it was signed."""

    #: Its active manifest, or None when the credentials could not be read.
    manifest_id: str | None
    #: The organisation (else common name) that signed it.
    signer: str | None
    #: The labels of every manifest in its chain, the active one first.
    chain: tuple[str, ...] = ()
    #: The digitalSourceType its active manifest declares (an AI one first), if any.
    source_type: str | None = None
    #: What a verifier finds wrong with its active manifest (damage, not trust), e.g.
    #: ``assertion.dataHash.mismatch``: kept all the same, and said.
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignResult:
    """One signed asset. ``asset`` holds the signed bytes when signing in memory."""

    input: str
    output: str | None
    media_type: str
    manifest_id: str
    manifest_size: int
    labelled: bool
    #: The watermark payload (hex) bound to this manifest, else None.
    watermark: str | None = None
    #: The pixels already carried that watermark: this manifest joined its lineage.
    watermark_kept: bool = False
    #: The file's own credentials, kept as the parent ingredient.
    kept: PriorCredentials | None = None
    #: The file's own credentials, dropped as asked (``drop_credentials``).
    dropped: PriorCredentials | None = None
    #: Things the user should know, e.g. why no watermark was embedded.
    notes: list[str] = field(default_factory=list)
    asset: bytes | None = field(default=None, repr=False)
    #: The C2PA manifest store (JUMBF) that was embedded, e.g. to register it elsewhere.
    manifest: bytes | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("asset")
        d.pop("manifest")
        return d


#: Signing without a parent: offline, and no trust judgement (nothing is recorded).
_READ_SETTINGS = {"verify": {"verify_trust": False, "remote_manifest_fetch": False}}


def prior_credentials(
    data: bytes, media_type: str, name: str, *, unreadable_ok: bool = False
) -> PriorCredentials | None:
    """The credentials ``data`` already carries, or None.

    Credentials c2pa cannot read (or only points to online) cannot be kept: that is an
    :class:`InputError`, unless ``unreadable_ok`` (then their ``manifest_id`` is None).
    """
    try:
        found = c2pa_adapter.read(media_type, data, name=name, context=_judging().context())
    except ManifestError as exc:  # not a damaged file (an InputError): unreadable credentials
        if unreadable_ok:
            return PriorCredentials(None, None)
        what = (
            "points to credentials stored online, which signing does not fetch"
            if isinstance(exc, RemoteManifestError)
            else "carries credentials that cannot be read or kept"
        )
        raise InputError(
            f"{name}: {what} ({c2pa_adapter.reason(exc)})",
            hint="sign it dropping its credentials to replace them (they are then lost)",
            remedy=Remedy.DROP_CREDENTIALS,
        ) from exc
    if found is None:
        return None
    report = found.report
    active = report.get("active_manifest") or ""
    manifests = report.get("manifests") or {}
    chain = [active, *(label for label in manifests if label != active)]
    alone = {"active_manifest": active, "manifests": {active: manifests.get(active) or {}}}
    declared = ai_origin(alone)  # what the active manifest itself declares
    types = [t for t in declared.source_types if t in AI_SOURCE_TYPES] + declared.source_types
    results = (report.get("validation_results") or {}).get("activeManifest") or {}
    failures = [e.get("code") for e in results.get("failure") or []]
    damage = tuple(dict.fromkeys(c for c in failures if c and c not in NOT_DAMAGE))
    return PriorCredentials(
        active or None, found.signer, tuple(chain), types[0] if types else None, damage
    )


def _judging() -> TrustPolicy:
    """How c2pa judges a file's own credentials and a parent ingredient while signing. It
    records the parent's result in the new manifest for good, so they are judged as a verifier
    judges them (the trust lists with their TSA list, the allowed EKUs; offline): under c2pa's
    bare defaults, Google's time-stamped credentials were recorded as
    ``signingCredential.expired`` and Microsoft's documentSigning signer as
    ``signingCredential.invalid``.

    Reads use its per-process Context (``TrustPolicy.context``; making one per read parsed the
    trust lists again every time); the Builder gets its settings with its own thumbnail ones."""
    return TrustPolicy.from_env(allow_remote=False)


@dataclass
class _Rendered:
    data: bytes
    watermark_id: int | None = None
    #: The watermark was already in the pixels (kept, not embedded again).
    watermark_kept: bool = False
    fingerprint: int | None = None
    reference: bytes | None = None
    notes: list[str] = field(default_factory=list)
    #: A claim thumbnail made from the pixels in hand (JPEG), when they were decoded anyway.
    thumbnail: bytes | None = None


#: Formats whose pixels keep a watermark once re-encoded (GIF's palette would erase it).
WATERMARKABLE = frozenset(WRITABLE) - {"image/gif"}


def _is_animated(image: Image.Image) -> bool:
    # A still MPO JPEG (cameras such as the Nikon Z9 add preview frames) is not an animation.
    return getattr(image, "n_frames", 1) > 1 and image.format != "MPO"


def _reduced(image: Image.Image) -> Image.Image:
    """A box-reduced copy with a short side of at least 256 px (what the watermark detector,
    the fingerprint and the thumbnail need): no full-resolution conversion for any of them,
    but for a palette or 1-bit image (a labelled one), which cannot be box-reduced."""
    if image.mode in ("P", "PA", "1"):
        image = image.convert("RGB")
    return image.reduce(max(1, min(image.size) // MIN_SIDE))


def _grey(small: Image.Image) -> np.ndarray:
    """The luminance of a reduced copy (``_reduced``), made once for the watermark check and
    the description that both read it."""
    return np.asarray(small.convert("L"))


def _mark_on_grid(luminance: np.ndarray) -> WatermarkResult:
    """The watermark in the luminance of the pixels' reduced copy (what the detector reads of
    them), decoded only on the grid a new one is embedded on (no resync): a watermark already
    there (one on a rotated or rescaled grid would not interfere), or the one just embedded (an
    image too uniform for the codec to put a pattern in, e.g. a page of text, white at >= 250
    levels, carries none)."""
    return detect_rgb(luminance, resync=False)


def _describe(
    rendered: _Rendered, luminance: np.ndarray, thumbnail_from: Image.Image | None
) -> None:
    """The registered image's fingerprint and reference (``evidence``) from the luminance of
    its reduced copy (``_reduced``: no full-resolution conversion), and the claim thumbnail
    from that copy itself when one is wanted (``thumbnail_from``)."""
    with stage("describe"):
        rendered.fingerprint = image_hash(luminance)
        rendered.reference = evidence.reference(luminance)
    if thumbnail_from is not None:
        with stage("thumbnail"):
            rendered.thumbnail = _thumbnail(thumbnail_from)


THUMBNAIL_ID = "thumbnail.jpg"


def _thumbnail(small: Image.Image) -> bytes:
    """The claim thumbnail (256 px long edge, JPEG), made from the pixels in hand so that c2pa
    does not decode the signed image again to make it."""
    thumb = small.convert("RGB")
    thumb.thumbnail((256, 256), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=75)
    return out.getvalue()


def _cannot_label(message: str) -> UnsupportedMediaError:
    """The refusal of a label these pixels cannot take; the next step is to sign without one."""
    return UnsupportedMediaError(message, hint="sign it without a label", remedy=Remedy.NO_LABEL)


def _render(
    data: bytes,
    media_type: str,
    options: SignOptions,
    name: str,
    registry: ManifestRegistry | None,
    chain: tuple[str, ...] = (),
) -> _Rendered:
    """Decode once, draw the label, embed the watermark (unless one is there), encode once.

    ``chain``: the manifests the new manifest will hold (its parent's chain), which decide
    whether it may join the lineage of a watermark already in the pixels.
    """
    wants_watermark = options.watermark and media_type in WATERMARKABLE
    if options.label is None and not wants_watermark:
        notes = [f"no watermark: {media_type} pixels cannot carry one"] if options.watermark else []
        return _Rendered(data, notes=notes)
    if media_type not in WRITABLE:
        raise _cannot_label(f"{name}: cannot draw a label on {media_type} content")
    pixels: _Pixels
    with stage("decode"):
        plain = decode_plain_jpeg(data) if options.label is None else None
        original = None if plain is not None else open_image(data, name)
    if plain is not None:
        pixels = _ArrayPixels(plain)
    else:
        assert original is not None
        if _is_animated(original):
            if options.label is not None:
                raise _cannot_label(f"{name}: cannot draw a label on an animated image")
            return _Rendered(data, notes=["no watermark: animated images are not watermarked"])
        kind = unmarkable(original, data)
        if kind is not None and options.label is not None and not original.mode.startswith("P"):
            raise _cannot_label(
                f"{name}: cannot draw a label on {kind}: they would be written back at 8 bits"
            )
        if kind is not None and options.label is None:
            return _Rendered(data, notes=[f"no watermark: {kind} cannot carry one"])
        labelled = draw_label(original, options.label) if options.label is not None else original
        pixels = _PillowPixels(labelled, original, media_type, data)
    rendered = _Rendered(b"")
    changed = options.label is not None  # a label was drawn
    #: The pixels' fingerprint and reference are registered (from their reduced copy).
    described = False
    #: The luminance of the pixels' reduced copy as decoded, once made for the watermark check.
    before: np.ndarray | None = None
    if wants_watermark and min(pixels.size) < MIN_SIDE:
        rendered.notes.append(f"no watermark: the short side is under {MIN_SIDE} px")
    elif wants_watermark:
        with stage("existing watermark"):
            before = _grey(pixels.original_reduced())
            existing = _mark_on_grid(before).identifier
        if existing is None:
            rendered.watermark_id = (
                options.watermark_id
                if options.watermark_id is not None
                else registry.new_watermark_id()
                if registry
                else secrets.randbits(40)
            )
            with stage("embed"):
                pixels.embed(rendered.watermark_id)
            changed = described = True
        elif (conflict := lineage_conflict(registry, existing, chain)) is None:
            # One watermark per image (a second one would make both unreadable): this manifest
            # joins the lineage of the one there.
            rendered.watermark_id, rendered.watermark_kept = existing, True
            described = True
        else:
            rendered.notes.append(
                f"no new watermark: the pixels already carry watermark {payload_hex(existing)}, "
                f"which leads to other credentials ({conflict.manifest_id}) that this file's "
                "chain does not hold; it stays, unbound to this manifest"
            )
    if not changed:
        if described:  # a kept watermark on unchanged pixels: ``before`` is their copy
            assert before is not None
            _describe(rendered, before, None)
        rendered.data = data  # nothing drawn or embedded: the bytes stay as they were
        return rendered
    frames = getattr(original, "n_frames", 1)

    def encode() -> bytes:
        with stage("encode"):
            return pixels.encode()

    # The encode (Pillow and OpenCV release the GIL) runs beside the work on the reduced copy,
    # which is made first: the encoder may then let the full-size pixels go.
    with stage("describe"):
        small = pixels.reduced() if described else None
        grey = None if small is None else _grey(small)
    encoding = Beside(encode)
    embedded = rendered.watermark_id is not None and not rendered.watermark_kept
    check: WatermarkResult | None = None
    try:
        if small is not None and grey is not None:
            _describe(rendered, grey, None if rendered.watermark_kept else small)
            if embedded and media_type in LOSSLESS:
                with stage("watermark check"):
                    check = _mark_on_grid(grey)
    except BaseException:
        with contextlib.suppress(BaseException):
            encoding.result()
        raise
    rendered.data = encoding.result()
    if embedded and (
        check is None or check.identifier != rendered.watermark_id or check.sync_z < WEAK_Z
    ):
        # A lossy encode changes the marked pixels (JPEG q95: the signed file's sync z was
        # 3.1 lower to 3.5 higher than the copy's, bench/watermark_check.py), and the reduced
        # copy of a lossless one can read the mark weaker than a verifier will (Pillow's box
        # reduction: up to 5.6 lower, never higher): what was written settles it.
        with stage("watermark check"):
            check = detect_rgb(load_for_detection(rendered.data, name), resync=False)
    if check is not None and check.identifier != rendered.watermark_id:
        # A soft binding nothing can resolve would be a false claim, and the pixels, carrying
        # no readable mark, only damage: the image is signed as if it had no watermark.
        rendered.notes.append(
            "no watermark: this image is too uniform or too small to carry one (embedded, it "
            "was not found again); its credentials travel only in its metadata"
        )
        rendered.watermark_id = rendered.fingerprint = rendered.reference = None
        if options.label is None:
            rendered.data = data
        else:
            assert original is not None  # a label is drawn on a Pillow image
            with stage("encode"):
                rendered.data = _PillowPixels(
                    draw_label(original, options.label), original, media_type, data
                ).encode()
    elif check is not None and check.sync_z < WEAK_Z:
        rendered.notes.append(
            f"weak watermark: it reads back, but its sync peak stands {check.sync_z:.1f} "
            f"deviations up, {check.sync_z - SYNC_Z:+.1f} from the {SYNC_Z:g} that finds it "
            "for sure: heavy recompression or downscaling may lose it (the metadata still carries "
            "the credentials)"
        )
    if frames > 1 and rendered.data is not data:
        rendered.notes.append(f"the MPO's {frames - 1} extra frame(s) (previews) were not kept")
    return rendered


#: The formats whose encode keeps the marked pixels exactly (PNG; TIFF's kept compressions are
#: lossless): the check can read their reduced copy beside the encode. JPEG, WebP and AVIF are
#: written at quality 95 and read back.
LOSSLESS = frozenset({"image/png", "image/tiff"})

#: A fresh watermark whose sync peak stands under this many deviations is reported as weak:
#: it reads back as signed, but near the detector's threshold (``codec.SYNC_Z``; a cleanly
#: decoded fold is accepted down to ``codec.LOW_Z``), which an upload's processing takes away.
#: Fresh marks on the quality and robustness benches' 80 images (JPEG q90 and PNG) read back at
#: 7.0-12.9; a white page with a 160 px photo on it at 5.4-6.0 (after JPEG 75: 5.0-5.6), and
#: adobe-20220124-CAI.jpg (1024x683) at 5.9-6.0: still found after JPEG 75 (4 of 4 identifiers)
#: and a half-size JPEG 85 (4 of 4), lost after JPEG 50 once in 4. Sign-time z is a rough guide:
#: the full detector (resync, list decoding) finds more than it suggests.
WEAK_Z = 6.5


class _Pixels(Protocol):
    """The decoded pixels being signed, whatever holds them."""

    @property
    def size(self) -> tuple[int, int]: ...

    def original_reduced(self) -> Image.Image:
        """The reduced copy (``_reduced``) of the pixels as decoded, before any label."""
        ...

    def reduced(self) -> Image.Image:
        """The reduced copy of the pixels as they are now."""
        ...

    def embed(self, identifier: int) -> None:
        """Watermark the pixels in place."""
        ...

    def encode(self) -> bytes:
        """The pixels in the input's format; they may be released on the way."""
        ...


@dataclass
class _PillowPixels:
    """Any image Pillow decodes (and any labelled one): marked in place where it can be
    (``embed_image``), encoded like the original (``encode_like``)."""

    image: Image.Image
    original: Image.Image
    media_type: str
    #: The bytes ``original`` was decoded from (what else the encode keeps, e.g. PNG text).
    source: bytes

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def original_reduced(self) -> Image.Image:
        return _reduced(self.original)

    def reduced(self) -> Image.Image:
        return _reduced(self.image)

    def embed(self, identifier: int) -> None:
        # Only the original's info and size are needed from here on: one full-resolution
        # image and one copy at a time.
        self.image = embed_image(self.image, identifier, in_place=True)

    def encode(self) -> bytes:
        return encode_like(
            self.image, self.media_type, self.original, release=True, source=self.source
        )


@dataclass
class _ArrayPixels:
    """A plain JPEG (``decode_plain_jpeg``) signed without a label, the default: decoded into
    an RGB array, marked in it and encoded from it by OpenCV. No Pillow image, no copies in
    and out of one: at 12 MP about a tenth of the signing time and half its memory."""

    jpeg: PlainJpeg

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.jpeg.rgb.shape[:2]
        return w, h

    def original_reduced(self) -> Image.Image:
        return self.reduced()  # nothing is drawn on these pixels

    def reduced(self) -> Image.Image:
        # As _reduced, by box reductions: halvings (OpenCV's vectorised 2x2 area path: 4 ms at
        # 12 MP, against 8 for one reduction by 13 and 5 for Pillow's) while the short side
        # stays at least MIN_SIDE; an odd last row or column is left out.
        rgb = self.jpeg.rgb
        while min(rgb.shape[:2]) // 2 >= MIN_SIDE:
            h, w = rgb.shape[:2]
            whole = rgb[: h // 2 * 2, : w // 2 * 2]
            rgb = cv2.resize(whole, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        return Image.fromarray(rgb)

    def embed(self, identifier: int) -> None:
        embed_rgb(self.jpeg.rgb, identifier, out=self.jpeg.rgb)

    def encode(self) -> bytes:
        return encode_rgb_jpeg(self.jpeg)


@renamed_keyword("store", "registry")
def sign_bytes(
    data: bytes,
    credentials: SigningKeys,
    options: SignOptions | None = None,
    *,
    name: str = "asset",
    media_type: str | None = None,
    signer: Signer | None = None,
    registry: ManifestRegistry | None = None,
) -> SignResult:
    """Sign ``data`` in memory; the result's ``asset`` holds the signed bytes.

    With a watermark, the pixels are watermarked first and the signature covers them; the
    manifest carries a ``c2pa.soft-binding`` assertion with the watermark's payload, and
    ``registry`` (when given) records the manifest so a stripped copy can get it back.
    ``signer`` lets a batch reuse one c2pa Signer (never share one between threads).
    """
    options = options or SignOptions()
    media_type = media_type or media_type_of(data, name)
    if media_type not in EMBEDDABLE:
        raise UnsupportedMediaError(f"{name}: c2pa cannot embed a manifest in {media_type}")
    with stage("read credentials"):
        prior = prior_credentials(data, media_type, name, unreadable_ok=options.drop_credentials)
    kept = None if options.drop_credentials else prior
    # The parent ingredient: --ingredient, else the file's own credentials (as c2patool does).
    parent: tuple[str, str, bytes] | None = None
    chain: tuple[str, ...] = ()
    if options.ingredient is not None:
        if kept is not None:
            raise InputError(
                f"{name}: already carries credentials ({kept.manifest_id}), which would be its "
                f"parent, and the ingredient given names another parent ({options.ingredient})",
                hint="drop its credentials to record only the ingredient given as the parent",
                remedy=Remedy.DROP_CREDENTIALS_FOR_INGREDIENT,
            )
        ingredient = read_input(options.ingredient)
        ingredient_type = media_type_of(ingredient, str(options.ingredient))
        parent = (options.ingredient.name, ingredient_type, ingredient)
        found = prior_credentials(
            ingredient, ingredient_type, str(options.ingredient), unreadable_ok=True
        )
        chain = found.chain if found else ()
    elif kept is not None:
        parent, chain = (Path(name).name, media_type, data), kept.chain
        if options.manifest.source_type is None and kept.source_type:
            # Re-signing keeps what the file is: its AI origin carries through.
            spec = dataclasses.replace(options.manifest, source_type=kept.source_type)
            options = dataclasses.replace(options, manifest=spec)
    rendered = _render(data, media_type, options, name, registry, chain)
    wid = rendered.watermark_id
    definition = manifest_definition(
        options.manifest,
        title=Path(name).name,
        has_parent=parent is not None,
        extra_actions=[]
        if wid is None or rendered.watermark_kept
        else [{"action": "c2pa.watermarked"}],
        extra_assertions=[] if wid is None else [soft_binding(ALG, binding_value(wid))],
    )
    thumbnail = rendered.thumbnail if options.thumbnail is Thumbnail.SMALL else None
    if thumbnail is not None:
        definition["thumbnail"] = {"format": "image/jpeg", "identifier": THUMBNAIL_ID}
    settings = {"enabled": False} if thumbnail is not None else options.thumbnail.settings()
    own_signer = signer is None
    signer = signer or credentials.signer(options.tsa_url)
    try:
        with stage("c2pa sign"):
            asset, manifest_store = c2pa_adapter.sign_asset(
                definition,
                signer,
                media_type,
                rendered.data,
                name=name,
                settings={
                    "builder": {"thumbnail": settings},
                    **(_judging().settings() if parent else _READ_SETTINGS),
                },
                resources={THUMBNAIL_ID: thumbnail} if thumbnail is not None else None,
                ingredient=None
                if parent is None
                else c2pa_adapter.Ingredient(parent_ingredient(parent[0]), parent[1], parent[2]),
            )
    finally:
        if own_signer:
            signer.close()
    with stage("manifest id"):
        report = c2pa_adapter.read_manifest_store(manifest_store, name=name)
    manifest_id = report.active_label
    if wid is not None and registry is not None:
        with stage("registry"):
            registry.register(
                registered_manifest(
                    report,
                    manifest_store,
                    watermark_id=wid,
                    alg=ALG,
                    binding_value=binding_value(wid),
                    media_type=media_type,
                    fingerprint=rendered.fingerprint,
                    reference=rendered.reference,
                )
            )
    return SignResult(
        input=name,
        output=None,
        media_type=media_type,
        manifest_id=manifest_id,
        manifest_size=len(manifest_store),
        labelled=options.label is not None,
        watermark=payload_hex(wid) if wid is not None else None,
        watermark_kept=rendered.watermark_kept,
        kept=kept,
        dropped=prior if options.drop_credentials else None,
        notes=rendered.notes,
        asset=asset,
        manifest=manifest_store,
    )


@renamed_keyword("store", "registry")
def sign_file(
    source: Path,
    output: Path,
    credentials: SigningKeys,
    options: SignOptions | None = None,
    *,
    overwrite: bool = False,
    signer: Signer | None = None,
    registry: ManifestRegistry | None = None,
) -> SignResult:
    """Sign ``source`` into ``output``, atomically (the registry row, if any, only with the file).

    Never replaces an existing ``output`` unless ``overwrite`` (signing in place is
    ``output == source`` with ``overwrite=True``).
    """
    source, output = Path(source), Path(output)
    if output.exists() and not overwrite:
        same = output.resolve() == source.resolve()
        raise OutputError(
            f"{output}: {'is the input' if same else 'already exists'}",
            hint="sign it in place to replace the input" if same else "allow replacing it",
            remedy=Remedy.REPLACE_INPUT if same else Remedy.REPLACE_OUTPUT,
        )
    if not output.parent.is_dir():
        raise OutputError(f"{output}: the directory {output.parent} does not exist")
    data = read_input(source)
    media_type = media_type_of(data, str(source))
    check_output_name(output, media_type)
    # The manifest is registered only once the signed bytes are on disk, just before they get
    # their name: a failed write (or a kill) leaves neither a registry row nor a temp file.
    pending = PendingRegistry(registry) if registry is not None else None
    result = sign_bytes(
        data,
        credentials,
        options,
        name=str(source),
        media_type=media_type,
        signer=signer,
        registry=pending.as_registry() if pending else None,
    )
    assert result.asset is not None
    try:
        with (
            stage("write + fsync + registry + link"),
            atomic_output(
                output, replace=overwrite, before_commit=pending.commit if pending else None
            ) as handle,
        ):
            handle.write(result.asset)
    except BaseException as exc:
        if pending is not None:
            pending.rollback()
        if isinstance(exc, FileExistsError):
            raise OutputError(f"{output}: appeared while signing; not replaced") from None
        if isinstance(exc, OSError):
            raise OutputError(f"{output}: cannot write ({exc.strerror})") from exc
        raise
    return dataclasses.replace(result, input=str(source), output=str(output), asset=None)


@renamed_keyword("store", "registry")
def sign(
    source: Path | str | bytes,
    credentials: SigningKeys,
    options: SignOptions | None = None,
    *,
    output: Path | str | None = None,
    overwrite: bool = False,
    registry: ManifestRegistry | None = None,
) -> SignResult:
    """Sign a file (into ``output``) or bytes (returned in ``SignResult.asset``)."""
    if isinstance(source, bytes):
        if output is not None:
            raise InputError("sign bytes in memory, or a file into an output, not both")
        return sign_bytes(source, credentials, options, registry=registry)
    if output is None:
        raise OutputError("no output path given", hint="pass output=...")
    return sign_file(
        Path(source), Path(output), credentials, options, overwrite=overwrite, registry=registry
    )
