"""Forged recoveries: can an unrelated image be made to recover another image's credentials?

Three attacks from the hostile-world issue, over image pairs (A registered, B unrelated):

* **pHash steering**: shift low-frequency DCT coefficients of B until it has A's 64-bit
  perceptual hash (B still looks like B), then embed A's payload with the public watermark
  key (what ``provenance watermark embed --payload`` does).
* **watermark copy**: estimate A's watermark as A minus a denoised A (the high-pass residual),
  or folded over the 32 px tile (the detector's own weighted residual, averaging A's content
  away), and add it to B.
* **id squatting**: A is signed elsewhere; someone with an API key re-signs A's stripped copy
  under the identifier its pixels carry and registers it.

For each, the table counts forged recoveries under the rule in use (evidence against the stored
reference, ``provenance.evidence``) and, as the baseline measured in the same run, under the old
rule (a pHash similarity >= 0.8 to the registered fingerprint). Benign uploads of every
registered image (JPEG, resize, crops, 2 degree rotation, crop 50 % + JPEG 75, ...) must still
recover, mirrored and turned ones too; inside a canvas (a border, a screenshot of a page) the
watermark is found and the picture compared, but nothing is recovered. Images: the samples and
peer photos (bench/robustness.py) plus generated images made
here (sky gradients, plain backdrops, flat illustrations, textures), at 1 MP.

The margins are printed too: how close the forged uploads whose watermark named A come to
counting as A, and how close the benign ones come to refusal. ``--extra`` adds benign uploads
outside the list (gamma, saturation, JPEG 40, crop + darkening, a 1 px shift) and hostile ones
outside the three attacks, each carrying A's payload: A pasted over 30/50/70 % of B, a generated
picture of the same kind recoloured to A's palette, and A mirrored.

``--redteam`` adds the red team's uploads: A with B over part of it (a rectangle, a soft disc),
A blended with B, A's patch in B, A beside B, A small inside B, A's low frequencies with B's
detail, A's payload on a crop's lattice, an averaged copy of the creator's watermark, A
over-embedded with another registered payload, A inverted, A at 128 px, and A re-signed by
another signer (does the verdict name A's stored credentials?).

    uv run python -m bench.forgery [--pairs N] [--synthetic N] [--extra] [--redteam]
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageEnhance

from bench._common import median_seconds, table, write_json
from bench.attacks import _border as attack_border
from bench.attacks import _screenshot as attack_screenshot
from bench.attacks import _square as attack_square
from bench.robustness import ATTACKS, _crop, _encode, photos
from provenance import (
    ManifestSpec,
    NotIssuedError,
    SignOptions,
    TrustPolicy,
    evidence,
    init_keys,
    register_manifest,
    sign,
    verify,
)
from provenance.fingerprint import image_hash, similarity
from provenance.keys import SigningKeys
from provenance.registry import ManifestRegistry
from provenance.verdict import Verdict
from provenance.watermark import (
    codec,
    decode_for_detection,
    detect_rgb,
    embed_rgb,
    load_for_detection,
)

AI = SignOptions(ManifestSpec(generator="Forgery Bench", model="1"))
OLD_RECOVERY_SIMILARITY = 0.8  # the rule replaced: pHash similarity to the registered image
#: Watermark identifiers of the registered images (the i-th image: REGISTERED_IDS + i), and of
#: the copies the squatter finds signed elsewhere: fixed, where signing would draw them at
#: random, so that two runs (a change and its baseline) see the same pixels.
REGISTERED_IDS = 0x0F0E000000
ELSEWHERE_IDS = 0x0E15E00000


# -- attacks ------------------------------------------------------------------------------------


def _hash_bits(value: int) -> np.ndarray:
    return np.array([(value >> (63 - i)) & 1 for i in range(64)], dtype=bool)


def steer_phash(rgb: np.ndarray, target: int, rounds: int = 40) -> np.ndarray:
    """B with the perceptual hash ``target``: the low-frequency DCT coefficients of its 32 px
    luminance thumbnail whose bits disagree are pushed across the median (and the sign bit
    across zero), spread back over the full image as a smooth luminance change."""
    want = _hash_bits(target)
    out = rgb.astype(np.float32)
    h, w = rgb.shape[:2]
    for _ in range(rounds):
        y = codec.luminance(np.clip(np.rint(out), 0, 255).astype(np.uint8))
        if image_hash(y) == target:
            break
        small = cv2.resize(y, (32, 32), interpolation=cv2.INTER_AREA)
        dct = cv2.dct(small)
        low = dct[:8, :8].ravel().copy()
        ac = low[1:]
        median = float(np.median(ac))
        margin = 0.02 * float(ac.std()) + 0.5
        new = ac.copy()
        above = want[:63]
        new[above & (ac <= median)] = median + margin
        new[~above & (ac > median)] = median - margin
        if want[63] != (new[0] > 0):
            new[0] = margin if want[63] else -margin
        delta = np.zeros((32, 32), np.float32)
        delta[:8, :8] = np.concatenate([[0.0], new - ac]).reshape(8, 8)
        change = cv2.resize(cv2.idct(delta), (w, h), interpolation=cv2.INTER_CUBIC)
        out += change[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _residual(marked: np.ndarray) -> np.ndarray:
    """The attacker's estimate of the watermark in an image: the luminance on the watermark's
    base grid minus a denoised (median-filtered) copy of it."""
    bh, bw = codec.base_size(*marked.shape[:2])
    y = codec.luminance(cv2.resize(marked, (bw, bh), interpolation=cv2.INTER_AREA))
    return y - cv2.medianBlur(np.clip(y, 0, 255).astype(np.uint8), 3).astype(np.float32)


def copy_watermark(marked: np.ndarray, rgb: np.ndarray, *, folded: bool, gain: float) -> np.ndarray:
    """B plus A's estimated watermark: the residual resampled onto B, or (``folded``) its
    average over the 32 px tile, tiled over B's base grid (A's content averages out)."""
    residual = _residual(marked)
    bh, bw = codec.base_size(*rgb.shape[:2])
    if folded:
        # The best estimate the public code offers: the detector's own weighted residual,
        # folded (a plain median residual no longer carries the even-amplitude pattern of a
        # textured image well enough to be detected).
        ah, aw = codec.base_size(*marked.shape[:2])
        y = codec.luminance(cv2.resize(marked, (aw, ah), interpolation=cv2.INTER_AREA))
        tile = codec._fold(codec._whiten(y))
        tile /= tile.std() + 1e-6
        p = codec.PERIOD
        pattern: np.ndarray = np.tile(tile, (bh // p + 1, bw // p + 1))[:bh, :bw] * codec.STRENGTH
    else:
        pattern = cv2.resize(residual, (bw, bh), interpolation=cv2.INTER_LINEAR)
    up = cv2.resize(pattern.astype(np.float32), (rgb.shape[1], rgb.shape[0]))
    return np.clip(np.rint(rgb + gain * up[..., None]), 0, 255).astype(np.uint8)


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()


# -- images -------------------------------------------------------------------------------------


def synthetic(count: int, seed: int = 7) -> list[tuple[str, np.ndarray]]:
    """Generated images of the kinds AI output is full of: sky gradients, plain backdrops with a
    soft subject, flat illustrations, and textures (1024x768 or 768x1024)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        w, h = (1024, 768) if i % 3 else (768, 1024)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        kind = ("sky", "backdrop", "flat", "texture")[i % 4]
        c1, c2 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        if kind == "sky":
            angle = rng.uniform(0, 2 * np.pi)
            t = (np.cos(angle) * xx / w + np.sin(angle) * yy / h + 1) / 2
            img = c1 * (1 - t[..., None]) + c2 * t[..., None]
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            glow = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rng.uniform(80, 300) ** 2))
            img += rng.uniform(30, 90) * glow[..., None]
        elif kind == "backdrop":
            r = np.hypot(xx / w - 0.5, yy / h - 0.5)
            img = c1 * (1 - 0.5 * r[..., None])
            cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
            ax, ay = rng.uniform(0.1, 0.3) * w, rng.uniform(0.15, 0.35) * h
            inside = ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2
            soft = cv2.GaussianBlur((inside < 1).astype(np.float32), (0, 0), 6)
            shade = 0.7 + 0.3 * (1 - np.clip(inside, 0, 1))
            img = img * (1 - soft[..., None]) + (c2 * shade[..., None]) * soft[..., None]
        elif kind == "flat":
            img = np.empty((h, w, 3), np.float32)
            img[:] = c1
            for _ in range(int(rng.integers(4, 10))):
                colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
                pts = rng.uniform([0, 0], [w, h], (int(rng.integers(3, 7)), 2)).astype(np.int32)
                if rng.random() < 0.5:
                    cv2.fillPoly(img, [pts], colour, lineType=cv2.LINE_AA)
                else:
                    centre = (int(pts[0][0]), int(pts[0][1]))
                    cv2.circle(img, centre, int(rng.integers(40, 200)), colour, -1, cv2.LINE_AA)
        else:
            noise: np.ndarray = rng.normal(0, 1, (h // 4, w // 4)).astype(np.float32)
            noise = cv2.GaussianBlur(noise, (0, 0), rng.uniform(1.0, 4.0))
            noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
            t = (noise - noise.min()) / (noise.max() - noise.min() + 1e-6)
            img = c1 * (1 - t[..., None]) + c2 * t[..., None]
        out.append((f"synthetic-{kind}-{i}", np.clip(np.rint(img), 0, 255).astype(np.uint8)))
    return out


def _related(a: np.ndarray, b: np.ndarray) -> bool:
    """Near-duplicates (the peer fixtures hold several crops and re-signings of one photo):
    their 32 px thumbnails correlate, or a centre crop of one is found in the other."""

    def grey(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        return cv2.resize(codec.luminance(x), size, interpolation=cv2.INTER_AREA)

    ga, gb = grey(a, (64, 64)), grey(b, (64, 64))
    if np.corrcoef(ga.ravel(), gb.ravel())[0, 1] > 0.6:
        return True
    ta, tb = grey(a, (128, 96)), grey(b, (128, 96))
    centre = tb[24:72, 32:96]
    return float(cv2.matchTemplate(ta, centre, cv2.TM_CCOEFF_NORMED).max()) > 0.6


# -- the run ------------------------------------------------------------------------------------


BENIGN: dict[str, Callable[[Image.Image], Image.Image]] = {
    name: ATTACKS[name]
    for name in (
        "jpeg 90",
        "jpeg 75",
        "jpeg 50",
        "webp 80",
        "resize 50%",
        "crop 90%",
        "crop 80%",
        "crop 60%",
        "rotate 2°",
        "brightness +20%",
        "contrast +30%",
        "resize 70% + jpeg 75",
    )
}
BENIGN["crop 50% + jpeg 75"] = lambda im: _encode(_crop(0.5)(im), "JPEG", quality=75)
# Mirrored and turned copies (bench/attacks.py): the detector says how, evidence undoes it.
BENIGN["mirrored"] = lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
BENIGN["rotate 90 + jpeg 75"] = lambda im: _encode(
    im.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=75
)
#: The registered picture inside a larger canvas: its watermark is found in a region, the
#: region is compared, but the credentials are never applied (the canvas is not the
#: registered image): a possible match whose similarity is the picture's.
CANVASES: dict[str, Callable[[Image.Image], Image.Image]] = {
    "border 10% black": attack_border(0.1, (0, 0, 0)),
    "padded to a white square": attack_square((255, 255, 255)),
    "screenshot 75%, 60% of side": attack_screenshot(0.75, 0.6),
}


def _gamma(im: Image.Image) -> Image.Image:
    return im.point([round(255 * (v / 255) ** 0.8) for v in range(256)] * 3)


def _shift(im: Image.Image) -> Image.Image:
    """One pixel to the right (the first column repeated), then JPEG 85."""
    a = np.asarray(im)
    shifted = np.concatenate([a[:, :1], a[:, :-1]], axis=1)
    return _encode(Image.fromarray(shifted), "JPEG", quality=85)


#: Benign uploads outside the list above (``--extra``).
BENIGN_EXTRA: dict[str, Callable[[Image.Image], Image.Image]] = {
    "gamma 0.8": _gamma,
    "saturation +30%": lambda im: ImageEnhance.Color(im).enhance(1.3),
    "jpeg 40": lambda im: _encode(im, "JPEG", quality=40),
    "crop 70% + brightness -20%": lambda im: ImageEnhance.Brightness(_crop(0.7)(im)).enhance(0.8),
    "shift 1px + jpeg 85": _shift,
    "GIF (adaptive 256-colour palette)": lambda im: _encode(
        im.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"
    ),
}


def paste(a: np.ndarray, b: np.ndarray, share: float) -> np.ndarray:
    """B with the top-left ``share`` of its area replaced by A's pixels (A resized to B)."""
    h, w = b.shape[:2]
    a = np.asarray(Image.fromarray(a).resize((w, h), Image.Resampling.LANCZOS))
    out = b.copy()
    ph, pw = round(h * share**0.5), round(w * share**0.5)
    out[:ph, :pw] = a[:ph, :pw]
    return out


def recolour(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """B with A's per-channel mean and spread (B's content in A's palette)."""
    bf, af = b.astype(np.float32), a.astype(np.float32)
    out = (bf - bf.mean((0, 1))) / (bf.std((0, 1)) + 1e-6) * af.std((0, 1)) + af.mean((0, 1))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def replaced(a: np.ndarray, b: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """A (marked) with a rectangle over ``share`` of its area, at a random place, replaced by
    B's pixels there (B resized to A): an object inpainted, a face swapped. A's watermark is
    left intact everywhere else, so it still decodes."""
    h, w = a.shape[:2]
    b = np.asarray(Image.fromarray(b).resize((w, h), Image.Resampling.LANCZOS))
    ph, pw = round(h * share**0.5), round(w * share**0.5)
    y, x = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
    out = a.copy()
    out[y : y + ph, x : x + pw] = b[y : y + ph, x : x + pw]
    return out


def ellipse(a: np.ndarray, b: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """A with a soft-edged disc of B over ``share`` of its area (a blended-in object)."""
    h, w = a.shape[:2]
    b = np.asarray(Image.fromarray(b).resize((w, h), Image.Resampling.LANCZOS))
    r = float(np.sqrt(share * h * w / np.pi))
    cy = rng.uniform(min(r, h / 2), max(h - r, h / 2))
    cx = rng.uniform(min(r, w / 2), max(w - r, w / 2))
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (((yy - cy) ** 2 + (xx - cx) ** 2) < r * r).astype(np.float32)
    m = cv2.GaussianBlur(disc, (0, 0), 8)[..., None]
    return np.clip(np.rint(a * (1 - m) + b * m), 0, 255).astype(np.uint8)


def blend(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """A double exposure: ``alpha`` of A plus the rest of B (resized to A)."""
    b = np.asarray(Image.fromarray(b).resize((a.shape[1], a.shape[0]), Image.Resampling.LANCZOS))
    return np.clip(np.rint(alpha * a.astype(np.float32) + (1 - alpha) * b), 0, 255).astype(np.uint8)


def patch_into(a: np.ndarray, b: np.ndarray, side: int) -> np.ndarray:
    """B with A's central ``side`` px square (its watermark with it) pasted near its corner."""
    h, w = a.shape[:2]
    y, x = (h - side) // 2, (w - side) // 2
    out = b.copy()
    out[32 : 32 + side, 32 : 32 + side] = a[y : y + side, x : x + side]
    return out


def collage(a: np.ndarray, b: np.ndarray, share: float) -> np.ndarray:
    """B with A, resized to ``share`` of B's width, over its left part (a side-by-side)."""
    h, w = b.shape[:2]
    aw = round(w * share)
    ah = min(h, round(a.shape[0] * aw / a.shape[1]))
    out = b.copy()
    out[:ah, :aw] = np.asarray(Image.fromarray(a).resize((aw, ah), Image.Resampling.LANCZOS))
    return out


def inset(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A at a third of the width of B shown at twice its size: a small picture in a large one."""
    h, w = b.shape[:2]
    big = np.array(Image.fromarray(b).resize((2 * w, 2 * h), Image.Resampling.LANCZOS))
    aw = 2 * w // 3
    ah = min(2 * h - 64, round(a.shape[0] * aw / a.shape[1]))
    big[64 : 64 + ah, 64 : 64 + aw] = np.asarray(
        Image.fromarray(a).resize((aw, ah), Image.Resampling.LANCZOS)
    )
    return big


def hybrid(a: np.ndarray, b: np.ndarray, sigma: float) -> np.ndarray:
    """A's low frequencies (blurred by ``sigma`` px) plus B's detail above them: the evidence
    compares a 1 px blur of the 256 px grid, a hybrid image shows B's edges up close."""
    b = np.asarray(Image.fromarray(b).resize((a.shape[1], a.shape[0]), Image.Resampling.LANCZOS))
    af, bf = a.astype(np.float32), b.astype(np.float32)
    low = cv2.GaussianBlur(af, (0, 0), sigma)
    detail = bf - cv2.GaussianBlur(bf, (0, 0), sigma)
    return np.clip(np.rint(low + detail), 0, 255).astype(np.uint8)


def at_crop_scale(b: np.ndarray, wid: int, crop: float) -> np.ndarray:
    """B carrying payload ``wid`` on a lattice ``1 / crop`` times as coarse: to the detector
    it is a ``crop`` crop of a marked image (the payload replayed with another geometry)."""
    h, w = b.shape[:2]
    small = np.asarray(Image.fromarray(b).resize((round(w * crop), round(h * crop))))
    marked = embed_rgb(np.ascontiguousarray(small), wid)
    mark = marked.astype(np.float32) - small
    up = cv2.resize(mark, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(np.rint(b + up), 0, 255).astype(np.uint8)


def averaged_copy(marks: list[np.ndarray], b: np.ndarray) -> np.ndarray:
    """B plus the average of the tile-folded residuals of several images signed by the same
    creator (what a secret key leaves an attacker: the pattern estimated from their output),
    x2."""
    bh, bw = codec.base_size(*b.shape[:2])
    p = codec.PERIOD
    tiles = []
    for m in marks:
        ah, aw = codec.base_size(*m.shape[:2])
        y = codec.luminance(cv2.resize(m, (aw, ah), interpolation=cv2.INTER_AREA))
        tile = codec._fold(codec._whiten(y))
        tiles.append(tile / (tile.std() + 1e-6))
    pattern = np.tile(np.mean(tiles, axis=0), (bh // p + 1, bw // p + 1))[:bh, :bw]
    up = cv2.resize((2 * codec.STRENGTH * pattern).astype(np.float32), (b.shape[1], b.shape[0]))
    return np.clip(np.rint(b + up[..., None]), 0, 255).astype(np.uint8)


def shortfall(found: evidence.Likeness) -> float:
    """How far an upload is from counting as the registered one: the largest shortfall of its
    statistics below their thresholds (agreeing, correlation, covered), <= 0 when it counts."""
    return max(
        evidence.MIN_AGREEING - found.agreeing,
        found.min_correlation - found.correlation,
        evidence.MIN_COVERED - found.covered,
    )


def margins(found: list[evidence.Likeness]) -> str:
    """The closest uploads come to each threshold: the highest agreeing share, the highest
    correlation above its required value, and the smallest overall shortfall."""
    if not found:
        return "none named the registered image"
    agree = max(f.agreeing for f in found)
    corr = max(f.correlation - f.min_correlation for f in found)
    least = min(found, key=shortfall)
    return (
        f"max agreeing {agree:.3f} (threshold {evidence.MIN_AGREEING}), max correlation "
        f"{corr:+.3f} from its threshold, closest shortfall {shortfall(least):.3f} "
        f"(agreeing {least.agreeing:.3f}, correlation {least.correlation:.3f} of "
        f"{least.min_correlation:.3f}, covered {least.covered:.2f})"
    )


class Bench:
    def __init__(self, workdir: Path) -> None:
        keys = init_keys(workdir / "keys", org="Forgery Bench")
        self.credentials = SigningKeys.load(keys_dir=keys.dir)
        self.policy = TrustPolicy.from_files([keys.root])
        self.registry = ManifestRegistry(workdir / "manifests.sqlite3")
        self.likeness: list[evidence.Likeness] = []
        #: The best match's similarity in the last ``outcome``.
        self.similarity = 0.0
        #: The last ``outcome``'s verdict.
        self.verdict: Verdict | None = None

    def outcome(self, data: bytes, wid: int) -> tuple[bool, bool, bool]:
        """(watermark names wid, recovered now, recovered under the old pHash rule); the
        evidence of each named upload is kept in ``likeness`` for the margins."""
        verdict = self.verdict = verify(data, policy=self.policy, registry=self.registry)
        named = bool(verdict.watermark and verdict.watermark.get("payload") == f"{wid:010x}")
        record = self.registry.by_watermark(wid)
        old = False
        if named and record is not None:
            decoded = decode_for_detection(data)
            luminance = decoded.luminance
            alike = similarity(image_hash(luminance), record.fingerprint or 0)
            old = alike >= OLD_RECOVERY_SIMILARITY
            found = detect_rgb(luminance)
            self.likeness.append(
                evidence.compare(
                    luminance,
                    record.reference or b"",
                    found.scale,
                    found.angle,
                    clipped=evidence.clipped_mask(decoded.rgb()),
                    orientation=found.orientation,
                    region=found.grid_region,
                    aspect=found.aspect,
                )
            )
        self.similarity = max((m.similarity for m in verdict.matches), default=0.0)
        return named, bool(verdict.credentials.recovered), old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--synthetic", type=int, default=32)
    parser.add_argument(
        "--extra",
        action="store_true",
        help="also benign uploads outside the list, and hostile ones outside the three attacks "
        "(A pasted over part of B; a similar picture; A mirrored), each with A's payload",
    )
    parser.add_argument(
        "--redteam",
        action="store_true",
        help="also the red team's attacks on recovery (edits of A, blends, patches, collages, "
        "insets, hybrids, replayed geometry, over-embedding, averaged copies, re-signing)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    images = photos() + synthetic(args.synthetic)
    bench = Bench(Path(tempfile.mkdtemp(prefix="forgery-")))

    # Register every image (signed into the registry, as `provenance sign --registry` does).
    marked: list[np.ndarray] = []
    ids: list[int] = []
    for i, (name, rgb) in enumerate(images):
        # Fixed identifiers (the embedded pattern depends on them), so that runs compare.
        options = SignOptions(AI.manifest, watermark_id=REGISTERED_IDS + i)
        signed = sign(jpeg(rgb, 95), bench.credentials, options, registry=bench.registry)
        assert signed.watermark is not None, name
        ids.append(int(signed.watermark, 16))
        marked.append(np.asarray(Image.open(io.BytesIO(signed.asset or b"")).convert("RGB")))

    # Benign uploads of every registered image.
    benign: dict[str, list[tuple[bool, bool, bool]]] = {k: [] for k in BENIGN}
    bench.likeness = []
    for rgb, wid in zip(marked, ids, strict=True):
        for attack, fn in BENIGN.items():
            out = np.asarray(fn(Image.fromarray(rgb)).convert("RGB"))
            benign[attack].append(bench.outcome(jpeg(out, 92), wid))

    benign_likeness, bench.likeness = bench.likeness, []
    # The registered pictures inside canvases: (named, recovered, similarity).
    canvases: dict[str, list[tuple[bool, bool, float]]] = {k: [] for k in CANVASES}
    for rgb, wid in zip(marked, ids, strict=True):
        for attack, fn in CANVASES.items():
            out = np.asarray(fn(Image.fromarray(rgb)).convert("RGB"))
            if out.shape == rgb.shape:
                continue  # a square image padded to a square: no canvas, the image itself
            read, applied, _ = bench.outcome(jpeg(out, 85), wid)
            canvases[attack].append((read, applied, bench.similarity))
    bench.likeness = []
    if args.extra:
        for rgb, wid in zip(marked, ids, strict=True):
            for attack, fn in BENIGN_EXTRA.items():
                out = np.asarray(fn(Image.fromarray(rgb)).convert("RGB"))
                benign.setdefault(attack, []).append(bench.outcome(jpeg(out, 92), wid))
        bench.likeness = []

    # Unrelated pairs (A registered, B another image, near-duplicates excluded).
    pairs: list[tuple[int, int]] = []
    candidates = [(a, b) for a in range(len(images)) for b in range(len(images)) if a != b]
    for k in rng.permutation(len(candidates)):
        a, b = candidates[int(k)]
        if not _related(images[a][1], images[b][1]):
            pairs.append((a, b))
        if len(pairs) == args.pairs:
            break
    attacks: dict[str, list[tuple[bool, bool, bool]]] = {
        "pHash steering + embed A's payload": [],
        "watermark copy (residual x2)": [],
        "watermark copy (tile-folded residual x2)": [],
    }
    psnr_steer = []
    for a, b in pairs:
        target = bench.registry.by_watermark(ids[a])
        assert target is not None and target.fingerprint is not None
        b_rgb = images[b][1]
        steered = steer_phash(b_rgb, target.fingerprint)
        mse = float(np.mean((steered.astype(np.float64) - b_rgb) ** 2))
        psnr_steer.append(10 * np.log10(255**2 / max(mse, 1e-9)))
        forged = embed_rgb(steered, ids[a])
        attacks["pHash steering + embed A's payload"].append(bench.outcome(jpeg(forged), ids[a]))
        copied = copy_watermark(marked[a], b_rgb, folded=False, gain=2.0)
        attacks["watermark copy (residual x2)"].append(bench.outcome(jpeg(copied), ids[a]))
        folded = copy_watermark(marked[a], b_rgb, folded=True, gain=2.0)
        attacks["watermark copy (tile-folded residual x2)"].append(
            bench.outcome(jpeg(folded), ids[a])
        )

    forged_likeness, bench.likeness = bench.likeness, []

    hostile: dict[str, list[tuple[bool, bool, bool]]] = {}
    if args.extra:
        for a, b in pairs:
            for share in (0.3, 0.5, 0.7):
                pasted = embed_rgb(paste(marked[a], images[b][1], share), ids[a])
                result = bench.outcome(jpeg(pasted), ids[a])
                name = f"A pasted over {share:.0%} of B + A's payload"
                hostile.setdefault(name, []).append(result)
        # Similar content: a generated image of the same kind, recoloured to A's palette.
        similar = synthetic(args.synthetic, seed=99)
        first = len(images) - args.synthetic
        for j, (_, b_rgb) in enumerate(similar):
            a_rgb = images[first + j][1]
            b_rgb = np.asarray(Image.fromarray(b_rgb).resize((a_rgb.shape[1], a_rgb.shape[0])))
            forged = embed_rgb(recolour(b_rgb, a_rgb), ids[first + j])
            result = bench.outcome(jpeg(forged), ids[first + j])
            name = "same kind of picture in A's palette + A's payload"
            hostile.setdefault(name, []).append(result)
        for (_, rgb), wid in zip(images, ids, strict=True):
            mirrored = embed_rgb(np.ascontiguousarray(rgb[:, ::-1]), wid)
            hostile.setdefault("A mirrored + A's payload", []).append(
                bench.outcome(jpeg(mirrored), wid)
            )

    redteam: dict[str, list[tuple[bool, bool, bool]]] = {}
    #: Per red-team attack: verdicts that name a region of the picture that differs.
    region_said: dict[str, int] = {}
    #: Per red-team attack: uploads that made verify raise.
    crashed: dict[str, int] = {}
    lost_to_overembedding = resigned_named = resigned = 0
    if args.redteam:
        rt = np.random.default_rng(23)

        def attempt(name: str, rgb: np.ndarray, wid: int) -> None:
            try:
                result = bench.outcome(jpeg(rgb), wid)
            except Exception:  # a crash is a finding too (a 500 from the server): counted
                crashed[name] = crashed.get(name, 0) + 1
                result, bench.verdict = (False, False, False), None
            redteam.setdefault(name, []).append(result)
            said = any(
                getattr(m, "edited", None) is not None
                for m in (bench.verdict.matches if bench.verdict else [])
            )
            region_said[name] = region_said.get(name, 0) + said

        for a, b in pairs:
            A, B, wid = marked[a], images[b][1], ids[a]
            for share in (0.1, 0.2, 0.3):
                attempt(
                    f"A with B over {share:.0%} of it (a rectangle)", replaced(A, B, share, rt), wid
                )
            attempt("A with B in a soft disc over 20 %", ellipse(A, B, 0.2, rt), wid)
            for alpha in (0.7, 0.6, 0.5):
                attempt(f"A blended with B, {alpha:.0%} A", blend(A, B, alpha), wid)
            attempt("A's central 256 px pasted into B", patch_into(A, B, 256), wid)
            attempt("A at 40 % of the width beside B", collage(A, B, 0.4), wid)
            attempt("A at a third of the width inside B at 2x", inset(A, B), wid)
            for sigma in (2.0, 4.0):
                attempt(f"A blurred (sigma {sigma:g} px) + B's detail", hybrid(A, B, sigma), wid)
            attempt("B + A's payload at a 60 % crop's scale", at_crop_scale(B, wid, 0.6), wid)
            others = [marked[k] for k in rt.choice(len(marked), 3, replace=False) if k != a]
            attempt(
                "B + the creator's averaged folded residuals", averaged_copy([A, *others], B), wid
            )
            # Over-embedding: A marked again with another registered image's payload (D).
            d = next(  # not a near-duplicate of A (the peer fixtures re-sign one photo)
                k % len(marked)
                for k in range(a + 1, a + len(marked))
                if not _related(images[a][1], images[k % len(marked)][1])
            )
            over = embed_rgb(A, ids[d])
            attempt("A over-embedded with D's payload (target D)", over, ids[d])
            lost_to_overembedding += not bench.outcome(jpeg(over), wid)[1]
        for i, wid in enumerate(ids):
            A = marked[i]
            attempt("A mirrored and colour-inverted (A's pixels)", 255 - A[:, ::-1], wid)
            small = np.asarray(
                Image.fromarray(A).resize((128, round(128 * A.shape[0] / A.shape[1])))
            )
            attempt("A at 128 px wide (A's pixels)", small, wid)
        # Re-signing: A's stripped copy signed by another signer (sign keeps the watermark).
        other = init_keys(Path(tempfile.mkdtemp(prefix="other-")) / "keys", org="Other Signer")
        other_credentials = SigningKeys.load(keys_dir=other.dir)
        for i, wid in enumerate(ids):
            record = bench.registry.by_watermark(wid)
            assert record is not None
            resign = sign(jpeg(marked[i], 92), other_credentials, AI)
            verdict = verify(resign.asset or b"", policy=bench.policy, registry=bench.registry)
            resigned += 1
            resigned_named += any(m.manifest_id == record.manifest_id for m in verdict.matches)

    # Squatting: A signed elsewhere; its stripped copy re-signed under its identifier and
    # registered by another API client.
    squat_accepted = 0
    squat_tried = 0
    for i, (name, rgb) in enumerate(images):
        # Signed elsewhere (not in this registry).
        options = SignOptions(AI.manifest, watermark_id=ELSEWHERE_IDS + i)
        victim = sign(jpeg(rgb, 95), bench.credentials, options)
        wid = int(victim.watermark or "0", 16)
        stripped = jpeg(np.asarray(Image.open(io.BytesIO(victim.asset or b"")).convert("RGB")))
        squat = sign(stripped, bench.credentials, SignOptions(AI.manifest, watermark_id=wid))
        squat_tried += 1
        try:
            register_manifest(
                squat.manifest or b"",
                squat.asset or b"",
                bench.registry,
                client="squatter",
                policy=bench.policy,
                name=name,
            )
            squat_accepted += 1
        except NotIssuedError:
            pass

    rows: list[dict[str, Any]] = []
    for attack, got in attacks.items():
        n = len(got)
        rows.append(
            {
                "attack": attack,
                "pairs": n,
                "watermark names A": f"{sum(g[0] for g in got)}/{n}",
                "forged (old pHash rule)": f"{sum(g[2] for g in got)}/{n}",
                "forged (evidence)": f"{sum(g[1] for g in got)}/{n}",
            }
        )
    rows.append(
        {
            "attack": "id squatting (re-signed stripped copy)",
            "pairs": squat_tried,
            "watermark names A": f"{squat_tried}/{squat_tried}",
            "forged (old pHash rule)": f"{squat_tried}/{squat_tried} (accepted before)",
            "forged (evidence)": f"{squat_accepted}/{squat_tried} accepted",
        }
    )
    print(
        f"Forgery attempts over {len(pairs)} unrelated pairs from {len(images)} images "
        f"(pHash steering PSNR median {np.median(psnr_steer):.1f} dB):\n"
    )
    cols = ["attack", "pairs", "watermark names A", "forged (old pHash rule)", "forged (evidence)"]
    print(table(rows, cols))
    print(f"\nMargins of the forged uploads whose watermark named A: {margins(forged_likeness)}")
    hrows = [
        {
            "upload (outside the issue's attacks)": name,
            "tried": len(got),
            "watermark names A": f"{sum(g[0] for g in got)}/{len(got)}",
            "recovered (evidence)": f"{sum(g[1] for g in got)}/{len(got)}",
        }
        for name, got in hostile.items()
    ]
    if hrows:
        print()
        print(table(hrows, list(hrows[0])))

    rrows = [
        {
            "red-team upload": name,
            "tried": len(got),
            "watermark names the target": f"{sum(g[0] for g in got)}/{len(got)}",
            # Recovered through the target's watermark (over-embedding may leave A's).
            "recovered": f"{sum(g[0] and g[1] for g in got)}/{len(got)}",
            "says a region differs": f"{region_said[name]}/{len(got)}",
            "verify raised": crashed.get(name, 0),
        }
        for name, got in redteam.items()
    ]
    if rrows:
        print()
        print(table(rrows, list(rrows[0])))
        print(
            f"\nOver-embedded copies whose own credentials were lost: {lost_to_overembedding}/"
            f"{len(pairs)}; stripped copies re-signed by another signer whose verdict names the "
            f"stored credentials of the picture: {resigned_named}/{resigned}"
        )

    brows: list[dict[str, Any]] = []
    total = [0, 0, 0, 0]
    for attack, got in benign.items():
        n = len(got)
        named = sum(g[0] for g in got)
        now = sum(g[1] for g in got)
        old = sum(g[2] for g in got)
        total = [total[0] + n, total[1] + named, total[2] + now, total[3] + old]
        brows.append(
            {
                "upload": attack,
                "images": n,
                "watermark decoded": f"{100 * named / n:.1f}%",
                "recovered (old pHash rule)": f"{100 * old / n:.1f}%",
                "recovered (evidence)": f"{100 * now / n:.1f}%",
                "recovered | decoded": f"{100 * now / max(named, 1):.1f}%",
            }
        )
    n, named, now, old = total
    brows.append(
        {
            "upload": "all",
            "images": n,
            "watermark decoded": f"{100 * named / n:.1f}%",
            "recovered (old pHash rule)": f"{100 * old / n:.1f}%",
            "recovered (evidence)": f"{100 * now / n:.1f}%",
            "recovered | decoded": f"{100 * now / max(named, 1):.1f}%",
        }
    )
    print(f"\nBenign uploads of the {len(images)} registered images:\n")
    bcols = [
        "upload",
        "images",
        "watermark decoded",
        "recovered (old pHash rule)",
        "recovered (evidence)",
        "recovered | decoded",
    ]
    print(table(brows, bcols))
    crows = [
        {
            "upload (+ jpeg 85)": attack,
            "images": len(got),
            "watermark decoded": f"{100 * sum(g[0] for g in got) / len(got):.1f}%",
            "picture agrees (similarity >= 0.9)": f"{sum(g[0] and g[2] >= 0.9 for g in got)}",
            "recovered (never, by design)": f"{sum(g[1] for g in got)}",
        }
        for attack, got in canvases.items()
    ]
    print(
        "\nThe registered images inside a canvas (a possible match, not recovered):\n\n"
        + table(crows, list(crows[0]))
    )
    weakest = max(benign_likeness, key=shortfall)
    print(
        "\nBenign uploads whose watermark decoded: lowest agreeing "
        f"{min(f.agreeing for f in benign_likeness):.3f}, lowest correlation "
        f"{min(f.correlation - f.min_correlation for f in benign_likeness):+.3f} from its "
        f"threshold; the closest to refusal: shortfall {shortfall(weakest):.3f} (agreeing "
        f"{weakest.agreeing:.3f}, correlation {weakest.correlation:.3f} of "
        f"{weakest.min_correlation:.3f}, covered {weakest.covered:.2f})"
    )
    # What the evidence costs a recovery: one comparison against the detection it follows, on
    # JPEG 75 uploads (full frame) and crop 60 % uploads of the first photos, same run.
    cost: dict[str, list[float]] = {
        "detect": [],
        "compare": [],
        "detect (crop)": [],
        "compare (crop)": [],
    }
    for rgb, wid in list(zip(marked, ids, strict=True))[:10]:
        record = bench.registry.by_watermark(wid)
        assert record is not None and record.reference is not None
        for suffix, im in (
            ("", Image.fromarray(rgb)),
            (" (crop)", _crop(0.6)(Image.fromarray(rgb))),
        ):
            y = load_for_detection(jpeg(np.asarray(im), 75))
            found = detect_rgb(y)
            cost["detect" + suffix].append(median_seconds(lambda y=y: detect_rgb(y), 5))
            cost["compare" + suffix].append(
                median_seconds(
                    lambda y=y, f=found, r=record.reference: evidence.compare(
                        y, r, f.scale, f.angle
                    ),
                    5,
                )
            )
    timing = {k: round(1000 * float(np.median(v)), 1) for k, v in cost.items()}
    print(
        "\nCost of the evidence (ms, medians over 10 images at 1 MP, same run): "
        f"full frame: detect {timing['detect']}, compare {timing['compare']}; "
        f"crop 60 %: detect {timing['detect (crop)']}, compare {timing['compare (crop)']}"
    )
    path = write_json(
        "forgery",
        {
            "images": [n for n, _ in images],
            "pairs": [[images[a][0], images[b][0]] for a, b in pairs],
            "attacks": rows,
            "benign": brows,
            "canvases": crows,
            "steering_psnr_db_median": float(np.median(psnr_steer)),
            "forged_closest_shortfall": min(map(shortfall, forged_likeness), default=None),
            "benign_weakest_shortfall": shortfall(weakest),
            "cost_ms": timing,
            "hostile_extra": hrows,
            "redteam": rrows,
            "redteam_overembedded_lost": lost_to_overembedding,
            "redteam_resigned_named": [resigned_named, resigned],
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
