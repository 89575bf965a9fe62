"""Errors as the command says them: one line on stderr, the library's hint in flag words."""

from __future__ import annotations

import sys

from ..errors import ProvenanceError, Remedy

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
    Remedy.NAME_REGISTRY: "they are recorded when `provenance sign` writes a watermark; give "
    "--registry, or use the bytes your signing code got from c2pa's Builder.sign",
    Remedy.ISSUE_WATERMARK_ID: "ask the service for an identifier (POST /v1/watermark-ids) and "
    "sign with --watermark-id",
    Remedy.READ_AS_TEXT: "to check it as text, use `provenance verify --text`, or name it .txt",
}


def worded(error: ProvenanceError) -> str:
    """An error as the command says it: its hint in flags where the library's is neutral."""
    return error.worded(CLI_HINTS)


def fail(error: ProvenanceError | str) -> None:
    """Say one error on stderr, as every command does."""
    text = worded(error) if isinstance(error, ProvenanceError) else error
    print(f"provenance: error: {text}", file=sys.stderr)
