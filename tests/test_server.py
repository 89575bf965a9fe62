"""The real server on a loopback port, with real signed, stripped, tampered and plain files."""

from __future__ import annotations

import asyncio
import gzip
import io
import itertools
import json
import logging
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import c2pa
import numpy as np
import pytest
from aiohttp import web
from openapi_spec_validator import validate
from PIL import Image

from bench.forgery import jpeg, steer_phash
from extension_api import Settings, create_app
from extension_api.routes import client_id
from provenance import (
    WATERMARK_TOO_SMALL,
    ManifestRegistry,
    ManifestSpec,
    PostgresRegistry,
    SigningKeys,
    SignOptions,
    TrustPolicy,
    init_keys,
    sign,
    verify,
)
from provenance.watermark import embed_rgb

from .conftest import NOT_MEDIA_HINT, PHOTOS
from .server import LiveServer, free_port
from .test_sign_verify import _flip_scan_byte

AI = SignOptions(ManifestSpec(generator="Acme Diffusion", model="2"))
API_KEY = "test-key-123"


def _jpeg(data: bytes, quality: int = 75) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


class Files:
    def __init__(self, credentials, registry: ManifestRegistry) -> None:
        signed = sign(PHOTOS[0].read_bytes(), credentials, AI, registry=registry)
        self.signed = signed.asset or b""
        self.signed_id = signed.manifest_id
        self.stripped = _jpeg(self.signed)
        self.tampered = _flip_scan_byte(self.signed)
        self.unsigned = PHOTOS[1].read_bytes()
        # Signed for registration through the API (not in the registry yet), under an identifier
        # the registry issued to the API key's client, as POST /v1/watermark-ids does.
        issued = registry.issue_watermark_id(client_id(API_KEY))
        extra = sign(PHOTOS[2].read_bytes(), credentials, replace(AI, watermark_id=issued))
        self.unregistered_asset = extra.asset or b""
        self.unregistered_manifest = extra.manifest or b""
        self.unregistered_id = extra.manifest_id


@pytest.fixture(scope="module")
def registry_location(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server") / "manifests.sqlite3"


@pytest.fixture(scope="module")
def files(credentials, registry_location) -> Files:
    return Files(credentials, ManifestRegistry(registry_location))


@pytest.fixture(scope="module")
def settings(keys, registry_location) -> Settings:
    return Settings(
        registry_location=registry_location,
        trust=TrustPolicy.from_files([keys.root]),
        api_keys=(API_KEY,),
        rate_limit=0,
        fetch_allow=("127.0.0.1",),
        cors_origins=("https://news.example",),
        queue=16,  # these tests are not about admission (see test_hostile.py)
    )


@pytest.fixture(scope="module")
def server(settings, files):
    with LiveServer(settings) as live:
        yield live


async def _post(url: str, data: bytes | aiohttp.FormData | None, **kw) -> tuple[int, dict, dict]:
    async with aiohttp.ClientSession() as s, s.post(url, data=data, **kw) as r:
        body = await r.json(content_type=None)
        return r.status, body, dict(r.headers)


async def _get(url: str, **kw) -> tuple[int, bytes, dict]:
    async with aiohttp.ClientSession() as s, s.get(url, **kw) as r:
        return r.status, await r.read(), dict(r.headers)


# -- /v1/verify ---------------------------------------------------------------------------------


async def test_verdict_is_the_librarys(server, files, settings):
    for data in (files.signed, files.stripped, files.tampered, files.unsigned):
        status, body, _ = await _post(
            f"{server.url}/v1/verify", data, headers={"Content-Type": "image/jpeg"}
        )
        assert status == 200
        expected = verify(
            data, policy=settings.trust, registry=ManifestRegistry(settings.registry_location)
        ).to_dict()
        assert body == expected


async def test_verdict_bytes_are_the_librarys_json(server, files, settings):
    """The worker encodes the verdict and the server sends that text as it is (from the verdict
    cache too, for a repeat and for its report link): byte for byte what json.dumps makes of
    the library's verdict, as web.json_response sent it, with the same Content-Type."""
    expected = json.dumps(
        verify(
            files.signed,
            policy=settings.trust,
            registry=ManifestRegistry(settings.registry_location),
        ).to_dict()
    ).encode()
    for _ in range(2):  # computed, then from the cache
        async with (
            aiohttp.ClientSession() as s,
            s.post(f"{server.url}/v1/verify", data=files.signed) as r,
        ):
            assert r.status == 200
            assert r.headers["Content-Type"] == "application/json; charset=utf-8"
            assert await r.read() == expected
    digest = json.loads(expected)["sha256"]
    status, body, headers = await _get(f"{server.url}/v1/report/{digest}")
    assert status == 200 and body == expected
    assert headers["Content-Type"] == "application/json; charset=utf-8"


async def test_a_signed_jpeg_cut_short_is_an_incomplete_copy_in_the_json(server, files):
    """The server's JSON is the library's verdict: a truncated copy of a signed JPEG says it is
    cut short rather than changed after signing, and stays Invalid."""
    cut = files.signed[: len(files.signed) * 9 // 10]
    status, body, _ = await _post(f"{server.url}/v1/verify", cut)
    assert status == 200 and body["credentials"]["state"] == "Invalid"
    assert "the file is cut short (an incomplete copy: get a complete one)" in body["summary"]
    assert "changed after it was signed" not in body["summary"]


async def test_a_small_images_verdict_says_it_was_not_searched(server, settings):
    """The CLI's line and the server's JSON are the library's one verdict: an image under the
    detector's minimum says why it was not searched for a watermark."""
    out = io.BytesIO()
    Image.open(PHOTOS[0]).resize((150, 150)).save(out, format="JPEG")
    status, body, _ = await _post(f"{server.url}/v1/verify", out.getvalue())
    assert status == 200
    assert body["watermark"] is None
    assert body["watermark_skipped"] == (
        "the image is too small to carry the watermark (its short side is under 176 px)"
    )
    expected = verify(
        out.getvalue(),
        policy=settings.trust,
        registry=ManifestRegistry(settings.registry_location),
    ).to_dict()
    assert body == expected


async def test_a_forged_watermark_does_not_recover_through_the_service(
    server, files, registry_location
):
    """The hostile-world attack through POST /v1/verify: an unrelated photo steered to the
    registered image's pHash and carrying its payload gets no credentials."""
    record = ManifestRegistry(registry_location).by_manifest_id(files.signed_id)
    assert record is not None and record.fingerprint is not None
    other = np.asarray(Image.open(PHOTOS[2]).convert("RGB"))
    forged = jpeg(embed_rgb(steer_phash(other, record.fingerprint), record.watermark_id))
    status, body, _ = await _post(f"{server.url}/v1/verify", forged)
    assert status == 200 and body["watermark"]["payload"] == f"{record.watermark_id:010x}"
    assert body["credentials"]["source"] is None and body["credentials"]["recovered"] is False
    assert body["ai"]["generated"] is None and "possible match only" in body["summary"]


async def test_red_team_edits_and_re_signing_through_the_service(server, files, settings, tmp_path):
    """The red team's two verdict changes through POST /v1/verify, equal to the library's: the
    signed photo with a fifth of it replaced by another picture is refused and says a region
    differs; its stripped copy re-signed by someone else names the earlier registration."""
    signed = np.asarray(Image.open(io.BytesIO(files.signed)).convert("RGB"))
    h, w = signed.shape[:2]
    other = np.asarray(Image.open(PHOTOS[2]).convert("RGB").resize((w, h)))
    edited = signed.copy()
    edited[h // 3 : h // 3 + h * 9 // 20, w // 2 : w // 2 + w * 9 // 20] = other[
        h // 3 : h // 3 + h * 9 // 20, w // 2 : w // 2 + w * 9 // 20
    ]
    keys = init_keys(tmp_path / "other", org="Other Signer")
    resigned = sign(jpeg(signed, 92), SigningKeys.load(keys_dir=keys.dir), AI).asset or b""
    registry = ManifestRegistry(settings.registry_location)
    for data, words in (
        (jpeg(edited, 90), "except for a region of about"),
        (resigned, "the same picture was signed before by someone else"),
    ):
        status, body, _ = await _post(f"{server.url}/v1/verify", data)
        assert status == 200 and words in body["summary"]
        assert body["matches"][0]["manifest_id"] == files.signed_id
        assert body == verify(data, policy=settings.trust, registry=registry).to_dict()


async def test_signed_stripped_tampered_unsigned(server, files):
    url = f"{server.url}/v1/verify"
    _, signed, _ = await _post(url, files.signed)
    assert signed["credentials"]["state"] == "Trusted" and signed["ai"]["generated"] is True
    _, stripped, _ = await _post(url, files.stripped)
    assert stripped["credentials"]["recovered"] is True
    assert stripped["credentials"]["source"] == "watermark"
    assert stripped["credentials"]["present"] is False  # recovered, not embedded
    assert stripped["credentials"]["manifest_id"] == files.signed_id
    assert "watermark" in stripped["ai"]["evidence"]
    _, tampered, _ = await _post(url, files.tampered)
    assert tampered["credentials"]["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in tampered["credentials"]["failures"]
    _, unsigned, _ = await _post(url, files.unsigned)
    assert unsigned["credentials"]["present"] is False


async def test_multipart_upload(server, files):
    form = aiohttp.FormData()
    form.add_field("file", files.signed, filename="x.jpg", content_type="image/jpeg")
    status, body, _ = await _post(f"{server.url}/v1/verify", form)
    assert status == 200 and body["credentials"]["state"] == "Trusted"
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="x.bin")
    status, body, _ = await _post(f"{server.url}/v1/verify", form)
    assert status == 400 and "'file'" in body["error"]["message"]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 400, "bad_input"),
        (b"plain text is not an image", 415, "unsupported_media_type"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, 422, "malformed_asset"),
    ],
    ids=["empty", "unsupported", "truncated-jpeg"],
)
async def test_bad_input_gets_a_clear_json_error(server, data, status, code):
    got, body, _ = await _post(f"{server.url}/v1/verify", data)
    assert got == status and body["error"]["code"] == code and body["error"]["message"]


@pytest.mark.parametrize(
    ("disposition", "label"),
    [
        (None, "content"),
        ('attachment; filename="notes.bin"', "notes.bin"),
        ("attachment; filename*=UTF-8''%E7%8C%AB%20cat.txt", "猫 cat.txt"),  # RFC 8187
        ('attachment; filename="../../etc/x.jpg"', "x.jpg"),  # a label, never a path
        ("attachment; filename=", "content"),
        ("nonsense;;==", "content"),
    ],
    ids=["none", "plain", "rfc8187", "path", "empty", "malformed"],
)
async def test_errors_name_the_uploaded_file(server, disposition, label):
    """What the reader's page shows: "notes.bin: ...", not "content: ..."; the name is no
    evidence of the type (text not sent as text/plain is not taken for text by its name)."""
    headers = {"Content-Disposition": disposition} if disposition else {}
    data = b"plain text, not an image"
    status, body, _ = await _post(f"{server.url}/v1/verify", data, headers=headers)
    assert status == 415 and body["error"]["message"] == (
        f"{label}: its bytes are text, not in any media format this tool reads "
        "(to check it as text, give its type as text/plain)"
    )


@pytest.mark.parametrize("declared", ["image/jpeg", "image/png", "video/mp4", "image/x-other"])
async def test_bytes_in_no_format_get_the_same_answer_whatever_their_type(server, declared):
    """Random bytes sent as image/jpeg got "not a media type this tool supports" (JPEG is
    supported): the answer says what the bytes are not, and what to do, for every type alike."""
    data = random.Random(7).randbytes(4096)
    status, body, _ = await _post(
        f"{server.url}/v1/verify", data, headers={"Content-Type": declared}
    )
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    named = {"image/jpeg": "JPEG", "image/png": "PNG", "video/mp4": "MP4"}.get(declared)
    said = (
        f"content: its bytes are not {named}, nor in any other format this tool reads"
        if named
        else "content: its bytes are in no format this tool reads"
    )
    assert body["error"]["message"] == said + f" ({NOT_MEDIA_HINT})"


async def test_decompression_bomb_is_refused(server):
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, format="PNG")  # 144 MP in a few hundred KB
    assert len(bomb.getvalue()) < 1_000_000
    status, body, _ = await _post(f"{server.url}/v1/verify", bomb.getvalue())
    assert status == 413 and body["error"]["code"] == "too_many_pixels"


def test_a_bomb_refusal_states_the_size_it_declares():
    """Pillow refuses a 2^31 x 2^31 PNG before giving its size: the refusal said "more than 179
    megapixels"; it names what the header declares, and the limit."""
    import struct
    import zlib

    from extension_api.jobs import check_pixels
    from provenance import TooManyPixelsError
    from provenance.media import png_chunk

    side = 2**31
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + png_chunk(b"IEND", b"")
    )
    with pytest.raises(TooManyPixelsError) as caught:
        check_pixels(png, 50_000_000)
    assert str(caught.value) == (
        "the image is refused as a decompression bomb: it declares 2147483648x2147483648 "
        "pixels (4,611,686,018,427 megapixels) (the limit is 50 megapixels; send a "
        "smaller rendition)"
    )


async def test_body_size_limit(settings, files):
    small = Settings(**{**settings.__dict__, "max_body": 10_000})
    with LiveServer(small) as live:
        status, body, _ = await _post(f"{live.url}/v1/verify", files.signed)
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert "10000-byte limit" in body["error"]["message"]


async def test_rate_limit_answers_429_with_retry_after(settings, files):
    limited = Settings(**{**settings.__dict__, "rate_limit": 1.0})
    with LiveServer(limited) as live:
        answers = [await _post(f"{live.url}/v1/verify", files.unsigned) for _ in range(6)]
    statuses = [status for status, _, _ in answers]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:]  # burst of 2, then refused
    _, body, headers = next(a for a in answers if a[0] == 429)
    assert body["error"]["code"] == "too_many_requests" and int(headers["Retry-After"]) >= 1


async def test_request_time_limit(settings, files):
    hurried = Settings(**{**settings.__dict__, "request_timeout": 0.0001, "cache_size": 0})
    with LiveServer(hurried) as live:
        status, body, _ = await _post(f"{live.url}/v1/verify", files.stripped)
    assert status == 504 and body["error"]["code"] == "timeout"


async def test_cpu_work_stays_off_the_event_loop(server, files):
    """While heavy verifies run, the loop still answers /healthz promptly."""
    big = io.BytesIO()
    image = Image.open(io.BytesIO(files.stripped))
    image.resize((image.width * 4, image.height * 4)).save(big, format="PNG")
    payloads = [big.getvalue() + bytes(i) for i in range(6)]  # distinct: no cache hits

    async with aiohttp.ClientSession() as s:

        async def one(p: bytes) -> None:
            async with s.post(f"{server.url}/v1/verify", data=p) as r:
                assert r.status == 200

        start = time.perf_counter()
        heavy = asyncio.gather(*(one(p) for p in payloads))
        await asyncio.sleep(0.05)
        lags = []
        while not heavy.done():
            t = time.perf_counter()
            async with s.get(f"{server.url}/healthz") as r:
                assert r.status == 200
            lags.append(time.perf_counter() - t)
            await asyncio.sleep(0.02)
        await heavy
        total = time.perf_counter() - start
    assert lags, "the verifies finished before any health check"
    assert max(lags) < total / 2, (max(lags), total)


# -- /v1/verify-url and SSRF --------------------------------------------------------------------


@pytest.fixture(scope="module")
def origin(files):
    """A local web server with an image, redirects and a big file."""
    app = web.Application()

    async def image(_: web.Request) -> web.Response:
        return web.Response(body=files.signed, content_type="image/jpeg")

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["u"])

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def big(_: web.Request) -> web.StreamResponse:
        return web.Response(
            body=b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024), content_type="image/jpeg"
        )

    async def note(request: web.Request) -> web.Response:
        # A text, compressed as web servers compress text for clients that accept gzip.
        response = web.Response(text=NOTE, content_type="text/plain")
        response.enable_compression()
        return response

    async def forced(_: web.Request) -> web.Response:
        # Compressed whatever the client accepts.
        return web.Response(
            body=gzip.compress(NOTE.encode()),
            content_type="text/plain",
            headers={"Content-Encoding": "gzip"},
        )

    app.router.add_get("/signed.jpg", image)
    app.router.add_get("/redirect", to)
    app.router.add_get("/loop", loop)
    app.router.add_get("/big.jpg", big)
    app.router.add_get("/note.txt", note)
    app.router.add_get("/forced.txt", forced)
    with LiveServer(factory=lambda: app) as live:
        yield live


NOTE = "A short note for the fetcher, written by a person, with nothing signed in it at all."


async def _verify_url(server: LiveServer, url: str) -> tuple[int, dict]:
    status, body, _ = await _post(f"{server.url}/v1/verify-url", None, json={"url": url})
    return status, body


async def test_verify_url_fetches_an_allowed_host(server, origin):
    status, body = await _verify_url(server, f"{origin.url}/signed.jpg")
    assert status == 200 and body["credentials"]["state"] == "Trusted"


async def test_ssrf_loopback_refused_without_allow_list(settings, origin):
    strict = Settings(**{**settings.__dict__, "fetch_allow": ()})
    with LiveServer(strict) as live:
        for url in (
            f"{origin.url}/signed.jpg",
            f"http://localhost:{origin.port}/signed.jpg",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/x.jpg",
            "http://[::1]/x.jpg",
            "http://224.0.0.1/x",
        ):
            status, body = await _verify_url(live, url)
            assert status == 403 and body["error"]["code"] == "url_not_allowed", url


async def test_a_text_a_server_would_compress_is_fetched_as_text(server, origin):
    """The fetcher asked for gzip (aiohttp's default Accept-Encoding) but does not inflate
    what it fetches (a bomb could hide in it): a text served compressed, as web servers serve
    text, reached the verifier as gzip bytes, 422 "not UTF-8 text". It asks for the bytes as
    they are, and says so when a server compresses them anyway."""
    status, body = await _verify_url(server, f"{origin.url}/note.txt")
    assert status == 200 and body["media_type"] == "text/plain", body
    status, body = await _verify_url(server, f"{origin.url}/forced.txt")
    assert status == 502 and body["error"]["code"] == "fetch_failed", body
    assert "compressed (Content-Encoding: gzip)" in body["error"]["message"], body


async def test_an_ip_address_aiohttp_will_not_connect_to_is_bad_input(server, origin):
    """ "http://127.1/" (an IPv4 address written short; octal and one-number forms alike) was a
    502 "fetch failed: 127.1 - is not a canonical IPv4 address", blaming a server that was
    never asked: nothing is fetched, and the URL is what to fix."""
    for url in ("http://127.1/", "http://0177.0.0.1/x.jpg", "http://2130706433/"):
        status, body = await _verify_url(server, url)
        assert status == 400 and body["error"]["code"] == "url_invalid", (url, body)
        assert "four decimal numbers" in body["error"]["message"]
    # As a redirect target, the fault is the redirecting server's.
    status, body = await _verify_url(server, f"{origin.url}/redirect?u=http://127.1/")
    assert status == 502 and "redirected to a URL that cannot be fetched" in str(body), body


async def test_ssrf_checked_on_every_redirect(server, origin):
    for target in ("http://169.254.169.254/latest/", "http://192.168.1.1/", "file:///etc/passwd"):
        status, body = await _verify_url(server, f"{origin.url}/redirect?u={target}")
        assert status in (400, 403), (target, body)
        assert body["error"]["code"] in ("url_not_allowed", "url_scheme")
    status, body = await _verify_url(server, f"{origin.url}/redirect?u=/signed.jpg")
    assert status == 200


async def test_fetch_limits(settings, server, origin):
    status, body = await _verify_url(server, f"{origin.url}/loop")
    assert status == 502 and body["error"]["code"] == "too_many_redirects"
    status, body = await _verify_url(server, "ftp://example.com/x.jpg")
    assert status == 400 and body["error"]["code"] == "url_scheme"
    status, body = await _verify_url(server, f"http://127.0.0.1:{free_port()}/x.jpg")
    assert status == 502 and body["error"]["code"] == "fetch_failed"
    small = Settings(**{**settings.__dict__, "fetch_max_bytes": 1024 * 1024})
    with LiveServer(small) as live:
        status, body = await _verify_url(live, f"{origin.url}/big.jpg")
    assert status == 413 and body["error"]["code"] == "fetch_too_large"
    status, body, _ = await _post(f"{server.url}/v1/verify-url", b"not json")
    assert status == 400


# -- registration and the Soft Binding Resolution API -------------------------------------------


def _registration(files: Files, asset: bytes | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(
        "manifest", files.unregistered_manifest, filename="m.c2pa", content_type="application/c2pa"
    )
    form.add_field(
        "asset", asset or files.unregistered_asset, filename="a.jpg", content_type="image/jpeg"
    )
    return form


async def test_register_needs_a_key(server, files, settings):
    status, body, _ = await _post(f"{server.url}/v1/manifests", _registration(files))
    assert status == 401
    status, _, _ = await _post(
        f"{server.url}/v1/manifests", _registration(files), headers={"X-API-Key": "wrong"}
    )
    assert status == 401
    closed = Settings(**{**settings.__dict__, "api_keys": ()})
    with LiveServer(closed) as live:
        status, body, _ = await _post(
            f"{live.url}/v1/manifests", _registration(files), headers={"X-API-Key": API_KEY}
        )
    assert status == 403 and "registration is off" in body["error"]["message"]


async def test_register_then_resolve(server, files):
    url = f"{server.url}/v1/manifests"
    auth = {"Authorization": f"Bearer {API_KEY}"}
    status, body, _ = await _post(url, _registration(files, asset=files.unsigned), headers=auth)
    assert status == 422  # the manifest does not belong to that asset
    status, body, _ = await _post(url, _registration(files), headers=auth)
    assert status == 201 and body["manifestId"] == files.unregistered_id
    value = body["value"]
    status, _, _ = await _post(url, _registration(files), headers=auth)
    assert status == 409

    status, raw, _ = await _get(
        f"{server.url}/matches/byBinding", params={"alg": body["alg"], "value": value}
    )
    assert json.loads(raw) == {
        "matches": [{"manifestId": files.unregistered_id, "similarityScore": 100}]
    }
    status, posted, _ = await _post(
        f"{server.url}/matches/byBinding", None, json={"alg": body["alg"], "value": value}
    )
    assert posted == json.loads(raw)

    status, manifest, headers = await _get(f"{server.url}/manifests/{files.unregistered_id}")
    assert status == 200 and headers["Content-Type"] == "application/c2pa"
    with c2pa.Reader("application/c2pa", io.BytesIO(manifest)) as reader:
        assert files.unregistered_id in reader.json()

    # The stripped copy of the newly registered asset now resolves by content too.
    status, matches, _ = await _post(
        f"{server.url}/matches/byContent", _jpeg(files.unregistered_asset)
    )
    assert status == 200 and matches["matches"][0]["manifestId"] == files.unregistered_id
    assert matches["matches"][0]["similarityScore"] >= 80


async def test_watermark_ids_are_issued_to_a_client_and_only_it_may_register(
    server, files, credentials
):
    """Registration squatting: a stripped copy of someone else's image still carries their
    watermark; re-signed and registered under that identifier, it must be refused."""
    url = f"{server.url}/v1/watermark-ids"
    status, _, _ = await _post(url, b"")
    assert status == 401
    status, issued, _ = await _post(url, b"", headers={"X-API-Key": API_KEY})
    assert status == 201 and issued["alg"] == "org.provenance.ssw.1"
    assert len(issued["payload"]) == 10 and issued["value"]
    # A victim signed elsewhere (its identifier never issued here); the squatter re-signs the
    # stripped copy with the identifier it carries.
    victim = sign(PHOTOS[3].read_bytes(), credentials, AI)
    stripped = _jpeg(victim.asset or b"")
    wid = int(victim.watermark or "0", 16)
    squat = sign(stripped, credentials, replace(AI, watermark_id=wid))
    form = aiohttp.FormData()
    form.add_field(
        "manifest", squat.manifest or b"", filename="m.c2pa", content_type="application/c2pa"
    )
    form.add_field("asset", squat.asset or b"", filename="a.jpg", content_type="image/jpeg")
    status, body, _ = await _post(
        f"{server.url}/v1/manifests", form, headers={"X-API-Key": API_KEY}
    )
    assert status == 403 and body["error"]["code"] == "watermark_id_not_issued"
    assert "not issued to this client" in body["error"]["message"]
    assert "POST /v1/watermark-ids" in body["error"]["message"]  # the server's words for the hint


async def test_resolution_edge_cases(server):
    status, body, _ = await _get(f"{server.url}/manifests/urn:c2pa:unknown")
    assert status == 404
    status, body, _ = await _get(f"{server.url}/matches/byBinding", params={"alg": "x"})
    assert status == 400
    status, body, _ = await _get(
        f"{server.url}/matches/byBinding", params={"alg": "x", "value": "%%%"}
    )
    assert status == 400
    status, body, _ = await _get(f"{server.url}/services/supportedAlgorithms")
    algs = json.loads(body)
    assert algs["watermarks"] == [{"alg": "org.provenance.ssw.1"}]
    assert algs["fingerprints"] == [{"alg": "org.provenance.phash.1"}]
    status, _, _ = await _post(f"{server.url}/matches/byContent?alg=com.other", b"x")
    assert status == 400


async def test_by_content_of_an_image_too_small_for_the_watermark(server, files):
    """It answered 400 ("bad input"), though nothing is wrong with it: like /v1/verify (200,
    ``watermark_skipped``) it is an image nothing can be looked for by, and says why."""
    small = io.BytesIO()
    Image.open(io.BytesIO(files.stripped)).resize((150, 300)).save(small, format="JPEG")
    status, body, _ = await _post(f"{server.url}/matches/byContent", small.getvalue())
    assert status == 200, body
    assert body == {"matches": [], "watermarkSkipped": WATERMARK_TOO_SMALL}
    status, verdict, _ = await _post(f"{server.url}/v1/verify", small.getvalue())
    assert status == 200 and verdict["watermark_skipped"] == body["watermarkSkipped"]
    # A searched image's answer has no such field.
    status, body, _ = await _post(f"{server.url}/matches/byContent", files.stripped)
    assert status == 200 and "watermarkSkipped" not in body and body["matches"]


# -- operations, CORS, privacy ------------------------------------------------------------------


async def test_health_metrics_openapi(server, files):
    await _post(f"{server.url}/v1/verify", files.signed)
    status, body, _ = await _get(f"{server.url}/healthz")
    assert status == 200
    status, body, _ = await _get(f"{server.url}/readyz")
    assert status == 200 and json.loads(body) == {"status": "ok", "store": "ok"}
    status, body, _ = await _get(f"{server.url}/metrics")
    text = body.decode()
    assert 'provenance_requests_total{method="POST",route="/v1/verify",status="200"}' in text
    # prometheus-client writes labels in name order.
    assert 'provenance_verdicts_total{ai_generated="yes",state="Trusted"}' in text
    assert "provenance_request_seconds_bucket" in text
    status, body, _ = await _get(f"{server.url}/openapi.json")
    document = json.loads(body)
    validate(document)
    app = create_app(Settings())
    served = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    described = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert served == described


def _metric_files_of_many_processes(directory: Path, processes: int) -> None:
    """Leave in ``directory`` the metric files that ``processes`` server processes (replaced
    ones included) would have written: prometheus-client's multiprocess value store, keyed by
    a process identifier instead of this process's pid."""
    from prometheus_client import values

    from extension_api.metrics import Metrics

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
        for pid in range(1, processes + 1):
            patch.setattr(values, "ValueClass", values.MultiProcessValue(lambda pid=pid: pid))
            metrics = Metrics(directory)
            for route in [f"/v1/route{n}" for n in range(20)]:
                for status in (200, 400, 415, 503):
                    metrics.observe("POST", route, status, 0.02)


async def test_metrics_are_rendered_off_the_loop(settings, tmp_path):
    """A scrape adds up every process's metric files, which takes a while when there are many;
    /healthz answers meanwhile (the loop is not rendering)."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    _metric_files_of_many_processes(shared, 400)
    one = replace(settings, threads=1)
    with LiveServer(factory=lambda: create_app(one, shared=shared)) as live:
        await _get(f"{live.url}/healthz")  # the connection machinery warmed up
        started = time.perf_counter()
        scrape = asyncio.ensure_future(_get(f"{live.url}/metrics"))
        await asyncio.sleep(0.05)  # the scrape is being rendered
        healthz = time.perf_counter()
        status, _, _ = await _get(f"{live.url}/healthz")
        healthz = time.perf_counter() - healthz
        overlapped = not scrape.done()
        _, body, _ = await scrape
        rendering = time.perf_counter() - started
    assert status == 200 and 'route="/v1/route7",status="415"} 400.0' in body.decode()
    assert rendering > 0.25, f"too few metric files to make rendering slow ({rendering:.2f} s)"
    assert healthz < rendering / 2, f"/healthz took {healthz:.2f} s in a {rendering:.2f} s scrape"
    assert overlapped  # /healthz was answered while the scrape was still being rendered


async def test_the_registry_is_opened_off_the_loop(settings, tmp_path):
    """Opening the registry may wait, here for another process's write lock on SQLite: the
    server's loop goes on meanwhile (signals, the workers' start-up)."""
    import sqlite3
    import threading

    location = tmp_path / "locked.sqlite3"
    ManifestRegistry(location).close()
    holder = sqlite3.connect(location, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for half a second
    threading.Timer(0.5, holder.execute, ("COMMIT",)).start()
    ticks = [time.perf_counter()]

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.01)
            ticks.append(time.perf_counter())

    ticker = asyncio.ensure_future(tick())
    runner = web.AppRunner(create_app(replace(settings, registry_location=location, threads=1)))
    await runner.setup()
    ticks.append(time.perf_counter())
    ticker.cancel()
    await runner.cleanup()
    holder.close()
    opening = ticks[-1] - ticks[0]
    stall = max(b - a for a, b in itertools.pairwise(ticks))
    assert opening >= 0.4  # it did wait for the lock
    assert stall < opening / 2, f"the loop stalled {stall:.2f} s of {opening:.2f} s"


async def test_cors(server):
    preflight = {
        "Origin": "chrome-extension://abcdefghijklmnop",
        "Access-Control-Request-Method": "POST",
    }
    async with aiohttp.ClientSession() as s:
        async with s.options(f"{server.url}/v1/verify", headers=preflight) as r:
            assert r.status == 204
            assert r.headers["Access-Control-Allow-Origin"] == preflight["Origin"]
            assert "POST" in r.headers["Access-Control-Allow-Methods"]
        async with s.options(
            f"{server.url}/v1/verify", headers={**preflight, "Origin": "https://evil.example"}
        ) as r:
            assert r.status == 403 and "Access-Control-Allow-Origin" not in r.headers
        async with s.get(f"{server.url}/healthz", headers={"Origin": "https://news.example"}) as r:
            assert r.headers["Access-Control-Allow-Origin"] == "https://news.example"


#: Files this process opened for writing while recording (None: not recording). Filled by an
#: audit hook, which sees every open() and os.open() in every thread, the server's included.
_WRITES: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _WRITES is not None and event == "open":
        path, mode, flags = args
        writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT
        if (mode and any(c in mode for c in "wax+")) or (flags and flags & writing):
            _WRITES.append(str(path))


sys.addaudithook(_audit)


async def test_uploads_are_never_written_and_logs_hold_only_hash_and_verdict(server, files, caplog):
    global _WRITES
    _WRITES = []
    try:
        with caplog.at_level(logging.INFO, logger="provenance.api"):
            status, body, _ = await _post(f"{server.url}/v1/verify", files.unsigned + b"\0")
            stripped, _, _ = await _post(f"{server.url}/v1/verify", files.stripped + b"\0")
        written = list(_WRITES)
    finally:
        _WRITES = None
    assert status == 200 and stripped == 200
    assert written == []  # no file opened for writing while two uploads were verified
    lines = [r.getMessage() for r in caplog.records if r.name == "provenance.api"]
    assert any(body["sha256"] in line for line in lines)
    assert all(len(line) < 200 for line in lines)


async def test_text_verify_and_match_by_content(server, credentials, registry_location):
    from provenance.text_manifest import sign_text, strip_wrappers

    paragraph = (
        "This review of the harbour festival was drafted by a language model and "
        "checked by an editor before it went out to readers on Sunday morning."
    )
    signed = sign_text(
        paragraph, credentials, AI.manifest, registry=ManifestRegistry(registry_location)
    )
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    status, body, _ = await _post(f"{server.url}/v1/verify", signed.text.encode(), headers=headers)
    assert status == 200 and body["media_type"] == "text/plain"
    assert body["credentials"]["state"] == "Trusted" and body["ai"]["generated"] is True
    stripped = strip_wrappers(signed.text).encode()
    status, body, _ = await _post(f"{server.url}/matches/byContent", stripped, headers=headers)
    assert status == 200
    assert body["matches"][0]["manifestId"] == signed.manifest_id
    # A form's text file: its type and name are the part's own (what a browser's form and
    # `curl -F file=@note.txt` send), not the request's multipart type. It was refused, 415
    # "give its type as text/plain", though the part gave exactly that.
    for url in (f"{server.url}/v1/verify", f"{server.url}/matches/byContent"):
        form = aiohttp.FormData()
        form.add_field("file", signed.text.encode(), filename="note.txt", content_type="text/plain")
        status, body, _ = await _post(url, form)
        assert status == 200, body
        if url.endswith("verify"):
            assert body["media_type"] == "text/plain" and body["credentials"]["state"] == "Trusted"
        else:
            assert body["matches"][0]["manifestId"] == signed.manifest_id


async def test_match_by_content_refuses_text_sent_as_an_image_as_verify_does(server):
    """Text sent to /matches/byContent without its type was "in no format this tool reads";
    /v1/verify says what the bytes are and what to do."""
    data = b"plain text, not an image"
    for url in (f"{server.url}/v1/verify", f"{server.url}/matches/byContent"):
        status, body, _ = await _post(url, data, headers={"Content-Type": "image/jpeg"})
        assert status == 415, (url, body)
        assert body["error"]["message"] == (
            "content: its bytes are text, not in any media format this tool reads "
            "(to check it as text, give its type as text/plain)"
        ), url


@pytest.mark.parametrize("empty", ["manifest", "asset"])
async def test_an_empty_registration_part_says_so(server, files, empty):
    """An empty part got c2pa's words: "InvalidBufferSize: 0 for 'manifest_data'"."""
    parts = {"manifest": files.unregistered_manifest, "asset": files.unregistered_asset}
    form = aiohttp.FormData()
    for name, data in parts.items():
        form.add_field(name, b"" if name == empty else data, filename=name)
    status, body, _ = await _post(
        f"{server.url}/v1/manifests", form, headers={"X-API-Key": API_KEY}
    )
    assert status == 400, body
    assert body["error"]["message"] == f"the '{empty}' part is empty; send the file's bytes in it"


async def test_a_form_names_its_file_in_errors(server):
    form = aiohttp.FormData()
    form.add_field("file", b"plain text, not an image", filename="notes.bin")
    status, body, _ = await _post(f"{server.url}/v1/verify", form)
    assert status == 415 and body["error"]["message"].startswith("notes.bin: its bytes are text")


@pytest.mark.parametrize("form", [False, True], ids=["body", "multipart"])
async def test_an_image_declared_as_text_is_read_as_the_image_its_bytes_are(server, files, form):
    """A JPEG sent as text/plain (a misconfigured server behind /v1/verify-url, a client's
    guess) was read as text and refused, 422 "not UTF-8 text": the bytes say what it is."""
    if form:
        data = aiohttp.FormData()
        data.add_field("file", files.signed, filename="x.jpg", content_type="text/plain")
        status, body, _ = await _post(f"{server.url}/v1/verify", data)
    else:
        headers = {"Content-Type": "text/plain"}
        status, body, _ = await _post(f"{server.url}/v1/verify", files.signed, headers=headers)
    assert status == 200, body
    assert body["media_type"] == "image/jpeg" and body["credentials"]["state"] == "Trusted"
    # Text that happens to hold a media signature's bytes is still text when declared so.
    headers = {"Content-Type": "text/plain"}
    status, body, _ = await _post(f"{server.url}/v1/verify", b"%PDF-1.7 in a note", headers=headers)
    assert status == 200 and body["media_type"] == "text/plain"


async def test_readiness_fails_when_postgresql_goes_away(settings):
    """A server whose PostgreSQL stopped still answers /healthz, but /readyz says 503."""
    from . import postgres

    if postgres.binaries() is None:
        pytest.skip(postgres.why_unavailable() or "no PostgreSQL binaries to start a cluster")
    cluster = postgres.Cluster().start()
    try:
        on_postgres = Settings(
            **{**settings.__dict__, "registry_location": cluster.url, "threads": 2}
        )
        with LiveServer(on_postgres) as live:
            assert (await _get(f"{live.url}/readyz"))[0] == 200
            cluster.stop()
            assert (await _get(f"{live.url}/healthz"))[0] == 200
            status, body, _ = await _get(f"{live.url}/readyz")
    finally:
        cluster.stop()
    assert status == 503 and json.loads(body)["error"]["code"] == "unavailable"


async def test_postgresql_pools_are_as_large_as_the_threads_that_use_them(
    settings, files, postgres_url
):
    """On PostgreSQL (real, tests/postgres.py): the server process's pool holds as many
    connections as it has registry threads (--threads), and each worker process's one, since a
    worker runs one call at a time (it was 8 each, whatever --threads: up to 9 x --threads
    connections per server process). Verifies (the workers' look-ups) and look-ups in the
    server's threads, all at once, are each answered."""
    import cv2

    from extension_api import jobs
    from extension_api.keys import SERVICE

    on_postgres = Settings(**{**settings.__dict__, "registry_location": postgres_url, "threads": 3})
    opencv_threads = cv2.getNumThreads()
    worker = jobs.init(on_postgres)  # what each worker process opens
    cv2.setNumThreads(opencv_threads)  # init sets the worker's: not this process's
    try:
        assert isinstance(worker.registry, PostgresRegistry)
        assert worker.registry.pool.max_size == 1
    finally:
        worker.registry.close()
    with LiveServer(on_postgres) as live:
        registry = live.app[SERVICE].registry
        assert isinstance(registry, PostgresRegistry) and registry.pool.max_size == 3
        answers = await asyncio.gather(
            *[_post(f"{live.url}/v1/verify", files.signed) for _ in range(6)],
            *[_get(f"{live.url}/manifests/urn:c2pa:none-{n}") for n in range(9)],
        )
    assert [status for status, *_ in answers] == [200] * 6 + [404] * 9


async def test_a_cached_verdict_is_not_reused_under_other_trust(settings, files):
    """Two servers on one registry: one trusts the test root, one does not. Each judges the
    same signed file by its own trust, not by the other's cached verdict."""
    untrusting = Settings(**{**settings.__dict__, "trust": TrustPolicy()})
    states = []
    for each in (settings, untrusting):
        with LiveServer(each) as live:
            _, body, _ = await _post(f"{live.url}/v1/verify", files.signed)
            states.append(body["credentials"]["state"])
    assert states[0] == "Trusted" and states[1] != "Trusted"


async def test_without_a_cache_the_worker_hashes_the_content(settings, files):
    """With the verdict cache off, the server skips its own hashing and cache round trips:
    the digest in each verdict is still the SHA-256 of the bytes sent, image or text."""
    import hashlib

    uncached = Settings(**{**settings.__dict__, "cache_size": 0})
    text = b"Plain words, never signed."
    with LiveServer(uncached) as live:
        for data, kw in ((files.unsigned, {}), (text, {"headers": {"Content-Type": "text/plain"}})):
            status, body, _ = await _post(f"{live.url}/v1/verify", data, **kw)
            assert status == 200
            assert body["sha256"] == hashlib.sha256(data).hexdigest()


def test_verdict_cache_lives_in_the_registry(tmp_path):
    """Kept by hash and media type with an expiry, in the registry every process shares; a size
    of 0 turns it off."""
    from extension_api.service import VerdictCache

    registry = ManifestRegistry(tmp_path / "m.sqlite3")
    cache = VerdictCache(registry, 10, ttl=60)
    cache.put("a" * 64, "sniffed", '{"n": 1}')
    assert (
        VerdictCache(ManifestRegistry(tmp_path / "m.sqlite3"), 10, 60).get("a" * 64) == '{"n": 1}'
    )
    assert cache.get("a" * 64, "text/plain") is None  # the same bytes read as text: not cached
    expired = VerdictCache(registry, 10, ttl=-1)
    expired.put("b" * 64, "sniffed", '{"n": 2}')
    assert cache.get("b" * 64) is None
    off = VerdictCache(registry, 0, 60)
    off.put("c" * 64, "sniffed", '{"n": 3}')
    assert off.get("a" * 64) is None and cache.get("c" * 64) is None


async def test_rate_limit_keys_on_the_client_named_by_a_trusted_proxy(settings, files):
    """Behind a trusted proxy, each X-Forwarded-For client has its own bucket; a client that
    is not the proxy cannot pick its bucket by sending the header."""
    limited = Settings(
        **{**settings.__dict__, "rate_limit": 1.0, "trusted_proxies": ("127.0.0.1",)}
    )
    with LiveServer(limited) as live:
        url = f"{live.url}/v1/verify"

        async def as_client(address: str, n: int) -> list[int]:
            headers = {"X-Forwarded-For": f"203.0.113.9, {address}"}
            return [(await _post(url, files.unsigned, headers=headers))[0] for _ in range(n)]

        first = await as_client("198.51.100.1", 4)
        second = await as_client("198.51.100.2", 2)
    assert first[:2] == [200, 200] and 429 in first[2:]  # burst of 2, then refused
    assert second == [200, 200]  # another client behind the same proxy has its own bucket
    untrusted = Settings(**{**limited.__dict__, "trusted_proxies": ("10.0.0.0/8",)})
    with LiveServer(untrusted) as live:
        statuses = [
            (
                await _post(
                    f"{live.url}/v1/verify",
                    files.unsigned,
                    headers={"X-Forwarded-For": f"198.51.100.{i}"},
                )
            )[0]
            for i in range(4)
        ]
    assert 429 in statuses  # the header from a peer that is no trusted proxy is ignored
