"""The OpenAPI 3 description of every endpoint (kept true by tests/test_server.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

from provenance import TextWatermarkResult, Verdict, WatermarkResult, __version__

from .schema import schema_of

_ERROR = {"$ref": "#/components/responses/Error"}
_ASSET_BODY = {
    "required": True,
    "description": "The file itself as the body (its media type as Content-Type), or a "
    "multipart form with a `file` field. Never stored or logged.",
    "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "text/plain": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
    },
}
_MATCHES = {
    "description": "Matching manifests",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MatchList"}}},
}
_MAX_RESULTS = {
    "name": "maxResults",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
}
_BAD_INPUT = {
    "400": _ERROR,
    "413": _ERROR,
    "415": _ERROR,
    "422": _ERROR,
    "429": _ERROR,
    "503": _ERROR,  # at capacity: retry after Retry-After
    "504": _ERROR,
}


def _verdict_schema() -> dict[str, Any]:
    # Generated from the Verdict dataclasses; the detectors' results are dicts in a Verdict.
    return schema_of(
        Verdict, shapes={"watermark": WatermarkResult, "text_watermark": TextWatermarkResult}
    )


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _html_page(summary: str, operation: str, param: str | None = None) -> dict[str, Any]:
    get: dict[str, Any] = {
        "summary": summary,
        "operationId": operation,
        "responses": {
            "200": {
                "description": "HTML",
                "content": {"text/html": {"schema": {"type": "string"}}},
            },
            "429": _ERROR,
        },
    }
    if param:
        get["parameters"] = [_path_param(param)]
    return {"get": get}


@cache
def openapi_document() -> dict[str, Any]:
    json_of = lambda ref: {"application/json": {"schema": {"$ref": ref}}}  # noqa: E731
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "provenance verification API",
            "version": __version__,
            "description": "Verify Content Credentials (C2PA) and AI origin, recover stripped "
            "credentials through the watermark, and resolve soft bindings (the C2PA Soft "
            "Binding Resolution API).",
        },
        "paths": {
            "/v1/verify": {
                "post": {
                    "summary": "Verify an uploaded file",
                    "operationId": "verify",
                    "parameters": [
                        {
                            "name": "Content-Disposition",
                            "in": "header",
                            "required": False,
                            "description": "`attachment; filename=...` (RFC 6266): the file's "
                            'name, which error messages then use instead of "content"; a '
                            "label only, never stored, and no evidence of the media type",
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": _ASSET_BODY,
                    "responses": {
                        "200": {
                            "description": "The verdict",
                            "content": json_of("#/components/schemas/Verdict"),
                        },
                        **_BAD_INPUT,
                    },
                }
            },
            "/v1/verify-url": {
                "post": {
                    "summary": "Fetch a public http(s) URL and verify it",
                    "operationId": "verifyUrl",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["url"],
                                    "properties": {"url": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The verdict",
                            "content": json_of("#/components/schemas/Verdict"),
                        },
                        "403": _ERROR,
                        "502": _ERROR,
                        **_BAD_INPUT,
                    },
                }
            },
            "/v1/watermark-ids": {
                "post": {
                    "summary": "Issue a watermark identifier to embed, sign, then register "
                    "(API key); only this client may register a manifest under it",
                    "operationId": "issueWatermarkId",
                    "security": [{"apiKey": []}, {"bearer": []}],
                    "responses": {
                        "201": {
                            "description": "Issued",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "payload": {"type": "string"},
                                            "alg": {"type": "string"},
                                            "value": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        "401": _ERROR,
                        "403": _ERROR,
                        "409": _ERROR,
                        "429": _ERROR,
                        "504": _ERROR,
                    },
                }
            },
            "/v1/manifests": {
                "post": {
                    "summary": "Register a signed manifest for soft-binding lookup (API key)",
                    "operationId": "registerManifest",
                    "security": [{"apiKey": []}, {"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["manifest", "asset"],
                                    "properties": {
                                        "manifest": {
                                            "type": "string",
                                            "format": "binary",
                                            "description": "application/c2pa",
                                        },
                                        "asset": {
                                            "type": "string",
                                            "format": "binary",
                                            "description": "the signed, watermarked image",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Registered",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "manifestId": {"type": "string"},
                                            "alg": {"type": "string"},
                                            "value": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        "401": _ERROR,
                        "403": _ERROR,
                        "409": _ERROR,
                        **_BAD_INPUT,
                    },
                }
            },
            "/matches/byBinding": {
                "get": {
                    "summary": "Manifests whose soft binding matches",
                    "operationId": "getMatchesByBinding",
                    "parameters": [
                        {
                            "name": "alg",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "value",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "base64",
                        },
                        _MAX_RESULTS,
                    ],
                    "responses": {"200": _MATCHES, "400": _ERROR, "429": _ERROR},
                },
                "post": {
                    "summary": "Manifests whose soft binding matches (long values)",
                    "operationId": "postMatchesByBinding",
                    "parameters": [_MAX_RESULTS],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["alg", "value"],
                                    "properties": {
                                        "alg": {"type": "string"},
                                        "value": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": _MATCHES, "400": _ERROR, "429": _ERROR},
                },
            },
            "/matches/byContent": {
                "post": {
                    "summary": "Manifests for an asset, by its watermark or fingerprint",
                    "operationId": "getMatchesByContent",
                    "parameters": [
                        {
                            "name": "alg",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                        },
                        _MAX_RESULTS,
                    ],
                    "requestBody": _ASSET_BODY,
                    "responses": {"200": _MATCHES, **_BAD_INPUT},
                }
            },
            "/manifests/{manifestId}": {
                "get": {
                    "summary": "A stored manifest store",
                    "operationId": "getManifestById",
                    "parameters": [
                        {
                            "name": "manifestId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The C2PA manifest store",
                            "content": {
                                "application/c2pa": {
                                    "schema": {"type": "string", "format": "binary"}
                                }
                            },
                        },
                        "404": _ERROR,
                        "429": _ERROR,
                    },
                }
            },
            "/services/supportedAlgorithms": {
                "get": {
                    "summary": "Soft-binding algorithms this service resolves",
                    "operationId": "getSupportedAlgorithms",
                    "responses": {
                        "200": {
                            "description": "Algorithms",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "watermarks": {
                                                "type": "array",
                                                "items": {"type": "object"},
                                            },
                                            "fingerprints": {
                                                "type": "array",
                                                "items": {"type": "object"},
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        "429": _ERROR,
                    },
                }
            },
            "/": _html_page("The reader's page", "readerPage"),
            "/report/{sha256}": _html_page(
                "The report page the extension links to", "reportPage", "sha256"
            ),
            "/reader.js": {
                "get": {
                    "summary": "The reader's page script",
                    "operationId": "readerJs",
                    "responses": {
                        "200": {
                            "description": "JavaScript",
                            "content": {"text/javascript": {"schema": {"type": "string"}}},
                        },
                        "429": _ERROR,
                    },
                }
            },
            "/v1/report/{sha256}": {
                "get": {
                    "summary": "The verdict this service recently gave for that content",
                    "operationId": "report",
                    "parameters": [_path_param("sha256")],
                    "responses": {
                        "200": {
                            "description": "The verdict",
                            "content": json_of("#/components/schemas/Verdict"),
                        },
                        "404": _ERROR,
                        "429": _ERROR,
                    },
                }
            },
            "/v1/thumbnails/{manifestId}": {
                "get": {
                    "summary": "The claim thumbnail of a stored manifest (the signed original)",
                    "operationId": "thumbnail",
                    "parameters": [_path_param("manifestId")],
                    "responses": {
                        "200": {
                            "description": "An image",
                            "content": {
                                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                                "image/png": {"schema": {"type": "string", "format": "binary"}},
                            },
                        },
                        "404": _ERROR,
                        "429": _ERROR,
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "operationId": "health",
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: workers started, not at capacity, the registry answers",
                    "operationId": "ready",
                    "responses": {
                        "200": {
                            "description": "Ready",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "503": {
                            "description": "Starting, at capacity, or the registry does not answer",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "operationId": "metrics",
                    "responses": {
                        "200": {
                            "description": "Metrics",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {
                        "200": {
                            "description": "OpenAPI",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "429": _ERROR,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Verdict": _verdict_schema(),
                "MatchList": {
                    "type": "object",
                    "required": ["matches"],
                    "properties": {
                        "matches": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["manifestId"],
                                "properties": {
                                    "manifestId": {"type": "string"},
                                    "endpoint": {"type": "string"},
                                    "similarityScore": {
                                        "type": "integer",
                                        "minimum": 0,
                                        "maximum": 100,
                                    },
                                },
                            },
                        },
                        "watermarkSkipped": {
                            "type": "string",
                            "description": "byContent: why nothing was looked for, as the "
                            "verdict's watermark_skipped says it (an image too small to carry "
                            "the watermark); absent when the content was searched",
                        },
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
            },
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": json_of("#/components/schemas/Error"),
                }
            },
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }
