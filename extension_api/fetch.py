"""Fetch a URL for `/v1/verify-url` without becoming an SSRF proxy.

Only http and https. The URL is parsed once, by yarl, exactly as aiohttp will connect to it:
yarl's IDNA normalisation turns full-width digits, circled digits and ideographic full stops
(U+FF11 U+FF12 U+FF17 U+FF0E ..., U+2460..., U+3002) into an ASCII IP literal, which aiohttp
connects to without asking any resolver, so the literal is checked after that normalisation.
Every host is resolved and *all* its addresses must be public (not private, loopback,
link-local, multicast, reserved or unspecified); the connection then goes to those checked
addresses (a resolver that re-checks, so DNS rebinding between check and connect gains nothing).
Redirects are followed by hand, each hop parsed and checked again, at most N of them. The body
is read in chunks up to a size limit, within a total time limit. An explicit allow-list
(hosts, IPs or networks) lets tests reach a loopback server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from .errors import ApiError


class FetchError(ApiError):
    """A fetch that failed: ``code`` and ``status`` for the API error, ``message`` for people."""


@dataclass(frozen=True)
class Fetched:
    url: str
    content_type: str | None
    body: bytes


class AllowList:
    def __init__(self, entries: tuple[str, ...]) -> None:
        self.hosts = {e.lower() for e in entries if not _is_network(e)}
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries if _is_network(e)]

    def host(self, host: str) -> bool:
        return host.lower() in self.hosts

    def address(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return address in self.hosts or any(ip in net for net in self.networks)


def _is_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


#: Longest URL and authority (user@host:port) accepted. Host names are at most 253
#: characters; the IDNA mapping of a long non-ASCII host costs ~10 us per character on the
#: event loop, so length is checked before it.
MAX_URL = 8192
MAX_AUTHORITY = 512


def _parse(url: str) -> URL:
    """The URL as yarl (and so aiohttp) reads it, or a 400 for one it cannot read."""
    try:
        if len(url) > MAX_URL or len(urlsplit(url).netloc) > MAX_AUTHORITY:
            raise ValueError("too long")
        parsed = URL(url)
        parsed.raw_host  # noqa: B018 - IDNA encoding of the host happens (and fails) here
    except (ValueError, UnicodeError, TypeError) as exc:
        raise FetchError(400, "url_invalid", f"the URL cannot be parsed ({exc})") from None
    return parsed


class NotPublicAddress(OSError):
    """A host resolved to an address the fetcher must not reach."""


def _refused(host: str) -> FetchError:
    return FetchError(
        403,
        "url_not_allowed",
        f"{host} is a private, loopback, link-local or multicast address; only public "
        "addresses are fetched",
    )


class CheckedResolver(AbstractResolver):
    """Resolves like aiohttp does, then refuses any answer that is not allowed.

    This is the one DNS lookup per hop, and the addresses checked are the ones connected to.
    """

    def __init__(self, allow: AllowList) -> None:
        self._inner = ThreadedResolver()
        self._allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if not self._allow.host(host):
            for answer in answers:
                if not (is_public(answer["host"]) or self._allow.address(answer["host"])):
                    raise NotPublicAddress(f"{host} resolves to a non-public address")
        return answers

    async def close(self) -> None:
        await self._inner.close()


class Fetcher:
    """One per app: an aiohttp session whose connector uses the checking resolver."""

    def __init__(
        self, *, allow: tuple[str, ...], max_bytes: int, timeout: float, max_redirects: int
    ) -> None:
        self.allow = AllowList(allow)
        self.max_bytes, self.timeout, self.max_redirects = max_bytes, timeout, max_redirects
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # The first IDNA mapping loads idna's Unicode tables (~0.5 s): not on the event loop,
        # and not in the first request that needs it.
        await asyncio.to_thread(lambda: URL("http://\uff41.example/").raw_host)
        connector = aiohttp.TCPConnector(resolver=CheckedResolver(self.allow), limit=32)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            # A compressed body could hide a bomb, so none is inflated; and so none is asked
            # for: aiohttp's default Accept-Encoding (gzip, deflate) had servers compress text,
            # which then reached the verifier as gzip bytes ("not UTF-8 text").
            headers={"User-Agent": "provenance-verifier/1", "Accept-Encoding": "identity"},
            auto_decompress=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _check(self, url: URL) -> None:
        if url.scheme not in ("http", "https"):
            raise FetchError(
                400,
                "url_scheme",
                f"only http and https URLs are fetched, not {url.scheme or 'a relative URL'}",
            )
        host = url.raw_host  # what aiohttp connects to: IDNA-normalised, no brackets
        if not host:
            raise FetchError(400, "url_invalid", "the URL has no host")
        # aiohttp connects to an IP-literal host without asking the resolver, so those are
        # checked here; names are checked by CheckedResolver when they are looked up.
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return
        if not (self.allow.host(host) or is_public(host) or self.allow.address(host)):
            raise _refused(host)

    async def fetch(self, url: str) -> Fetched:
        assert self._session is not None, "Fetcher.start() first"
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url)
        except TimeoutError:
            raise FetchError(
                504, "fetch_timeout", f"fetching took longer than {self.timeout:g} s"
            ) from None

    async def _follow(self, given: str) -> Fetched:
        assert self._session is not None
        url = _parse(given)
        for hop in range(self.max_redirects + 1):
            self._check(url)
            try:
                # The checked URL object itself is what is requested: no second parse.
                async with self._session.get(url, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location")
                        if not location:
                            raise FetchError(502, "fetch_failed", "a redirect without Location")
                        url = url.join(_parse(location))
                        continue
                    if response.status != 200:
                        raise FetchError(
                            502,
                            "fetch_failed",
                            # Named: a reader of the extension's card sees this sentence alone,
                            # and "the server" read as the provenance service.
                            f"{url.host} answered HTTP {response.status} when the provenance "
                            "service fetched it",
                        )
                    encoding = response.headers.get("Content-Encoding", "identity").lower()
                    if encoding.strip() not in ("", "identity"):
                        raise FetchError(
                            502,
                            "fetch_failed",
                            f"the server sent the file compressed (Content-Encoding: "
                            f"{encoding}) though asked not to; compressed transfers are not "
                            "inflated here (a bomb could hide in one): upload the file instead",
                        )
                    return Fetched(
                        str(url), response.headers.get("Content-Type"), await self._read(response)
                    )
            except FetchError:
                raise
            except aiohttp.InvalidURL as exc:
                # aiohttp refuses some hosts yarl parsed (an IPv4 address written short or in
                # octal, "127.1"): nothing was fetched, and the fault is the URL's, not a
                # server's (it was a 502 "fetch failed").
                if hop:
                    raise FetchError(
                        502, "fetch_failed", f"redirected to a URL that cannot be fetched ({exc})"
                    ) from None
                raise FetchError(
                    400,
                    "url_invalid",
                    f"the URL cannot be fetched ({exc}); write an IPv4 address as four "
                    "decimal numbers (a.b.c.d), or use the host's name",
                ) from None
            except aiohttp.ClientConnectorDNSError as exc:
                if isinstance(exc.os_error, NotPublicAddress):
                    raise _refused(url.raw_host or str(url)) from None
                raise FetchError(502, "fetch_failed", f"cannot resolve {url.raw_host}") from None
            except aiohttp.ClientConnectorError as exc:
                raise FetchError(502, "fetch_failed", f"cannot connect: {exc.os_error}") from None
            except aiohttp.ClientError as exc:
                raise FetchError(502, "fetch_failed", f"fetch failed: {exc}") from None
        raise FetchError(502, "too_many_redirects", f"more than {self.max_redirects} redirects")

    async def _read(self, response: Any) -> bytes:
        declared = response.content_length
        if declared is not None and declared > self.max_bytes:
            raise FetchError(
                413,
                "fetch_too_large",
                f"the resource is {declared} bytes; the limit is {self.max_bytes}",
            )
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(
                    413, "fetch_too_large", f"the resource exceeds the {self.max_bytes}-byte limit"
                )
            chunks.append(chunk)
        return b"".join(chunks)
