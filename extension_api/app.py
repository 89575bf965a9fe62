"""The aiohttp application: a thin adapter over provenance's public API.

``create_app(settings)`` wires the shared pieces as ``web.AppKey``s and opens/closes them in
``cleanup_ctx``: the manifest store, the worker processes for CPU work (c2pa reading, image
decoding, watermark detection never run in the server's process; a call past its deadline has
its worker killed), the SSRF-safe fetcher, the verdict cache and the metrics. Each verify call
makes its own c2pa Reader in its worker; none is shared between requests.

Cost per request is bounded before any work starts: the body size (Content-Length refused up
front), the multipart part count, the pixels an image declares, the bytes of a text; heavy
calls beyond ``workers + queue`` get 503 at once instead of a queue that times everyone out.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from aiohttp import web

from provenance import ManifestStore

from . import jobs
from .errors import overloaded
from .fetch import Fetcher
from .logs import quiet_server_logs
from .metrics import Metrics
from .middleware import (
    body_limit_middleware,
    cors_middleware,
    error_middleware,
    metrics_middleware,
    rate_limit_middleware,
)
from .settings import Settings
from .workers import WorkerPool

log = logging.getLogger("provenance.api")
T = TypeVar("T")


class VerdictCache:
    """Bounded LRU of verdicts by key: the content's SHA-256 and how it was read (see
    :func:`cache_key`); the content itself is never kept.

    Safe to share between threads (the lock); the server uses it from its event loop.
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


def cache_key(digest: str, media_type: str | None) -> str:
    """The same bytes read as text and as a sniffed type get different verdicts."""
    return f"{'text' if media_type else 'sniffed'}:{digest}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Service:
    """What the routes call: store look-ups in threads, heavy library calls in the worker
    processes (admitted up to ``settings.capacity``), both within the request time limit."""

    def __init__(self, settings: Settings, store: ManifestStore, pool: WorkerPool) -> None:
        self.settings, self.store, self.pool = settings, store, pool
        self.cache = VerdictCache(settings.cache_size)
        #: Heavy calls admitted now (running in a worker or waiting for one).
        self.admitted = 0

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A light call (a store look-up) in a thread, within the request time limit."""
        return await asyncio.wait_for(
            asyncio.to_thread(fn, *args, **kwargs), self.settings.request_timeout
        )

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
        self, data: bytes, media_type: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """(sha256, verdict dict) for content, cached by hash and media type. ``media_type``
        only for text (bytes cannot tell text apart); everything else is sniffed."""
        digest = await asyncio.to_thread(_sha256, data)  # hashlib releases the GIL
        key = cache_key(digest, media_type)
        cached = self.cache.get(key)
        if cached is not None:
            return digest, cached
        result = await self.work(jobs.verify_content, data, media_type, digest)
        self.cache.put(key, result)
        return digest, result

    def cached_report(self, digest: str) -> dict[str, Any] | None:
        """A recent verdict for this content: as sniffed, else as text."""
        for media_type in (None, "text/plain"):
            found = self.cache.get(cache_key(digest, media_type))
            if found is not None:
                return found
        return None


SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", Service)
FETCHER = web.AppKey("fetcher", Fetcher)
METRICS = web.AppKey("metrics", Metrics)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = ManifestStore(settings.store_path)
    pool = WorkerPool(settings.workers, jobs.init, settings)
    pool.start()  # in the background: /readyz says when the workers are up
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
    await pool.close()


def create_app(settings: Settings | None = None) -> web.Application:
    from .routes import routes  # the routes need the AppKeys above

    settings = settings or Settings.from_env()
    quiet_server_logs()
    metrics = Metrics()
    app = web.Application(
        client_max_size=settings.max_body,
        middlewares=[
            cors_middleware(settings),
            metrics_middleware(metrics),
            error_middleware(settings),
            body_limit_middleware(settings),
            rate_limit_middleware(settings),
        ],
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app.cleanup_ctx.append(_resources)
    app.add_routes(routes)
    return app


class ConnectionCap:
    """At most ``limit`` open connections: past it, the oldest one is closed to make room.

    Slow clients that open connections and never finish a request (slowloris) would otherwise
    hold file descriptors until accept() fails with EMFILE for everyone; the oldest connection
    is the likeliest to be one of theirs, and a new client always gets in.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.evicted = 0
        self._closing: set[Any] = set()  # closed, not yet forgotten by the server

    def install(self, server: web.Server) -> None:
        made = server.connection_made

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            made(handler, transport)
            current = server.connections
            self._closing.intersection_update(current)
            live = [h for h in current if h not in self._closing]
            for oldest in live[: max(0, len(live) - self.limit)]:
                self._closing.add(oldest)
                self.evicted += 1
                oldest.force_close()

        server.connection_made = connection_made  # type: ignore[method-assign]


class ServerRunner(web.AppRunner):
    """The app's runner: request lines are not logged (access_log=None: our own log line holds
    only the content's hash and the verdict), connections are capped, and shutdown waits at most
    ``shutdown_timeout`` for in-flight requests."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        settings = app[SETTINGS]
        super().__init__(app, access_log=None, shutdown_timeout=settings.shutdown_timeout, **kwargs)
        self.cap = ConnectionCap(settings.max_connections)

    async def setup(self) -> None:
        await super().setup()
        assert self.server is not None
        self.cap.install(self.server)


def _raise_fd_limit(wanted: int) -> None:
    """Let the process hold ``wanted`` connections plus files (soft limit up to the hard one)."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted + 256
    if soft != resource.RLIM_INFINITY and soft < target:
        new = target if hard == resource.RLIM_INFINITY else min(target, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        if new < target:
            log.warning("only %d file descriptors allowed; lower --max-connections", new)


async def _serve(app: web.Application, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = ServerRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        print(settings.describe(), flush=True)
        await stop.wait()
    finally:
        # Stops listening, gives in-flight requests shutdown_timeout, then kills the workers.
        await runner.cleanup()


def run(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests get up to ``shutdown_timeout`` (30 s)
    to finish, then the workers are killed."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _raise_fd_limit(settings.max_connections)
    asyncio.run(_serve(create_app(settings), settings))


__all__ = [
    "FETCHER",
    "METRICS",
    "SERVICE",
    "SETTINGS",
    "ServerRunner",
    "Service",
    "create_app",
    "run",
]
