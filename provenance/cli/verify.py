"""`provenance verify`: check Content Credentials and say whether the content is AI-made."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import ProvenanceError
from ..media import TEXT
from ..options import (
    add_registry_option,
    add_text_watermark_option,
    add_trust_options,
    policy,
    text_detectors,
)
from ..registry import existing_registry
from ..verdict import Evidence, Scope, Source, Verdict, mirrored_or_turned, percent
from ..verify import verify
from .errors import fail, worded
from .inputs import expand_inputs


def register(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("verify", help="check Content Credentials and report AI origin")
    v.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    v.add_argument("--json", action="store_true", help="print the verdict as JSON")
    add_trust_options(v)
    v.add_argument(
        "--allow-remote",
        action="store_true",
        help="fetch manifests that files reference by URL (off: privacy, SSRF)",
    )
    add_registry_option(
        v,
        help="registry for recovery through the watermark (default: "
        "$PROVENANCE_REGISTRY, or the per-user registry when it exists)",
    )
    v.add_argument(
        "--text",
        action="store_true",
        help="read the inputs as text (.txt and .md are recognised anyway)",
    )
    add_text_watermark_option(
        v,
        help="test text for a language-model watermark: key file = tokenizer.json (repeatable)",
    )
    v.set_defaults(func=run)


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
    if c.remote_url and not c.present:
        # The summary, shared by every face, cannot name a flag; the terminal says which one
        # fetches the manifest, and where from, so the user can decide whether to.
        lines.append(f"  remote       {c.remote_url} (not fetched; --allow-remote fetches it)")
    if c.source in (Source.WATERMARK, Source.FINGERPRINT):
        # How far the copy agrees, as --json and the reader's page give it: an edit confined to
        # the blocks the test tolerates recovers too, and only this number shows it.
        agrees = (
            f"; {percent(c.similarity)} of it agrees with the registered image"
            if c.similarity is not None
            else ""
        )
        lines.append(
            f"  recovered    from the registry, through the {c.source} (not embedded{agrees})"
        )
    if verdict.watermark:
        w = verdict.watermark
        turned = mirrored_or_turned(w)
        found = f"found, payload {w['payload']}" + (f", in a copy {turned}" if turned else "")
        lines.append(f"  watermark    {found if w['detected'] else 'none'}")
    elif verdict.watermark_skipped:
        lines.append(f"  watermark    not looked for: {verdict.watermark_skipped}")
    for m in verdict.matches:
        # Who signed the registered credentials, as --json gives it: without it the terminal
        # named only an opaque manifest id. Its trust is not judged here (nothing was applied).
        by = f"; registered by {m.signer}, not checked here" if m.signer else ""
        why = f"; a region of about {percent(m.edited)} differs" if m.edited else ""
        if m.added:
            why += f"; about {percent(m.added)} of it lies outside the registered image"
        lines.append(
            f"  possible     {m.manifest_id} ({m.kind}, similarity {percent(m.similarity)}"
            f"{why}{by})"
        )
    generated = {True: "yes", False: "not declared", None: "unknown"}[ai.generated]
    if ai.claimed:
        generated = "claimed (the credentials are invalid)"
    elif ai.generated and Evidence.DESCRIPTION in ai.evidence and Evidence.C2PA not in ai.evidence:
        generated = f'yes, in words only ("{ai.description}")'
    elif ai.generated is None and ai.scope == Scope.PART:
        generated = "unknown: a synthetic element, not said to be AI"
    scope = f" ({ai.scope})" if ai.scope else ""
    types = ", ".join(t.rsplit("/", 1)[-1] for t in ai.source_types)
    lines.append(
        f"  AI-generated {generated}{scope}" + (f"; source types: {types}" if types else "")
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    trust = policy(args, allow_remote=args.allow_remote)
    verdicts: list[dict[str, Any]] = []
    status = 0
    registry = existing_registry(args.registry)
    detectors = text_detectors(args)
    for path, _ in expand_inputs(args.paths):
        try:
            verdict = verify(
                path,
                policy=trust,
                registry=registry,
                text_detectors=detectors,
                media_type=TEXT if args.text else None,
            )
        except ProvenanceError as exc:
            status = 1
            fail(exc)
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
