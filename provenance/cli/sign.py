"""`provenance sign`: embed a signed C2PA manifest (and the watermark) into files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError, ProvenanceError
from ..label import DEFAULT_LABEL
from ..options import add_registry_option
from ..registry import ManifestRegistry, default_registry_location, redacted
from ..sign import PriorCredentials, SignOptions, SignResult, Thumbnail, sign_file
from ..watermark import parse_payload
from .errors import fail, worded
from .inputs import Progress, expand_inputs
from .options import add_signing_options, manifest_spec, signed_name, signing_credentials


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sign", help="embed a signed C2PA manifest declaring AI origin")
    s.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="files or directories")
    out = s.add_argument_group("output (default: NAME.signed.EXT beside each input)")
    out.add_argument("-o", "--output", type=Path, help="output file (one input only)")
    out.add_argument("--out-dir", type=Path, help="directory for the signed copies")
    out.add_argument("--in-place", action="store_true", help="replace the inputs themselves")
    out.add_argument("--force", action="store_true", help="replace existing output files")
    m = add_signing_options(s)
    m.add_argument("--ingredient", type=Path, help="a parent file this was made from")
    m.add_argument(
        "--drop-credentials",
        action="store_true",
        help="do not keep the credentials a file already carries (by default they become "
        "the parent ingredient, so the chain is kept)",
    )
    s.add_argument(
        "--label",
        nargs="?",
        const=DEFAULT_LABEL,
        default=None,
        metavar="TEXT",
        help=f"draw a visible label onto the image first (default text: {DEFAULT_LABEL!r})",
    )
    s.add_argument(
        "--thumbnail",
        choices=[t.value for t in Thumbnail],
        default=Thumbnail.SMALL.value,
        help="manifest thumbnail: small 256 px JPEG (default), full (c2pa's 1024 px), none",
    )
    s.add_argument(
        "--no-watermark",
        action="store_true",
        help="do not embed the invisible watermark (soft binding)",
    )
    s.add_argument(
        "--watermark-id",
        metavar="HEX",
        help="embed this identifier: one issued to you by the service you will register the "
        "manifest with (POST /v1/watermark-ids); default: a fresh random one",
    )
    add_registry_option(
        s,
        help="registry of signed manifests: a SQLite file or a postgresql:// URL (default: "
        f"$PROVENANCE_REGISTRY or {redacted(default_registry_location())})",
    )
    s.add_argument("--json", action="store_true", help="print the results as JSON")
    s.set_defaults(func=run)


def _output_for(source: Path, relative: Path, args: argparse.Namespace) -> Path:
    if args.in_place:
        return source
    if args.output:
        return Path(args.output)
    if args.out_dir:
        return Path(args.out_dir) / relative
    return signed_name(source)


def _without_own_outputs(
    inputs: list[tuple[Path, Path]], args: argparse.Namespace
) -> tuple[list[tuple[Path, Path]], int]:
    """The inputs less those that are another input's output, and how many were left out. A
    directory signed a second time holds the first run's outputs (NAME.signed.EXT beside each
    input, or an --out-dir inside it): signing them again wrote NAME.signed.signed.EXT."""
    if args.in_place:
        return inputs, 0
    outputs = {_output_for(source, relative, args).resolve() for source, relative in inputs}
    kept = [(source, relative) for source, relative in inputs if source.resolve() not in outputs]
    return kept, len(inputs) - len(kept)


def _credentials_words(prior: PriorCredentials) -> str:
    if prior.manifest_id is None:
        return "its unreadable credentials"
    by = f", signed by {prior.signer}" if prior.signer else ""
    more = len(prior.chain) - 1
    chain = f" and {more} earlier manifest{'s' if more != 1 else ''}" if more > 0 else ""
    invalid = f"; invalid: {', '.join(prior.failures)}" if prior.failures else ""
    return f"its credentials ({prior.manifest_id}{by}{chain}{invalid})"


def _what_was_kept(result: SignResult) -> str:
    """The tail of a `sign` output line: what the new manifest kept of the file's past."""
    parts = []
    if result.kept is not None:
        parts.append(f"kept {_credentials_words(result.kept)} as the parent")
    if result.dropped is not None:
        parts.append(f"dropped {_credentials_words(result.dropped)}, as asked")
    if result.watermark:
        kept = " kept (already in the pixels)" if result.watermark_kept else ""
        parts.append(f"watermark {result.watermark}{kept}")
    return f" ({'; '.join(parts)})" if parts else ""


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot create the directory ({exc.strerror})") from None


def run(args: argparse.Namespace) -> int:
    if sum(bool(x) for x in (args.output, args.out_dir, args.in_place)) > 1:
        raise OutputError("choose one of -o, --out-dir and --in-place")
    inputs, skipped = _without_own_outputs(expand_inputs(args.inputs), args)
    if skipped:
        print(f"skipped {skipped} file(s) that are the outputs of other inputs", file=sys.stderr)
    if not inputs:
        raise InputError("no input files found")
    if args.output and len(inputs) > 1:
        raise OutputError("-o names one output; use --out-dir for several inputs")
    if args.watermark_id is not None and len(inputs) > 1:
        raise InputError("--watermark-id names one image's identifier; sign one input with it")
    credentials = signing_credentials(args)
    options = SignOptions(
        manifest=manifest_spec(args),
        ingredient=args.ingredient,
        label=args.label,
        thumbnail=Thumbnail(args.thumbnail),
        tsa_url=args.tsa,
        watermark=not args.no_watermark,
        watermark_id=None if args.watermark_id is None else parse_payload(args.watermark_id),
        drop_credentials=args.drop_credentials,
    )
    registry = None if args.no_watermark else ManifestRegistry(args.registry)
    results: list[dict[str, Any]] = []
    failed = 0
    progress = Progress(len(inputs))
    # One Signer for the whole batch: this loop is single-threaded.
    with credentials.signer(args.tsa) as signer:
        for source, relative in inputs:
            output = _output_for(source, relative, args)
            try:
                _make_dir(output.parent)
                result = sign_file(
                    source,
                    output,
                    credentials,
                    options,
                    overwrite=args.in_place or args.force,
                    signer=signer,
                    registry=registry,
                )
                results.append(result.to_dict())
                if not args.json:
                    progress.clear()
                    print(f"signed  {source} -> {output}{_what_was_kept(result)}")
                    for note in result.notes:
                        print(f"        note: {note}")
            except ProvenanceError as exc:
                failed += 1
                results.append({"input": str(source), "error": worded(exc)})
                progress.clear()
                fail(exc)
            progress.step(str(source))
    progress.close()
    if args.json:
        print(json.dumps(results if len(results) != 1 else results[0], indent=2))
    print(
        f"Signed {len(inputs) - failed} of {len(inputs)} file(s)"
        + (f"; {failed} failed." if failed else "."),
        file=sys.stderr,
    )
    return 1 if failed else 0
