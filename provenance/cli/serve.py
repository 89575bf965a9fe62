"""`provenance serve`: the verification API. Its flags and its start are the server's own
(``extension_api.command``, also ``python -m extension_api``): this module only hands them over.
"""

from __future__ import annotations

import argparse

# The server's flags, not its app: aiohttp loads only when `serve` runs (extension_api/__init__).
from extension_api import add_arguments, serve


def register(sub: argparse._SubParsersAction) -> None:
    sv = sub.add_parser("serve", help="run the verification API (see extension_api/settings.py)")
    add_arguments(sv)
    sv.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    serve(args)
    return 0
