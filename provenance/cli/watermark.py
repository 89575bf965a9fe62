"""`provenance watermark embed|detect`: the invisible watermark alone."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import ProvenanceError
from ..verdict import mirrored_or_turned
from ..watermark import METHODS, detect_file, embed_file, parse_payload
from .errors import fail
from .inputs import expand_inputs


def register(sub: argparse._SubParsersAction) -> None:
    wm = sub.add_parser("watermark", help="embed or detect the invisible watermark alone")
    wsub = wm.add_subparsers(dest="watermark_command", required=True)
    we = wsub.add_parser("embed", help="embed a payload into an image")
    we.add_argument("input", type=Path)
    we.add_argument("output", type=Path)
    we.add_argument("--payload", required=True, metavar="HEX", help="40-bit identifier (hex)")
    we.add_argument("--method", choices=METHODS, default="ssw")
    we.add_argument("--force", action="store_true", help="replace an existing output")
    we.set_defaults(func=run_embed)
    wd = wsub.add_parser("detect", help="look for a watermark")
    wd.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    wd.add_argument("--method", choices=METHODS, default="ssw")
    wd.add_argument("--json", action="store_true")
    wd.set_defaults(func=run_detect)


def run_embed(args: argparse.Namespace) -> int:
    identifier = parse_payload(args.payload)
    embed_file(args.input, args.output, identifier, args.method, overwrite=args.force)
    print(f"embedded payload {identifier:010x} into {args.output} ({args.method})")
    return 0


def run_detect(args: argparse.Namespace) -> int:
    results: list[dict[str, Any]] = []
    status = 0
    for path, _ in expand_inputs(args.paths):
        try:
            found = detect_file(path, args.method).to_dict()
        except ProvenanceError as exc:
            status = 1
            fail(exc)
            continue
        results.append({"path": str(path), **found})
        if not args.json:
            turned = mirrored_or_turned(found)
            copy = f", in a copy {turned}" if turned else ""
            what = f"payload {found['payload']}{copy}" if found["detected"] else "no watermark"
            print(f"{path}: {what} (confidence {found['confidence']}, {found['method']})")
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    return status
