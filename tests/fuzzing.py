"""Mutations of real files, shared by the bounded fuzz tests and bench/fuzz.py.

Seeds are real: files signed here with keys from `keys init` (JPEG, PNG, text, a stripped
copy that carries only the watermark) and the peer fixtures (c2pa-rs, c2pa-ts, Adobe's public
test files...). A mutation flips, sets, inserts, deletes, duplicates or zeroes bytes, or
truncates, half of the time within the first 4 KiB where the containers' headers and the
C2PA boxes usually sit.
"""

from __future__ import annotations

import io
import random
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from provenance import ManifestRegistry, ManifestSpec, SigningKeys, SignOptions, sign
from provenance.text_manifest import sign_text

from .conftest import PHOTOS, SHARED_FIXTURES

OPS = ("flip", "set", "insert", "delete", "truncate", "duplicate", "zero")
PEER_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".svg", ".mp4", ".wav", ".pdf"}
#: Peer files larger than this are left out: the fuzzer wants many inputs per second.
PEER_MAX_BYTES = 300_000
HEAD = 4096


@dataclass(frozen=True)
class Mutation:
    op: str
    at: float  # where, as a fraction of the length (or of HEAD when ``head``)
    head: bool
    size: int
    value: int

    def apply(self, data: bytes) -> bytes:
        if not data:
            return data
        span = min(len(data), HEAD) if self.head else len(data)
        i = min(len(data) - 1, int(self.at * span))
        n = max(1, self.size)
        if self.op == "flip":
            return data[:i] + bytes([data[i] ^ (1 << (self.value % 8))]) + data[i + 1 :]
        if self.op == "set":
            return data[:i] + bytes([self.value % 256]) * n + data[i + n :]
        if self.op == "insert":
            rng = random.Random(self.value)
            return data[:i] + rng.randbytes(n) + data[i:]
        if self.op == "delete":
            return data[:i] + data[i + n :]
        if self.op == "truncate":
            return data[:i]
        if self.op == "duplicate":
            return data[:i] + data[i : i + n] * (1 + self.value % 4) + data[i:]
        return data[:i] + b"\0" * n + data[i + n :]


def mutate(data: bytes, mutations: Sequence[Mutation]) -> bytes:
    for m in mutations:
        data = m.apply(data)
    return data


def random_mutations(rng: random.Random) -> list[Mutation]:
    return [
        Mutation(
            rng.choice(OPS),
            rng.random(),
            rng.random() < 0.5,
            rng.choice((1, 1, 2, 4, 16, 256)),
            rng.randrange(1 << 16),
        )
        for _ in range(rng.choice((1, 1, 1, 2, 3, 8)))
    ]


def mutation_lists() -> Any:
    """The hypothesis strategy for a list of mutations."""
    from hypothesis import strategies as st

    one = st.builds(
        Mutation,
        st.sampled_from(OPS),
        st.floats(0, 1, allow_nan=False),
        st.booleans(),
        st.sampled_from((1, 2, 4, 16, 256)),
        st.integers(0, (1 << 16) - 1),
    )
    return st.lists(one, min_size=1, max_size=6)


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    text: bool = False  # submitted as text/plain

    @property
    def media_type(self) -> str | None:
        """The media type to verify a mutation of it as: text is said to be text, a file's own
        bytes tell its type (mutations included)."""
        return "text/plain" if self.text else None


def post_for_status(url: str, data: bytes, text: bool, timeout: float) -> int:
    """POST a (mutated) input to the server's verify ``url``; the HTTP status it answers (an
    empty mutation goes as one NUL byte)."""
    request = urllib.request.Request(
        url,
        data=data or b"\0",
        headers={"Content-Type": "text/plain" if text else "application/octet-stream"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _small_jpeg(path: Path, side: int) -> bytes:
    image = Image.open(path).convert("RGB")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def seeds(credentials: SigningKeys, registry: ManifestRegistry) -> list[Seed]:
    """Files signed here (small, so that many inputs run per second) and peer files."""
    options = SignOptions(ManifestSpec(generator="Fuzz Diffusion"))
    signed_jpeg = sign(_small_jpeg(PHOTOS[0], 384), credentials, options, registry=registry).asset
    png = io.BytesIO()
    Image.open(io.BytesIO(_small_jpeg(PHOTOS[1], 320))).save(png, format="PNG")
    signed_png = sign(png.getvalue(), credentials, options, registry=registry).asset
    assert signed_jpeg and signed_png
    stripped = io.BytesIO()
    Image.open(io.BytesIO(signed_jpeg)).save(stripped, format="JPEG", quality=80)
    text = sign_text(
        "A short paragraph that a language model wrote for the fuzzer to mangle.",
        credentials,
        options.manifest,
        registry=registry,
    ).text.encode()
    found = [
        Seed("signed.jpg", signed_jpeg),
        Seed("signed.png", signed_png),
        Seed("stripped.jpg", stripped.getvalue()),
        Seed("signed.txt", text, text=True),
    ]
    if SHARED_FIXTURES.is_dir():
        for path in sorted(SHARED_FIXTURES.rglob("*")):
            if (
                path.suffix.lower() in PEER_SUFFIXES
                and path.is_file()
                and path.stat().st_size <= PEER_MAX_BYTES
            ):
                found.append(Seed(str(path.relative_to(SHARED_FIXTURES)), path.read_bytes()))
    return found
