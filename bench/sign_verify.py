"""Sign and verify throughput for 1 MP and 12 MP JPEGs, thumbnail small/full/none, and the
default (watermark + small thumbnail: decode, embed, re-encode at quality 95, sign). Then the
default sign of a 12 MP JPEG and PNG against a plain decode + re-encode of the same file, and the
peak memory it adds per pixel, and where the default sign's time goes, stage by stage
(``sign_file`` into a SQLite registry, as ``provenance sign`` does).

Baseline, measured in the same run: c2pa-python's own Builder.sign and Reader with no project
code around them, thumbnails off. The ratio column is our median over that baseline's.

    uv run python -m bench.sign_verify [--runs N]
"""

from __future__ import annotations

import argparse
import functools
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import c2pa
import numpy as np
from PIL import Image, ImageDraw

from bench._common import median_seconds, natural_jpeg, peak_kib, table, write_json
from provenance import (
    ManifestSpec,
    SigningKeys,
    SignOptions,
    Thumbnail,
    TrustPolicy,
    init_keys,
    sign_bytes,
    sign_file,
    verify,
)
from provenance.label import encode_like
from provenance.manifest import manifest_definition
from provenance.registry import SQLiteRegistry
from provenance.stages import measured


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
        runs = max(3, args.runs // 3)
        big = pipeline(creds, spec, runs)
        print(table(big, list(big[0])))
        stages = breakdown(creds, spec, runs)
        print(f"\nThe default sign_file at 12 MP, stage by stage (median ms of {runs} runs):\n")
        print(table(stages, list(stages[0])))
        png = png_levels(runs)
        print("\nPNG output at 12 MP, a photo and a flat illustration: Pillow at its zlib levels")
        print("(it has no filter setting: every row tries all five filters) against what signing")
        print(f"writes (OpenCV's libpng, Up filter, level 1); median of {runs} runs:\n")
        print(table(png, list(png[0])))
        results = {"pipeline_12mp": big, "stages": stages, "png_levels": png}
        print(f"wrote {write_json('sign_pipeline', results)}")
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


def _inputs_12mp() -> list[tuple[str, bytes, dict[str, int]]]:
    """The 12 MP JPEG and PNG inputs, each with the Pillow save parameters signing uses."""
    jpeg = natural_jpeg(12)
    png = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(png, format="PNG", compress_level=1)
    return [("JPEG", jpeg, {"quality": 95}), ("PNG", png.getvalue(), {"compress_level": 1})]


def breakdown(creds: SigningKeys, spec: ManifestSpec, runs: int) -> list[dict[str, str]]:
    """The default ``sign_file`` of the 12 MP JPEG and PNG into a SQLite registry, stage by stage
    (``provenance.stages``): median wall and CPU ms per stage (CPU: the whole process's, so a
    stage that overlaps another, such as the encode beside the reduced copy's work, counts both);
    "rest" is the wall time outside any stage, negative when stages overlapped."""
    work = Path(tempfile.mkdtemp())
    registry = SQLiteRegistry(work / "registry.db")
    opts = SignOptions(spec)
    columns: dict[str, dict[str, tuple[float, float]]] = {}
    for fmt, data, _ in _inputs_12mp():
        source = work / f"in.{fmt.lower()}"
        source.write_bytes(data)
        samples: list[dict[str, tuple[float, float]]] = []
        for i in range(runs + 1):  # the first run warms up
            output = work / f"out.{fmt.lower()}"
            with measured() as times:
                start, cpu = time.perf_counter(), time.process_time()
                sign_file(source, output, creds, opts, registry=registry)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            output.unlink()
            if i:
                times["rest (negative: stages overlapped)"] = (
                    wall - sum(w for w, _ in times.values()),
                    cpu - sum(c for _, c in times.values()),
                )
                times["total"] = (wall, cpu)
                samples.append(times)
        columns[fmt] = {
            k: (
                statistics.median(s.get(k, (0.0, 0.0))[0] for s in samples),
                statistics.median(s.get(k, (0.0, 0.0))[1] for s in samples),
            )
            for k in samples[0]
        }
    registry.close()
    names = list(dict.fromkeys(k for c in columns.values() for k in c))
    rows = []
    for name in names:
        row = {"stage": name}
        for fmt, c in columns.items():
            wall, cpu = c.get(name, (0.0, 0.0))
            row[f"{fmt} wall ms"], row[f"{fmt} CPU ms"] = f"{wall * 1000:.1f}", f"{cpu * 1000:.1f}"
        rows.append(row)
    return rows


def _illustration(size: tuple[int, int]) -> Image.Image:
    """A flat illustration (a poster, a screenshot): flat colour shapes and lines of repeated
    text, where PNG's long-distance matches matter more than on a photo."""
    image = Image.new("RGB", size, (240, 240, 235))
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(1)
    w, h = size
    for _ in range(60):
        x, y = int(rng.integers(0, w - 200)), int(rng.integers(0, h - 200))
        dx, dy = (int(v) for v in rng.integers(50, 800, 2))
        draw.ellipse((x, y, x + dx, y + dy), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    for y in range(0, h, 40):
        draw.text((10, y), "Generated with Acme Diffusion 2 - sample text " * 8, fill=(20, 20, 20))
    return image


def png_levels(runs: int) -> list[dict[str, str]]:
    """PNG encoders on two 12 MP images (the photo, and a flat illustration): encode time
    (wall and CPU), size, and Pillow's decode time of the result (what every later reader of
    the file pays)."""
    photo = Image.open(io.BytesIO(natural_jpeg(12))).convert("RGB")
    rows = []
    for kind, pixels in (("photo", photo), ("illustration", _illustration(photo.size))):

        def pillow(level: int, pixels: Image.Image = pixels) -> Callable[[], bytes]:
            def save() -> bytes:
                out = io.BytesIO()
                pixels.save(out, format="PNG", compress_level=level)
                return out.getvalue()

            return save

        encoders: list[tuple[str, Callable[[], bytes]]] = [
            (f"Pillow, adaptive filter, level {level}", pillow(level)) for level in (0, 1, 3, 6)
        ]
        encoders.append(
            (
                "signing: OpenCV, Up filter, level 1",
                functools.partial(encode_like, pixels, "image/png", pixels),
            )
        )
        for name, encode in encoders:
            data = encode()
            t_wall = median_seconds(encode, runs)
            t_cpu = median_seconds(encode, runs, warmup=0, clock=time.process_time)
            t_decode = median_seconds(lambda d=data: Image.open(io.BytesIO(d)).load(), runs)
            rows.append(
                {
                    "image": kind,
                    "encoder": name,
                    "encode ms": f"{t_wall * 1000:.0f}",
                    "encode CPU ms": f"{t_cpu * 1000:.0f}",
                    "MB": f"{len(data) / 1e6:.2f}",
                    "decode ms": f"{t_decode * 1000:.0f}",
                }
            )
    return rows


def pipeline(creds: SigningKeys, spec: ManifestSpec, runs: int) -> list[dict[str, str]]:
    """12 MP JPEG and PNG: sign time against a plain Pillow decode + re-encode (JPEG q95, PNG
    level 1), the three interleaved run by run so that a change in the machine's load hits all
    of them; wall and CPU (the whole process's) medians. Bytes of memory per pixel: peak of a
    process that signs once, minus one that only reads the file and the keys."""
    rows = []
    opts = SignOptions(spec)
    for fmt, data, params in _inputs_12mp():
        image = Image.open(io.BytesIO(data))
        pixels = image.width * image.height

        def recode(data: bytes = data, fmt: str = fmt, params: dict = params) -> bytes:
            out = io.BytesIO()
            Image.open(io.BytesIO(data)).save(out, format=fmt, **params)
            return out.getvalue()

        (s_wall, s_cpu), (d_wall, _), (r_wall, r_cpu) = _interleaved(
            [
                lambda d=data: sign_bytes(d, creds, opts),
                lambda d=data: Image.open(io.BytesIO(d)).load(),
                recode,
            ],
            runs,
        )
        path = Path(tempfile.mkdtemp()) / f"12mp.{fmt.lower()}"
        path.write_bytes(data)
        added = (peak_kib("sign", path, True) - peak_kib("sign", path, False)) * 1024
        rows.append(
            {
                "input": f"{fmt} {image.width}x{image.height}",
                "sign ms": f"{s_wall * 1000:.0f}",
                "decode ms": f"{d_wall * 1000:.0f}",
                "decode + re-encode ms": f"{r_wall * 1000:.0f}",
                "sign / (decode + re-encode)": f"{s_wall / r_wall:.2f}",
                "sign CPU ms": f"{s_cpu * 1000:.0f}",
                "CPU: sign / (decode + re-encode)": f"{s_cpu / r_cpu:.2f}",
                "peak MB added": f"{added / 2**20:.0f}",
                "bytes/pixel": f"{added / pixels:.1f}",
            }
        )
    return rows


def _interleaved(fns: list[Callable[..., object]], runs: int) -> list[tuple[float, float]]:
    """(median wall s, median process CPU s) of each of ``fns`` (called with no arguments, as
    :func:`median_seconds` calls its own), run in turn ``runs`` times after one warm-up round."""
    samples: list[list[tuple[float, float]]] = [[] for _ in fns]
    for i in range(runs + 1):
        for fn, times in zip(fns, samples, strict=True):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            if i:
                times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return [
        (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for t in samples
    ]


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
