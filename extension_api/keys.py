"""The application's shared pieces, by key: the routes and middlewares reach them through
these, so they need not import the module that builds the application."""

from __future__ import annotations

from aiohttp import web

from .fetch import Fetcher
from .metrics import Metrics
from .service import Service
from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", Service)
FETCHER = web.AppKey("fetcher", Fetcher)
METRICS = web.AppKey("metrics", Metrics)
