"""What the routes call: the library run in a bounded pool, and the verdict cache."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from provenance import ManifestStore, verify

from .settings import Settings

T = TypeVar("T")


class VerdictCache:
    """Verdicts by content SHA-256 and media type, kept in the manifest store with an expiry
    (the content itself is never kept), so that every server process, and a restarted one,
    answers the same report links. Called from the worker threads (store calls block).
    """

    def __init__(self, store: ManifestStore, size: int, ttl: float) -> None:
        self.store, self.size, self.ttl = store, size, ttl

    def get(self, digest: str, media_type: str | None = None) -> dict[str, Any] | None:
        """The verdict for this content and media type; any media type's when None."""
        if self.size <= 0:
            return None
        found = self.store.get_verdict(digest, media_type)
        return json.loads(found) if found is not None else None

    def put(self, digest: str, media_type: str, verdict: dict[str, Any]) -> None:
        if self.size > 0:
            self.store.put_verdict(digest, media_type, json.dumps(verdict), self.ttl, self.size)


#: The cache's media type for content whose type was sniffed from its bytes (not text).
SNIFFED = "sniffed"


class Service:
    """What the routes call: library functions run in the pool, with the request time limit."""

    def __init__(self, settings: Settings, store: ManifestStore, pool: ThreadPoolExecutor) -> None:
        self.settings, self.store, self.pool = settings, store, pool
        self.cache = VerdictCache(store, settings.cache_size, settings.cache_ttl)
        # Verdicts depend on what is trusted and which text keys are known: a process with other
        # settings (a rolling update of the trust lists) must not reuse them.
        judged_by = repr((settings.trust, [d.key.key_id for d in settings.text_detectors]))
        self.judged_by = hashlib.sha256(judged_by.encode()).hexdigest()[:16]

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        limit = self.settings.request_timeout
        started = loop.time()
        future = loop.run_in_executor(self.pool, lambda: fn(*args, **kwargs))
        # A timed-out call's thread finishes its work in the background; the request gets 504.
        result = await asyncio.wait_for(future, limit)
        # The loop may only notice the deadline after the work is done (a busy worker thread
        # holds the GIL): a result that arrives late is still late.
        if loop.time() - started > limit:
            raise TimeoutError
        return result

    def _verify(self, data: bytes, media_type: str | None) -> tuple[str, dict[str, Any]]:
        # Hash, cache lookup and verification in one trip to the pool.
        digest = hashlib.sha256(data).hexdigest()
        kind = f"{media_type or SNIFFED} {self.judged_by}"
        cached = self.cache.get(digest, kind)
        if cached is not None:
            return digest, cached
        verdict = verify(
            data,
            policy=self.settings.trust,
            store=self.store,
            sha256=digest,
            media_type=media_type,
            text_detectors=self.settings.text_detectors,
        )
        result = verdict.to_dict()
        self.cache.put(digest, kind, result)
        return digest, result

    async def verify(
        self, data: bytes, media_type: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """(sha256, verdict dict) for content, cached by hash. ``media_type`` only for text
        (bytes cannot tell text apart); everything else is sniffed."""
        return await self.run(self._verify, data, media_type)
