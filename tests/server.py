"""A real server on a loopback port, in a background thread, for tests and benches."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable

from aiohttp import web

from extension_api import Settings, create_app
from extension_api.app import SERVICE, SETTINGS, ServerRunner


def free_port() -> int:
    """A loopback port nobody is listening on (for servers started as processes)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """Runs ``create_app(settings)`` (or any app factory) on 127.0.0.1 with a free port."""

    def __init__(
        self, settings: Settings | None = None, factory: Callable[[], web.Application] | None = None
    ) -> None:
        self.factory = factory or (lambda: create_app(settings))
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = self.factory()
        # The server's own runner (connection cap, shutdown budget) for the server's app.
        self._runner = ServerRunner(app) if SETTINGS in app else web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the test server did not start")
        if SETTINGS in self.app:  # the server's workers start in the background: wait for them
            deadline = time.monotonic() + 120
            while not self.app[SERVICE].pool.ready:
                if time.monotonic() > deadline:
                    raise RuntimeError("the test server's workers did not start")
                time.sleep(0.05)
        return self

    @property
    def app(self) -> web.Application:
        assert self._runner is not None
        return self._runner.app

    def __exit__(self, *exc: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
