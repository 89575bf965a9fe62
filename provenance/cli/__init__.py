"""The `provenance` command: a thin face over the library, one module per command.

Each command module has ``register(sub)`` (its parser and flags) and the functions that run it;
they parse, call the library and render, nothing else. Errors are said in one place
(``errors``: the library's neutral hints in flag words); options two commands share are in
``options`` (and, where the server shares them too, in ``provenance.options``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import ProvenanceError, os_error_line
from . import demo, inspect, keys, serve, sign, sign_text, text_key, trust, verify, watermark
from .errors import fail

# psycopg's pool retries an unreachable PostgreSQL registry in the background and logs each
# failure; with no logging configured, Python printed each one to stderr ("error connecting in
# 'provenance-registry' ... Is the server running ...?", eight lines) before the command's own
# one-line error said the same. A handler here stops that fallback printing only: a server that
# configures logging still gets the records through its own handlers.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())

#: In the order `--help` lists them.
COMMANDS = (keys, sign, sign_text, verify, text_key, watermark, inspect, trust, serve, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provenance",
        description="Tag AI-generated content with signed Content Credentials (C2PA) "
        "and verify them.",
    )
    parser.add_argument("--version", action="version", version=f"provenance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ProvenanceError as exc:
        fail(exc)
        return 1
    except BrokenPipeError:  # before OSError, of which it is one
        # The reader went away (`provenance inspect x | head`): stop quietly, as other tools do;
        # stdout goes to devnull so that the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # one line, never a traceback, for what the OS refused
        fail(os_error_line(exc))
        return 1
    except KeyboardInterrupt:
        return 130


__all__ = ["build_parser", "main"]
