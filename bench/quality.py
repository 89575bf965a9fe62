"""Watermark visibility measured the way people see it, against a JPEG q95 re-save yardstick.

PSNR averages the error over the frame, so it hides grain on the smooth areas that AI images are
full of. This bench adds two measures that see it, on the same images in the same run:

* **flat-block residual RMS**: the RMS of the watermark's change (marked - original, in 8-bit
  levels, luminance and all three RGB channels) inside the 8x8 blocks whose original luminance
  has a standard deviation under 1.5 levels: grain on a sky, a backdrop, skin.
* **FLIP** (NVIDIA's ``flip-evaluator``, LDR, 67 pixels per degree): the mean difference a
  person sees when flipping between the original and the marked image; beside it the FLIP of
  a JPEG quality 95 re-save of the same original, the yardstick (`--q85`: also quality 85).
* **zoom FLIP** (generated smooth images only): FLIP at half the pixels per degree, what a 2x
  zoom does to the viewer, as the mean and as the 99th percentile over 8x8 blocks (the worst
  blocks: isolated speckled cells on a flat field are what the eye catches, and a mean
  averages them away). Yardsticks at the same zoom: a JPEG q95 re-save, and a 1-level dither
  (each pixel's luminance +-1 or 0 at random, rint(U(-1, 1)): the faint noise a generator or
  an 8-bit export leaves, invisible at 2x zoom on these images). The noiseless sky and skin
  are also measured at 12 MP (4000x3000, FLIP on the centre 1024x768).

Images: generated smooth ones made here (sky gradient, plain studio backdrop, flat
illustration, skin-like tones; 8-bit, with and without the faint noise a generator leaves), real
AI generator output from ../shared/fixtures/c2pa (Amazon Titan G1 PNG, Adobe Firefly JPEG,
Photoshop generative fill) and the sample photos. Also writes docs/watermark-zoom.png: a crop of
the original and the marked image side by side at 2x zoom. Table to stdout, JSON to
bench/results/quality.json.

    uv run python -m bench.quality [--size 1024] [--no-flip] [--sweep N]
"""

from __future__ import annotations

import argparse
import io
import statistics
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from bench._common import ROOT, SAMPLES, table, write_json
from provenance.watermark import codec, embed_rgb

SHARED = ROOT.parent / "shared" / "fixtures" / "c2pa"
AI_FILES = {
    "titan-g1.png (Amazon Titan)": "c2pa-ts/tests/fixtures/amazon-titan-g1.png",
    "Firefly_tabby_cat.jpg (Adobe Firefly)": "example-assets/images/Firefly_tabby_cat.jpg",
    "ocsp.jpg (Photoshop generative fill)": "c2pa-rs/sdk/tests/fixtures/ocsp.jpg",
}
#: A mostly black photo (the Apollo 17 Earth, 35 % black background), at 1 MP as
#: bench/robustness.py marks it: its black carries DARK_CAP rather than the flat cap, so its
#: flat-block RMS is in levels the eye barely resolves there; FLIP is the judge.
DARK_FILE = "c2pa-rs/sdk/tests/fixtures/cloud.jpg"
FLAT_STD = 1.5
ZOOM_PATH = ROOT / "docs" / "watermark-zoom.png"


# -- images -------------------------------------------------------------------------------------


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return y / h, x / w


def sky(h: int, w: int) -> np.ndarray:
    y, x = _grid(h, w)
    top, horizon = np.array([40, 90, 170]), np.array([190, 215, 240])
    t = (y**0.8)[..., None]
    glow = 25 * np.exp(-(((x - 0.7) ** 2) + (y - 0.9) ** 2) / 0.08)[..., None]
    return top * (1 - t) + horizon * t + glow * np.array([1.0, 0.8, 0.4])


def backdrop(h: int, w: int) -> np.ndarray:
    y, x = _grid(h, w)
    vignette = 1 - 0.35 * ((x - 0.5) ** 2 + (y - 0.45) ** 2) / 0.5
    return (np.array([128, 132, 138]) * vignette[..., None]).astype(np.float32)


def illustration(h: int, w: int) -> np.ndarray:
    image = Image.new("RGB", (w, h), (246, 226, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(h * 0.62), w, h), fill=(120, 170, 90))
    draw.ellipse(
        (int(w * 0.62), int(h * 0.1), int(w * 0.82), int(h * 0.1) + int(w * 0.2)),
        fill=(250, 190, 60),
    )
    draw.polygon(
        [(w * 0.1, h * 0.62), (w * 0.3, h * 0.3), (w * 0.5, h * 0.62)], fill=(90, 110, 150)
    )
    draw.rounded_rectangle((w * 0.55, h * 0.45, w * 0.8, h * 0.75), radius=20, fill=(200, 80, 70))
    big = image.resize((w * 2, h * 2), Image.Resampling.NEAREST)
    return np.asarray(big.resize((w, h), Image.Resampling.BOX)).astype(np.float32)


def skin(h: int, w: int) -> np.ndarray:
    y, x = _grid(h, w)
    rng = np.random.default_rng(3)
    low = cv2.resize(
        rng.normal(0, 1, (6, 6)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    face = np.exp(-(((x - 0.5) / 0.3) ** 2 + ((y - 0.5) / 0.38) ** 2))
    base = np.array([224, 172, 140]) * (0.75 + 0.25 * face)[..., None]
    return base + 6 * low[..., None] * np.array([1.0, 0.7, 0.6])


def product(h: int, w: int) -> np.ndarray:
    """A product shot on a pure white backdrop (a common kind of generated image): a shaded
    ellipse and its soft shadow; the backdrop sits at 255, where half the pattern clips."""
    y, x = _grid(h, w)
    canvas = np.full((h, w, 3), 255.0, np.float32)
    canvas -= 60 * np.exp(-(((x - 0.51) / 0.25) ** 2 + ((y - 0.78) / 0.05) ** 2))[..., None]
    inside = ((x - 0.5) / 0.18) ** 2 + ((y - 0.49) / 0.29) ** 2 < 1
    shade = (0.6 + 0.4 * np.cos((x - 0.44) * 5.0))[..., None] * np.array([200, 60, 50])
    return np.where(inside[..., None], shade, canvas)


def _quantise(a: np.ndarray, noise: float, seed: int) -> np.ndarray:
    if noise:
        a = a + np.random.default_rng(seed).normal(0, noise, a.shape)
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def _fit(image: Image.Image, size: int) -> np.ndarray:
    """The image scaled so its long side is at most ``size`` (generators' own sizes kept)."""
    image = image.convert("RGB")
    scale = min(1.0, size / max(image.size))
    if scale < 1:
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
        )
    return np.asarray(image)


def images(size: int) -> list[tuple[str, str, np.ndarray]]:
    """(name, kind, RGB uint8) for every test image."""
    h, w = size * 3 // 4, size
    out: list[tuple[str, str, np.ndarray]] = []
    for i, (name, make) in enumerate(
        (
            ("sky gradient", sky),
            ("plain backdrop", backdrop),
            ("flat illustration", illustration),
            ("skin-like tones", skin),
            ("product on white", product),
        )
    ):
        canvas = make(h, w)
        out.append((name, "generated, smooth", _quantise(canvas, 0.0, i)))
        if name in ("sky gradient", "skin-like tones"):
            out.append((f"{name} + faint noise", "generated, smooth", _quantise(canvas, 0.8, i)))
    if SHARED.is_dir():
        for name, rel in AI_FILES.items():
            if (SHARED / rel).is_file():
                out.append((name, "real AI output", _fit(Image.open(SHARED / rel), 1600)))
    for path in sorted(SAMPLES.glob("*.jpg")):
        out.append((path.name, "photo", np.asarray(Image.open(path).convert("RGB"))))
    # A night scene: a photo darkened (gamma 2.5, x0.35), mostly in the levels under 30.
    rocket = np.asarray(Image.open(SAMPLES / "rocket.jpg").convert("RGB")) / 255.0
    night = np.clip(np.rint(255 * 0.35 * rocket**2.5), 0, 255).astype(np.uint8)
    out.append(("rocket.jpg darkened (night scene)", "photo, mostly black", night))
    if (SHARED / DARK_FILE).is_file():
        earth = Image.open(SHARED / DARK_FILE).convert("RGB")
        scale = (1e6 / (earth.width * earth.height)) ** 0.5
        side = (round(earth.width * scale), round(earth.height * scale))
        earth_1mp = np.asarray(earth.resize(side, Image.Resampling.LANCZOS))
        out.append(("cloud.jpg at 1 MP (Apollo 17 Earth)", "photo, mostly black", earth_1mp))
    return out


# -- metrics ------------------------------------------------------------------------------------


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(255**2 / max(mse, 1e-12))


def flat_blocks(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel mask of the 8x8 blocks whose luminance std is under FLAT_STD levels."""
    y = codec.luminance(rgb)
    h, w = (y.shape[0] // 8) * 8, (y.shape[1] // 8) * 8
    blocks = y[:h, :w].reshape(h // 8, 8, w // 8, 8)
    flat = blocks.std(axis=(1, 3)) < FLAT_STD
    mask = np.zeros(y.shape, dtype=bool)
    mask[:h, :w] = np.repeat(np.repeat(flat, 8, axis=0), 8, axis=1)
    return mask


def flat_rms(original: np.ndarray, marked: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(luminance, RGB) RMS of the change inside ``mask``, in 8-bit levels."""
    if not mask.any():
        return float("nan"), float("nan")
    dy = codec.luminance(marked) - codec.luminance(original)
    drgb = marked.astype(np.float32) - original
    return float(np.sqrt(np.mean(dy[mask] ** 2))), float(np.sqrt(np.mean(drgb[mask] ** 2)))


def _flip(a: np.ndarray, b: np.ndarray, **parameters: float) -> tuple[np.ndarray, float]:
    """FLIP (LDR) of ``b`` against ``a``: the (H, W) error map and its mean; ``parameters``
    as ``flip_evaluator`` takes them, its defaults for the rest."""
    import flip_evaluator

    error, mean, _ = flip_evaluator.evaluate(
        a.astype(np.float32) / 255,
        b.astype(np.float32) / 255,
        "LDR",
        applyMagma=False,
        parameters=parameters,
    )
    return np.squeeze(error), float(mean)


def flip(a: np.ndarray, b: np.ndarray) -> float:
    return _flip(a, b)[1]


#: FLIP's default pixels per degree (a 0.7 m viewing distance from a 24" 4K monitor); a 2x zoom
#: halves it.
PPD = 67.0
ZOOM_BLOCK = 8


def zoom_flip(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """FLIP at 2x zoom (PPD / 2): the mean, and the 99th percentile of its 8x8 block means."""
    error, mean = _flip(a, b, ppd=PPD / 2)
    h, w = (error.shape[0] // ZOOM_BLOCK) * ZOOM_BLOCK, (error.shape[1] // ZOOM_BLOCK) * ZOOM_BLOCK
    blocks = error[:h, :w].reshape(h // ZOOM_BLOCK, ZOOM_BLOCK, w // ZOOM_BLOCK, ZOOM_BLOCK)
    return mean, float(np.percentile(blocks.mean(axis=(1, 3)), 99))


def dither(rgb: np.ndarray, seed: int = 0) -> np.ndarray:
    """The 1-level dither yardstick: rint(U(-1, 1)) added to R, G and B alike."""
    step = np.rint(np.random.default_rng(seed).uniform(-1, 1, rgb.shape[:2]))[..., None]
    return np.clip(rgb + step, 0, 255).astype(np.uint8)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def _zoom_columns(label: str, flips: tuple[float, float]) -> dict[str, float]:
    return {f"{label} mean": round(flips[0], 4), f"{label} p99": round(flips[1], 4)}


# -- the zoomed side-by-side --------------------------------------------------------------------


def zoom_figure(
    pairs: list[tuple[str, np.ndarray, np.ndarray]], path: Path, crop: int = 192
) -> None:
    """Original | marked crops at 2x zoom (nearest neighbour), one row per image: the crop is
    the flattest ``crop``-px window with some structure in it, where grain would show first."""
    rows = []
    for _name, original, marked in pairs:
        y = codec.luminance(original)
        best, where = np.inf, (0, 0)
        for top in range(0, y.shape[0] - crop + 1, crop // 2):
            for left in range(0, y.shape[1] - crop + 1, crop // 2):
                window = y[top : top + crop, left : left + crop]
                score = window.std()
                if score < best and np.ptp(window) > 8:
                    best, where = score, (top, left)
        top, left = where
        cut = [a[top : top + crop, left : left + crop] for a in (original, marked)]
        gap = np.full((crop, 8, 3), 255, dtype=np.uint8)
        rows.append(np.hstack([cut[0], gap, cut[1]]))
        rows.append(np.full((8, rows[-1].shape[1], 3), 255, dtype=np.uint8))
    figure = Image.fromarray(np.vstack(rows[:-1]))
    figure = figure.resize((figure.width * 2, figure.height * 2), Image.Resampling.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.save(path, optimize=True)


# -- the trade-off on smooth images -------------------------------------------------------------

#: (SMOOTH_CAP, COARSE_BOX, EQUALISE) triples ``--sweep`` tries; a COARSE_BOX of 1 leaves the
#: change as drawn, an EQUALISE of 0 leaves each 8x8 block's energy as drawn (the codec before
#: the per-block equalisation).
SWEEP = (
    (1.2, 4, 0.0),
    (1.2, 4, 0.5),
    (1.1, 4, 0.75),
    (1.2, 4, 0.75),
    (1.3, 4, 0.75),
    (1.2, 4, 1.0),
)
SWEEP_ATTACKS = ("webp 80", "jpeg 50", "crop 50% + jpeg 75")
#: A 12 MP image (4000x3000) is measured at 2x zoom on its centre 1024x768 (FLIP of the whole
#: frame would take a minute, and the sky is alike everywhere).
BIG = (3000, 4000)


def _centre(rgb: np.ndarray, h: int = 768, w: int = 1024) -> np.ndarray:
    top, left = (rgb.shape[0] - h) // 2, (rgb.shape[1] - w) // 2
    return rgb[top : top + h, left : left + w]


def _smooth_pairs() -> list[tuple[str, np.ndarray]]:
    """The noiseless sky gradient and skin-like tones at 1 MP and 12 MP."""
    out = []
    for label, (h, w) in (("", (768, 1024)), (" 12 MP", BIG)):
        out.append((f"sky{label}", _quantise(sky(h, w), 0.0, 0)))
        out.append((f"skin{label}", _quantise(skin(h, w), 0.0, 3)))
    return out


def sweep(count: int) -> list[dict[str, Any]]:
    """What invisibility costs in robustness on a smooth image: for each (SMOOTH_CAP, COARSE_BOX,
    EQUALISE) of SWEEP, how many of ``count`` generated skies (bench/forgery.py's, 1 MP) still
    decode after WebP 80, JPEG 50 and crop 50 % + JPEG 75 (median sync z), beside FLIP at 2x
    zoom on the noiseless sky gradient and skin-like tones, at 1 MP and 12 MP."""
    from bench.forgery import synthetic
    from bench.robustness import ATTACKS
    from provenance.watermark import watermark_key

    skies = [rgb for name, rgb in synthetic(4 * count) if "-sky-" in name][:count]
    smooth = _smooth_pairs()
    saved = codec.SMOOTH_CAP, codec.COARSE_BOX, codec.EQUALISE
    rows = []
    try:
        for cap, box, equalise in SWEEP:
            codec.SMOOTH_CAP, codec.COARSE_BOX, codec.EQUALISE = cap, box, equalise
            row: dict[str, Any] = {"SMOOTH_CAP": cap, "COARSE_BOX": box, "EQUALISE": equalise}
            found: dict[str, list[tuple[bool, float]]] = {a: [] for a in SWEEP_ATTACKS}
            for i, rgb in enumerate(skies):
                identifier = 0x5C70000000 + i
                image = Image.fromarray(embed_rgb(rgb, identifier))
                for attack in SWEEP_ATTACKS:
                    attacked = np.asarray(ATTACKS[attack](image).convert("RGB"))
                    result = codec.detect(attacked, key=watermark_key())
                    found[attack].append((result.identifier == identifier, result.sync_z))
            for attack, outcomes in found.items():
                z = statistics.median(z for _, z in outcomes)
                row[attack] = f"{sum(ok for ok, _ in outcomes)}/{len(outcomes)} (z {z:.2f})"
            for name, rgb in smooth:
                flips = zoom_flip(_centre(rgb), _centre(embed_rgb(rgb, 0x0123456789)))
                row |= _zoom_columns(f"{name} zoom", flips)
            rows.append(row)
            print(row, flush=True)
    finally:
        codec.SMOOTH_CAP, codec.COARSE_BOX, codec.EQUALISE = saved
    return rows


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1024, help="long side of generated images")
    parser.add_argument("--no-flip", action="store_true", help="skip FLIP (seconds per image)")
    parser.add_argument("--only", default="", help="only images whose name contains this")
    parser.add_argument("--q85", action="store_true", help="also FLIP a JPEG q85 re-save")
    parser.add_argument(
        "--sweep",
        type=int,
        default=0,
        metavar="N",
        help="instead: the smooth-image cap and coarsening against WebP 80 / JPEG 50 / crop "
        "50 %% + JPEG 75 survival on N generated skies and FLIP at 2x zoom (see SWEEP)",
    )
    args = parser.parse_args()
    if args.sweep:
        trade = sweep(args.sweep)
        print("\nSmooth images: robustness (decoded, median sync z) against FLIP at 2x zoom:\n")
        print(table(trade, list(trade[0])))
        print(f"wrote {write_json('quality-sweep', {'rows': trade})}")
        return
    rows: list[dict[str, Any]] = []
    zooms: list[dict[str, Any]] = []
    zoom: list[tuple[str, np.ndarray, np.ndarray]] = []
    for i, (name, kind, rgb) in enumerate(images(args.size)):
        if args.only not in name:
            continue
        marked = embed_rgb(rgb, 0x5A5A5A5A5A ^ i)
        mask = flat_blocks(rgb)
        q95 = jpeg(rgb, 95)  # the yardstick's re-save, for PSNR and both FLIPs
        ry, rrgb = flat_rms(rgb, marked, mask)
        row: dict[str, Any] = {
            "image": name,
            "kind": kind,
            "size": f"{rgb.shape[1]}x{rgb.shape[0]}",
            "flat %": round(100 * float(mask.mean())),
            "flat RMS Y": round(ry, 2),
            "flat RMS RGB": round(rrgb, 2),
            "PSNR dB": round(float(psnr(rgb, marked)), 1),
            "PSNR q95": round(float(psnr(rgb, q95)), 1),
        }
        if not args.no_flip:
            row["FLIP"] = round(flip(rgb, marked), 4)
            row["FLIP q95"] = round(flip(rgb, q95), 4)
            if args.q85:
                row["FLIP q85"] = round(flip(rgb, jpeg(rgb, 85)), 4)
            row["FLIP <= q95"] = "yes" if row["FLIP"] <= row["FLIP q95"] else "NO"
            if kind == "generated, smooth":
                zooms.append(
                    {
                        "image": name,
                        **_zoom_columns("ours", zoom_flip(rgb, marked)),
                        **_zoom_columns("q95", zoom_flip(rgb, q95)),
                        **_zoom_columns("dither", zoom_flip(rgb, dither(rgb, i))),
                    }
                )
        rows.append(row)
        print(row, flush=True)
        if name in ("sky gradient", "skin-like tones") or kind == "real AI output":
            zoom.append((name, rgb, marked))
    if not args.no_flip and (not args.only or "12 MP" in args.only):
        for name, rgb in _smooth_pairs():
            if "12 MP" not in name:
                continue
            marked = embed_rgb(rgb, 0x0123456789)
            original, marked = _centre(rgb), _centre(marked)
            zooms.append(
                {
                    "image": f"{name} (centre 1024x768)",
                    **_zoom_columns("ours", zoom_flip(original, marked)),
                    **_zoom_columns("q95", zoom_flip(original, jpeg(original, 95))),
                    **_zoom_columns("dither", zoom_flip(original, dither(original))),
                }
            )
            if name == "sky 12 MP":
                zoom.append((name, original, marked))
    columns = list(rows[0]) if rows else []
    print(
        f"\nWatermark visibility (ours, strength {codec.STRENGTH}), flat = 8x8 luminance "
        f"std < {FLAT_STD}; RMS in 8-bit levels:\n"
    )
    print(table(rows, columns))
    flat_max = {
        kind: max(
            (r["flat RMS RGB"] for r in rows if r["kind"] == kind and r["flat %"] > 0),
            default=float("nan"),
        )
        for kind in sorted({r["kind"] for r in rows})
    }
    print(f"\nworst flat-block RMS (RGB) per kind: {flat_max}")
    print(
        f"median PSNR {statistics.median(r['PSNR dB'] for r in rows):.1f} dB; "
        f"lowest {min(r['PSNR dB'] for r in rows):.1f} dB"
    )
    if zooms:
        print(
            f"\nAt 2x zoom (FLIP at {PPD / 2:g} pixels per degree): mean / 99th percentile of "
            f"its {ZOOM_BLOCK}x{ZOOM_BLOCK} block means; yardsticks: a JPEG q95 re-save and a "
            "1-level dither:\n"
        )
        print(table(zooms, list(zooms[0])))
    if zoom and not args.only:
        # The sky and skin, Titan and Firefly at 1 MP, and the sky at 12 MP.
        zoom_figure(zoom[:4] + [pair for pair in zoom if "12 MP" in pair[0]], ZOOM_PATH)
        print(f"wrote {ZOOM_PATH.relative_to(ROOT)}")
    result = {"rows": rows, "zoom": zooms, "flat_std": FLAT_STD}
    print(f"wrote {write_json('quality', result)}")


if __name__ == "__main__":
    main()
