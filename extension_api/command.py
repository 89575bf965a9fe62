"""The server's command line, owned here: ``python -m extension_api`` and `provenance serve`.

The CLI's ``serve`` adds these flags to its subcommand (:func:`add_arguments`) and calls
:func:`serve`; the server never imports the CLI. Flags override environment variables, which
override the defaults (``settings.py``); the trust, registry and text-watermark flags are the ones
`provenance verify` takes (``provenance.options``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from provenance import ProvenanceError, options, os_error_line

from .errors import API_HINTS
from .settings import Settings, megapixel_limit, mib_limit, port_number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every flag of the server (see settings.py for their environment variables)."""
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_flag(port_number), help="port (default 8787)")
    options.add_registry_option(
        parser,
        help="registry of signed manifests: a SQLite file or a postgresql:// URL (default: "
        "$PROVENANCE_REGISTRY or the per-user one)",
    )
    options.add_trust_options(parser)
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        help="key allowed to POST /v1/manifests (repeatable)",
    )
    parser.add_argument("--workers", type=int, help="server processes sharing the port (default 1)")
    parser.add_argument(
        "--threads", type=int, help="worker processes per server process for CPU work"
    )
    parser.add_argument(
        "--queue", type=int, help="calls that may wait for a worker (beyond: 503 at once)"
    )
    parser.add_argument(
        "--max-megapixels",
        type=_flag(megapixel_limit),
        metavar="MP",
        help="pixels one image may have (50; 0: only the library's limit, 100)",
    )
    _add_size_flag(parser, "--max-text-mb", "text one request may submit", "1")
    parser.add_argument(
        "--max-connections", type=int, help="open connections; past it the oldest closes"
    )
    parser.add_argument(
        "--shutdown-timeout", type=float, help="seconds in-flight requests get on SIGTERM (30)"
    )
    _add_size_flag(parser, "--max-inflight-mb", "request bodies in memory at once", "4x body")
    parser.add_argument("--rate-limit", type=float, help="requests/s per client (0: off)")
    parser.add_argument("--request-timeout", type=float, help="seconds per request")
    parser.add_argument("--cache-size", type=int, help="verdicts cached by SHA-256 (0: off)")
    parser.add_argument("--cache-ttl", type=float, help="seconds a cached verdict is kept")
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="reverse proxy (address or network) whose X-Forwarded-For names the client",
    )
    _add_size_flag(parser, "--max-body-mb", "largest request body", "50")
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        help="web origin allowed by CORS (extensions always are)",
    )
    parser.add_argument(
        "--fetch-allow",
        action="append",
        default=[],
        help="host or network verify-url may reach despite the SSRF rules",
    )
    options.add_text_watermark_option(
        parser, help="text watermark key file = tokenizer.json (repeatable)"
    )


def _add_size_flag(parser: argparse.ArgumentParser, flag: str, what: str, default: str) -> None:
    parser.add_argument(
        flag, type=_flag(mib_limit), metavar="M", help=f"{what}, MiB, more than 0 ({default})"
    )


def _flag(convert: Callable[[str], int]) -> Callable[[str], int]:
    """``convert`` as an argparse type: its ValueError becomes the flag's error line."""

    def parse(text: str) -> int:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The Settings the flags of :func:`add_arguments` ask for, over the environment (tested
    flag by flag)."""
    return Settings.from_env(
        host=args.host,
        port=args.port,
        registry_location=args.registry,
        trust=options.policy(args),
        text_detectors=tuple(options.text_detectors(args)),
        api_keys=tuple(args.api_key),
        workers=args.workers,
        threads=args.threads,
        cache_ttl=args.cache_ttl,
        trusted_proxies=tuple(args.trusted_proxy),
        rate_limit=args.rate_limit,
        request_timeout=args.request_timeout,
        cache_size=args.cache_size,
        cors_origins=tuple(args.cors_origin),
        fetch_allow=tuple(args.fetch_allow),
        max_body=args.max_body_mb,
        queue=args.queue,
        max_pixels=args.max_megapixels,
        max_text_bytes=args.max_text_mb,
        max_connections=args.max_connections,
        shutdown_timeout=args.shutdown_timeout,
        max_inflight_body=args.max_inflight_mb,
    )


def serve(args: argparse.Namespace) -> None:
    """Serve with the settings the flags ask for, until SIGINT/SIGTERM."""
    from .app import run  # aiohttp and the app: loaded only to serve (see __init__)

    run(settings_from_args(args))


#: The name errors start with, as `provenance: error:` does for the CLI (`provenance serve`'s
#: errors are the CLI's); the usage line shows the whole command.
NAME = "extension_api"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{NAME}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m extension_api [flags]``: the flags of `provenance serve`."""
    parser = _Parser(
        prog="python -m extension_api", description="Run the provenance verification API."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        serve(args)
    except ProvenanceError as exc:
        print(f"{NAME}: error: {exc.worded(API_HINTS)}", file=sys.stderr)
        return 1
    except OSError as exc:  # one line, never a traceback (e.g. the port is taken)
        print(f"{NAME}: error: {os_error_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
