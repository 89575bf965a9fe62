"""The `provenance` command: argument parsing and rendering only; the work is the library's."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .credentials import KeyAlg, SigningCredentials, default_keys_dir, init_keys
from .errors import InputError, OutputError, ProvenanceError, Remedy
from .files import atomic_write, write_output
from .inspect import inspect_file
from .label import DEFAULT_LABEL, encode_like
from .manifest import ManifestSpec
from .media import EMBEDDABLE, TEXT, is_text, media_type_of, open_image, read_input
from .sign import PriorCredentials, SignOptions, SignResult, Thumbnail, sign_file
from .store import ManifestStore, default_store_path, is_postgres_url, redacted, store_location
from .store.pending import PendingStore
from .text import TextWatermarkKey
from .text.manifest import sign_text
from .trust import TrustPolicy
from .trustlists import active_dir, defaults_enabled, load_lists, update_lists
from .verdict import Verdict
from .verify import TextDetector, verify
from .watermark import METHODS, detect_bytes, embed_image, parse_payload

#: File extensions picked up when a directory is given.
_MEDIA_SUFFIXES = frozenset(EMBEDDABLE.values()) | {".jpeg", ".tiff"}


#: The next step of a library error in the command's words (its flags and commands); the
#: library's hints are neutral, and the server words them for HTTP (extension_api.errors).
CLI_HINTS: dict[Remedy, str] = {
    Remedy.REPLACE_OUTPUT: "use --force to replace it",
    Remedy.REPLACE_INPUT: "use --in-place to replace the input",
    Remedy.REPLACE_KEYS: "use --force to replace them, or --dir to write somewhere else",
    Remedy.MAKE_KEYS: "run `provenance keys init` first, or pass --cert and --key",
    Remedy.CERT_WITH_KEY: "give both --cert and --key, or neither",
    Remedy.DROP_CREDENTIALS: "sign it with --drop-credentials to replace them (they are then lost)",
    Remedy.DROP_CREDENTIALS_FOR_INGREDIENT: "add --drop-credentials to record only --ingredient "
    "as the parent",
    Remedy.NO_LABEL: "sign it without --label",
    Remedy.INSTALL_TRUST_LISTS: "run `provenance trust update --from DIR` or unset "
    "$PROVENANCE_TRUST_LISTS",
    Remedy.ISSUE_WATERMARK_ID: "ask the service for an identifier (POST /v1/watermark-ids) and "
    "sign with --watermark-id",
}


def worded(error: ProvenanceError) -> str:
    """An error as the command says it: its hint in flags where the library's is neutral."""
    return error.worded(CLI_HINTS)


def _fail(error: ProvenanceError | str) -> None:
    text = worded(error) if isinstance(error, ProvenanceError) else error
    print(f"provenance: error: {text}", file=sys.stderr)


def expand_inputs(inputs: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(file, path relative to what was given) for each file; directories recursively."""
    found: list[tuple[Path, Path]] = []
    for given in inputs:
        if given.is_dir():
            for path in sorted(given.rglob("*")):
                hidden = any(part.startswith(".") for part in path.relative_to(given).parts)
                if path.is_file() and not hidden and path.suffix.lower() in _MEDIA_SUFFIXES:
                    found.append((path, path.relative_to(given)))
        else:
            found.append((given, Path(given.name)))
    return found


class Progress:
    """A one-line progress bar on stderr, shown only on a terminal and for several files."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.enabled = total > 1 and stream.isatty()

    def step(self, name: str) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {name[-40:]:<40}")
            self.stream.flush()

    def clear(self) -> None:
        """Blank the bar so that a message can take the line."""
        if self.enabled:
            self.stream.write("\r" + " " * 80 + "\r")

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


# -- keys ---------------------------------------------------------------------------------------


def cmd_keys_init(args: argparse.Namespace) -> int:
    paths = init_keys(args.dir, alg=args.alg, org=args.org, force=args.force)
    print(f"Wrote a development certificate chain ({args.alg}) to {paths.dir}:")
    print(f"  {paths.chain.name:<10} signer + intermediate certificates")
    print(f"  {paths.key.name:<10} the signer's private key (readable by you only)")
    print(f"  {paths.root.name:<10} the root certificate: give it to verifiers (--trust)")
    print("These keys are for development; a public service needs a certificate from a CA on")
    print("the C2PA trust list.")
    return 0


# -- sign ---------------------------------------------------------------------------------------


def _output_for(source: Path, relative: Path, args: argparse.Namespace) -> Path:
    if args.in_place:
        return source
    if args.output:
        return Path(args.output)
    if args.out_dir:
        return Path(args.out_dir) / relative
    return source.with_name(f"{source.stem}.signed{source.suffix}")


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


def cmd_sign(args: argparse.Namespace) -> int:
    if sum(bool(x) for x in (args.output, args.out_dir, args.in_place)) > 1:
        raise OutputError("choose one of -o, --out-dir and --in-place")
    inputs = expand_inputs(args.inputs)
    if not inputs:
        raise InputError("no input files found")
    if args.output and len(inputs) > 1:
        raise OutputError("-o names one output; use --out-dir for several inputs")
    if args.watermark_id is not None and len(inputs) > 1:
        raise InputError("--watermark-id names one image's identifier; sign one input with it")
    credentials = SigningCredentials.load(args.cert, args.key, keys_dir=args.keys)
    options = SignOptions(
        manifest=ManifestSpec(
            generator=args.generator,
            model=args.model,
            source_type=args.source_type,
            title=args.title,
            author=args.author,
        ),
        ingredient=args.ingredient,
        label=args.label,
        thumbnail=Thumbnail(args.thumbnail),
        tsa_url=args.tsa,
        watermark=not args.no_watermark,
        watermark_id=None if args.watermark_id is None else parse_payload(args.watermark_id),
        drop_credentials=args.drop_credentials,
    )
    store = None if args.no_watermark else ManifestStore(args.store)
    results: list[dict[str, Any]] = []
    failed = 0
    progress = Progress(len(inputs))
    # One Signer for the whole batch: this loop is single-threaded.
    with credentials.signer(args.tsa) as signer:
        for source, relative in inputs:
            output = _output_for(source, relative, args)
            try:
                _make_dir(output.parent)
                result: SignResult = sign_file(
                    source,
                    output,
                    credentials,
                    options,
                    overwrite=args.in_place or args.force,
                    signer=signer,
                    store=store,
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
                _fail(exc)
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


# -- sign-text ----------------------------------------------------------------------------------


def cmd_sign_text(args: argparse.Namespace) -> int:
    data = read_input(args.input)
    if not is_text(data):
        raise InputError(f"{args.input}: not UTF-8 text")
    credentials = SigningCredentials.load(args.cert, args.key, keys_dir=args.keys)
    spec = ManifestSpec(
        generator=args.generator,
        model=args.model,
        source_type=args.source_type,
        title=args.title,
        author=args.author,
    )
    output = args.output or args.input.with_name(f"{args.input.stem}.signed{args.input.suffix}")
    if output.exists() and not args.force:  # before signing: a refusal costs nothing
        raise OutputError(f"{output}: already exists", remedy=Remedy.REPLACE_OUTPUT)
    # Registered only with the file (see PendingStore): a failed write leaves no store row.
    pending = None if args.no_store else PendingStore(ManifestStore(args.store))
    signed = sign_text(
        data.decode("utf-8"),
        credentials,
        spec,
        title=args.input.name,
        tsa_url=args.tsa,
        store=pending.as_store() if pending else None,
    )
    try:
        write_output(
            output,
            signed.text.encode("utf-8"),
            replace=args.force,
            before_commit=pending.commit if pending else None,
        )
    except BaseException:
        if pending is not None:
            pending.rollback()
        raise
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


# -- verify -------------------------------------------------------------------------------------


def render_verdict(verdict: Verdict) -> str:
    """The verdict for a terminal: the summary first, then the key fields."""
    c, ai = verdict.credentials, verdict.ai
    lines = [f"{verdict.path or 'content'}  ({verdict.media_type})", f"  {verdict.summary}"]
    if c.source:
        signer = c.signer
        who = f"{signer.issuer or '?'} / {signer.common_name or '?'}" if signer else "unknown"
        listed = f" (trust list: {c.trust_list})" if c.trust_list else ""
        lines.append(f"  credentials  {c.state}{listed}; signer {who}")
        lines.append(
            f"  signed at    {c.signed_at or 'no trusted timestamp'}"
            + (f"; declared created {c.created_at}" if c.created_at else "")
        )
        lines.append(f"  generator    {c.generator or 'not named'}")
        lines.append(f"  manifest     {c.manifest_id}")
        if c.failures:
            lines.append(f"  failures     {', '.join(c.failures)}")
        for ing in c.ingredients:
            if ing.failures:
                title = ing.title or "untitled"
                lines.append(f"  ingredient   {title}: {', '.join(ing.failures)}")
        if c.ingredient_failures and not any(i.failures for i in c.ingredients):
            lines.append(f"  ingredients  {', '.join(c.ingredient_failures)}")
    if c.source in ("watermark", "fingerprint"):
        lines.append(
            f"  recovered    from the manifest store, through the {c.source} (not embedded)"
        )
    if verdict.watermark:
        w = verdict.watermark
        lines.append(
            f"  watermark    {'found, payload ' + str(w['payload']) if w['detected'] else 'none'}"
        )
    for m in verdict.matches:
        lines.append(f"  possible     {m.manifest_id} ({m.kind}, similarity {m.similarity:.0%})")
    generated = {True: "yes", False: "not declared", None: "unknown"}[ai.generated]
    if ai.claimed:
        generated = "claimed (the credentials are invalid)"
    elif ai.generated and "c2pa-description" in ai.evidence and "c2pa" not in ai.evidence:
        generated = f'yes, in words only ("{ai.description}")'
    elif ai.generated is None and ai.scope == "part":
        generated = "unknown: a synthetic element, not said to be AI"
    scope = f" ({ai.scope})" if ai.scope else ""
    types = ", ".join(t.rsplit("/", 1)[-1] for t in ai.source_types)
    lines.append(
        f"  AI-generated {generated}{scope}" + (f"; source types: {types}" if types else "")
    )
    return "\n".join(lines)


def _policy(args: argparse.Namespace, *, allow_remote: bool = False) -> TrustPolicy:
    """The trust of `verify`, `serve` and `inspect`: one reading of flags and environment."""
    return TrustPolicy.from_env(
        args.trust,
        trust_config=args.trust_config,
        allow_remote=allow_remote,
        default_lists=False if args.no_default_trust else None,
    )


def cmd_verify(args: argparse.Namespace) -> int:
    policy = _policy(args, allow_remote=args.allow_remote)
    verdicts: list[dict[str, Any]] = []
    status = 0
    store = _existing_store(args.store)
    detectors = TextDetector.from_env(args.text_watermark)
    for path, _ in expand_inputs(args.paths):
        try:
            verdict = verify(
                path,
                policy=policy,
                store=store,
                text_detectors=detectors,
                media_type=TEXT if args.text else None,
            )
        except ProvenanceError as exc:
            status = 1
            _fail(exc)
            if args.json:
                verdicts.append({"path": str(path), "error": worded(exc)})
            continue
        if args.json:
            verdicts.append(verdict.to_dict())
        else:
            print(render_verdict(verdict))
    if args.json:
        print(
            json.dumps(
                verdicts[0] if len(args.paths) == 1 and len(verdicts) == 1 else verdicts, indent=2
            )
        )
    return status


def _existing_store(location: str | Path | None) -> ManifestStore | None:
    """The store to look in: the one named, else the default one if it exists (a
    ``postgresql://`` URL always does). Looking never creates a SQLite store (a mistyped
    --store made an empty one, with its directories)."""
    if location is not None:
        if not is_postgres_url(str(location)) and not Path(location).is_file():
            raise InputError(
                f"{location}: no manifest store there",
                hint="give the store that signing wrote to",
            )
        return ManifestStore(location)
    default = default_store_path()
    return ManifestStore(default) if isinstance(default, str) or default.exists() else None


# -- watermark ----------------------------------------------------------------------------------


def cmd_watermark_embed(args: argparse.Namespace) -> int:
    identifier = parse_payload(args.payload)
    data = read_input(args.input)
    media_type = media_type_of(data, str(args.input))
    original = open_image(data, str(args.input))
    marked = embed_image(original, identifier, args.method)
    out_type = media_type_of(b"", str(args.output)) if args.output.suffix else media_type
    write_output(args.output, encode_like(marked, out_type, original), replace=args.force)
    print(f"embedded payload {identifier:010x} into {args.output} ({args.method})")
    return 0


def cmd_watermark_detect(args: argparse.Namespace) -> int:
    results: list[dict[str, Any]] = []
    status = 0
    for path, _ in expand_inputs(args.paths):
        try:
            found = detect_bytes(read_input(path), str(path), args.method).to_dict()
        except ProvenanceError as exc:
            status = 1
            _fail(exc)
            continue
        results.append({"path": str(path), **found})
        if not args.json:
            what = f"payload {found['payload']}" if found["detected"] else "no watermark"
            print(f"{path}: {what} (confidence {found['confidence']}, {found['method']})")
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    return status


def cmd_text_key(args: argparse.Namespace) -> int:
    key = TextWatermarkKey.generate(gamma=args.gamma, delta=args.delta)
    try:
        atomic_write(args.output, key.to_text().encode(), mode=0o600, replace=args.force)
    except FileExistsError:
        raise OutputError(f"{args.output} exists", remedy=Remedy.REPLACE_OUTPUT) from None
    print(f"wrote text watermark key {key.key_id} to {args.output}")
    return 0


# -- inspect ------------------------------------------------------------------------------------


def cmd_inspect(args: argparse.Namespace) -> int:
    found = inspect_file(args.path, policy=_policy(args))
    if found.text_binding:
        print(
            "note: c2pa cannot hash a text, so its report reads assertion.dataHash.mismatch; "
            f"the text binding, checked as `verify` does: {found.text_binding}",
            file=sys.stderr,
        )
    if args.export_manifest:
        _export_manifest(found.active_manifest, args.export_manifest, args.store, args.force)
    if args.tree:
        print("\n".join(found.tree().lines()))
    elif args.certs:
        print(json.dumps(found.certificates, indent=2))
    elif not args.export_manifest:
        print(json.dumps(found.detailed if args.detailed else found.report, indent=2))
    return 0


def _export_manifest(
    manifest_id: str | None, output: Path, store_path: str | Path | None, force: bool
) -> None:
    """Write the manifest store bytes recorded for ``manifest_id`` (what POST /v1/manifests
    wants). They come from the manifest store: c2pa-python offers no way to extract embedded
    manifest bytes, and this project does not parse JUMBF itself."""
    store = _existing_store(store_path)
    record = store.by_manifest_id(manifest_id) if store and manifest_id else None
    if record is None:
        raise InputError(
            f"the manifest store bytes of {manifest_id} are not in "
            f"{redacted(store_path or default_store_path())}",
            hint="they are recorded when `provenance sign` writes a watermark; give --store, "
            "or use the bytes your signing code got from c2pa's Builder.sign",
        )
    if output.is_dir():
        raise OutputError(f"{output} is a directory", hint="name the file to write")
    try:
        atomic_write(output, record.manifest_store, replace=force)
    except FileExistsError:
        raise OutputError(f"{output} exists", remedy=Remedy.REPLACE_OUTPUT) from None
    except OSError as exc:
        raise OutputError(f"{output}: cannot write ({exc.strerror})") from exc
    print(
        f"wrote the manifest store of {manifest_id} "
        f"({len(record.manifest_store)} bytes) to {output}"
    )


# -- trust --------------------------------------------------------------------------------------


def cmd_trust_show(args: argparse.Namespace) -> int:
    lists = load_lists()
    enabled = defaults_enabled()
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
    if args.json:
        print(json.dumps({"default_trust": enabled, "lists": rows}, indent=2))
        return 0
    print(
        f"Trust lists in {active_dir()}"
        + ("" if enabled else " (turned off by $PROVENANCE_DEFAULT_TRUST)")
    )
    for r in rows:
        counts = f"{r['anchors']} anchors"
        counts += f", {r['tsa_anchors']} TSA anchors" if r["tsa_anchors"] else ""
        counts += (
            f", {r['allowed_end_entities']} allowed end-entity certificates"
            if r["allowed_end_entities"]
            else ""
        )
        print(f"  {r['name']:<8} {r['title']}")
        print(f"           {counts}")
        print(f"           version {r['version'] or '?'}; dated {r['date'] or '?'}")
        print(f"           source  {r['source']}")
        print(f"           licence {r['licence']}")
    return 0


def cmd_trust_update(args: argparse.Namespace) -> int:
    target = update_lists(args.source, target=args.dir)
    print(f"Installed the trust lists from {args.source} into {target}:")
    for lst in load_lists(target):
        print(f"  {lst.name:<8} {lst.anchor_count} anchors ({lst.version or 'no version'})")
    return 0


# -- serve --------------------------------------------------------------------------------------


def serve_settings(args: argparse.Namespace) -> Any:
    """The server's Settings from `serve`'s flags over the environment (tested flag by flag)."""
    # The server is a separate package over this library; imported only when asked for.
    from extension_api import Settings

    return Settings.from_env(
        host=args.host,
        port=args.port,
        store_path=args.store,
        trust=_policy(args),
        text_detectors=tuple(TextDetector.from_env(args.text_watermark)),
        api_keys=tuple(args.api_key),
        workers=args.workers,
        threads=args.threads,
        cache_ttl=args.cache_ttl,
        trusted_proxies=tuple(args.trusted_proxy),
        rate_limit=args.rate_limit,
        request_timeout=args.request_timeout,
        cache_size=args.cache_size,
        cors_origins=tuple(args.cors_origin),
        fetch_allow=tuple(args.fetch_allow),
        max_body=int(args.max_body_mb * 1024 * 1024) if args.max_body_mb else None,
        queue=args.queue,
        max_pixels=int(args.max_megapixels * 1_000_000) if args.max_megapixels else None,
        max_text_bytes=int(args.max_text_mb * 1024 * 1024) if args.max_text_mb else None,
        max_connections=args.max_connections,
        shutdown_timeout=args.shutdown_timeout,
        max_inflight_body=int(args.max_inflight_mb * 1024 * 1024) if args.max_inflight_mb else None,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from extension_api import run

    run(serve_settings(args))
    return 0


# -- demo ---------------------------------------------------------------------------------------


def _sample() -> Path:
    # Shipped inside the package, so the demo also runs from an installed wheel.
    return Path(str(files("provenance") / "data" / "astronaut.jpg"))


def cmd_demo(args: argparse.Namespace) -> int:
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="provenance-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    keys = init_keys(workdir / "keys", org="Provenance Demo", force=True)
    print(f"1. Made a development certificate chain in {keys.dir}")
    sample = _sample()
    signed = workdir / "astronaut.signed.jpg"
    credentials = SigningCredentials.load(keys_dir=keys.dir)
    store = ManifestStore(workdir / "manifests.sqlite3")
    options = SignOptions(ManifestSpec(generator="Demo Diffusion", model="1.0"))
    result = sign_file(sample, signed, credentials, options, overwrite=True, store=store)
    print(f"2. Watermarked and signed {sample.name} as AI-generated: {signed}")
    policy = TrustPolicy.from_files([keys.root])
    verdict = verify(signed, policy=policy, store=store)
    print(f"3. Verified it, trusting {keys.root.name}:\n")
    print(render_verdict(verdict))
    stripped = workdir / "astronaut.uploaded.jpg"
    with open_image(signed.read_bytes(), str(signed)) as image:
        image.save(stripped, format="JPEG", quality=75)  # what an upload pipeline does
    recovered = verify(stripped, policy=policy, store=store)
    print(
        f"\n4. Stripped the metadata and re-encoded it as JPEG 75 (watermark {result.watermark}),"
        " then verified again:\n"
    )
    print(render_verdict(recovered))
    if not args.keep and not args.dir:
        shutil.rmtree(workdir, ignore_errors=True)
    ok = (
        verdict.credentials.state == "Trusted"
        and verdict.ai.generated is True
        and recovered.credentials.recovered
    )
    return 0 if ok else 1


# -- parser -------------------------------------------------------------------------------------


def _signing_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The key and manifest options that `sign` and `sign-text` share."""
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


def _trust_options(parser: argparse.ArgumentParser) -> None:
    """The trust flags `verify`, `serve` and `inspect` share."""
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provenance",
        description="Tag AI-generated content with signed Content Credentials (C2PA) "
        "and verify them.",
    )
    parser.add_argument("--version", action="version", version=f"provenance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

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
    init.set_defaults(func=cmd_keys_init)

    s = sub.add_parser("sign", help="embed a signed C2PA manifest declaring AI origin")
    s.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="files or directories")
    out = s.add_argument_group("output (default: NAME.signed.EXT beside each input)")
    out.add_argument("-o", "--output", type=Path, help="output file (one input only)")
    out.add_argument("--out-dir", type=Path, help="directory for the signed copies")
    out.add_argument("--in-place", action="store_true", help="replace the inputs themselves")
    out.add_argument("--force", action="store_true", help="replace existing output files")
    m = _signing_options(s)
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
        default="small",
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
    s.add_argument(
        "--store",
        type=store_location,
        help="manifest store: a SQLite file or a postgresql:// URL (default: "
        f"$PROVENANCE_STORE or {redacted(default_store_path())})",
    )
    s.add_argument("--json", action="store_true", help="print the results as JSON")
    s.set_defaults(func=cmd_sign)

    st = sub.add_parser("sign-text", help="append a signed C2PA manifest to a text (A.7)")
    st.add_argument("input", type=Path)
    st.add_argument("-o", "--output", type=Path, help="default: NAME.signed.EXT beside the input")
    st.add_argument("--force", action="store_true", help="replace an existing output")
    st.add_argument("--store", type=store_location, help="manifest store (default as for sign)")
    st.add_argument(
        "--no-store",
        action="store_true",
        help="do not register the text's fingerprint in the manifest store",
    )
    _signing_options(st)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_sign_text)

    v = sub.add_parser("verify", help="check Content Credentials and report AI origin")
    v.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    v.add_argument("--json", action="store_true", help="print the verdict as JSON")
    _trust_options(v)
    v.add_argument(
        "--allow-remote",
        action="store_true",
        help="fetch manifests that files reference by URL (off: privacy, SSRF)",
    )
    v.add_argument(
        "--store",
        type=store_location,
        help="manifest store for recovery through the watermark (default: "
        "$PROVENANCE_STORE, or the per-user store when it exists)",
    )
    v.add_argument(
        "--text",
        action="store_true",
        help="read the inputs as text (.txt and .md are recognised anyway)",
    )
    v.add_argument(
        "--text-watermark",
        action="append",
        default=[],
        metavar="KEY=TOKENIZER",
        help="test text for a language-model watermark: key file = tokenizer.json (repeatable)",
    )
    v.set_defaults(func=cmd_verify)

    tk = sub.add_parser("text-key", help="make a key for the text watermark")
    tk.add_argument("output", type=Path, help="where to write the key (mode 0600)")
    tk.add_argument("--gamma", type=float, default=0.25, help="green-list fraction")
    tk.add_argument("--delta", type=float, default=2.0, help="logit bias when generating")
    tk.add_argument("--force", action="store_true")
    tk.set_defaults(func=cmd_text_key)

    wm = sub.add_parser("watermark", help="embed or detect the invisible watermark alone")
    wsub = wm.add_subparsers(dest="watermark_command", required=True)
    we = wsub.add_parser("embed", help="embed a payload into an image")
    we.add_argument("input", type=Path)
    we.add_argument("output", type=Path)
    we.add_argument("--payload", required=True, metavar="HEX", help="40-bit identifier (hex)")
    we.add_argument("--method", choices=METHODS, default="ssw")
    we.add_argument("--force", action="store_true", help="replace an existing output")
    we.set_defaults(func=cmd_watermark_embed)
    wd = wsub.add_parser("detect", help="look for a watermark")
    wd.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    wd.add_argument("--method", choices=METHODS, default="ssw")
    wd.add_argument("--json", action="store_true")
    wd.set_defaults(func=cmd_watermark_detect)

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
    ins.add_argument(
        "--store", type=store_location, help="manifest store to export from (default as for verify)"
    )
    ins.add_argument("--force", action="store_true", help="replace an existing export file")
    _trust_options(ins)
    ins.set_defaults(func=cmd_inspect)

    tr = sub.add_parser("trust", help="show or update the bundled C2PA trust lists")
    trs = tr.add_subparsers(dest="trust_command", required=True)
    ts = trs.add_parser("show", help="versions, counts, dates and sources of the trust lists")
    ts.add_argument("--json", action="store_true")
    ts.set_defaults(func=cmd_trust_show)
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
    tu.set_defaults(func=cmd_trust_update)

    sv = sub.add_parser("serve", help="run the verification API (see extension_api/settings.py)")
    sv.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default 8787)")
    sv.add_argument("--store", type=store_location, help="manifest store (default as for sign)")
    _trust_options(sv)
    sv.add_argument(
        "--api-key",
        action="append",
        default=[],
        help="key allowed to POST /v1/manifests (repeatable)",
    )
    sv.add_argument("--workers", type=int, help="server processes sharing the port (default 1)")
    sv.add_argument("--threads", type=int, help="worker processes per server process for CPU work")
    sv.add_argument(
        "--queue", type=int, help="calls that may wait for a worker (beyond: 503 at once)"
    )
    sv.add_argument("--max-megapixels", type=float, help="pixels one image may have (50)")
    sv.add_argument("--max-text-mb", type=float, help="text one request may submit, MiB (1)")
    sv.add_argument(
        "--max-connections", type=int, help="open connections; past it the oldest closes"
    )
    sv.add_argument(
        "--shutdown-timeout", type=float, help="seconds in-flight requests get on SIGTERM (30)"
    )
    sv.add_argument(
        "--max-inflight-mb", type=float, help="request bodies in memory at once, MiB (4x body)"
    )
    sv.add_argument("--rate-limit", type=float, help="requests/s per client (0: off)")
    sv.add_argument("--request-timeout", type=float, help="seconds per request")
    sv.add_argument("--cache-size", type=int, help="verdicts cached by SHA-256 (0: off)")
    sv.add_argument("--cache-ttl", type=float, help="seconds a cached verdict is kept")
    sv.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="reverse proxy (address or network) whose X-Forwarded-For names the client",
    )
    sv.add_argument("--max-body-mb", type=float, help="largest request body, MiB")
    sv.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        help="web origin allowed by CORS (extensions always are)",
    )
    sv.add_argument(
        "--fetch-allow",
        action="append",
        default=[],
        help="host or network verify-url may reach despite the SSRF rules",
    )
    sv.add_argument(
        "--text-watermark",
        action="append",
        default=[],
        metavar="KEY=TOKENIZER",
        help="text watermark key file = tokenizer.json (repeatable)",
    )
    sv.set_defaults(func=cmd_serve)

    d = sub.add_parser("demo", help="make keys, sign a sample, verify it")
    d.add_argument("--dir", type=Path, help="keep the demo's files here")
    d.add_argument("--keep", action="store_true", help="keep the temporary directory")
    d.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ProvenanceError as exc:
        _fail(exc)
        return 1
    except OSError as exc:  # one line, never a traceback, for what the OS refused
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`provenance inspect x | head`): stop quietly, as other tools do;
        # stdout goes to devnull so that the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
