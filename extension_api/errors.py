"""Errors the server answers with as they are: a status, a code and a message for people."""

from __future__ import annotations

from provenance import Remedy

#: The next step of a library error in the server's words (its endpoints), where they differ
#: from the library's neutral hint; the CLI has its own (provenance.cli.errors).
API_HINTS: dict[Remedy, str] = {
    Remedy.ISSUE_WATERMARK_ID: "ask for an identifier first (POST /v1/watermark-ids), embed it, "
    "then sign",
}


class ApiError(Exception):
    """An answer the server chose: ``status`` and ``code`` for clients, ``message`` for people,
    ``headers`` (e.g. Retry-After) to add."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def overloaded(what: str) -> ApiError:
    """503 with Retry-After: refused at once rather than queued until everyone times out."""
    return ApiError(
        503,
        "overloaded",
        f"the server is at capacity ({what}); retry in a moment",
        {"Retry-After": "1"},
    )
