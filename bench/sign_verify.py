"""Sign and verify throughput for 1 MP and 12 MP JPEGs, thumbnail small/full/none, and the
default (watermark + small thumbnail: decode, embed, re-encode at quality 95, sign).

Baseline, measured in the same run: c2pa-python's own Builder.sign and Reader with no project
code around them, thumbnails off. The ratio column is our median over that baseline's.

    uv run python -m bench.sign_verify [--runs N]
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

import c2pa

from bench._common import median_seconds, natural_jpeg, table, write_json
from provenance import (
    ManifestSpec,
    SigningCredentials,
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
    args = parser.parse_args()
    keys = init_keys(Path(tempfile.mkdtemp()) / "keys")
    creds = SigningCredentials.load(keys_dir=keys.dir)
    policy = TrustPolicy.from_files([keys.root])
    spec = ManifestSpec(generator="Bench Diffusion")
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
    print(f"wrote {write_json('sign_verify', {'rows': rows})}")


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
