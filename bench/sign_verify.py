"""Sign and verify throughput for 1 MP and 12 MP JPEGs, thumbnail small/full/none, and the
default (watermark + small thumbnail: decode, embed, re-encode at quality 95, sign). Then the
default sign of a 12 MP JPEG and PNG against a plain decode + re-encode of the same file, and the
peak memory it adds per pixel.

Baseline, measured in the same run: c2pa-python's own Builder.sign and Reader with no project
code around them, thumbnails off. The ratio column is our median over that baseline's.

    uv run python -m bench.sign_verify [--runs N]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

import c2pa
from PIL import Image

from bench._common import median_seconds, natural_jpeg, table, write_json
from provenance import (
    ManifestSpec,
    SigningKeys,
    SignOptions,
    Thumbnail,
    TrustPolicy,
    init_keys,
    sign_bytes,
    verify,
)
from provenance.manifest import manifest_definition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pipeline-only", action="store_true", help="only the 12 MP section")
    args = parser.parse_args()
    keys = init_keys(Path(tempfile.mkdtemp()) / "keys")
    creds = SigningKeys.load(keys_dir=keys.dir)
    policy = TrustPolicy.from_files([keys.root])
    spec = ManifestSpec(generator="Bench Diffusion")
    if args.pipeline_only:
        big = pipeline(creds, spec, max(3, args.runs // 3))
        print(table(big, list(big[0])))
        print(f"wrote {write_json('sign_pipeline', {'pipeline_12mp': big})}")
        return
    rows = []
    for mp, runs in ((1, args.runs), (12, max(3, args.runs // 3))):
        data = natural_jpeg(mp)
        raw_ctx = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})

        def raw_sign(data: bytes = data, raw_ctx: c2pa.Context = raw_ctx) -> bytes:
            with (
                creds.signer() as signer,
                c2pa.Builder(manifest_definition(spec, title="b.jpg"), raw_ctx) as builder,
            ):
                out = io.BytesIO()
                builder.sign(signer, "image/jpeg", io.BytesIO(data), out)
                return out.getvalue()

        signed = raw_sign()
        base_sign = median_seconds(raw_sign, runs)

        def raw_read(signed: bytes = signed) -> str:
            with c2pa.Reader("image/jpeg", io.BytesIO(signed), None, policy.context()) as r:
                return r.json()

        base_verify = median_seconds(raw_read, runs)
        rows.append(
            _row(
                f"{mp} MP",
                "c2pa baseline",
                "none",
                base_sign,
                base_verify,
                1,
                1,
                len(signed) - len(data),
            )
        )
        variants = [(t, False) for t in Thumbnail] + [(Thumbnail.SMALL, True)]
        for thumb, marked in variants:
            opts = SignOptions(spec, thumbnail=thumb, watermark=marked)
            result = sign_bytes(data, creds, opts)
            t_sign = median_seconds(lambda d=data, o=opts: sign_bytes(d, creds, o), runs)
            asset = result.asset or b""
            t_verify = median_seconds(lambda a=asset: verify(a, policy=policy), runs)
            rows.append(
                _row(
                    f"{mp} MP",
                    "provenance + watermark" if marked else "provenance",
                    thumb.value,
                    t_sign,
                    t_verify,
                    t_sign / base_sign,
                    t_verify / base_verify,
                    len(asset) - len(data),
                )
            )
    columns = [
        "image",
        "code",
        "thumbnail",
        "sign ms",
        "sign files/s",
        "sign x base",
        "verify ms",
        "verify files/s",
        "verify x base",
        "bytes added",
    ]
    print(table(rows, columns))
    print(f"\nmedians of {args.runs} runs (12 MP: {max(3, args.runs // 3)}), one thread")
    big = pipeline(creds, spec, max(3, args.runs // 3))
    print("\nThe default sign (watermark + small thumbnail) at 12 MP, beside what a plain decode +")
    print("re-encode of the same file costs (Pillow, same run), and the peak memory it adds:\n")
    print(table(big, list(big[0])))
    print(f"wrote {write_json('sign_verify', {'rows': rows, 'pipeline_12mp': big})}")


_PEAK_CODE = """
import sys, tempfile
from pathlib import Path
from provenance import ManifestSpec, SigningKeys, SignOptions, init_keys, sign_bytes
from bench._common import natural_jpeg
data = Path(sys.argv[1]).read_bytes()
creds = SigningKeys.load(keys_dir=init_keys(Path(tempfile.mkdtemp()) / "k").dir)
opts = SignOptions(ManifestSpec(generator="Bench Diffusion"))
# Both processes sign a small image first: libraries loaded and warmed are not the large sign's.
sign_bytes(natural_jpeg(0.3), creds, opts)
if sys.argv[2] == "1":
    sign_bytes(data, creds, opts)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
print(next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")))
"""


def _peak_kib(path: Path, run: bool) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_CODE, str(path), "1" if run else "0"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return int(out.stdout.strip())


def pipeline(creds: SigningKeys, spec: ManifestSpec, runs: int) -> list[dict[str, str]]:
    """12 MP JPEG and PNG: sign time against decode + re-encode; bytes of memory per pixel
    (peak of a process that signs once, minus one that only reads the file and the keys)."""
    rows = []
    jpeg = natural_jpeg(12)
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    pixels = image.width * image.height
    png = io.BytesIO()
    image.save(png, format="PNG", compress_level=1)
    opts = SignOptions(spec)
    for fmt, data, params in (
        ("JPEG", jpeg, {"quality": 95}),
        ("PNG", png.getvalue(), {"compress_level": 1}),
    ):

        def recode(data: bytes = data, fmt: str = fmt, params: dict = params) -> bytes:
            out = io.BytesIO()
            Image.open(io.BytesIO(data)).save(out, format=fmt, **params)
            return out.getvalue()

        t_sign = median_seconds(lambda d=data: sign_bytes(d, creds, opts), runs)
        t_decode = median_seconds(lambda d=data: Image.open(io.BytesIO(d)).load(), runs)
        t_recode = median_seconds(recode, runs)
        path = Path(tempfile.mkdtemp()) / f"12mp.{fmt.lower()}"
        path.write_bytes(data)
        added = (_peak_kib(path, True) - _peak_kib(path, False)) * 1024
        rows.append(
            {
                "input": f"{fmt} {image.width}x{image.height}",
                "sign ms": f"{t_sign * 1000:.0f}",
                "decode ms": f"{t_decode * 1000:.0f}",
                "decode + re-encode ms": f"{t_recode * 1000:.0f}",
                "sign / (decode + re-encode)": f"{t_sign / t_recode:.2f}",
                "peak MB added": f"{added / 2**20:.0f}",
                "bytes/pixel": f"{added / pixels:.1f}",
            }
        )
    return rows


def _row(image, code, thumb, t_sign, t_verify, r_sign, r_verify, added):  # type: ignore[no-untyped-def]
    return {
        "image": image,
        "code": code,
        "thumbnail": thumb,
        "sign ms": f"{t_sign * 1000:.1f}",
        "sign files/s": f"{1 / t_sign:.0f}",
        "sign x base": f"{r_sign:.2f}",
        "verify ms": f"{t_verify * 1000:.1f}",
        "verify files/s": f"{1 / t_verify:.0f}",
        "verify x base": f"{r_verify:.2f}",
        "bytes added": added,
    }


if __name__ == "__main__":
    main()
