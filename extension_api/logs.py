"""Log hygiene: no header values, bodies or query strings in the log, and no traceback floods.

aiohttp logs a request it cannot parse with the parser's message, which quotes the offending
bytes (a header value such as an API key, the first 100 bytes of an over-long request line with
its query string); those records are reduced to the error's class. Resource exhaustion (EMFILE
on accept) is logged by asyncio once per attempt with a traceback; those are reduced to one line
per interval.
"""

from __future__ import annotations

import errno
import logging
import time

from aiohttp.http_exceptions import HttpProcessingError


class ParseErrorFilter(logging.Filter):
    """Rewrites aiohttp's records about unparseable requests to name only the error class."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg = "refused an unparseable HTTP request (%s, status %s)"
            record.args = (type(exc).__name__, exc.code)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class ExhaustionFilter(logging.Filter):
    """At most one line per ``interval`` seconds about running out of file descriptors."""

    def __init__(self, interval: float = 10.0) -> None:
        super().__init__()
        self.interval = interval
        self._last = -interval
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not (isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE)):
            return True
        now = time.monotonic()
        if now - self._last < self.interval:
            self._suppressed += 1
            return False
        record.msg = "out of file descriptors (%s); %d similar lines suppressed"
        record.args = (errno.errorcode.get(exc.errno or 0, "?"), self._suppressed)
        record.exc_info = None
        record.exc_text = None
        self._last, self._suppressed = now, 0
        return True


def _install(logger_name: str, kind: type[logging.Filter]) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, kind) for f in logger.filters):
        logger.addFilter(kind())


def quiet_server_logs() -> None:
    """Install the filters (idempotent)."""
    _install("aiohttp.server", ParseErrorFilter)
    _install("asyncio", ExhaustionFilter)
    _install("aiohttp.server", ExhaustionFilter)
