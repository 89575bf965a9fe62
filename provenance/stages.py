"""Where a sign's time goes, stage by stage (bench/sign_verify.py --pipeline-only prints it).

Off unless a caller asks (:func:`measured`): then each :func:`stage` adds its wall time and the
process's CPU time (all threads: OpenCV runs its own) to a dict. The cost when off is one
ContextVar read per stage. Stages that run concurrently (on another thread) overlap, so the
stages can add up to more than the sign.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

#: Stage name -> (wall seconds, process CPU seconds).
Times = dict[str, tuple[float, float]]

_TIMES: contextvars.ContextVar[Times | None] = contextvars.ContextVar(
    "provenance_stage_times", default=None
)

T = TypeVar("T")


@contextlib.contextmanager
def measured() -> Iterator[Times]:
    """Collect the stage times of what runs inside the block."""
    times: Times = {}
    token = _TIMES.set(times)
    try:
        yield times
    finally:
        _TIMES.reset(token)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as stage ``name`` when measuring (a stage entered twice adds up)."""
    times = _TIMES.get()
    if times is None:
        yield
        return
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        wall0, cpu0 = times.get(name, (0.0, 0.0))
        times[name] = (
            wall0 + time.perf_counter() - start,
            cpu0 + time.process_time() - cpu,
        )


def in_context(fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` bound to the caller's context, for another thread: its stages are measured too
    (a worker thread does not inherit the caller's ContextVars)."""
    context = contextvars.copy_context()
    return lambda: context.run(fn)
