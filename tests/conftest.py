"""Shared fixtures: real keys from `keys init`, the sample photos, the peer files (tests/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance import KeyPaths, SigningCredentials, TrustPolicy, init_keys

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
#: Real C2PA files from other implementations and real products, with their licences and the
#: outcomes their own projects expect (tests/data/peers/EXPECTED.md).
SHARED_FIXTURES = ROOT / "tests" / "data" / "peers"
PHOTOS = sorted(p for p in SAMPLES.glob("*.jpg"))


@pytest.fixture(autouse=True)
def _private_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never touch the user's own manifest store: point the default at a temporary one."""
    monkeypatch.setenv("PROVENANCE_STORE", str(tmp_path_factory.mktemp("store") / "m.sqlite3"))


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPaths:
    return init_keys(tmp_path_factory.mktemp("keys"), org="Acme Ltd")


@pytest.fixture(scope="session")
def credentials(keys: KeyPaths) -> SigningCredentials:
    return SigningCredentials.load(keys_dir=keys.dir)


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
