"""Errors with a message for the user: every error the library raises on purpose.

Every error the library raises on purpose is a :class:`ProvenanceError`, and every subclass is
defined here. Its ``str()`` says what went wrong; ``hint`` (when set) says what to do about it, in
the library's own words (keywords and functions, never a front end's flags or endpoints).
``remedy`` names that next step as a :class:`Remedy`, so that each front end words it in its own
terms in one place: the CLI names its flags (``provenance.cli.errors``), the server its endpoints
and maps the subclass to an HTTP status (``extension_api.middleware``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar


class Remedy(StrEnum):
    """A next step a front end can offer in its own words (a flag, an endpoint)."""

    #: Allow replacing an existing output (``overwrite``/``replace``/``force``).
    REPLACE_OUTPUT = "replace-output"
    #: The output is the input: sign in place (``overwrite=True`` with ``output == source``).
    REPLACE_INPUT = "replace-input"
    #: Keys exist where new ones would go: allow replacing them, or write elsewhere.
    REPLACE_KEYS = "replace-keys"
    #: Make a development key set (:func:`provenance.keys.init_keys`) or give your own.
    MAKE_KEYS = "make-keys"
    #: A certificate chain and its private key are given together or not at all.
    CERT_WITH_KEY = "cert-with-key"
    #: Re-sign without keeping the credentials the file carries (``drop_credentials``).
    DROP_CREDENTIALS = "drop-credentials"
    #: The file's credentials and a named ingredient both claim the parent's place.
    DROP_CREDENTIALS_FOR_INGREDIENT = "drop-credentials-for-ingredient"
    #: A label cannot be drawn on this content: sign it without one.
    NO_LABEL = "no-label"
    #: The trust-list directory is empty: install lists (:func:`update_lists`) or stop naming it.
    INSTALL_TRUST_LISTS = "install-trust-lists"
    #: What was asked for is not in the registry looked in: name the one signing wrote to.
    NAME_REGISTRY = "name-registry"
    #: A new lineage needs a watermark identifier issued to the client first.
    ISSUE_WATERMARK_ID = "issue-watermark-id"
    #: The bytes are text, not the media their name or declared type says: read them as text.
    READ_AS_TEXT = "read-as-text"


class ProvenanceError(Exception):
    """Base class: ``message`` for the user, ``hint`` with the next step in neutral words
    (optional), ``remedy`` naming that step for a front end to word (optional)."""

    #: The next step when the code raising the error names none: for a subclass whose every
    #: instance has the same one, wherever it is raised.
    default_hint: ClassVar[str | None] = None

    def __init__(
        self, message: str, *, hint: str | None = None, remedy: Remedy | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.remedy = remedy

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments do not survive pickling by default (the server's workers send
        # errors across a pipe): rebuild with all three.
        return (_rebuild, (type(self), self.message, self.hint, self.remedy))

    def worded(self, hints: Mapping[Remedy, str]) -> str:
        """The message with the hint a front end gives for ``remedy`` (else the neutral one)."""
        hint = hints.get(self.remedy, self.hint) if self.remedy is not None else self.hint
        return self.message if not hint else f"{self.message} ({hint})"


def os_error_line(exc: OSError) -> str:
    """What the OS refused, in one line for a command's stderr (the CLI's and the server's,
    never a traceback): the file it names, if any, then the OS's words."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _rebuild(
    cls: type[ProvenanceError], message: str, hint: str | None, remedy: Remedy | None
) -> ProvenanceError:
    return cls(message, hint=hint, remedy=remedy)


class KeysError(ProvenanceError):
    """Keys or certificates are missing, unreadable, unsuitable, or would be overwritten."""


class InputError(ProvenanceError):
    """An input cannot be read at all (missing, a directory, permission denied, empty)."""


class UnsupportedMediaError(InputError):
    """The input is of a type the project cannot sign or verify."""


class MalformedAssetError(InputError):
    """The input claims to be a supported type but its structure cannot be parsed safely."""

    # A truncated download or an interrupted export is the usual cause.
    default_hint = "the file may be damaged or cut short: use a complete copy"


class TooManyPixelsError(MalformedAssetError):
    """The image has more pixels than the decoder allows (a decompression-bomb guard)."""

    # A header can declare any size in a few bytes (a decompression bomb); a real image that
    # large can still be checked through a smaller rendition.
    default_hint = "if it is a real image, use a smaller rendition of it"


class WatermarkSizeError(InputError):
    """The image is too small to carry (or show) a watermark."""


class ManifestError(ProvenanceError):
    """A C2PA manifest is present but unreadable (unknown algorithm, pre-release format)."""


class RemoteManifestError(ManifestError):
    """The asset only points to its C2PA manifest online (``url``), and it was not fetched."""

    def __init__(self, message: str, *, url: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url

    def __reduce__(self) -> tuple[object, ...]:
        # The keyword arguments do not survive pickling by default (the server's workers send
        # errors across a pipe).
        return (_remote_manifest_error, (self.message, self.url, self.hint))


def _remote_manifest_error(message: str, url: str, hint: str | None) -> RemoteManifestError:
    return RemoteManifestError(message, url=url, hint=hint)


class NotIssuedError(ProvenanceError):
    """A registration names a watermark identifier that was not issued to this client."""


class SigningError(ProvenanceError):
    """Signing failed for a reason other than the input or the keys."""


class OutputError(ProvenanceError):
    """An output cannot be written (exists, is the input, or the directory is not writable)."""


class MissingExtraError(ProvenanceError):
    """A feature needs an optional dependency that is not installed."""


class TrustConfigError(ProvenanceError):
    """A trust anchor or EKU file cannot be used."""


class TrustListError(ProvenanceError):
    """A trust list cannot be read or installed."""


class RegistryError(ProvenanceError):
    """The registry of signed manifests cannot be opened or written."""


class RegistryUnavailableError(RegistryError):
    """The registry cannot be used at all right now: damaged, locked, or unreachable."""
