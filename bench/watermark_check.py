"""Signing's watermark check (``_mark_on_grid``): how many of the quality bench's images
and the robustness bench's photos carry the watermark they are signed with, how far up its sync
peak stands, and whether the check on the marked pixels before encoding (what signing does)
agrees with a read-back of the signed file. ``--real``: which real files in the test data and
the shared fixtures fail the check (signed without a soft binding) or pass it only weakly.

    uv run python -m bench.watermark_check [--real]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench import quality, robustness
from bench._common import ROOT, table, write_json
from bench.forgery import jpeg
from provenance import SigningKeys, init_keys, sign_bytes
from provenance.errors import ProvenanceError
from provenance.media import decode_plain_jpeg, media_type_of, open_image
from provenance.sign import WEAK_Z, _ArrayPixels, _grey, _mark_on_grid, _PillowPixels
from provenance.watermark import detect_rgb, load_for_detection


def _png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _outcome(notes: list[str]) -> str:
    if any(n.startswith("no watermark: this image is too uniform") for n in notes):
        return "FAIL"
    return "weak" if any(n.startswith("weak watermark") for n in notes) else "pass"


def _checked(data: bytes, watermark: str | None) -> float | None:
    """The sync z signing's check saw: the same pixels marked with the same identifier, reduced
    as signing reduces them (a sign without a label, so a plain JPEG's array path)."""
    if watermark is None:
        return None
    plain = decode_plain_jpeg(data)
    pixels = (
        _ArrayPixels(plain)
        if plain is not None
        else _PillowPixels(image := open_image(data), image, media_type_of(data), data)
    )
    pixels.embed(int(watermark, 16))
    return _mark_on_grid(_grey(pixels.reduced())).sync_z


def corpus(creds: SigningKeys) -> list[dict[str, Any]]:
    images = [(name, kind, rgb) for name, kind, rgb in quality.images(1024)]
    images += [(name, "robustness photo", rgb) for name, rgb in robustness.photos()]
    rows = []
    for name, kind, rgb in images:
        for fmt, data in (("JPEG q90", jpeg(rgb)), ("PNG", _png(rgb))):
            result = sign_bytes(data, creds, name=f"{name}.{fmt[:3].lower()}")
            assert result.asset is not None
            back = detect_rgb(load_for_detection(result.asset), resync=False)
            checked = _checked(data, result.watermark)
            # What signing checked: the marked pixels' reduced copy, before encoding (its z is
            # in the note only when weak; here the read-back and its agreement with the note).
            rows.append(
                {
                    "image": name[:28],
                    "kind": kind,
                    "source": fmt,
                    "check": _outcome(result.notes),
                    "checked z": checked,
                    "read back z": back.sync_z,
                    "read back ok": result.watermark is None or back.payload == result.watermark,
                }
            )
    return rows


def real_files(creds: SigningKeys) -> list[dict[str, Any]]:
    roots = [ROOT / "tests" / "data", ROOT.parent / "shared" / "fixtures"]
    rows = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"}:
                continue
            try:
                result = sign_bytes(path.read_bytes(), creds, name=str(path))
            except (ProvenanceError, OSError, ValueError):
                continue  # not signable: not this check's business
            outcome = _outcome(result.notes)
            if result.watermark is None and outcome == "pass":
                continue  # no watermark for another reason (size, format, kept lineage)
            rows.append({"file": str(path.relative_to(root.parent)), "check": outcome})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--real", action="store_true", help="scan the real files instead")
    args = parser.parse_args()
    keys = init_keys(Path(tempfile.mkdtemp()) / "keys")
    creds = SigningKeys.load(keys_dir=keys.dir)
    if args.real:
        rows = real_files(creds)
        failing = [r for r in rows if r["check"] != "pass"]
        print(f"{len(rows)} real files watermarked; not passing the check ({len(failing)}):\n")
        if failing:
            print(table(failing, list(failing[0])))
        print(f"wrote {write_json('watermark_check_real', {'rows': rows})}")
        return
    rows = corpus(creds)
    print(table(rows, list(rows[0])))
    counts = {k: sum(r["check"] == k for r in rows) for k in ("pass", "weak", "FAIL")}
    disagree = sum(not r["read back ok"] for r in rows)
    zs = [r["read back z"] for r in rows if r["check"] != "FAIL"]
    print(
        f"\n{len(rows)} signs: {counts}; weak below sync z {WEAK_Z:g}; the read-back of a "
        f"passing sign failed in {disagree}; read-back sync z min {min(zs):.1f}, median "
        f"{statistics.median(zs):.1f}"
    )
    print(f"wrote {write_json('watermark_check', {'rows': rows, 'counts': counts})}")


if __name__ == "__main__":
    main()
