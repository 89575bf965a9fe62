"""`provenance inspect`: the manifest store as c2pa reports it, its tree, its certificates."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..inspect import export_manifest_store, inspect_file
from ..options import add_registry_option, add_trust_options, policy
from ..registry import existing_registry


def register(sub: argparse._SubParsersAction) -> None:
    ins = sub.add_parser(
        "inspect", help="show the manifest store: c2pa's report, ingredient tree, certificates"
    )
    ins.add_argument("path", type=Path, metavar="FILE")
    shown = ins.add_mutually_exclusive_group()
    shown.add_argument("--detailed", action="store_true", help="c2pa's detailed report")
    shown.add_argument("--tree", action="store_true", help="the ingredient tree")
    shown.add_argument(
        "--certs", action="store_true", help="the signer and time-stamp certificates"
    )
    ins.add_argument(
        "--export-manifest",
        type=Path,
        metavar="OUT.c2pa",
        help="write the manifest store bytes (application/c2pa) that POST /v1/manifests wants",
    )
    add_registry_option(ins, help="registry to export from (default as for verify)")
    ins.add_argument("--force", action="store_true", help="replace an existing export file")
    add_trust_options(ins)
    ins.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = inspect_file(args.path, policy=policy(args))
    if found.text_binding:
        print(
            "note: c2pa cannot hash a text, so its report reads assertion.dataHash.mismatch; "
            f"the text binding, checked as `verify` does: {found.text_binding}",
            file=sys.stderr,
        )
    if args.export_manifest:
        size = export_manifest_store(
            existing_registry(args.registry),
            found.active_manifest,
            args.export_manifest,
            overwrite=args.force,
        )
        print(
            f"wrote the manifest store of {found.active_manifest} ({size} bytes) "
            f"to {args.export_manifest}"
        )
    if args.tree:
        print("\n".join(found.tree().lines()))
    elif args.certs:
        print(json.dumps(found.certificates, indent=2))
    elif not args.export_manifest:
        print(json.dumps(found.detailed if args.detailed else found.report, indent=2))
    return 0
