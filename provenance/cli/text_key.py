"""`provenance text-key`: a key for the text watermark."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..text import TextWatermarkKey


def register(sub: argparse._SubParsersAction) -> None:
    tk = sub.add_parser("text-key", help="make a key for the text watermark")
    tk.add_argument("output", type=Path, help="where to write the key (mode 0600)")
    tk.add_argument("--gamma", type=float, default=0.25, help="green-list fraction")
    tk.add_argument("--delta", type=float, default=2.0, help="logit bias when generating")
    tk.add_argument("--force", action="store_true")
    tk.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    key = TextWatermarkKey.generate(gamma=args.gamma, delta=args.delta)
    key.save(args.output, replace=args.force)
    print(f"wrote text watermark key {key.key_id} to {args.output}")
    return 0
