"""Options only the CLI's commands share (the ones the server shares too are in
``provenance.options``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..keys import SigningKeys
from ..manifest import ManifestSpec


def add_signing_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The key and manifest options that `sign` and `sign-text` share; returns the manifest
    group, for a command's own manifest options."""
    k = parser.add_argument_group("keys (default: the keys from `keys init`)")
    k.add_argument("--keys", type=Path, help="directory holding chain.pem and signer.key")
    k.add_argument("--cert", type=Path, help="your own PEM certificate chain, signer first")
    k.add_argument("--key", type=Path, help="your own PEM private key")
    k.add_argument("--tsa", metavar="URL", help="RFC 3161 timestamp authority (none by default)")
    m = parser.add_argument_group("what the manifest declares")
    m.add_argument("--generator", help="the AI tool that made the content")
    m.add_argument("--model", help="the model (recorded as the tool's version)")
    m.add_argument(
        "--source-type",
        help="IPTC digitalSourceType, URI or short name (default: trainedAlgorithmicMedia; "
        "when re-signing a file with credentials, the type they declare)",
    )
    m.add_argument("--title", help="title (default: the file name)")
    m.add_argument("--author", help="the author's name (personal data: only when asked)")
    return m


def manifest_spec(args: argparse.Namespace) -> ManifestSpec:
    """What the manifest options of :func:`add_signing_options` declare."""
    return ManifestSpec(
        generator=args.generator,
        model=args.model,
        source_type=args.source_type,
        title=args.title,
        author=args.author,
    )


def signed_name(source: Path) -> Path:
    """The default output beside an input: NAME.signed.EXT."""
    return source.with_name(f"{source.stem}.signed{source.suffix}")


def signing_credentials(args: argparse.Namespace) -> SigningKeys:
    """The keys the options of :func:`add_signing_options` name (default: `keys init`'s)."""
    return SigningKeys.load(args.cert, args.key, keys_dir=args.keys)
