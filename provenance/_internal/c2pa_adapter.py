"""The one module that calls c2pa-python: every Reader, Builder, Signer and Context is made
here, c2pa's exceptions become the project's errors here, and nothing else imports ``c2pa``
(``tests/test_layout.py`` checks it).

Why one place: c2pa-python's API is young and changes between releases, and text signing
reaches into its private native bindings. Keeping all of that behind a few functions means a
c2pa upgrade is reviewed in one file, and a change there breaks one feature with a clear error
instead of ``import provenance``.

Vocabulary is c2pa-python's: a *manifest store* (the JUMBF bytes), a *manifest* (one claim in
it, the active one last signed), a *Reader* report (the JSON c2pa makes of a manifest store),
a *signer*, an *ingredient*, an *assertion*.
"""

from __future__ import annotations

import ctypes
import enum
import functools
import importlib.metadata
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import c2pa
from c2pa import Context, Signer

from ..errors import (
    KeysError,
    MalformedAssetError,
    ManifestError,
    ProvenanceError,
    RemoteManifestError,
    SigningError,
    UnsupportedMediaError,
)

__all__ = [
    "Context",
    "Ingredient",
    "ManifestReport",
    "Signer",
    "create_signer",
    "new_context",
    "read",
    "read_manifest_store",
    "read_thumbnail",
    "reason",
    "sign_asset",
    "sign_data_hashed",
]

#: The media type c2pa reads a bare manifest store (JUMBF) as.
MANIFEST_STORE = "application/c2pa"
#: c2pa-python releases whose bundled native library exports the data-hashed signing functions
#: text signing calls (pyproject.toml pins the same range).
DATA_HASH_VERSIONS = "c2pa-python >=0.38.1,<0.39"
#: c2pa's typed errors: attached to C2paError when c2pa-python is imported, so its annotations
#: (which mypy reads: pyproject.toml) do not show them.
_MANIFEST_NOT_FOUND: type[c2pa.C2paError] = c2pa.C2paError.ManifestNotFound  # type: ignore[attr-defined]
_NOT_SUPPORTED: type[c2pa.C2paError] = c2pa.C2paError.NotSupported  # type: ignore[attr-defined]
_IO_ERROR: type[c2pa.C2paError] = c2pa.C2paError.Io  # type: ignore[attr-defined]

#: c2pa reports a manifest it would have to download only in its message.
_REMOTE = re.compile(r"remote manifests from url (\S+)", re.IGNORECASE)


class _Step(enum.Enum):
    """What c2pa was asked to do when it failed: decides which of our errors it becomes."""

    READ = "read"
    SIGN = "embed a manifest in"
    SIGNER = "make a signer"


def _mapped(exc: Exception, name: str, step: _Step) -> ProvenanceError:
    """The project's error for a c2pa failure: the one place c2pa's exceptions (classes and
    message texts) are interpreted. Problems with the asset itself (a type c2pa does not
    support, a structure it cannot parse) are input errors whatever the step."""
    text = str(exc)
    if step is _Step.SIGNER:
        return KeysError(f"c2pa refused the signing credentials: {text}")
    if step is _Step.READ and (remote := _REMOTE.search(text)):
        return RemoteManifestError(
            f"{name}: the C2PA manifest cannot be read ({text})",
            url=remote.group(1),
            hint="it is stored online, and this reader does not fetch remote manifests",
        )
    if isinstance(exc, _NOT_SUPPORTED) or "not supported" in text.lower():
        # The type c2pa was given is one it supports, so the bytes do not look like that type:
        # named by its extension when no signature was recognised (random bytes named .jpg).
        return UnsupportedMediaError(
            f"{name}: c2pa cannot {step.value} this file ({text})",
            hint="its content is not in the format its name or type says: the file may be "
            "damaged, or not a media file",
        )
    if "could not be parsed" in text or isinstance(exc, _IO_ERROR):
        return MalformedAssetError(f"{name}: the file's structure is damaged ({text})")
    if step is _Step.SIGN:
        return SigningError(f"{name}: signing failed ({text})")
    return ManifestError(
        f"{name}: the C2PA manifest cannot be read ({text})",
        hint="it may be from a pre-release or unsupported C2PA version",
    )


def reason(error: ProvenanceError) -> str:
    """c2pa's own words for the failure behind ``error`` (one this module raised), for a
    caller that words the error its own way."""
    return str(error.__cause__ or error)


def new_context(settings: dict[str, Any]) -> Context:
    """A c2pa Context for ``settings``. A Reader or Builder copies what it needs from it when
    made, so one Context may serve many of them, in several threads (c2pa-python's
    docs/context.md; the C API's ``c2pa_reader_from_context``), but only in the process that
    made it: c2pa-python refuses a Context inherited through fork()."""
    return c2pa.Context.from_dict(settings)


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestReport:
    """What c2pa's Reader says about a manifest store."""

    #: The Reader's JSON report (``manifests``, ``active_manifest``, ``validation_results``).
    report: dict[str, Any]
    #: Valid / Invalid / Trusted, as c2pa judged it (None when c2pa gives none).
    state: str | None
    #: The detailed report (assertion store, claim), when asked for.
    detailed: dict[str, Any] | None = None
    #: The crJSON report (certificates), when asked for.
    crjson: dict[str, Any] | None = None

    @property
    def active_label(self) -> str:
        """The label (URN) of the active manifest."""
        return str(self.report["active_manifest"])

    @property
    def signer(self) -> str | None:
        """Who signed the active manifest: its certificate's organisation, else its CN."""
        active = (self.report.get("manifests") or {}).get(self.report.get("active_manifest"))
        info = (active or {}).get("signature_info") or {}
        return info.get("issuer") or info.get("common_name")


def read(
    media_type: str,
    data: bytes,
    *,
    name: str,
    context: Context | None = None,
    settings: dict[str, Any] | None = None,
    manifest_store: bytes | None = None,
    detailed: bool = False,
    crjson: bool = False,
) -> ManifestReport | None:
    """c2pa's report on ``data``; None when it carries no manifest.

    ``context``: a Context (trust, verification) made once for many reads, such as
    ``TrustPolicy.context()``; or ``settings``: c2pa settings for this read alone. Neither: c2pa's
    defaults.
    ``manifest_store``: a manifest store signed for ``data`` but kept apart from it (a
    sidecar). Raises :class:`RemoteManifestError` when ``data`` only points to a manifest
    online, an :class:`InputError` subclass when c2pa cannot parse ``data``, and
    :class:`ManifestError` when the manifest is present but unreadable; ``name`` labels them.
    """
    if settings is not None:
        if context is not None:
            raise TypeError("read() takes a context or settings, not both")
        context = new_context(settings)
    try:
        stream = io.BytesIO(data)
        # c2pa's defaults when no context: its Reader takes a context only as a Context.
        with (
            c2pa.Reader(media_type, stream, manifest_store)
            if context is None
            else c2pa.Reader(media_type, stream, manifest_store, context)
        ) as reader:
            report = json.loads(reader.json())
            more = json.loads(reader.detailed_json()) if detailed else None
            certificates = json.loads(reader.crjson()) if crjson else None
            return ManifestReport(report, reader.get_validation_state(), more, certificates)
    except _MANIFEST_NOT_FOUND:
        return None
    except c2pa.C2paError as exc:
        raise _mapped(exc, name, _Step.READ) from exc


def read_manifest_store(
    manifest_store: bytes, *, name: str = "manifest store", **options: Any
) -> ManifestReport:
    """c2pa's report on a bare manifest store (``application/c2pa``), e.g. one just signed or
    one kept in the registry; ``options`` as for :func:`read`."""
    found = read(MANIFEST_STORE, manifest_store, name=name, **options)
    if found is None:
        raise ManifestError(f"{name}: c2pa finds no manifest in it")
    return found


def read_thumbnail(manifest_store: bytes) -> tuple[str, bytes] | None:
    """The active manifest's claim thumbnail (media type, bytes) from a bare manifest store,
    if it has one and c2pa can read it."""
    try:
        with c2pa.Reader(MANIFEST_STORE, io.BytesIO(manifest_store)) as reader:
            report = json.loads(reader.json())
            thumb = report["manifests"][report["active_manifest"]].get("thumbnail") or {}
            if not thumb.get("identifier"):
                return None
            out = io.BytesIO()
            reader.resource_to_stream(thumb["identifier"], out)
            return str(thumb.get("format") or "image/jpeg"), out.getvalue()
    except (c2pa.C2paError, KeyError):
        return None


# -- signing ----------------------------------------------------------------------------------


def create_signer(alg: str, chain_pem: bytes, key_pem: bytes, tsa_url: str | None = None) -> Signer:
    """A c2pa Signer (close it, or use it as a context manager; never share one between
    threads). ``tsa_url`` adds an RFC 3161 timestamp."""
    info = c2pa.C2paSignerInfo(alg.encode(), chain_pem, key_pem, tsa_url)
    try:
        return c2pa.Signer.from_info(info)
    except c2pa.C2paError as exc:
        raise _mapped(exc, "", _Step.SIGNER) from exc


@dataclass(frozen=True)
class Ingredient:
    """An ingredient to add to a manifest: its definition (title, relationship) and the asset
    it describes, whose own credentials c2pa carries into the new manifest store."""

    definition: dict[str, Any]
    media_type: str
    data: bytes


def sign_asset(
    definition: dict[str, Any],
    signer: Signer,
    media_type: str,
    data: bytes,
    *,
    name: str,
    settings: dict[str, Any],
    resources: dict[str, bytes] | None = None,
    ingredient: Ingredient | None = None,
) -> tuple[bytes, bytes]:
    """Sign ``data`` with a manifest built from ``definition``: (signed asset, manifest store).

    ``resources``: bytes the definition refers to by identifier (e.g. its thumbnail).
    """
    out = io.BytesIO()
    try:
        with c2pa.Builder(definition, new_context(settings)) as builder:
            for identifier, resource in (resources or {}).items():
                builder.add_resource(identifier, io.BytesIO(resource))
            if ingredient is not None:
                builder.add_ingredient(
                    ingredient.definition, ingredient.media_type, io.BytesIO(ingredient.data)
                )
            manifest_store = builder.sign(signer, media_type, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise _mapped(exc, name, _Step.SIGN) from exc
    return out.getvalue(), bytes(manifest_store)


# -- data-hashed signing (text) -----------------------------------------------------------------

_BYTES = ctypes.POINTER(ctypes.c_ubyte)

#: The native functions text signing needs, with their C signatures (c2pa.h of the c2pa
#: library c2pa-python 0.38.1 bundles). Declared, so a wrong call fails in ctypes, not in C.
_DATA_HASH_SIGNATURES: dict[str, tuple[list[Any], Any]] = {
    # (builder, reserved size, format, out manifest bytes) -> size or -1
    "c2pa_builder_data_hashed_placeholder": (
        [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(_BYTES)],
        ctypes.c_int64,
    ),
    # (builder, signer, data hash JSON, format, asset stream or NULL, out manifest bytes)
    "c2pa_builder_sign_data_hashed_embeddable": (
        [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_void_p,
            ctypes.POINTER(_BYTES),
        ],
        ctypes.c_int64,
    ),
    # (pointer c2pa allocated) -> 0, or -1 for one it does not track (as c2pa-python declares)
    "c2pa_free": ([ctypes.c_void_p], ctypes.c_int),
}


@dataclass(frozen=True)
class _DataHashFunctions:
    """c2pa's native data-hashed signing, which c2pa-python (0.38.1) does not wrap."""

    placeholder: Callable[..., int]
    sign: Callable[..., int]
    free: Callable[[Any], int]
    last_error: Callable[[], str | None]


def _missing(what: str) -> SigningError:
    version = importlib.metadata.version("c2pa-python")
    return SigningError(
        f"signing text needs {what}, which c2pa-python {version} lacks",
        hint=f"install {DATA_HASH_VERSIONS}: its native library exports data-hashed signing",
    )


def _bind_data_hash(lib: Any, last_error: Callable[[], str | None]) -> _DataHashFunctions:
    """The data-hashed signing functions of ``lib`` (c2pa's loaded native library), declared.

    ``lib[symbol]`` makes a function object of our own (``lib.symbol`` would be the one
    c2pa-python shares and declares itself), so our declarations never change its calls.
    """
    functions = {}
    for symbol, (argtypes, restype) in _DATA_HASH_SIGNATURES.items():
        try:
            function = lib[symbol]
        except AttributeError:
            raise _missing(f"the native function {symbol}") from None
        function.argtypes, function.restype = argtypes, restype
        functions[symbol] = function
    return _DataHashFunctions(
        functions["c2pa_builder_data_hashed_placeholder"],
        functions["c2pa_builder_sign_data_hashed_embeddable"],
        functions["c2pa_free"],
        last_error,
    )


@functools.cache
def _data_hash_functions() -> _DataHashFunctions:
    """Loaded on first use, not on ``import provenance``: a c2pa release without them breaks
    text signing only, with an error saying so."""
    try:
        from c2pa.c2pa import _lib, _read_native_error
    except ImportError:
        raise _missing("c2pa-python's native bindings (c2pa.c2pa._lib)") from None
    return _bind_data_hash(_lib, _read_native_error)


def _handle(wrapper: Any, what: str) -> Any:
    """The native pointer inside a c2pa-python object (a private attribute)."""
    handle = getattr(wrapper, "_handle", None)
    if handle is None:
        raise _missing(f"the native handle of a c2pa {what}")
    return handle


def sign_data_hashed(
    definition: dict[str, Any], signer: Signer, data_hash: dict[str, Any]
) -> bytes:
    """A manifest store whose hard binding is ``data_hash`` (a ``c2pa.hash.data`` assertion:
    exclusions, alg, hash), for content c2pa cannot embed into itself, such as text."""
    native = _data_hash_functions()
    with c2pa.Builder(definition, new_context({"builder": {"thumbnail": {"enabled": False}}})) as b:
        builder = _handle(b, "Builder")
        out = _BYTES()
        # The placeholder call installs the data-hash assertion that the signing call fills.
        size = native.placeholder(
            builder, signer.reserve_size(), b"application/c2pa", ctypes.byref(out)
        )
        if size < 0:
            raise SigningError(f"c2pa refused the text manifest: {native.last_error()}")
        native.free(out)
        out = _BYTES()
        size = native.sign(
            builder,
            _handle(signer, "Signer"),
            json.dumps(data_hash).encode(),
            b"application/c2pa",
            None,
            ctypes.byref(out),
        )
        if size < 0:
            raise SigningError(f"c2pa could not sign the text: {native.last_error()}")
        try:
            return bytes(out[:size])
        finally:
            native.free(out)
