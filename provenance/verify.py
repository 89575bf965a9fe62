"""Verify an asset: read its C2PA manifest with c2pa's Reader and produce a Verdict.

Orchestration only: reading is c2pa's, judgement is in ``verdict``. Each call makes its own
Reader and Context, so calls may run in parallel threads.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import c2pa

from .errors import InputError, MalformedAssetError, ManifestError, UnsupportedMediaError
from .media import media_type_of, read_input
from .trust import TrustPolicy
from .verdict import AIOrigin, Credentials, Verdict, ai_origin, credentials_from_store, summarize

_REMOTE = re.compile(r"remote manifests from url (\S+)", re.IGNORECASE)


def _read_store(
    data: bytes, media_type: str, policy: TrustPolicy, name: str
) -> tuple[dict | None, str | None, str | None]:
    """(manifest store JSON, validation state, remote URL) — (None, None, None) when absent."""
    try:
        with c2pa.Reader(media_type, io.BytesIO(data), None, policy.context()) as reader:
            return json.loads(reader.json()), reader.get_validation_state(), None
    except c2pa.C2paError.ManifestNotFound:
        return None, None, None
    except c2pa.C2paError as exc:
        text = str(exc)
        remote = _REMOTE.search(text)
        if remote:
            return None, None, remote.group(1)
        if isinstance(exc, c2pa.C2paError.NotSupported):
            raise UnsupportedMediaError(f"{name}: c2pa cannot read {media_type} ({text})") from exc
        if "could not be parsed" in text or "Invalid" in text or isinstance(exc, c2pa.C2paError.Io):
            raise MalformedAssetError(f"{name}: the file's structure is damaged ({text})") from exc
        raise ManifestError(
            f"{name}: the C2PA manifest cannot be read ({text})",
            hint="it may be from a pre-release or unsupported C2PA version",
        ) from exc


def verify(
    source: Path | str | bytes,
    *,
    policy: TrustPolicy | None = None,
    media_type: str | None = None,
    name: str | None = None,
) -> Verdict:
    """Verify a file (path) or content (bytes) and return its Verdict.

    Raises :class:`InputError` (and subclasses) when the input cannot be read or is not a
    supported type, :class:`ManifestError` when a manifest is present but unreadable.
    """
    if isinstance(source, bytes):
        data, path = source, None
    else:
        path = str(source)
        data = read_input(Path(source))
    if not data:
        raise InputError(f"{name or path or 'input'}: the content is empty")
    label = name or path or "content"
    media_type = media_type or media_type_of(data, label)
    store, state, remote_url = _read_store(data, media_type, policy or TrustPolicy(), label)
    if store is None:
        credentials = Credentials(
            present=False,
            remote_url=remote_url,
            failures=["manifest.inaccessible"] if remote_url else [],
        )
        ai = AIOrigin()
    else:
        credentials = credentials_from_store(store, state)
        ai = ai_origin(store)
    return Verdict(
        path=path,
        media_type=media_type,
        sha256=hashlib.sha256(data).hexdigest(),
        credentials=credentials,
        ai=ai,
        summary=summarize(credentials, ai),
    )
