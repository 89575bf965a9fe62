"""What keeping chains and watermarks costs when signing, for 1 MP and 12 MP JPEGs.

Baseline, measured in the same run: signing a file without credentials or watermark with the
default options (watermark + small thumbnail), as before chains were kept. Rows:

- the two checks every signing now makes, alone: reading the file's own credentials (c2pa
  Reader, none found) and looking for a watermark already in the pixels (none found);
- re-signing our own signed output: its credentials become the parent ingredient (c2pa reads
  and copies the chain) and its watermark is kept (no embed, no re-encode).

    uv run python -m bench.resign [--runs N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench._common import median_seconds, natural_jpeg, table, write_json
from provenance import ManifestSpec, SigningKeys, SignOptions, init_keys, sign_bytes
from provenance.media import open_image
from provenance.sign import _grey, _mark_on_grid, _reduced, prior_credentials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    keys = init_keys(Path(tempfile.mkdtemp()) / "keys")
    creds = SigningKeys.load(keys_dir=keys.dir)
    options = SignOptions(ManifestSpec(generator="Bench Diffusion"))
    rows = []
    for mp, runs in ((1, args.runs), (12, max(3, args.runs // 3))):
        data = natural_jpeg(mp)
        base = median_seconds(lambda d=data: sign_bytes(d, creds, options), runs)
        signed = sign_bytes(data, creds, options).asset or b""
        image = open_image(data)
        cases = [
            ("sign, no credentials (baseline)", base),
            (
                "  of which: read own credentials",
                median_seconds(lambda d=data: prior_credentials(d, "image/jpeg", "b.jpg"), runs),
            ),
            (
                "  of which: look for a watermark",
                median_seconds(lambda i=image: _mark_on_grid(_grey(_reduced(i))).identifier, runs),
            ),
            (
                "re-sign: chain + watermark kept",
                median_seconds(lambda s=signed: sign_bytes(s, creds, SignOptions()), runs),
            ),
        ]
        for name, seconds in cases:
            rows.append(
                {
                    "image": f"{mp} MP",
                    "step": name,
                    "ms": f"{seconds * 1000:.1f}",
                    "x baseline": f"{seconds / base:.2f}",
                }
            )
    print(table(rows, ["image", "step", "ms", "x baseline"]))
    print(f"\nmedians of {args.runs} runs (12 MP: {max(3, args.runs // 3)}), one thread")
    print(f"wrote {write_json('resign', {'rows': rows})}")


if __name__ == "__main__":
    main()
