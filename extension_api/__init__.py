"""The verification server: an aiohttp adapter over provenance's public API."""

from .app import create_app, run
from .settings import Settings

__all__ = ["Settings", "create_app", "run"]
