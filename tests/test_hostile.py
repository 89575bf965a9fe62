"""The hostile inputs of issue 11 against the real server on loopback.

Each one asserts its status, a time bound, and that /healthz answers in under 100 ms while it
is being served. Sizes here are small but of the same kind as the red team's (the big ones run
in bench/fuzz.py and bench/soak.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from extension_api import Settings
from extension_api.app import SERVICE
from provenance import ManifestRegistry, ManifestSpec, SignOptions, TrustPolicy, sign

from .conftest import PHOTOS
from .server import LiveServer, free_port

API_KEY = "hostile-test-key"
HEALTH_BOUND = 0.1  # seconds: /healthz while the hostile request is served
MIB = 1024 * 1024
#: A text that keeps a worker busy for seconds (40 MB: about 2.5 s of fingerprinting here).
SLOW_TEXT = b"the quick brown fox jumps over the lazy dog " * 900_000


@pytest.fixture(scope="module")
def registry_location(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile") / "m.sqlite3"


@pytest.fixture(scope="module")
def signed(credentials, registry_location) -> bytes:
    options = SignOptions(ManifestSpec(generator="Acme Diffusion"))
    asset = sign(
        PHOTOS[0].read_bytes(), credentials, options, registry=ManifestRegistry(registry_location)
    ).asset
    assert asset is not None
    return asset


@pytest.fixture(scope="module")
def settings(keys, registry_location) -> Settings:
    return Settings(
        registry_location=registry_location,
        trust=TrustPolicy.from_files([keys.root]),
        api_keys=(API_KEY,),
        rate_limit=0,
        threads=2,
        queue=2,
        request_timeout=5,
        max_body=2 * MIB,
        max_text_bytes=256 * 1024,
        max_pixels=20_000_000,
        max_connections=60,
        fetch_allow=("localhost",),
    )


@pytest.fixture(scope="module")
def server(settings, signed):
    with LiveServer(settings) as live:
        yield live


@contextlib.asynccontextmanager
async def healthy(server: LiveServer) -> AsyncIterator[list[float]]:
    """Polls /healthz every 20 ms meanwhile; on exit asserts every answer came in time."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def poll() -> None:
        async with aiohttp.ClientSession() as s:
            while not stop.is_set():
                start = time.perf_counter()
                async with s.get(f"{server.url}/healthz") as r:
                    assert r.status == 200
                    await r.read()
                lags.append(time.perf_counter() - start)
                await asyncio.sleep(0.02)

    async with aiohttp.ClientSession() as s, s.get(f"{server.url}/healthz") as r:
        await r.read()  # warm: first-use costs (imports, session) are not the hostile input's
    task = asyncio.create_task(poll())
    await asyncio.sleep(0.03)  # the first check is under way before the hostile request
    try:
        yield lags
    finally:
        stop.set()
        await task
    assert lags, "no health check ran"
    # Nine in ten under the bound, none over five times it: on the shared 2-core test machine
    # (load ~10) the scheduler now and then runs a thread late by a few hundred ms, while the
    # blocking this guards against (issue 11) held /healthz for 4 to 13 seconds.
    ordered = sorted(lags)
    ninetieth = ordered[int(0.9 * (len(ordered) - 1))]
    assert ninetieth < HEALTH_BOUND, f"/healthz p90 {ninetieth * 1000:.0f} ms"
    assert ordered[-1] < 5 * HEALTH_BOUND, f"/healthz took {ordered[-1] * 1000:.0f} ms"


async def _post(url: str, data=None, **kw) -> tuple[int, dict, float]:
    start = time.perf_counter()
    async with aiohttp.ClientSession() as s, s.post(url, data=data, **kw) as r:
        body = await r.json(content_type=None)
        return r.status, body, time.perf_counter() - start


async def _raw(port: int, request: bytes, timeout: float = 5) -> tuple[bytes, float]:
    """Send raw bytes; the first bytes of the answer and how long they took."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), timeout)
    finally:
        writer.close()
    return answer, time.perf_counter() - start


@contextlib.asynccontextmanager
async def _stalled(port: int, start: bytes, count: int) -> AsyncIterator[None]:
    """``count`` uploads that send ``start`` and never the rest, held open meanwhile; after
    they close, a pause for the server to give their memory back."""
    held: list[asyncio.StreamWriter] = []
    try:
        for _ in range(count):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(start)
            await writer.drain()
            held.append(writer)
        await asyncio.sleep(0.2)  # the server has read their heads and reserved their bodies
        yield
    finally:
        for writer in held:
            writer.close()
    await asyncio.sleep(0.3)


# -- SSRF ---------------------------------------------------------------------------------------

#: Written with escapes (the characters look like ASCII): full-width digits and full stops,
#: circled digits, ideographic full stops; the metadata address and a private one full-width.
LOOPBACK_SPELLINGS = [
    "\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11",
    "\u2460\u2461\u2466.0.0.1",
    "127\u30020\u30020\u30021",
    "\uff11\uff16\uff19\uff0e\uff12\uff15\uff14\uff0e\uff11\uff16\uff19\uff0e\uff12\uff15\uff14",
    "\uff11\uff10\uff0e\uff10\uff0e\uff10\uff0e\uff11",
]


@pytest.fixture(scope="module")
def origin(signed):
    """A web server on loopback that counts its hits and redirects where it is told."""
    hits: list[str] = []
    app = web.Application()

    async def image(request: web.Request) -> web.Response:
        hits.append(request.host)
        return web.Response(body=signed, content_type="image/jpeg")

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["u"])

    app.router.add_get("/signed.jpg", image)
    app.router.add_get("/redirect", to)
    with LiveServer(factory=lambda: app) as live:
        live.hits = hits  # type: ignore[attr-defined]
        yield live


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
async def test_ssrf_unicode_ip_literals_refused_directly_and_as_redirect_targets(
    server, origin, host
):
    hits = origin.hits
    before = len(hits)
    async with healthy(server):
        url = f"http://{host}:{origin.port}/signed.jpg"
        status, body, took = await _post(f"{server.url}/v1/verify-url", json={"url": url})
        assert status == 403 and body["error"]["code"] == "url_not_allowed", body
        # The origin is reachable by name (allowed for the test); its redirect to the literal
        # is checked again after normalisation.
        via = f"http://localhost:{origin.port}/redirect?u={url}"
        status, body, took = await _post(f"{server.url}/v1/verify-url", json={"url": via})
        assert status == 403 and body["error"]["code"] == "url_not_allowed", body
    assert len(hits) == before, "a refused URL reached the loopback server"
    assert took < 2
    # The same origin by its allowed name works: the refusal is not a broken fetcher.
    status, _, _ = await _post(
        f"{server.url}/v1/verify-url", json={"url": f"http://localhost:{origin.port}/signed.jpg"}
    )
    assert status == 200 and len(hits) == before + 1


# -- inputs that used to give 500 ----------------------------------------------------------------


async def test_inputs_that_gave_500_give_400(server):
    async with healthy(server):
        bogus = {"Content-Type": "application/json; charset=bogus"}
        cases = [
            ("/v1/verify-url", b'{"url": "ftp://example.com/x"}', bogus, 400),
            ("/matches/byBinding", b'{"alg": "x"}', bogus, 400),
            ("/v1/verify-url", b"[" * 100_000, {}, 413),  # over the JSON size limit
            ("/v1/verify-url", b"[" * 60_000, {}, 400),  # under it: the parser's depth
            ("/v1/verify-url", b'{"url": "http://[::1"}', {}, 400),
            ("/v1/verify-url", b'{"url": "http://\xed\xb3\xbf.example/"}', {}, 400),
        ]
        for path, body, headers, expected in cases:
            status, answer, took = await _post(f"{server.url}{path}", body, headers=headers)
            assert status == expected, (path, body[:40], answer)
            assert answer["error"]["message"] and took < 2
        status, answer, _ = await _post(
            f"{server.url}/v1/verify",
            b"plain words",
            headers={"Content-Type": "text/plain; charset=bogus"},
        )
        assert status == 200 and answer["media_type"] == "text/plain"
        # A non-ASCII (and non-UTF-8) API key: 401, not 500.
        request = (
            b"POST /v1/manifests HTTP/1.1\r\nHost: x\r\nX-API-Key: \xc3\xa9t\xe9\xff\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 0\r\n\r\n"
        )
        answer_bytes, took = await _raw(server.port, request)
        assert answer_bytes.startswith(b"HTTP/1.1 401"), answer_bytes[:80]


async def test_cache_is_keyed_by_media_type(server):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>'
    status, as_text, _ = await _post(
        f"{server.url}/v1/verify", svg, headers={"Content-Type": "text/plain"}
    )
    assert status == 200 and as_text["media_type"] == "text/plain"
    status, as_svg, _ = await _post(
        f"{server.url}/v1/verify", svg, headers={"Content-Type": "image/svg+xml"}
    )
    assert status == 200 and as_svg["media_type"] == "image/svg+xml"


# -- bounded cost -------------------------------------------------------------------------------


async def test_huge_content_length_refused_before_reading(server):
    async with healthy(server):
        request = (
            b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            + f"Content-Length: {10 * 1024**3}\r\n\r\n".encode()
        )
        answer, took = await _raw(server.port, request + b"\x89PNG" + b"\0" * 1000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert b"payload_too_large" in answer and took < 1


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "XyZ") -> bytes:
    out = io.BytesIO()
    for name, data in parts:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


async def test_multipart_part_count_and_total_size(server):
    form = {"Content-Type": "multipart/form-data; boundary=XyZ"}
    async with healthy(server):
        many = _multipart([("x", b"a")] * 5_000)
        status, body, took = await _post(f"{server.url}/v1/verify", many, headers=form)
        assert status == 400 and "parts" in body["error"]["message"] and took < 2
        # Three parts of 0.8 MiB: each under the 2 MiB body limit, together over it. Sent
        # chunked, so only the form's running total can catch it.

        async def chunked():
            yield _multipart([("a", b"x" * 800_000)] * 3)

        status, body, took = await _post(f"{server.url}/v1/verify", chunked(), headers=form)
        assert status == 413 and body["error"]["code"] == "payload_too_large" and took < 2


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG")  # many pixels, few bytes
    return out.getvalue()


def test_a_bomb_header_is_refused_without_a_made_up_size():
    """A PNG header declaring 100,000 x 100,000 pixels: Pillow will not open it, and the
    message gave the budget as both sides ("the image is 50000000x50000000 pixels"), then only
    "more than 179 megapixels": the size is read from the header, without decoding."""
    from extension_api.jobs import check_pixels
    from provenance.errors import TooManyPixelsError

    png = io.BytesIO()
    Image.new("1", (1, 1)).save(png, format="PNG")
    data = bytearray(png.getvalue())
    data[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR's width and height, then its CRC
    data[29:33] = zlib.crc32(data[12:29]).to_bytes(4, "big")
    with pytest.raises(TooManyPixelsError) as raised:
        check_pixels(bytes(data), 50_000_000)
    assert str(raised.value) == (
        "the image is refused as a decompression bomb: it declares 100000x100000 pixels"
        " (10,000 megapixels) (the limit is 50 megapixels; send a smaller rendition)"
    )


async def test_pixel_budget(server):
    flat = _png(6_000, 6_000)  # 36 MP in a few kilobytes; the server decodes at most 20
    assert len(flat) < 200_000
    async with healthy(server):
        answers = await asyncio.gather(
            *(_post(f"{server.url}/v1/verify", flat + bytes(i)) for i in range(4))
        )
    for status, body, took in answers:
        assert status == 413 and body["error"]["code"] == "too_many_pixels", body
        assert "20 megapixels" in body["error"]["message"] and took < 3


async def test_text_budget(server, settings):
    text = {"Content-Type": "text/plain; charset=utf-8"}
    over = b"word " * (settings.max_text_bytes // 5 + 1)
    async with healthy(server):
        status, body, took = await _post(f"{server.url}/v1/verify", over, headers=text)
        assert status == 413 and body["error"]["code"] == "text_too_large" and took < 1

        async def chunked():  # no Content-Length: refused once read
            yield over

        status, body, _ = await _post(f"{server.url}/v1/verify", chunked(), headers=text)
        assert status == 413 and body["error"]["code"] == "text_too_large"
        status, body, _ = await _post(f"{server.url}/matches/byContent", over, headers=text)
        assert status == 413
        # The red team's quadratic pattern, within the budget: answered within the limit.
        pattern = ("\ufeff" + "\ufe00" * 10) * (settings.max_text_bytes // 40)
        status, body, took = await _post(f"{server.url}/v1/verify", pattern.encode(), headers=text)
        assert status in (200, 422) and took < settings.request_timeout


async def test_past_its_deadline_a_call_stops_costing_cpu(settings):
    hurried = Settings(
        **{
            **settings.__dict__,
            "request_timeout": 1.0,
            "max_body": 64 * MIB,
            "max_text_bytes": 64 * MIB,
            "threads": 1,
        }
    )
    text = SLOW_TEXT
    with LiveServer(hurried) as live:
        pool = live.app[SERVICE].pool
        before = set(pool.pids)
        async with healthy(live):
            status, body, took = await _post(
                f"{live.url}/v1/verify", text, headers={"Content-Type": "text/plain"}
            )
        assert status == 504 and body["error"]["code"] == "timeout" and took < 3
        for _ in range(100):  # the killed worker is replaced in the background
            if pool.pids and set(pool.pids) != before:
                break
            await asyncio.sleep(0.05)
        assert set(pool.pids).isdisjoint(before), "the worker was not replaced"
        for pid in before:  # and the old one is gone, not still computing
            assert not os.path.exists(f"/proc/{pid}") or _zombie(pid)
        for _ in range(10):  # and the server goes on answering (the new worker may be warming)
            status, body, _ = await _post(
                f"{live.url}/v1/verify", b"short text", headers={"Content-Type": "text/plain"}
            )
            if status == 200:
                break
        assert status == 200


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] in ("Z", "X")
    except OSError:
        return True


async def test_admission_refuses_at_once_and_health_reports_it(settings):
    tight = Settings(
        **{
            **settings.__dict__,
            "threads": 1,
            "queue": 0,
            "request_timeout": 10,
            "max_body": 64 * MIB,
            "max_text_bytes": 64 * MIB,
        }
    )
    slow = SLOW_TEXT
    with LiveServer(tight) as live:
        async with aiohttp.ClientSession() as s:
            first = asyncio.create_task(
                _post(f"{live.url}/v1/verify", slow, headers={"Content-Type": "text/plain"})
            )
            for _ in range(100):
                async with s.get(f"{live.url}/healthz") as r:
                    health = await r.json()
                if health["load"]["admitted"]:
                    break
                await asyncio.sleep(0.02)
            assert health["status"] == "overloaded"
            async with s.get(f"{live.url}/readyz") as r:
                assert r.status == 503 and r.headers["Retry-After"] == "1"
            async with healthy(live):
                refused = await asyncio.gather(
                    *(_post(f"{live.url}/v1/verify", PHOTOS[1].read_bytes()) for _ in range(3))
                )
            for status, body, took in refused:
                assert status == 503 and body["error"]["code"] == "overloaded" and took < 0.5
            status, _, _ = await first
            assert status in (200, 504)
            async with s.get(f"{live.url}/readyz") as r:
                assert r.status == 200


# -- logs and connections -----------------------------------------------------------------------


async def test_parse_error_logs_hold_no_header_values_or_query_strings(server, caplog):
    with caplog.at_level(logging.DEBUG):
        bad_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-API-Key: sekrit-\x01-value\r\n\r\n"
        answer, _ = await _raw(server.port, bad_header)
        assert answer.startswith((b"HTTP/1.0 400", b"HTTP/1.1 400"))
        long_line = b"GET /healthz?token=QUERYSECRET" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n"
        answer, _ = await _raw(server.port, long_line)
        assert answer[:12] in (b"HTTP/1.0 400", b"HTTP/1.1 400", b"HTTP/1.1 414")
        await asyncio.sleep(0.1)
    logged = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.exc_info or ''}" for r in caplog.records
    )
    assert "sekrit" not in logged and "QUERYSECRET" not in logged
    assert "unparseable HTTP request" in logged  # still logged, without the values


async def test_slow_connections_beyond_the_cap_evict_the_oldest(server, settings):
    cap = settings.max_connections
    sockets = []
    try:
        for _ in range(cap * 3):  # connect and never send a byte (slowloris)
            sockets.append(await asyncio.open_connection("127.0.0.1", server.port))
        await asyncio.sleep(0.2)
        async with healthy(server):
            await asyncio.sleep(0.3)
        closed = 0
        for reader, _ in sockets:
            with contextlib.suppress(TimeoutError, ConnectionError):
                if await asyncio.wait_for(reader.read(1), 0.01) == b"":
                    closed += 1
        assert closed >= cap * 2 - 5  # the oldest ones were closed to make room
        assert server.app is not None
    finally:
        for _, writer in sockets:
            writer.close()


async def test_body_json_is_small(server):
    status, body, _ = await _post(
        f"{server.url}/v1/verify-url", json.dumps({"url": "x" * 70_000}).encode()
    )
    assert status == 413 and "bytes of JSON" in body["error"]["message"]


def test_emfile_lines_are_one_per_interval_without_traceback(caplog):
    from extension_api.logs import ExhaustionFilter

    logger = logging.getLogger("asyncio.test-exhaustion")
    logger.addFilter(ExhaustionFilter(interval=60))
    error = OSError(24, "Too many open files")
    with caplog.at_level(logging.ERROR, logger="asyncio.test-exhaustion"):
        for _ in range(1000):
            try:
                raise error
            except OSError:
                logger.exception("socket.accept() out of system resource")
    lines = [r for r in caplog.records if r.name == "asyncio.test-exhaustion"]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert "EMFILE" in lines[0].getMessage()


def test_sigterm_ends_the_server_within_its_shutdown_timeout(tmp_path, keys):
    """A runaway request in flight: SIGTERM still ends the process within the budget."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "extension_api", "--port", str(port), "--registry",
            str(tmp_path / "m.sqlite3"), "--trust", str(keys.root), "--no-default-trust",
            "--rate-limit", "0", "--threads", "1", "--request-timeout", "600",
            "--max-text-mb", "128", "--max-body-mb", "128", "--shutdown-timeout", "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        proc.stdout.readline()  # type: ignore[union-attr]  # listening
        text = SLOW_TEXT * 2  # ~5 s of work: still running when the signal comes
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/verify",
            data=text,
            headers={"Content-Type": "text/plain"},
        )

        def send() -> None:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(request, timeout=60).read()

        worker = threading.Thread(target=send, daemon=True)
        worker.start()
        time.sleep(1.0)  # the request is being worked on
        assert worker.is_alive(), "the request ended before the signal: the test is void"
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        took = time.monotonic() - signalled
        assert took < 2 + 5, f"SIGTERM took {took:.1f} s with a 2 s shutdown budget"
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_compressed_bodies_count_at_the_size_they_can_grow_to(server, settings):
    """A gzip body's Content-Length is its compressed size; aiohttp inflates it as it is read,
    up to the body limit (a 50 KB body of zeros becomes 50 MB). Each reserved its compressed
    size, so a few dozen such uploads held gigabytes past --max-inflight-mb. Each now reserves
    the body limit, as a body of unknown size does: past the budget, 503 at once, unread."""
    squeezed = gzip.compress(b"\xff\xd8\xff" + b"\0" * (settings.max_body - 4096))
    assert len(squeezed) < settings.max_body // 100
    head = (
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        b"Content-Encoding: gzip\r\n" + f"Content-Length: {len(squeezed)}\r\n\r\n".encode()
    )
    count = settings.body_budget // settings.max_body
    async with _stalled(server.port, head + squeezed[:1000], count), healthy(server):
        answer, took = await _raw(server.port, head + squeezed[:1000])
    assert answer.startswith(b"HTTP/1.1 503") and b"overloaded" in answer, answer[:120]
    assert took < 1
    # One compressed upload on its own is still read, as before.
    status, body, _ = await _post(
        f"{server.url}/v1/verify",
        gzip.compress(PHOTOS[1].read_bytes()),
        headers={"Content-Encoding": "gzip", "Content-Type": "image/jpeg"},
    )
    assert status == 200 and body["media_type"] == "image/jpeg", body


async def test_request_bodies_in_memory_are_bounded(server, settings):
    """Slow uploads that declare the largest body hold the memory budget; the next upload is
    refused at once (not read), and the budget comes back when they go."""
    size = settings.max_body
    head = (
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        + f"Content-Length: {size}\r\n\r\n".encode()
    )
    count = settings.body_budget // size
    stalled = _stalled(server.port, head + b"\xff\xd8\xff" + b"\0" * 1000, count)
    async with stalled, healthy(server):
        answer, took = await _raw(server.port, head + b"\xff\xd8\xff")
    assert answer.startswith(b"HTTP/1.1 503") and b"overloaded" in answer, answer[:120]
    assert took < 1
    status, _, _ = await _post(f"{server.url}/v1/verify", PHOTOS[1].read_bytes())
    assert status == 200
