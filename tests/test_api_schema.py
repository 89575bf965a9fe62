"""Property-based API test: schemathesis generates requests from /openapi.json's document and
the real server must answer each without a 5xx, in the documented shape."""

from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from extension_api import Settings
from extension_api.openapi import openapi_document
from provenance import TrustPolicy

from .server import LiveServer

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def api(tmp_path_factory, keys):
    config = Settings(
        registry_location=tmp_path_factory.mktemp("schema") / "m.sqlite3",
        trust=TrustPolicy.from_files([keys.root]),
        api_keys=("k",),
        rate_limit=0,
        fetch_timeout=2.0,
    )
    with LiveServer(config) as live:
        yield live


def test_served_document_is_the_one_tested(api):
    with urllib.request.urlopen(f"{api.url}/openapi.json") as r:
        assert json.load(r) == openapi_document()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_errors(case, api):
    response = case.call(base_url=api.url, timeout=30)
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    # Status codes, content types and bodies as documented. Not "positive data acceptance":
    # a schema-valid binary body is rarely a real image, and 415 is then the right answer.
    case.validate_response(
        response,
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )
