"""The extension's vendored parts and its manifest, without a browser.

The c2pa WASM build and the trust lists are committed (so CI needs no npm); these tests make sure
they still are what tools/build_extension.py made: the pinned npm package, and a byte-for-byte
copy of the Python package's trust lists (one source of truth). The manifest must carry what
Chrome's and Firefox's MV3 need, and no more CSP than WebAssembly needs.
"""

from __future__ import annotations

import json
import re

from PIL import Image

from tools import build_extension as build

from .conftest import ROOT

EXTENSION = ROOT / "extension"
MANIFEST = json.loads((EXTENSION / "manifest.json").read_text())


def test_vendored_files_match_their_sources():
    assert build.trust_source() == ROOT / "provenance" / "data" / "trust"
    assert build.check() == []


def test_a_changed_trust_list_is_caught(tmp_path, monkeypatch):
    copy = tmp_path / "trust"
    copy.mkdir()
    for f in build.TRUST_DIR.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    (copy / "anchors.pem").write_text("stale\n")
    monkeypatch.setattr(build, "TRUST_DIR", copy)
    assert build.check() == ["trust/anchors.pem differs from its source: run `trust`"]


def test_the_wasm_build_is_the_pinned_package():
    record = json.loads((build.WASM_DIR / "VENDORED.json").read_text())
    assert record["package"] == "@contentauth/c2pa-wasm"
    assert record["version"] == build.WASM_VERSION
    assert (build.WASM_DIR / "LICENSE").read_text().startswith("MIT")


def test_csp_allows_webassembly_and_nothing_remote():
    csp = MANIFEST["content_security_policy"]["extension_pages"]
    assert csp == "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'"
    for path in EXTENSION.rglob("*.js"):
        text = path.read_text()
        # No code from elsewhere: no remote imports or scripts, no eval.
        assert not re.search(r"""import\s*\(?\s*["']https?:""", text), path
        assert "eval(" not in text, path
    for path in EXTENSION.glob("*.html"):
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), f"{path}: inline script"
        assert not re.search(r"""src=["']https?:""", html), path


def test_toolbar_icons_at_every_size():
    for where in (MANIFEST["icons"], MANIFEST["action"]["default_icon"]):
        assert sorted(map(int, where)) == [16, 32, 48, 128]
        for size, rel in where.items():
            with Image.open(EXTENSION / rel) as icon:
                assert icon.size == (int(size), int(size))


def test_firefox_needs_are_in_the_manifest():
    gecko = MANIFEST["browser_specific_settings"]["gecko"]
    assert "@" in gecko["id"] and gecko["strict_min_version"]
    background = MANIFEST["background"]
    # Chrome runs the service worker; Firefox (no MV3 service workers) the same file as a
    # background script. Both as ES modules (the WASM loader is one).
    assert background["service_worker"] == "background.js"
    assert background["scripts"] == ["background.js"]
    assert background["type"] == "module"


def test_local_pages_are_covered():
    matches = MANIFEST["content_scripts"][0]["matches"]
    assert "file:///*" in matches
