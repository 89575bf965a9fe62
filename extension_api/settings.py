"""Server settings: flags override environment variables, which override the defaults.

Trust and text-watermark keys are read by the library's own functions
(``TrustPolicy.from_env``, ``TextDetector.from_env``), the same ones `provenance verify` uses.

--host / PROVENANCE_HOST                      127.0.0.1
--port / PROVENANCE_PORT                      8787
--registry / PROVENANCE_REGISTRY              the per-user registry of signed manifests (a
(--store / PROVENANCE_STORE: earlier names)   SQLite file); a postgresql:// URL for several
                                              processes
--trust PEM... / PROVENANCE_TRUST (paths)     anchors added to the bundled trust lists
--trust-config / PROVENANCE_TRUST_CONFIG      the project's EKU list
--no-default-trust / PROVENANCE_DEFAULT_TRUST=0   the bundled C2PA and interim lists are used
--text-watermark K=T... / PROVENANCE_TEXT_WATERMARKS (a,b)  none
--api-key... / PROVENANCE_API_KEYS (a,b)      none: POST /v1/manifests is off
--max-body-mb / PROVENANCE_MAX_BODY_MB        50 (MiB, more than 0: the sizes cannot be
                                              turned off)
--rate-limit / PROVENANCE_RATE_LIMIT          20 requests/s per client, burst 2x (0: off)
--request-timeout / PROVENANCE_REQUEST_TIMEOUT  30 s
--workers / PROVENANCE_WORKERS                1 server process (N: N processes, one port)
--threads / PROVENANCE_THREADS                CPU count (at least 2): worker processes per
                                              server process for the CPU work (c2pa, decoding,
                                              detection); a call past its deadline is killed
--queue / PROVENANCE_QUEUE                    8 per thread: calls that may wait for a worker
                                              (a few seconds of work, far below the request
                                              time limit); beyond threads + queue, 503 at once
--max-megapixels / PROVENANCE_MAX_MEGAPIXELS  50: pixels one image may declare (header);
                                              0: only the library's limit (100)
--max-text-mb / PROVENANCE_MAX_TEXT_MB        1: text one request may submit
--max-connections / PROVENANCE_MAX_CONNECTIONS  1000: open connections; past it, the
                                              oldest is closed to make room
--shutdown-timeout / PROVENANCE_SHUTDOWN_TIMEOUT  30 s for in-flight requests on SIGTERM
--max-inflight-mb / PROVENANCE_MAX_INFLIGHT_MB  4x the body limit: request bodies in memory
                                              at once; past it, 503 at once
--cache-size / PROVENANCE_CACHE_SIZE          1024 verdicts (0: off), kept in the registry
--cache-ttl / PROVENANCE_CACHE_TTL            3600 s a verdict (and its report link) lives
--trusted-proxy... / PROVENANCE_TRUSTED_PROXIES  none (addresses or networks whose
                                              X-Forwarded-For names the client)
--cors-origin... / PROVENANCE_CORS_ORIGINS    none (browser extensions are always allowed)
--fetch-allow... / PROVENANCE_FETCH_ALLOW     none (hosts or networks verify-url may reach
                                              despite the SSRF rules; for tests)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from provenance import (
    InputError,
    TextDetector,
    TrustPolicy,
    default_registry_location,
    redacted,
)

MIB = 1024 * 1024


def mib_limit(text: str) -> int:
    """A size limit given in MiB (``--max-body-mb``, ``--max-text-mb``, ``--max-inflight-mb``
    and their variables), in bytes. More than 0: none of these limits can be turned off, and
    0 would refuse every request body (it used to be taken as "not given")."""
    value = _number(text)
    if not value > 0:
        raise ValueError(f"must be more than 0 MiB (got {text})")
    return int(value * MIB)


def megapixel_limit(text: str) -> int:
    """``--max-megapixels`` (and its variable) in pixels; 0: no limit of the server's own,
    only the library's (``provenance.media.MAX_PIXELS``)."""
    value = _number(text)
    if not value >= 0:
        raise ValueError(f"must be 0 or more megapixels (got {text})")
    return int(value * 1_000_000)


def port_number(text: str) -> int:
    """``--port`` (and its variable): 1 to 65535. A port out of range reached the socket's bind
    and came out as a Python traceback (OverflowError), after the workers had started."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise ValueError(f"a port is 1 to 65535 (got {text})")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if math.isinf(value):  # int() of it raised OverflowError, which argparse does not catch
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _env_list(name: str, sep: str = ",") -> list[str]:
    return [v.strip() for v in os.environ.get(name, "").split(sep) if v.strip()]


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8787
    #: A SQLite file or a ``postgresql://`` URL.
    registry_location: Path | str = field(default_factory=default_registry_location)
    trust: TrustPolicy = field(default_factory=TrustPolicy)
    api_keys: tuple[str, ...] = ()
    max_body: int = 50 * MIB
    #: Requests per second per client address (token bucket, burst twice that); 0 turns it off.
    rate_limit: float = 20.0
    request_timeout: float = 30.0
    #: Server processes sharing the port (see app.run).
    workers: int = 1
    #: Worker processes per server process for CPU work (c2pa, decoding, detection).
    threads: int = field(default_factory=lambda: max(2, os.cpu_count() or 2))
    cache_size: int = 1024
    cache_ttl: float = 3600.0
    #: Reverse proxies (addresses or networks) trusted to say who the client is.
    trusted_proxies: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    fetch_allow: tuple[str, ...] = ()
    fetch_max_bytes: int = 20 * MIB
    fetch_timeout: float = 10.0
    fetch_max_redirects: int = 5
    text_detectors: tuple[TextDetector, ...] = ()
    #: Calls that may wait for a busy worker; more than threads + queue get 503 at once.
    queue: int | None = None
    #: Pixels (width x height, from the header) one image may have; 0: only the library's limit.
    max_pixels: int = 50_000_000
    #: Bytes of text one request may submit (text costs CPU per byte: fingerprint, detectors).
    max_text_bytes: int = 1 * MIB
    #: Open connections; past it the oldest is closed (no file-descriptor exhaustion).
    max_connections: int = 1000
    #: Seconds in-flight requests get on SIGTERM before the workers are killed.
    shutdown_timeout: float = 30.0
    #: Bytes of request bodies held in memory at once; None: four times the body limit.
    max_inflight_body: int | None = None

    @property
    def body_budget(self) -> int:
        """Request bodies in memory at once (at least one body of the largest size)."""
        return max(self.max_body, self.max_inflight_body or 4 * self.max_body)

    @property
    def capacity(self) -> int:
        """Heavy calls admitted at once: running in a worker, or waiting for one."""
        return self.threads + (8 * self.threads if self.queue is None else self.queue)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then environment variables, then ``overrides`` (flags) where not None."""
        env: dict[str, object] = {}
        if "PROVENANCE_HOST" in os.environ:
            env["host"] = os.environ["PROVENANCE_HOST"]
        for key, name, conv in (
            ("port", "PROVENANCE_PORT", port_number),
            ("max_body", "PROVENANCE_MAX_BODY_MB", mib_limit),
            ("rate_limit", "PROVENANCE_RATE_LIMIT", float),
            ("request_timeout", "PROVENANCE_REQUEST_TIMEOUT", float),
            ("workers", "PROVENANCE_WORKERS", int),
            ("threads", "PROVENANCE_THREADS", int),
            ("cache_size", "PROVENANCE_CACHE_SIZE", int),
            ("cache_ttl", "PROVENANCE_CACHE_TTL", float),
            ("queue", "PROVENANCE_QUEUE", int),
            ("max_pixels", "PROVENANCE_MAX_MEGAPIXELS", megapixel_limit),
            ("max_text_bytes", "PROVENANCE_MAX_TEXT_MB", mib_limit),
            ("max_connections", "PROVENANCE_MAX_CONNECTIONS", int),
            ("shutdown_timeout", "PROVENANCE_SHUTDOWN_TIMEOUT", float),
            ("max_inflight_body", "PROVENANCE_MAX_INFLIGHT_MB", mib_limit),
        ):
            if name in os.environ:
                try:
                    env[key] = conv(os.environ[name])
                except ValueError as exc:
                    raise InputError(
                        f"{name}={os.environ[name]}: {exc}", hint="unset it for the default"
                    ) from None
        env["api_keys"] = tuple(_env_list("PROVENANCE_API_KEYS"))
        env["cors_origins"] = tuple(_env_list("PROVENANCE_CORS_ORIGINS"))
        env["fetch_allow"] = tuple(_env_list("PROVENANCE_FETCH_ALLOW"))
        env["trusted_proxies"] = tuple(_env_list("PROVENANCE_TRUSTED_PROXIES"))
        given = {k: v for k, v in overrides.items() if v not in (None, (), [])}
        if "text_detectors" not in given:
            env["text_detectors"] = tuple(TextDetector.from_env())
        if "trust" not in given:
            env["trust"] = TrustPolicy.from_env()
        values = {**env, **given}
        return cls(**values)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The start-up line: address, registry, trust."""
        keys = f"{len(self.api_keys)} API key(s)" if self.api_keys else "registration off"
        processes = f"  {self.workers} processes" if self.workers > 1 else ""
        return (
            f"provenance API on http://{self.host}:{self.port}{processes}  "
            f"registry {redacted(self.registry_location)}  "
            f"trust: {self.trust.describe()}  ({keys})"
        )
