"""Experiment (issue 12, s5-dither): rounding the change with a dither, and other roundings,
against WebP 80 / JPEG 50 / crop 50 % + JPEG 75 survival on N generated skies and FLIP at 2x
zoom. Settings are cap:box:kind[:mode] (codec.SMOOTH_CAP, COARSE_BOX, DITHER, DITHER_MODE).

    uv run python -m bench.dither_sweep 40 1.2:4:none 1.2:4:box 1.2:4:box:eq0.5
"""

import sys, statistics, time, numpy as np
from PIL import Image
from bench import quality as q
from bench.forgery import synthetic
from bench.robustness import ATTACKS
from provenance.watermark import codec, embed_rgb, watermark_key

count = int(sys.argv[1])
skies = [rgb for name, rgb in synthetic(4 * count) if "-sky-" in name][:count]
h, w = 768, 1024
smooth = (("sky", q._quantise(q.sky(h, w), 0.0, 0)), ("skin", q._quantise(q.skin(h, w), 0.0, 3)))
for setting in sys.argv[2:]:
    cap, box, kind, mode = (setting + ":").split(":")[:4]
    codec.DITHER_MODE = mode
    codec.SMOOTH_CAP, codec.COARSE_BOX, codec.DITHER = float(cap), int(box), kind
    t0 = time.time()
    row = {"set": setting}
    found = {a: [] for a in q.SWEEP_ATTACKS}
    for i, rgb in enumerate(skies):
        identifier = 0x5C70000000 + i
        marked = Image.fromarray(embed_rgb(rgb, identifier))
        for attack in q.SWEEP_ATTACKS:
            attacked = np.asarray(ATTACKS[attack](marked).convert("RGB"))
            r = codec.detect(attacked, key=watermark_key())
            found[attack].append((r.identifier == identifier, r.sync_z))
    for attack, outcomes in found.items():
        z = statistics.median(z for _, z in outcomes)
        row[attack] = f"{sum(ok for ok, _ in outcomes)}/{len(outcomes)} (z {z:.2f})"
    for name, rgb in smooth:
        mf, p99 = q.zoom_flip(rgb, embed_rgb(rgb, 0x0123456789))
        row[name] = f"{mf:.4f}/{p99:.4f}"
    row["s"] = round(time.time() - t0)
    print(row, flush=True)
