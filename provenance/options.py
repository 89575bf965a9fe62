"""Command-line options the two command lines share, defined once: trust, registry, text watermarks.

`provenance verify`, `inspect` and `serve` (the CLI, ``provenance.cli``) and the server's own
``python -m extension_api`` take the same trust, registry and text-watermark flags and read them
back through the library's own functions (:meth:`TrustPolicy.from_env`,
:meth:`TextDetector.from_env`), flags over environment. This module is the library's and not
the CLI's because the server must not import the CLI; it names flags, but no library error does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .registry import registry_location
from .trust import TrustPolicy
from .verify import TextDetector


def add_trust_options(parser: argparse.ArgumentParser) -> None:
    """``--trust``, ``--trust-config``, ``--no-default-trust``; read back by :func:`policy`."""
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        type=Path,
        metavar="PEM",
        help="trust anchor certificates added to the bundled trust lists "
        "(repeatable; also $PROVENANCE_TRUST)",
    )
    parser.add_argument(
        "--trust-config",
        type=Path,
        metavar="FILE",
        help="allowed signer EKUs, one OID per line (c2pa trust_config format; "
        "also $PROVENANCE_TRUST_CONFIG)",
    )
    parser.add_argument(
        "--no-default-trust",
        action="store_true",
        help="do not use the bundled C2PA and interim trust lists, only --trust anchors "
        "(also $PROVENANCE_DEFAULT_TRUST=0)",
    )


def policy(args: argparse.Namespace, *, allow_remote: bool = False) -> TrustPolicy:
    """The trust the flags of :func:`add_trust_options` ask for, over the environment."""
    return TrustPolicy.from_env(
        args.trust,
        trust_config=args.trust_config,
        allow_remote=allow_remote,
        default_lists=False if args.no_default_trust else None,
    )


def add_registry_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--registry`` (or ``--store``, its earlier name): a SQLite file or a ``postgresql://``
    URL (``args.registry``, None if not given); ``help`` says what this command uses it for."""
    parser.add_argument(
        "--registry",
        "--store",
        dest="registry",
        type=registry_location,
        metavar="PATH|URL",
        help=help,
    )


def add_text_watermark_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--text-watermark KEY=TOKENIZER`` (repeatable); read back by :func:`text_detectors`."""
    parser.add_argument(
        "--text-watermark", action="append", default=[], metavar="KEY=TOKENIZER", help=help
    )


def text_detectors(args: argparse.Namespace) -> list[TextDetector]:
    """The detectors ``$PROVENANCE_TEXT_WATERMARKS`` and the ``--text-watermark`` flags name."""
    return TextDetector.from_env(args.text_watermark)
