"""The aiohttp application: a thin adapter over provenance's public API.

``create_app(settings)`` wires the shared pieces as ``web.AppKey``s and opens/closes them in
``cleanup_ctx``: the registry, the worker processes for CPU work (c2pa reading, image
decoding, watermark detection never run in the server's process; a call past its deadline has
its worker killed), a few threads for registry calls, the SSRF-safe fetcher, the verdict cache and
the metrics. Each verify call makes its own c2pa Reader in its worker; none is shared.

Cost per request is bounded before any work starts: the body size (Content-Length refused up
front), the multipart part count, the pixels an image declares, the bytes of a text; heavy
calls beyond ``threads + queue`` get 503 at once instead of a queue that times everyone out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

from provenance import ManifestRegistry

from . import jobs
from .fetch import Fetcher
from .keys import FETCHER, METRICS, SERVICE, SETTINGS
from .logs import quiet_server_logs
from .metrics import Metrics, share_through
from .middleware import (
    body_limit_middleware,
    cors_middleware,
    error_middleware,
    metrics_middleware,
    rate_limit_middleware,
)
from .routes import routes
from .service import Service
from .settings import Settings
from .workers import WorkerPool

log = logging.getLogger("provenance.api")


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    threads = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="registry")
    loop = asyncio.get_running_loop()
    # Opening connects, migrates, and may wait for another process's migration or write lock:
    # in one of the registry's threads, so that the loop (signals, the workers' start) goes on.
    try:
        registry = await loop.run_in_executor(
            threads,
            functools.partial(
                ManifestRegistry, settings.registry_location, max_connections=settings.threads
            ),
        )
    except BaseException:
        threads.shutdown(wait=False)
        raise
    pool = WorkerPool(settings.threads, jobs.init, settings)
    pool.start()  # in the background: /readyz says when the workers are up
    fetcher = Fetcher(
        allow=settings.fetch_allow,
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout,
        max_redirects=settings.fetch_max_redirects,
    )
    await fetcher.start()
    app[SERVICE] = Service(settings, registry, pool, threads)
    app[FETCHER] = fetcher
    yield
    await fetcher.close()
    await pool.close()
    threads.shutdown(wait=True, cancel_futures=True)
    await asyncio.to_thread(registry.close)  # a PostgreSQL pool joins its threads


def create_app(
    settings: Settings | None = None, worker: int | None = None, shared: Path | None = None
) -> web.Application:
    """The application. When several processes serve, ``worker`` (1..N) is named in an
    ``X-Provenance-Worker`` header so operators and tests can tell the processes apart, and
    the metrics are shared through the directory ``shared``."""
    settings = settings or Settings.from_env()
    quiet_server_logs()
    metrics = Metrics(shared)
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
    if worker is not None:

        async def name_worker(_: web.Request, response: web.StreamResponse) -> None:
            response.headers["X-Provenance-Worker"] = str(worker)

        app.on_response_prepare.append(name_worker)
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


async def _serve_async(
    app: web.Application, settings: Settings, sock: socket.socket | None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = ServerRunner(app)
    await runner.setup()
    try:
        site = (
            web.SockSite(runner, sock)
            if sock is not None
            else web.TCPSite(runner, settings.host, settings.port)
        )
        await site.start()
        if sock is None:
            print(settings.describe(), flush=True)
        await stop.wait()
    finally:
        # Stops listening, gives in-flight requests shutdown_timeout, then kills the workers.
        await runner.cleanup()


def _serve(
    settings: Settings,
    sock: socket.socket | None = None,
    worker: int | None = None,
    shared: Path | None = None,
) -> None:
    """One process: serve until SIGINT/SIGTERM; in-flight requests get up to
    ``shutdown_timeout`` (30 s) to finish, then the worker processes are killed."""
    asyncio.run(_serve_async(create_app(settings, worker, shared), settings, sock))


#: A worker that ends sooner than this after starting is not restarted (it would only fail
#: again, e.g. on an unreachable registry): the whole server stops instead.
_START_GRACE = 10.0


def _fork_worker(settings: Settings, sock: socket.socket, worker: int, shared: Path) -> int:
    pid = os.fork()
    if pid == 0:  # the child: its own event loop, thread pool, registry connections and cache
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            share_through(shared)
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
    shared between the processes but the socket, the registry and a directory of metrics."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _raise_fd_limit(settings.max_connections)
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
