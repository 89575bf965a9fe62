"""Middlewares: CORS, metrics, errors as JSON, body limits up front, per-client rate limits."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from provenance import (
    InputError,
    MalformedAssetError,
    ManifestError,
    NotIssuedError,
    ProvenanceError,
    RegistryError,
    RegistryUnavailableError,
    TooManyPixelsError,
    UnsupportedMediaError,
)

from .errors import API_HINTS, ApiError, overloaded
from .metrics import Metrics
from .settings import Settings
from .workers import WorkerCrashed

log = logging.getLogger("provenance.api")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Library errors -> (HTTP status, error code). The first matching class wins.
ERROR_STATUS: list[tuple[type[ProvenanceError], int, str]] = [
    (UnsupportedMediaError, 415, "unsupported_media_type"),
    (TooManyPixelsError, 413, "too_many_pixels"),
    (MalformedAssetError, 422, "malformed_asset"),
    (InputError, 400, "bad_input"),
    (NotIssuedError, 403, "watermark_id_not_issued"),
    (ManifestError, 422, "unreadable_manifest"),
    # "store_...": the registry's earlier name, kept in the wire format (clients match on it).
    (RegistryUnavailableError, 503, "store_unavailable"),
    (RegistryError, 409, "store_conflict"),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    503: "unavailable",
    504: "timeout",
}


def error_response(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers or None
    )


def error_middleware(settings: Settings) -> Callable:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await _as_json_errors(request, handler, settings)

    return middleware


async def _as_json_errors(
    request: web.Request, handler: Handler, settings: Settings
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k in ("Retry-After", "Allow")}
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        if exc.status == 413:
            message = f"the body is larger than the {settings.max_body}-byte limit"
        return error_response(
            exc.status, _HTTP_CODES.get(exc.status, "error"), message or "", **headers
        )
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, **exc.headers)
    except WorkerCrashed as exc:
        log.warning("a worker failed or stopped on %s %s: %s", request.method, request.path, exc)
        return error_response(
            422,
            "unprocessable",
            "processing this content stopped a worker process; it was not verified",
        )
    except ProvenanceError as exc:
        for cls, status, code in ERROR_STATUS:
            if isinstance(exc, cls):
                return error_response(status, code, exc.worded(API_HINTS))
        return error_response(422, "unprocessable", exc.worded(API_HINTS))
    except TimeoutError:
        return error_response(504, "timeout", "the request took longer than the time limit")
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error; the server log has details")


def metrics_middleware(metrics: Metrics) -> Callable:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            metrics.observe(request.method, name, status, time.perf_counter() - start)

    return middleware


async def _refuse_unread(request: web.Request, response: web.Response) -> web.Response:
    """Answer, then close the connection: reading (and discarding) the rest of a 10 GiB body,
    as a keep-alive connection would, costs what the refusal is there to avoid."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


def body_limit_middleware(settings: Settings) -> Callable:
    """Refuse a body whose declared length is over the limit before reading any of it, and
    keep the bodies in memory at once under ``settings.body_budget`` (each request reserves
    its Content-Length, or the body limit when it sends none or sends it compressed); past
    it, 503 at once."""
    held = 0

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal held
        declared = request.content_length
        if declared is not None and declared > settings.max_body:
            return await _refuse_unread(
                request,
                error_response(
                    413,
                    "payload_too_large",
                    f"the body is {declared} bytes, larger than the {settings.max_body}-byte limit",
                ),
            )
        if not request.body_exists:
            return await handler(request)
        # A compressed body's Content-Length is its size on the wire; aiohttp inflates it as it
        # is read, up to the body limit (50 KB of gzip can be 50 MB): it reserves that limit,
        # as a body of unknown size does.
        encoded = request.headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower()
        unknown = declared is None or encoded not in ("", "identity")
        reserved = settings.max_body if unknown else declared or 0
        if held and held + reserved > settings.body_budget:
            error = overloaded(f"{held} bytes of request bodies in memory")
            return await _refuse_unread(
                request, error_response(error.status, error.code, error.message, **error.headers)
            )
        held += reserved
        try:
            return await handler(request)
        finally:
            held -= reserved

    return middleware


def _allowed_origin(origin: str, settings: Settings) -> bool:
    return origin.startswith(("chrome-extension://", "moz-extension://")) or (
        origin in settings.cors_origins
    )


def cors_middleware(settings: Settings) -> Callable:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        allowed = bool(origin) and _allowed_origin(origin, settings)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not allowed:
                return error_response(403, "cors_origin", f"origin {origin!r} is not allowed")
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = (
                "Content-Type, Authorization, X-API-Key"
            )
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await handler(request)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    return middleware


class TokenBuckets:
    """Per-client token buckets (bounded: the least recently seen clients are forgotten)."""

    def __init__(self, rate: float, burst: float, max_clients: int = 10_000) -> None:
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[client] = (tokens - 1 if tokens >= 1 else tokens, now)
        self._buckets.move_to_end(client)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """The ``--trusted-proxy`` values as networks (a bare address is a one-address network)."""
    try:
        return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)
    except ValueError as exc:
        raise InputError(f"--trusted-proxy: {exc}; give an IP address or network") from None


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: web.Request, proxies: tuple[Network, ...]) -> str:
    """Who sent the request: the peer, unless the peer is a trusted proxy; then the nearest
    X-Forwarded-For hop that is not one (hops further left could be made up by the client)."""
    peer = request.remote or "unknown"
    if not proxies or not _within(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for line in request.headers.getall("X-Forwarded-For", [])
        for hop in line.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _within(hop, proxies):
            return hop
    return hops[0] if hops else peer


def rate_limit_middleware(settings: Settings) -> Callable:
    """Token buckets per client. With N server processes, each keeps its own buckets at 1/N of
    the limit, so a client never gets more than the limit in all; the kernel spreads
    connections over the processes, so one that keeps a single connection open sees 1/N."""
    share = settings.rate_limit / max(1, settings.workers)
    buckets = TokenBuckets(share, max(1.0, 2 * share))
    proxies = proxy_networks(settings.trusted_proxies)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if settings.rate_limit > 0 and request.path not in ("/healthz", "/readyz", "/metrics"):
            client = client_address(request, proxies)
            wait = buckets.take(client)
            if wait > 0:
                log.info("rate limited client=%s path=%s", client, request.path)
                return error_response(
                    429,
                    "too_many_requests",
                    f"more than {settings.rate_limit:g} requests per second from this client",
                    **{"Retry-After": str(max(1, round(wait + 0.5)))},
                )
        return await handler(request)

    return middleware
