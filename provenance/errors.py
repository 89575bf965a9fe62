"""Errors with a message for the user.

Every error the library raises on purpose is a :class:`ProvenanceError`. Its ``str()`` says what
went wrong; ``hint`` (when set) says what to do about it. The CLI prints both; the server maps the
subclass to an HTTP status.
"""

from __future__ import annotations


class ProvenanceError(Exception):
    """Base class: ``message`` for the user, ``hint`` with the next step (optional)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class KeysError(ProvenanceError):
    """Keys or certificates are missing, unreadable, unsuitable, or would be overwritten."""


class InputError(ProvenanceError):
    """An input cannot be read at all (missing, a directory, permission denied, empty)."""


class UnsupportedMediaError(InputError):
    """The input is of a type the project cannot sign or verify."""


class MalformedAssetError(InputError):
    """The input claims to be a supported type but its structure cannot be parsed safely."""


class TooManyPixelsError(MalformedAssetError):
    """The image has more pixels than the decoder allows (a decompression-bomb guard)."""


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
