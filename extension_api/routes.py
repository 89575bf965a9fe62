"""The endpoints. Each one reads the request, calls the library through the Service (in the
thread pool), and shapes the answer; nothing here decides anything about provenance."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from provenance import (
    FINGERPRINT_ALG,
    WATERMARK_ALG,
    InputError,
    RegistryError,
    binding_value,
    declared_text,
    identifier_from_binding,
    manifest_thumbnail,
    payload_hex,
)

from . import jobs
from .errors import ApiError
from .keys import FETCHER, METRICS, SERVICE, SETTINGS
from .metrics import CONTENT_TYPE
from .middleware import error_response
from .openapi import openapi_document

log = logging.getLogger("provenance.api")
routes = web.RouteTableDef()
DEFAULT_MAX_RESULTS = 10


#: Parts a multipart body may have (the API uses at most two); more is refused, not parsed.
MAX_PARTS = 8
_CHUNK = 256 * 1024


@dataclass(frozen=True)
class _Part:
    """A multipart part: its bytes, its declared Content-Type, and the file name it gives."""

    data: bytes
    content_type: str
    filename: str | None


async def _form(request: web.Request, names: set[str]) -> dict[str, _Part]:
    """The named parts of a multipart body, read into memory (never written out).

    The whole body, all parts together, stays under the body limit, and at most MAX_PARTS
    parts are read: the limits apply to the form, not to each part.
    """
    limit = request.app[SETTINGS].max_body
    parts: dict[str, _Part] = {}
    total = count = 0
    try:
        async for part in await request.multipart():
            count += 1
            if count > MAX_PARTS:
                raise InputError(f"the multipart form has more than {MAX_PARTS} parts")
            if not isinstance(part, BodyPartReader):
                raise InputError("nested multipart forms are not accepted")
            chunks = []
            while chunk := await part.read_chunk(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=total)
                if part.name in names:
                    chunks.append(chunk)
            if part.name in names:
                parts[part.name] = _Part(
                    b"".join(chunks),
                    part.headers.get(hdrs.CONTENT_TYPE, ""),
                    _label(part.filename or ""),
                )
    except (ValueError, AssertionError, RuntimeError, HttpProcessingError) as exc:
        raise InputError(f"malformed multipart body ({exc})") from None
    return parts


#: JSON request bodies are small (a URL, an alg and a value): anything bigger is refused unread.
MAX_JSON_BYTES = 64 * 1024


async def _json_object(request: web.Request, shape: str) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that shows the ``shape`` expected.

    Decoded as JSON's own encodings (RFC 8259), never by the declared charset (which can be
    bogus); depth beyond the parser's recursion limit is bad input like any other.
    """
    raw = b""
    if (request.content_length or 0) <= MAX_JSON_BYTES:
        raw = await request.content.read(MAX_JSON_BYTES + 1)
    if (request.content_length or 0) > MAX_JSON_BYTES or len(raw) > MAX_JSON_BYTES:
        raise ApiError(
            413, "payload_too_large", f"send at most {MAX_JSON_BYTES} bytes of JSON: {shape}"
        )
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        payload = None
    if not isinstance(payload, dict):
        raise InputError(f"send JSON: {shape}")
    return payload


async def _body(request: web.Request) -> _Part:
    """The asset: the raw body, or the ``file`` part of a multipart form, with the type and
    file name the request (or the part) declares. Never written out."""
    if request.content_type.startswith("multipart/"):
        parts = await _form(request, {"file"})
        if "file" not in parts:
            raise InputError("the multipart form has no 'file' field")
        # The part's own type and name: a form's text file is declared there (a browser's
        # form sends `text/plain` and the file's name), not in the request's multipart type.
        body = parts["file"]
    else:
        if _is_text_type(request.content_type):
            _check_text_size(request, request.content_length or 0)  # before reading it
        body = _Part(await request.read(), request.content_type, _upload_name(request))
    if not body.data:
        raise InputError("the request body is empty; send the file as the body")
    return body


#: The longest file name an upload may give (see _label).
MAX_NAME = 200


def _upload_name(request: web.Request) -> str | None:
    """The file name a raw upload gives (``Content-Disposition: attachment; filename=...``,
    RFC 6266), so that messages about it name it ("cat.jpg: ...") instead of "content"."""
    header = request.headers.get("Content-Disposition")
    if not header:
        return None
    with warnings.catch_warnings():  # aiohttp warns about malformed headers: they give no name
        warnings.simplefilter("ignore")
        _, params = parse_content_disposition(header)
        return _label(content_disposition_filename(params, "filename") or "")


def _label(given: str) -> str | None:
    """A file name an upload gives, as a label only: never a path, never stored; its last path
    segment, printable characters, bounded."""
    name = "".join(ch for ch in given if ch.isprintable()).replace("\\", "/").rsplit("/", 1)[-1]
    return name.strip()[:MAX_NAME] or None


def _check_text_size(request: web.Request, size: int) -> None:
    """Text costs CPU per byte (fingerprint, detectors): a per-request budget, in bytes."""
    budget = request.app[SETTINGS].max_text_bytes
    if size > budget:
        raise ApiError(
            413,
            "text_too_large",
            f"the text is {size} bytes; this server reads at most {budget} bytes of text "
            "per request",
        )


def _essence(content_type: str) -> str:
    """A Content-Type without its parameters, in lower case ("text/plain; charset=utf-8" ->
    "text/plain")."""
    return content_type.split(";")[0].strip().lower()


def _is_text_type(content_type: str) -> bool:
    return _essence(content_type) == "text/plain"


async def _verify_and_answer(
    request: web.Request, data: bytes, declared: str, name: str | None = None
) -> web.Response:
    # The media type comes from the bytes (a declared Content-Type can be wrong or hostile),
    # except for text, which bytes cannot tell apart.
    text = declared_text(declared, data)
    if text:
        _check_text_size(request, len(data))
    verdict = await request.app[SERVICE].verify(
        data,
        "text/plain" if text else None,
        name=name,
        declared=_essence(declared),
    )
    request.app[METRICS].verdict(verdict.state, verdict.ai_generated)
    log.info("verify sha256=%s state=%s ai=%s", verdict.sha256, verdict.state, verdict.ai_generated)
    return _json_text(verdict.json)


def _json_text(text: str) -> web.Response:
    """JSON already encoded (by a worker, as web.json_response would): the same response."""
    return web.Response(text=text, content_type="application/json")


@routes.post("/v1/verify")
async def verify_upload(request: web.Request) -> web.Response:
    body = await _body(request)
    return await _verify_and_answer(request, body.data, body.content_type, body.filename)


@routes.post("/v1/verify-url")
async def verify_url(request: web.Request) -> web.Response:
    url = (await _json_object(request, '{"url": "https://..."}')).get("url")
    if not isinstance(url, str) or not url:
        raise InputError('send JSON: {"url": "https://..."}')
    fetched = await request.app[FETCHER].fetch(url)
    if not fetched.body:
        raise InputError("the URL returned an empty body")
    return await _verify_and_answer(request, fetched.body, fetched.content_type or "")


def _authorised(request: web.Request) -> str:
    """The calling client's identity (a digest of its API key, never the key), or 401/403."""
    keys = request.app[SETTINGS].api_keys
    if not keys:
        raise web.HTTPForbidden(text="manifest registration is off: the server has no API keys")
    given = request.headers.get("X-API-Key") or ""
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    # Header values may hold any byte (aiohttp keeps non-UTF-8 ones as surrogates).
    offered = given.encode("utf-8", "surrogateescape")
    if not any(hmac.compare_digest(offered, k.encode()) for k in keys):
        raise web.HTTPUnauthorized(text="a valid API key is required (X-API-Key or Bearer)")
    return client_id(given)


def client_id(api_key: str) -> str:
    """Who registers: the watermark identifiers a client asked for are only its to register."""
    return hashlib.sha256(api_key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@routes.post("/v1/watermark-ids")
async def issue_watermark_id(request: web.Request) -> web.Response:
    """A fresh watermark identifier for this client to embed, sign and then register."""
    client = _authorised(request)
    service = request.app[SERVICE]
    identifier = await service.run(service.registry.issue_watermark_id, client)
    return web.json_response(
        {
            "payload": payload_hex(identifier),
            "alg": WATERMARK_ALG,
            "value": binding_value(identifier),
        },
        status=201,
    )


@routes.post("/v1/manifests")
async def register(request: web.Request) -> web.Response:
    client = _authorised(request)
    if not request.content_type.startswith("multipart/"):
        raise InputError(
            "send multipart/form-data with 'manifest' (application/c2pa) and "
            "'asset' (the signed, watermarked image)"
        )
    parts = await _form(request, {"manifest", "asset"})
    if set(parts) != {"manifest", "asset"}:
        raise InputError("both 'manifest' and 'asset' parts are required")
    # c2pa's words for an empty part were "InvalidBufferSize: 0 for 'manifest_data'".
    empty = [name for name in ("manifest", "asset") if not parts[name].data]
    if empty:
        raise InputError(f"the '{empty[0]}' part is empty; send the file's bytes in it")
    record = await request.app[SERVICE].work(
        jobs.register_content, parts["manifest"].data, parts["asset"].data, client
    )
    return web.json_response(
        {"manifestId": record.manifest_id, "alg": record.alg, "value": record.binding_value},
        status=201,
    )


# -- C2PA Soft Binding Resolution API -----------------------------------------------------------


def _max_results(request: web.Request) -> int:
    raw = request.query.get("maxResults", str(DEFAULT_MAX_RESULTS))
    try:
        value = int(raw)
    except ValueError:
        raise InputError("maxResults must be an integer") from None
    if not 1 <= value <= 100:
        raise InputError("maxResults must be between 1 and 100")
    return value


async def _by_binding(request: web.Request, alg: Any, value: Any) -> web.Response:
    if not isinstance(alg, str) or not isinstance(value, str) or not alg or not value:
        raise InputError("alg and value are required")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("value must be base64") from None
    matches = []
    if alg == WATERMARK_ALG and identifier_from_binding(value) is not None:
        record = await request.app[SERVICE].run(
            request.app[SERVICE].registry.by_binding, alg, value
        )
        if record is not None:
            matches.append({"manifestId": record.manifest_id, "similarityScore": 100})
    return web.json_response({"matches": matches[: _max_results(request)]})


@routes.get("/matches/byBinding")
async def by_binding_get(request: web.Request) -> web.Response:
    return await _by_binding(request, request.query.get("alg"), request.query.get("value"))


@routes.post("/matches/byBinding")
async def by_binding_post(request: web.Request) -> web.Response:
    payload = await _json_object(request, '{"alg": ..., "value": ...}')
    return await _by_binding(request, payload.get("alg"), payload.get("value"))


@routes.post("/matches/byContent")
async def by_content(request: web.Request) -> web.Response:
    alg = request.query.get("alg")
    if alg not in (None, WATERMARK_ALG, FINGERPRINT_ALG):
        raise InputError(f"unsupported alg {alg!r}; see /services/supportedAlgorithms")
    upload = await _body(request)
    service = request.app[SERVICE]
    limit = _max_results(request)
    text = "text/plain" if declared_text(upload.content_type, upload.data) else None
    if text:
        _check_text_size(request, len(upload.data))
    matches, skipped = await service.work(
        jobs.match_content,
        upload.data,
        limit,
        text,
        upload.filename,
        _essence(upload.content_type),
    )
    if alg is not None:
        kind = "watermark" if alg == WATERMARK_ALG else "fingerprint"
        matches = [m for m in matches if m.kind == kind]
    body: dict[str, Any] = {
        "matches": [
            {"manifestId": m.manifest_id, "similarityScore": round(100 * m.similarity)}
            for m in matches
        ]
    }
    if skipped is not None:
        body["watermarkSkipped"] = skipped
    return web.json_response(body)


@routes.get("/manifests/{manifestId}")
async def manifest(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    record = await service.run(service.registry.by_manifest_id, request.match_info["manifestId"])
    if record is None:
        return error_response(404, "not_found", "no manifest with that id is stored")
    return web.Response(body=record.manifest_store, content_type="application/c2pa")


@routes.get("/services/supportedAlgorithms")
async def supported(_: web.Request) -> web.Response:
    return web.json_response(
        {
            "watermarks": [{"alg": WATERMARK_ALG}],
            "fingerprints": [{"alg": FINGERPRINT_ALG}],
        }
    )


# -- the reader's page ---------------------------------------------------------------------------

STATIC = Path(__file__).resolve().parent / "static"


@routes.get("/")
async def reader_page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


@routes.get("/report/{sha256}")
async def report_page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")  # the page fetches /v1/report/{sha256}


@routes.get("/reader.js")
async def reader_script(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "reader.js", headers={"Content-Type": "text/javascript"})


@routes.get("/v1/report/{sha256}")
async def report(request: web.Request) -> web.Response:
    digest = request.match_info["sha256"].lower()
    service = request.app[SERVICE]
    verdict = await service.run(service.cache.get, digest)
    if verdict is None:
        return error_response(
            404,
            "not_found",
            "no recent verdict for that content here; "
            "submit the file on the reader's page to see its report",
        )
    return _json_text(verdict)


@routes.get("/v1/thumbnails/{manifestId}")
async def thumbnail(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    record = await service.run(service.registry.by_manifest_id, request.match_info["manifestId"])
    found = await service.run(manifest_thumbnail, record.manifest_store) if record else None
    if found is None:
        return error_response(404, "not_found", "no stored thumbnail for that manifest")
    media_type, data = found
    return web.Response(body=data, content_type=media_type)


# -- operations ---------------------------------------------------------------------------------


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness (always 200 while the loop answers), with the load: ``overloaded`` when new
    heavy requests would be refused."""
    service = request.app[SERVICE]
    status = "overloaded" if service.overloaded else "ok"
    return web.json_response({"status": status, "load": service.load()})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Ready to serve: the worker processes have started, not every worker and queue place is
    taken, and the registry answers; otherwise 503, so that a proxy routes around this process."""
    service = request.app[SERVICE]
    if not service.pool.ready or service.overloaded:
        status = "overloaded" if service.pool.ready else "starting"
        return web.json_response(
            {"status": status, "load": service.load()}, status=503, headers={"Retry-After": "1"}
        )
    try:
        await asyncio.wait_for(service.run(service.registry.ping), 5)
    except (RegistryError, TimeoutError) as exc:
        log.warning("not ready: %s", exc)
        return error_response(503, "unavailable", "the registry does not answer")
    # "store": the registry's earlier name, kept for probes that match on this body.
    return web.json_response({"status": "ok", "store": "ok"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    # Rendering reads and adds up every process's metric files (hundreds, once processes have
    # been replaced): in a thread, so that the loop keeps answering meanwhile.
    text = await asyncio.to_thread(request.app[METRICS].render_all)
    return web.Response(
        text=text,
        headers={"Content-Type": CONTENT_TYPE, "X-Content-Type-Options": "nosniff"},
    )


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
