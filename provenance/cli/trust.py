"""`provenance trust show|update`: the bundled C2PA trust lists."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..trustlists import active_dir, defaults_enabled, load_lists, update_lists


def register(sub: argparse._SubParsersAction) -> None:
    tr = sub.add_parser("trust", help="show or update the bundled C2PA trust lists")
    trs = tr.add_subparsers(dest="trust_command", required=True)
    ts = trs.add_parser("show", help="versions, counts, dates and sources of the trust lists")
    ts.add_argument("--json", action="store_true")
    ts.set_defaults(func=run_show)
    tu = trs.add_parser(
        "update", help="install newer trust lists from a directory or URL (nothing is automatic)"
    )
    tu.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="DIR|URL",
        help="a directory or http(s) URL laid out like provenance/data/trust "
        "(c2pa-official/*.pem, interim/*)",
    )
    tu.add_argument("--dir", type=Path, help="install here instead of the per-user data directory")
    tu.set_defaults(func=run_update)


def run_show(args: argparse.Namespace) -> int:
    lists = load_lists()
    enabled = defaults_enabled()
    if args.json:
        rows = [
            {
                "name": lst.name,
                "title": lst.title,
                "version": lst.version,
                "date": lst.date,
                "source": lst.source,
                "licence": lst.licence,
                "anchors": lst.anchor_count,
                "tsa_anchors": lst.tsa_count,
                "allowed_end_entities": lst.allowed_count,
                "allowed_ekus": len(lst.ekus),
                "directory": lst.directory,
            }
            for lst in lists
        ]
        print(json.dumps({"default_trust": enabled, "lists": rows}, indent=2))
        return 0
    print(
        f"Trust lists in {active_dir()}"
        + ("" if enabled else " (turned off by $PROVENANCE_DEFAULT_TRUST)")
    )
    for lst in lists:
        counts = f"{lst.anchor_count} anchors"
        counts += f", {lst.tsa_count} TSA anchors" if lst.tsa_count else ""
        counts += (
            f", {lst.allowed_count} allowed end-entity certificates" if lst.allowed_count else ""
        )
        print(f"  {lst.name:<8} {lst.title}")
        print(f"           {counts}")
        print(f"           version {lst.version or '?'}; dated {lst.date or '?'}")
        print(f"           source  {lst.source}")
        print(f"           licence {lst.licence}")
    return 0


def run_update(args: argparse.Namespace) -> int:
    target = update_lists(args.source, target=args.dir)
    print(f"Installed the trust lists from {args.source} into {target}:")
    for lst in load_lists(target):
        print(f"  {lst.name:<8} {lst.anchor_count} anchors ({lst.version or 'no version'})")
    return 0
