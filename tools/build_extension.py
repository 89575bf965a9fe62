"""Build the extension's vendored parts, reproducibly, from their one source each.

    uv run python tools/build_extension.py wasm    # the official c2pa WASM build, from npm (pinned)
    uv run python tools/build_extension.py trust   # the trust lists, from the Python side's copy
    uv run python tools/build_extension.py icons   # toolbar icons at every size MV3 asks for
    uv run python tools/build_extension.py check   # the committed files still match (no network)

The results are committed, so CI and anyone loading the extension unpacked need neither npm nor
network. ``wasm`` is the only step that reaches out (the npm registry, through ``npm pack``); it
refuses a package whose integrity differs from the pinned one.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"

#: The official WASM build of c2pa (c2pa-rs 0.91.3, the same Rust library that c2pa-python
#: 0.38.1 bundles, so both sides judge with the same code).
WASM_PACKAGE = "@contentauth/c2pa-wasm"
WASM_VERSION = "0.13.3"
WASM_INTEGRITY = (
    "sha512-nAXRuOZ+I4+o+m69ZI49r12qoda5AxlzL2vCAJJuVdkybebQTUhUT3ruyhhINachKtP"
    "+nnQ+iJ40KJnjjZSwnA=="
)
WASM_FILES = {
    "package/pkg/c2pa.js": "c2pa.js",
    "package/pkg/c2pa_bg.wasm": "c2pa_bg.wasm",
    "package/LICENSE": "LICENSE",
    "package/package.json": "package.json",
}
WASM_DIR = EXTENSION / "vendor" / "c2pa-wasm"

#: The trust lists, by the name the verdict gives them (``credentials.trust_list``). Paths are
#: relative to the trust folder; the first folder that exists is the source.
TRUST_FILES = {
    "c2pa": ["c2pa-official/C2PA-TRUST-LIST.pem"],
    "c2pa-tsa": ["c2pa-official/C2PA-TSA-TRUST-LIST.pem"],
    "interim": ["interim/anchors.pem"],
}
TRUST_EXTRA = [
    "interim/allowed.sha256.txt",
    "interim/store.cfg",
    "SOURCES.json",
    "c2pa-official/LICENSE",
    "interim/LICENSE-verification-plugin",
    "interim/LICENSE-verify-site",
]
TRUST_DIR = EXTENSION / "trust"
#: Every file copied, relative to the trust folder.
TRUST_COPIED = [path for paths in TRUST_FILES.values() for path in paths] + TRUST_EXTRA
ICON_SIZES = (16, 32, 48, 128)


def trust_source() -> Path:
    """The Python package's copy of the lists when it ships one, else the shared folder it is
    vendored from (one source of truth either way: the extension never keeps its own)."""
    candidates = [
        ROOT / "provenance" / "trust_lists",
        ROOT / "provenance" / "data" / "trust",
        ROOT.parent / "shared" / "trust",
    ]
    for folder in candidates:
        if (folder / TRUST_FILES["c2pa"][0]).exists():
            return folder
    raise SystemExit(f"no trust lists found in any of: {', '.join(map(str, candidates))}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_wasm() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{WASM_PACKAGE}@{WASM_VERSION}"
        out = subprocess.run(
            ["npm", "pack", spec, "--json", "--pack-destination", tmp],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        info = json.loads(out.stdout)[0]
        tarball = Path(tmp) / info["filename"]
        sha512 = hashlib.sha512(tarball.read_bytes()).digest()
        digest = "sha512-" + base64.b64encode(sha512).decode()
        if digest != WASM_INTEGRITY:
            raise SystemExit(f"{spec}: integrity {digest} is not the pinned {WASM_INTEGRITY}")
        shutil.rmtree(WASM_DIR, ignore_errors=True)
        WASM_DIR.mkdir(parents=True)
        with tarfile.open(tarball) as tar:
            for member, name in WASM_FILES.items():
                data = tar.extractfile(member)
                if data is None:
                    raise SystemExit(f"{spec} lacks {member}")
                (WASM_DIR / name).write_bytes(data.read())
    record = {
        "package": WASM_PACKAGE,
        "version": WASM_VERSION,
        "integrity": WASM_INTEGRITY,
        "files": {n: _sha256(WASM_DIR / n) for n in sorted(WASM_FILES.values())},
    }
    (WASM_DIR / "VENDORED.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"vendored {spec} into {WASM_DIR.relative_to(ROOT)}")


def _trust_index(source: Path) -> dict:
    readme = source / "README.md"
    return {
        "source": "provenance's trust lists (see the Python package; copied by "
        "tools/build_extension.py trust)",
        "lists": {name: [Path(p).name for p in paths] for name, paths in TRUST_FILES.items()},
        "allowed_ekus": "store.cfg",
        "allowed_list": {"interim": "allowed.sha256.txt"},
        "files": {Path(p).name: _sha256(source / p) for p in TRUST_COPIED},
        "readme_sha256": _sha256(readme) if readme.exists() else None,
    }


def build_trust() -> None:
    source = trust_source()
    shutil.rmtree(TRUST_DIR, ignore_errors=True)
    TRUST_DIR.mkdir(parents=True)
    for rel in TRUST_COPIED:
        shutil.copyfile(source / rel, TRUST_DIR / Path(rel).name)
    (TRUST_DIR / "index.json").write_text(json.dumps(_trust_index(source), indent=2) + "\n")
    print(f"copied the trust lists from {source} into {TRUST_DIR.relative_to(ROOT)}")


def build_icons() -> None:
    from PIL import Image, ImageDraw

    out = EXTENSION / "icons"
    out.mkdir(exist_ok=True)
    for size in ICON_SIZES:
        scale = 8  # draw large, then downsample: smooth edges at 16 px too
        big = size * scale
        img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        pad = big // 16
        # A seal: a dark rounded square with a white ring and a check inside. Deliberately
        # not the C2PA "cr" pin (see extension/README.md for why).
        box = [pad, pad, big - pad, big - pad]
        d.rounded_rectangle(box, radius=big // 4, fill=(30, 41, 59, 255))
        ring = big // 5
        circle = [ring, ring, big - ring, big - ring]
        d.ellipse(circle, outline=(255, 255, 255, 255), width=max(big // 14, 1))
        w = max(big // 11, 1)
        d.line(
            [(big * 0.36, big * 0.52), (big * 0.46, big * 0.62), (big * 0.66, big * 0.40)],
            fill=(74, 222, 128, 255),
            width=w,
            joint="curve",
        )
        img.resize((size, size), Image.LANCZOS).save(out / f"icon-{size}.png", optimize=True)
    print(f"icons at {', '.join(map(str, ICON_SIZES))} px in {out.relative_to(ROOT)}")


def check() -> list[str]:
    """What no longer matches its source (empty when all is well)."""
    problems = []
    record = json.loads((WASM_DIR / "VENDORED.json").read_text())
    if record["version"] != WASM_VERSION or record["integrity"] != WASM_INTEGRITY:
        problems.append("vendor/c2pa-wasm/VENDORED.json names another version: run `wasm`")
    for name, digest in record["files"].items():
        if _sha256(WASM_DIR / name) != digest:
            problems.append(f"vendor/c2pa-wasm/{name} changed since it was vendored: run `wasm`")
    index = json.loads((TRUST_DIR / "index.json").read_text())
    expected = _trust_index(trust_source())
    for name, digest in expected["files"].items():
        copied = TRUST_DIR / name
        if not copied.exists() or _sha256(copied) != digest or index["files"].get(name) != digest:
            problems.append(f"trust/{name} differs from its source: run `trust`")
    for size in ICON_SIZES:
        if not (EXTENSION / "icons" / f"icon-{size}.png").exists():
            problems.append(f"icons/icon-{size}.png is missing: run `icons`")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["wasm", "trust", "icons", "check", "all"])
    step = parser.parse_args(argv).step
    if step in ("wasm", "all"):
        build_wasm()
    if step in ("trust", "all"):
        build_trust()
    if step in ("icons", "all"):
        build_icons()
    if step == "check":
        problems = check()
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
