"""The worker pool: calls run in processes, a deadline kills the call, a dead worker is
replaced, errors come back as they were raised (library errors) or as a WorkerCrashed that
does not quote the content."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from extension_api.workers import WorkerCrashed, WorkerPool
from provenance import InputError, Remedy


def _init(arg: str) -> str:
    return f"state:{arg}"


def _echo(state: str, value: int) -> tuple[str, int, int]:
    return state, value, os.getpid()


def _refuse(state: str) -> None:
    raise InputError("that is not an image", hint="send a JPEG", remedy=Remedy.NO_LABEL)


def _boom(state: str) -> None:
    raise ValueError("the secret content of the upload")


def _die(state: str) -> None:
    os._exit(3)


def _spin(state: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


async def _deadline(seconds: float) -> float:
    return asyncio.get_running_loop().time() + seconds


async def test_calls_errors_crashes_and_deadlines():
    pool = WorkerPool(1, _init, "x")
    pool.start()
    assert not pool.ready
    try:
        state, value, pid = await pool.run(await _deadline(120), _echo, 7)  # waits for the start
        assert pool.ready
        assert (state, value) == ("state:x", 7) and pid != os.getpid()

        with pytest.raises(InputError) as refused:
            await pool.run(await _deadline(30), _refuse)
        # rebuilt with its hint and remedy
        assert refused.value.hint == "send a JPEG" and refused.value.remedy is Remedy.NO_LABEL

        with pytest.raises(WorkerCrashed) as crashed:
            await pool.run(await _deadline(30), _boom)
        assert "ValueError at test_workers.py" in str(crashed.value)
        assert "secret" not in str(crashed.value)

        with pytest.raises(WorkerCrashed):
            await pool.run(await _deadline(30), _die)
        _, _, replaced = await pool.run(await _deadline(30), _echo, 1)
        assert replaced != pid  # the dead worker was replaced

        start = time.monotonic()
        with pytest.raises(TimeoutError):
            await pool.run(await _deadline(0.3), _spin, 60)
        assert time.monotonic() - start < 2
        _, _, after = await pool.run(await _deadline(30), _echo, 2)
        assert after != replaced  # the spinning worker was killed, not left to finish
        assert not os.path.exists(f"/proc/{replaced}/status") or _gone(replaced)
    finally:
        await pool.close()
    assert pool.pids == []


def _gone(pid: int) -> bool:
    with open(f"/proc/{pid}/status") as f:
        return any(line.startswith("State:") and line.split()[1] in "ZX" for line in f)
