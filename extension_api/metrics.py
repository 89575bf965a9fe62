"""Prometheus metrics through prometheus-client, one registry per application.

With several server processes, each process keeps its counters in memory-mapped files in one
shared directory (prometheus-client's multiprocess mode), and ``/metrics`` from any process
adds up every process's files, so one scrape sees the whole server, including the counts of a
process that has since been replaced.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: The text exposition format that ``render_all`` writes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def share_through(directory: Path) -> None:
    """Keep this process's metrics in ``directory`` (prometheus-client's multiprocess mode).

    Called in a freshly forked server process, before its metrics exist. prometheus-client
    picks its value store from ``PROMETHEUS_MULTIPROC_DIR`` when it is first imported, which in
    a forked process was long ago, hence the store is picked again here.
    """
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.get_value_class()


class Metrics:
    """The server's metrics. ``directory``: where every process's metrics are kept, when
    several processes serve (see :func:`share_through`); None for one process."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "provenance_requests",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "provenance_request_seconds",
            "Request latency by route.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.verdicts = Counter(
            "provenance_verdicts",
            "Verdicts by credential state and AI origin.",
            ["state", "ai_generated"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def verdict(self, state: str | None, ai_generated: bool | None) -> None:
        ai = {True: "yes", False: "no", None: "unknown"}[ai_generated]
        self.verdicts.labels(state or "none", ai).inc()

    def render_all(self) -> str:
        """The text format: this process's metrics, or with several processes, all of theirs
        added up."""
        registry = self.registry
        if self.directory is not None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(self.directory))
        return generate_latest(registry).decode()
