"""Shared fixtures: real keys from `keys init`, the sample photos, the peer files (tests/data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance import KeyPaths, ManifestRegistry, SigningKeys, TrustPolicy, init_keys
from provenance.media import png_chunk  # noqa: F401 (the test modules build PNGs with it)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
#: Real C2PA files from other implementations and real products, with their licences and the
#: outcomes their own projects expect (tests/data/peers/EXPECTED.md).
SHARED_FIXTURES = ROOT / "tests" / "data" / "peers"
PHOTOS = sorted(p for p in SAMPLES.glob("*.jpg"))


#: What to do about bytes in no format the tool reads, as every front end says it.
NOT_MEDIA_HINT = (
    "it may be damaged, cut short or not a media file: use a complete copy of the original; "
    "this tool reads avi, avif, dng, flac, gif, heic, heif, jpg, jxl, m4a, mov, mp3, mp4, pdf, "
    "png, svg, tif, wav, webp and UTF-8 text"
)


@pytest.fixture(autouse=True)
def _private_registry(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the user's own registry: point the default at a temporary one."""
    location = tmp_path_factory.mktemp("registry") / "m.sqlite3"
    monkeypatch.setenv("PROVENANCE_REGISTRY", str(location))
    monkeypatch.delenv("PROVENANCE_STORE", raising=False)


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPaths:
    return init_keys(tmp_path_factory.mktemp("keys"), org="Acme Ltd")


@pytest.fixture(scope="session")
def credentials(keys: KeyPaths) -> SigningKeys:
    return SigningKeys.load(keys_dir=keys.dir)


@pytest.fixture(scope="session")
def trusted(keys: KeyPaths) -> TrustPolicy:
    """A policy that trusts the test root (and nothing else)."""
    return TrustPolicy.from_files([keys.root])


@pytest.fixture
def photo() -> Path:
    return SAMPLES / "astronaut.jpg"


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED_FIXTURES


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server's URL (see tests/postgres.py), or a skip saying why not."""
    from . import postgres

    reason = postgres.why_unavailable()
    if reason:
        pytest.skip(reason)
    with postgres.server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose connections see a fresh, empty schema of their own."""
    from . import postgres

    with postgres.schema(postgres_server) as url:
        yield url


@pytest.fixture
def registry(tmp_path: Path) -> ManifestRegistry:
    """A new, empty SQLite registry of registered manifests (test_registry.py covers both
    backends through ``registry_location``)."""
    return ManifestRegistry(tmp_path / "manifests.sqlite3")


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Each backend in turn: a new SQLite file, then a new PostgreSQL schema."""
    if request.param == "sqlite":
        return tmp_path / "m.sqlite3"
    return str(request.getfixturevalue("postgres_url"))
