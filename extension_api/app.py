"""The aiohttp application: a thin adapter over provenance's public API.

``create_app(settings)`` wires the shared pieces as ``web.AppKey``s and opens/closes them in
``cleanup_ctx``: the manifest store, a bounded thread pool for CPU work (c2pa reading, image
decoding, watermark detection never run on the event loop), the SSRF-safe fetcher, the verdict
cache and the metrics. Each verify call makes its own c2pa Reader in its worker thread; none is
shared between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from provenance import ManifestStore, verify
from provenance.store import PostgresStore, is_postgres_url

from .fetch import Fetcher
from .metrics import Metrics
from .middleware import cors_middleware, error_middleware, metrics_middleware, rate_limit_middleware
from .settings import Settings

log = logging.getLogger("provenance.api")
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


SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", Service)
FETCHER = web.AppKey("fetcher", Fetcher)
METRICS = web.AppKey("metrics", Metrics)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = (
        PostgresStore(str(settings.store_path), max_connections=settings.threads)
        if is_postgres_url(str(settings.store_path))
        else ManifestStore(settings.store_path)
    )
    pool = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="verify")
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
    store.close()


def create_app(
    settings: Settings | None = None, worker: int | None = None, shared: Path | None = None
) -> web.Application:
    """The application. When several processes serve, ``worker`` (1..N) is named in an
    ``X-Provenance-Worker`` header so operators and tests can tell the processes apart, and
    the metrics are shared through the directory ``shared``."""
    from .routes import routes  # the routes need the AppKeys above

    settings = settings or Settings.from_env()
    metrics = Metrics(shared, worker)
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
    if worker is not None:

        async def name_worker(_: web.Request, response: web.StreamResponse) -> None:
            response.headers["X-Provenance-Worker"] = str(worker)

        app.on_response_prepare.append(name_worker)
    if shared is not None:
        app.cleanup_ctx.append(_share_metrics)
    return app


async def _share_metrics(app: web.Application) -> AsyncIterator[None]:
    """Write this process's counters for the others about once a second, and at the end."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(1.0)
            app[METRICS].share()

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    app[METRICS].share()


def _serve(
    settings: Settings,
    sock: socket.socket | None = None,
    worker: int | None = None,
    shared: Path | None = None,
) -> None:
    """One process: serve until SIGINT/SIGTERM; in-flight requests get up to 30 s to finish."""
    app = create_app(settings, worker, shared)
    if sock is None:

        async def announce(_: web.Application) -> None:
            print(settings.describe(), flush=True)

        app.on_startup.append(announce)
    # access_log=None: request lines are not logged; our own log line holds only the content's
    # hash and the verdict (see routes).
    web.run_app(
        app,
        host=None if sock else settings.host,
        port=None if sock else settings.port,
        sock=sock,
        shutdown_timeout=30,
        access_log=None,
        print=None,
    )


#: A worker that ends sooner than this after starting is not restarted (it would only fail
#: again, e.g. on an unreachable store): the whole server stops instead.
_START_GRACE = 10.0


def _fork_worker(settings: Settings, sock: socket.socket, worker: int, shared: Path) -> int:
    pid = os.fork()
    if pid == 0:  # the child: its own event loop, thread pool, store connections and cache
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _serve(settings, sock, worker, shared)
        except Exception:
            log.exception("worker %d failed", worker)
            code = 1
        finally:
            os._exit(code)
    return pid


def run(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM. With ``settings.workers`` > 1, the listening socket is made
    here and N forked processes accept on it (the kernel hands each connection to one of them);
    a worker that dies is replaced, and SIGTERM/SIGINT is passed on to all of them. Nothing is
    shared between the processes but the socket, the store and a directory of metrics."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if settings.workers <= 1:
        _serve(settings)
        return
    # Made before any thread or connection exists, so that forking copies none.
    sock = socket.create_server((settings.host, settings.port), backlog=1024)
    sock.setblocking(False)
    print(settings.describe(), flush=True)
    shared = Path(tempfile.mkdtemp(prefix="provenance-metrics-"))
    workers = {_fork_worker(settings, sock, n, shared): n for n in range(1, settings.workers + 1)}
    started = {n: time.monotonic() for n in workers.values()}
    stopping = failed = False

    def stop(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while workers:
        pid, status = os.wait()
        worker = workers.pop(pid, None)
        if worker is None or stopping:
            continue
        if time.monotonic() - started[worker] < _START_GRACE:
            log.error("worker %d ended during start-up (status %d); stopping", worker, status)
            stop(signal.SIGTERM, None)
            failed = True
            continue
        log.warning(
            "worker %d (pid %d) ended with status %d; starting another", worker, pid, status
        )
        workers[_fork_worker(settings, sock, worker, shared)] = worker
        started[worker] = time.monotonic()
    sock.close()
    shutil.rmtree(shared, ignore_errors=True)
    if failed:
        raise SystemExit(1)


__all__ = ["FETCHER", "METRICS", "SERVICE", "SETTINGS", "Service", "create_app", "run"]
