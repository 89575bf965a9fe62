"""Worker processes for the CPU work, so that a request past its deadline stops costing CPU.

A thread cannot be stopped: a verify that runs away (a hostile file, a huge text) keeps its
thread, and the GIL, long after its 504, and a SIGTERM waits for it. A process can be: each
call runs in one of ``size`` worker processes, and a call still running at its deadline has
its worker killed (SIGKILL) and replaced. The event loop only moves bytes to and from the
workers (in a small thread pool, so large bodies never block it), and its GIL is never held
by CPU work, which keeps /healthz prompt under any load.

Workers are forked from a forkserver that has already imported the library, so a replacement
does not import it again. Each worker runs ``init(arg)`` once (open the registry, keep
the settings) and then ``fn(state, *args)`` per call; ``fn`` must be a module-level function
(it is pickled by reference).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import pickle
import signal
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from provenance import ProvenanceError

log = logging.getLogger("provenance.api")
T = TypeVar("T")

#: Modules the forkserver imports once, so that forked workers start warm.
PRELOAD = ["provenance", "extension_api.jobs"]


class WorkerCrashed(Exception):
    """The worker process died while handling a call (killed by the OS, or a native crash)."""


def _serve(conn: multiprocessing.connection.Connection, init: Callable, arg: Any) -> None:
    """A worker's main loop: one call at a time, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    state = init(arg)
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple = ("ok", fn(state, *args))
        except ProvenanceError as exc:
            # Pickled whole: ProvenanceError.__reduce__ keeps its hint and remedy.
            reply = ("error", exc)
        except Exception as exc:
            # The class and where it was raised, not the message: messages can quote content.
            where = traceback.extract_tb(exc.__traceback__)[-1:]
            place = f" at {Path(where[0].filename).name}:{where[0].lineno}" if where else ""
            reply = ("crash", f"{type(exc).__name__}{place}")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


def _call(conn: multiprocessing.connection.Connection, message: tuple) -> Any:
    """Send a call and wait for its reply, in one trip to an I/O thread (each trip costs the
    event loop a future, a wake-up and the GIL twice).

    Pickled plainly rather than by ``conn.send``: its ForkingPickler copies the copyreg table
    on every call for reducers (sockets, connections) that a call's module-level function and
    plain values never need; 1/3 the pickling time, in this process, and the worker's
    ``conn.recv`` reads it the same."""
    conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))
    return conn.recv()


@dataclass(eq=False)  # hashed by identity: kept in a set
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection


class WorkerPool:
    """``size`` worker processes; :meth:`run` gives a call to an idle one, within a deadline."""

    def __init__(self, size: int, init: Callable[[Any], Any], arg: Any) -> None:
        self.size, self._init, self._arg = size, init, arg
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._tasks: set[asyncio.Task] = set()
        # Moves pickled calls and replies (and starts/stops processes) off the event loop.
        self._io = ThreadPoolExecutor(max_workers=2 * size + 2, thread_name_prefix="pool-io")
        self._closed = False
        self._started = 0
        #: Calls running now (for /healthz and the admission limit).
        self.busy = 0

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_serve, args=(child, self._init, self._arg), daemon=True, name="verify-worker"
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def start(self) -> None:
        """Start the workers in the background: the server listens at once, and calls wait
        for a worker (within their deadline); :attr:`ready` says when all have started."""
        for _ in range(self.size):
            self._background(self._add(initial=True))

    @property
    def ready(self) -> bool:
        return self._started >= self.size

    async def _add(self, initial: bool = False) -> None:
        fresh = await asyncio.get_running_loop().run_in_executor(self._io, self._spawn)
        if self._closed:  # closed while it started
            await asyncio.get_running_loop().run_in_executor(self._io, self._kill, fresh)
            return
        self._all.add(fresh)
        self._idle.put_nowait(fresh)
        self._started += initial

    def _background(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _kill(worker: _Worker) -> None:
        with contextlib.suppress(OSError, ValueError):
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()

    async def _replace(self, worker: _Worker) -> None:
        self._all.discard(worker)
        await asyncio.get_running_loop().run_in_executor(self._io, self._kill, worker)
        if not self._closed:
            await self._add()

    async def run(self, deadline: float, fn: Callable[..., T], *args: Any) -> T:
        """``fn(state, *args)`` in a worker; TimeoutError at ``deadline`` (loop time), having
        killed the worker if the call had started. Waiting for a free worker counts too."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout_at(deadline):
            worker = await self._idle.get()
        self.busy += 1
        try:
            async with asyncio.timeout_at(deadline):
                reply = await loop.run_in_executor(self._io, _call, worker.conn, (fn, args))
        except BaseException as exc:
            # Timed out, cancelled (shutdown) or the worker died: it may still be busy with
            # this call, so it is killed, and a fresh one takes its place.
            self._background(self._replace(worker))
            if isinstance(exc, EOFError | OSError) and not isinstance(exc, TimeoutError):
                raise WorkerCrashed(f"the worker process stopped ({exc or 'no reply'})") from None
            raise
        finally:
            self.busy -= 1
        self._idle.put_nowait(worker)
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "error":
            raise reply[1]
        raise WorkerCrashed(reply[1])

    async def close(self) -> None:
        """Kill every worker now: what is still running is past saving (SIGTERM's budget)."""
        self._closed = True
        for worker in list(self._all):
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()
        loop = asyncio.get_running_loop()
        for worker in list(self._all):
            await loop.run_in_executor(self._io, self._kill, worker)
        self._all.clear()
        # Replacements under way finish starting, see the pool closed, and kill their worker.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._io.shutdown(wait=False, cancel_futures=True)

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._all if w.process.pid is not None]
