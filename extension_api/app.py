"""The aiohttp application: a thin adapter over provenance's public API.

``create_app(settings)`` wires the shared pieces as ``web.AppKey``s and opens/closes them in
``cleanup_ctx``: the manifest store, a bounded thread pool for CPU work (c2pa reading, image
decoding, watermark detection never run on the event loop), the SSRF-safe fetcher, the verdict
cache and the metrics. Each verify call makes its own c2pa Reader in its worker thread; none is
shared between requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from provenance import ManifestStore, verify

from .fetch import Fetcher
from .metrics import Metrics
from .middleware import cors_middleware, error_middleware, metrics_middleware, rate_limit_middleware
from .settings import Settings

log = logging.getLogger("provenance.api")
T = TypeVar("T")


class VerdictCache:
    """Bounded LRU of verdicts by content SHA-256 (the content itself is never kept).

    Used from the worker threads, hence the lock.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(digest)
            if item is not None:
                self._items.move_to_end(digest)
            return item

    def put(self, digest: str, verdict: dict[str, Any]) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[digest] = verdict
            self._items.move_to_end(digest)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Service:
    """What the routes call: library functions run in the pool, with the request time limit."""

    def __init__(self, settings: Settings, store: ManifestStore, pool: ThreadPoolExecutor) -> None:
        self.settings, self.store, self.pool = settings, store, pool
        self.cache = VerdictCache(settings.cache_size)

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
        cached = self.cache.get(digest)
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
        self.cache.put(digest, result)
        return digest, result

    async def verify(
        self, data: bytes, media_type: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """(sha256, verdict dict) for content, cached by hash. ``media_type`` only for text
        (bytes cannot tell text apart); everything else is sniffed."""
        return await self.run(self._verify, data, media_type)


SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", Service)
FETCHER = web.AppKey("fetcher", Fetcher)
METRICS = web.AppKey("metrics", Metrics)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = ManifestStore(settings.store_path)
    pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="verify")
    fetcher = Fetcher(
        allow=settings.fetch_allow,
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout,
        max_redirects=settings.fetch_max_redirects,
    )
    await fetcher.start()
    app[SERVICE] = Service(settings, store, pool)
    app[FETCHER] = fetcher
    yield
    await fetcher.close()
    pool.shutdown(wait=True, cancel_futures=True)


def create_app(settings: Settings | None = None) -> web.Application:
    from .routes import routes  # the routes need the AppKeys above

    settings = settings or Settings.from_env()
    metrics = Metrics()
    app = web.Application(
        client_max_size=settings.max_body,
        middlewares=[
            cors_middleware(settings),
            metrics_middleware(metrics),
            error_middleware(settings),
            rate_limit_middleware(settings),
        ],
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app.cleanup_ctx.append(_resources)
    app.add_routes(routes)
    return app


def run(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests get up to 30 s to finish."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(settings)

    async def announce(_: web.Application) -> None:
        print(settings.describe(), flush=True)

    app.on_startup.append(announce)
    # access_log=None: request lines are not logged; our own log line holds only the content's
    # hash and the verdict (see routes).
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        shutdown_timeout=30,
        access_log=None,
        print=None,
    )


__all__ = ["FETCHER", "METRICS", "SERVICE", "SETTINGS", "Service", "create_app", "run"]
