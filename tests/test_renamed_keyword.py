"""The registry's keyword was ``store=`` before issue 14: it still works, with a warning.

The signatures name ``registry`` only, so a type checker already flags the old name (hence the
``type: ignore`` below); untyped callers get the DeprecationWarning."""

from __future__ import annotations

import pytest

from provenance import SignOptions, sign, verify

from .conftest import PHOTOS
from .test_sign_verify import AI


def test_store_keyword_still_registers_and_warns(credentials, registry):
    with pytest.warns(DeprecationWarning, match=r"sign\(\): the keyword store= .* registry="):
        signed = sign(PHOTOS[0].read_bytes(), credentials, SignOptions(AI), store=registry)  # type: ignore[call-arg]
    assert registry.count() == 1 and signed.watermark is not None
    with pytest.warns(DeprecationWarning, match=r"verify\(\): the keyword store="):
        old = verify(signed.asset or b"", store=registry)  # type: ignore[call-arg]
    assert old == verify(signed.asset or b"", registry=registry)


def test_both_keywords_is_an_error(registry):
    with pytest.raises(TypeError, match="got both store= and registry="):
        verify(PHOTOS[0].read_bytes(), store=registry, registry=registry)  # type: ignore[call-arg]
