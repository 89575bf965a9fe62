"""`provenance sign-text`: append a signed C2PA manifest to a text (C2PA A.7)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..options import add_registry_option
from ..registry import ManifestRegistry
from ..text_manifest import sign_text_file
from .options import add_signing_options, manifest_spec, signed_name, signing_credentials


def register(sub: argparse._SubParsersAction) -> None:
    st = sub.add_parser("sign-text", help="append a signed C2PA manifest to a text (A.7)")
    st.add_argument("input", type=Path)
    st.add_argument("-o", "--output", type=Path, help="default: NAME.signed.EXT beside the input")
    st.add_argument("--force", action="store_true", help="replace an existing output")
    add_registry_option(st, help="registry (default as for sign)")
    st.add_argument(
        "--no-registry",
        "--no-store",  # its earlier name, still accepted
        dest="no_registry",
        action="store_true",
        help="do not register the text's fingerprint in the registry",
    )
    add_signing_options(st)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    credentials = signing_credentials(args)
    output = args.output or signed_name(args.input)
    signed = sign_text_file(
        args.input,
        output,
        credentials,
        manifest_spec(args),
        tsa_url=args.tsa,
        registry=None if args.no_registry else ManifestRegistry(args.registry),
        overwrite=args.force,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "input": str(args.input),
                    "output": str(output),
                    "manifest_id": signed.manifest_id,
                    "manifest_size": len(signed.manifest_store),
                },
                indent=2,
            )
        )
    else:
        print(f"signed  {args.input} -> {output} ({signed.manifest_id})")
    return 0
