"""What the routes call: registry calls in a few threads, heavy library calls in the worker
processes, and the verdict cache."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from provenance import ManifestRegistry

from . import jobs
from .errors import overloaded
from .jobs import EncodedVerdict
from .settings import Settings
from .workers import WorkerPool

T = TypeVar("T")


class VerdictCache:
    """Verdicts (their JSON text) by content SHA-256 and media type, kept in the registry with
    an expiry (the content itself is never kept), so that every server process, and a restarted
    one, answers the same report links. Called from the worker threads (registry calls block).
    """

    def __init__(self, registry: ManifestRegistry, size: int, ttl: float) -> None:
        self.registry, self.size, self.ttl = registry, size, ttl

    def get(self, digest: str, media_type: str | None = None) -> str | None:
        """The verdict's JSON for this content and media type; any media type's when None."""
        if self.size <= 0:
            return None
        return self.registry.get_verdict(digest, media_type)

    def put(self, digest: str, media_type: str, verdict_json: str) -> None:
        if self.size > 0:
            self.registry.put_verdict(digest, media_type, verdict_json, self.ttl, self.size)


#: The cache's media type for content whose type was sniffed from its bytes (not text).
SNIFFED = "sniffed"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Service:
    """What the routes call: registry calls in a few threads, heavy library calls in the worker
    processes (admitted up to ``settings.capacity``), both within the request time limit."""

    def __init__(
        self,
        settings: Settings,
        registry: ManifestRegistry,
        pool: WorkerPool,
        threads: ThreadPoolExecutor,
    ) -> None:
        self.settings, self.registry, self.pool, self.threads = settings, registry, pool, threads
        self.cache = VerdictCache(registry, settings.cache_size, settings.cache_ttl)
        # Verdicts depend on what is trusted and which text keys are known: a process with other
        # settings (a rolling update of the trust lists) must not reuse them.
        judged_by = repr((settings.trust, [d.key.key_id for d in settings.text_detectors]))
        self.judged_by = hashlib.sha256(judged_by.encode()).hexdigest()[:16]
        #: Heavy calls admitted now (running in a worker or waiting for one).
        self.admitted = 0

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A light call (a registry call) in a thread, within the request time limit."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.threads, lambda: fn(*args, **kwargs))
        return await asyncio.wait_for(future, self.settings.request_timeout)

    async def work(self, job: Callable[..., T], *args: Any) -> T:
        """``job(worker state, *args)`` in a worker process; 503 at once when at capacity,
        TimeoutError (and the worker killed) at the request time limit."""
        if self.admitted >= self.settings.capacity:
            raise overloaded(f"{self.admitted} requests in progress")
        self.admitted += 1
        try:
            deadline = asyncio.get_running_loop().time() + self.settings.request_timeout
            return await self.pool.run(deadline, job, *args)
        finally:
            self.admitted -= 1

    @property
    def overloaded(self) -> bool:
        return self.admitted >= self.settings.capacity

    def load(self) -> dict[str, int]:
        return {
            "workers": self.pool.size,
            "busy": self.pool.busy,
            "admitted": self.admitted,
            "capacity": self.settings.capacity,
        }

    async def verify(
        self,
        data: bytes,
        media_type: str | None = None,
        *,
        name: str | None = None,
        declared: str | None = None,
    ) -> EncodedVerdict:
        """The verdict for content, cached by hash and media type. ``media_type``
        only for text (bytes cannot tell text apart); everything else is sniffed. ``name``: the
        file name the client gave, and ``declared`` the Content-Type, for messages only (a
        verdict never holds them)."""
        if self.cache.size <= 0:
            # No cache to look in: the worker hashes the content as it verifies it, which
            # saves this process two thread round trips per request.
            return await self.work(jobs.verify_content, data, media_type, None, name, declared)
        kind = f"{media_type or SNIFFED} {self.judged_by}"
        digest, cached = await self.run(self._cached, data, kind)
        if cached is not None:
            return cached
        result = await self.work(jobs.verify_content, data, media_type, digest, name, declared)
        await self.run(self.cache.put, digest, kind, result.json)
        return result

    def _cached(self, data: bytes, kind: str) -> tuple[str, EncodedVerdict | None]:
        """(sha256, the cached verdict or None), in one thread round trip (hashlib releases
        the GIL)."""
        digest = _sha256(data)
        found = self.cache.get(digest, kind)
        return digest, EncodedVerdict.decode(found) if found is not None else None
