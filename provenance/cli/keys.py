"""`provenance keys init`: a development certificate chain and key."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..keys import KeyAlg, default_keys_dir, init_keys


def register(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="manage signing keys").add_subparsers(
        dest="keys_command", required=True
    )
    init = keys.add_parser("init", help="make a development certificate chain and key")
    init.add_argument(
        "--dir", type=Path, default=None, help=f"where to write (default: {default_keys_dir()})"
    )
    init.add_argument("--alg", choices=[a.value for a in KeyAlg], default=KeyAlg.ES256.value)
    init.add_argument(
        "--org",
        default="Provenance Development",
        help="organisation named in the certificates (shown as the signer)",
    )
    init.add_argument("--force", action="store_true", help="replace existing keys")
    init.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    paths = init_keys(args.dir, alg=args.alg, org=args.org, force=args.force)
    print(f"Wrote a development certificate chain ({args.alg}) to {paths.dir}:")
    print(f"  {paths.chain.name:<10} signer + intermediate certificates")
    print(f"  {paths.key.name:<10} the signer's private key (readable by you only)")
    print(f"  {paths.root.name:<10} the root certificate: give it to verifiers (--trust)")
    print("These keys are for development; a public service needs a certificate from a CA on")
    print("the C2PA trust list.")
    return 0
