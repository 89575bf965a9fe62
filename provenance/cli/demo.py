"""`provenance demo`: make keys, sign the bundled sample, verify it, strip it, verify again."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path

from ..keys import SigningKeys, init_keys
from ..manifest import ManifestSpec
from ..media import open_image
from ..registry import ManifestRegistry
from ..sign import SignOptions, sign_file
from ..trust import TrustPolicy
from ..verdict import State
from ..verify import verify
from .verify import render_verdict


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("demo", help="make keys, sign a sample, verify it")
    d.add_argument("--dir", type=Path, help="keep the demo's files here")
    d.add_argument("--keep", action="store_true", help="keep the temporary directory")
    d.set_defaults(func=run)


def _sample() -> Path:
    # Shipped inside the package, so the demo also runs from an installed wheel.
    return Path(str(files("provenance") / "data" / "astronaut.jpg"))


def run(args: argparse.Namespace) -> int:
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="provenance-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    keys = init_keys(workdir / "keys", org="Provenance Demo", force=True)
    print(f"1. Made a development certificate chain in {keys.dir}")
    sample = _sample()
    signed = workdir / "astronaut.signed.jpg"
    credentials = SigningKeys.load(keys_dir=keys.dir)
    registry = ManifestRegistry(workdir / "manifests.sqlite3")
    options = SignOptions(ManifestSpec(generator="Demo Diffusion", model="1.0"))
    result = sign_file(sample, signed, credentials, options, overwrite=True, registry=registry)
    print(f"2. Watermarked and signed {sample.name} as AI-generated: {signed}")
    policy = TrustPolicy.from_files([keys.root])
    verdict = verify(signed, policy=policy, registry=registry)
    print(f"3. Verified it, trusting {keys.root.name}:\n")
    print(render_verdict(verdict))
    stripped = workdir / "astronaut.uploaded.jpg"
    with open_image(signed.read_bytes(), str(signed)) as image:
        image.save(stripped, format="JPEG", quality=75)  # what an upload pipeline does
    recovered = verify(stripped, policy=policy, registry=registry)
    print(
        f"\n4. Stripped the metadata and re-encoded it as JPEG 75 (watermark {result.watermark}),"
        " then verified again:\n"
    )
    print(render_verdict(recovered))
    if not args.keep and not args.dir:
        shutil.rmtree(workdir, ignore_errors=True)
    ok = (
        verdict.credentials.state == State.TRUSTED
        and verdict.ai.generated is True
        and recovered.credentials.recovered
    )
    return 0 if ok else 1
