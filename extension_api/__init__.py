"""The verification server: an aiohttp adapter over provenance's public API.

``create_app`` and ``run`` load aiohttp and the app; they are imported when first asked for, so
that `provenance` commands other than `serve` (which add the server's flags to their parser, see
``command``) do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .command import add_arguments, main, serve, settings_from_args
from .settings import Settings

if TYPE_CHECKING:
    from .app import create_app, run


def __getattr__(name: str) -> Any:
    if name in ("create_app", "run"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Settings", "add_arguments", "create_app", "main", "run", "serve", "settings_from_args"]
