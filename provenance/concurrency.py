"""Work that runs beside the caller on a thread of its own, for code that releases the GIL
(Pillow's encoders and decoders, OpenCV, numpy): with two cores, a JPEG encode and the small
work on a reduced copy of the image overlap instead of adding up.

A thread per call, joined before the caller returns: nothing lingers (the server forks its
workers from a process that must hold no threads), and concurrent callers never queue behind
each other for a shared pool's workers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from .stages import in_context

T = TypeVar("T")


class Beside(Generic[T]):
    """``fn()`` started now on its own thread; :meth:`result` waits for it (and re-raises)."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = in_context(fn)
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="provenance-beside", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
