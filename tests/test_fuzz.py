"""A bounded fuzz run (hypothesis) over real signed files and the peer fixtures: through the
library, nothing but a Verdict or a ProvenanceError; through the server, never a 5xx. The long
run is bench/fuzz.py."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extension_api import Settings
from provenance import ManifestRegistry, ProvenanceError, TrustPolicy, verify

from .fuzzing import Seed, mutate, mutation_lists, post_for_status, seeds
from .server import LiveServer

#: Pillow warns about the corrupt EXIF the mutations make; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")

#: Seconds one mutated input may take through the library (they take milliseconds).
TIME_BOUND = 10.0
#: What the server may answer a mutated file with.
CLIENT_STATUSES = {200, 400, 413, 415, 422}
BOUNDED = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same inputs on every run: a failure here is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> ManifestRegistry:
    return ManifestRegistry(tmp_path_factory.mktemp("fuzz") / "m.sqlite3")


@pytest.fixture(scope="module")
def corpus(credentials, registry) -> list[Seed]:
    return seeds(credentials, registry)


@pytest.fixture(scope="module")
def policy(keys) -> TrustPolicy:
    return TrustPolicy.from_files([keys.root])


def test_the_corpus_holds_our_files_and_the_peers(corpus):
    names = [s.name for s in corpus]
    assert {"signed.jpg", "signed.png", "stripped.jpg", "signed.txt"} <= set(names)
    assert len(names) > 10, "the peer fixtures are missing"


def test_library_gives_a_verdict_or_a_clear_error(corpus, registry, policy):
    @BOUNDED
    @given(seed=st.sampled_from(corpus), mutations=mutation_lists())
    def check(seed: Seed, mutations) -> None:
        data = mutate(seed.data, mutations)
        start = time.perf_counter()
        try:
            verify(
                data,
                policy=policy,
                registry=registry,
                media_type=seed.media_type,
            )
        except ProvenanceError as exc:
            assert str(exc)
        assert time.perf_counter() - start < TIME_BOUND

    check()


def test_server_never_answers_5xx(corpus, registry, keys):
    configured = Settings(
        registry_location=registry.path,
        trust=TrustPolicy.from_files([keys.root]),
        rate_limit=0,
        cache_size=0,
        queue=16,
    )
    with LiveServer(configured) as live:

        @settings(BOUNDED, max_examples=25)
        @given(seed=st.sampled_from(corpus), mutations=mutation_lists())
        def check(seed: Seed, mutations) -> None:
            data = mutate(seed.data, mutations)
            status = post_for_status(f"{live.url}/v1/verify", data, seed.text, timeout=60)
            assert status in CLIENT_STATUSES, (seed.name, mutations, status)

        check()
