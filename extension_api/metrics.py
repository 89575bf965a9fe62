"""Prometheus metrics, kept by hand (a dependency would be more code than this).

With several server processes, each process writes its counters to a shared directory about
once a second (:meth:`Metrics.share`), and ``/metrics`` from any process adds up everyone's
latest numbers (:meth:`Metrics.render_all`), so one scrape sees the whole server.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """``directory`` and ``worker``: where this process shares its counters, when several
    processes serve (None for one)."""

    def __init__(self, directory: Path | None = None, worker: int | None = None) -> None:
        self.directory, self.worker = directory, worker
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency_buckets: Counter[tuple[str, float]] = Counter()
        self.latency_sum: Counter[str] = Counter()
        self.latency_count: Counter[str] = Counter()
        self.verdicts: Counter[tuple[str, str]] = Counter()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests[(method, route, status)] += 1
        self.latency_sum[route] += seconds
        self.latency_count[route] += 1
        for bound in BUCKETS:
            if seconds <= bound:
                self.latency_buckets[(route, bound)] += 1

    def verdict(self, verdict: dict) -> None:
        state = verdict["credentials"]["state"] or "none"
        generated = verdict["ai"]["generated"]
        ai = {True: "yes", False: "no", None: "unknown"}[generated]
        self.verdicts[(state, ai)] += 1

    # -- several processes ------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "requests": [[*k, n] for k, n in self.requests.items()],
            "latency_buckets": [[*k, n] for k, n in self.latency_buckets.items()],
            "latency_sum": list(self.latency_sum.items()),
            "latency_count": list(self.latency_count.items()),
            "verdicts": [[*k, n] for k, n in self.verdicts.items()],
        }

    def share(self) -> None:
        """Write this process's counters for the others to add up (atomically: a reader never
        sees half a file)."""
        if self.directory is None:
            return
        path = self.directory / f"worker-{self.worker}.json"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._state()))
        tmp.replace(path)

    def _add(self, state: dict[str, Any]) -> None:
        for *key, n in state["requests"]:
            self.requests[(key[0], key[1], int(key[2]))] += n
        for route, bound, n in state["latency_buckets"]:
            self.latency_buckets[(route, float(bound))] += n
        for route, total in state["latency_sum"]:
            self.latency_sum[route] += total
        for route, n in state["latency_count"]:
            self.latency_count[route] += n
        for state_name, ai, n in state["verdicts"]:
            self.verdicts[(state_name, ai)] += n

    def render_all(self) -> str:
        """This process's metrics, plus the other processes' last shared ones."""
        if self.directory is None:
            return self.render()
        total = Metrics()
        total._add(self._state())
        for path in self.directory.glob("worker-*.json"):
            if path.name == f"worker-{self.worker}.json":
                continue  # ours: the live counters above are newer
            try:
                total._add(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # being replaced, or left by an older version: skip this scrape
        return total.render()

    def render(self) -> str:
        out = [
            "# HELP provenance_requests_total HTTP requests by method, route and status.",
            "# TYPE provenance_requests_total counter",
        ]
        for (method, route, status), n in sorted(self.requests.items()):
            out.append(
                f'provenance_requests_total{{method="{method}",route="{route}",'
                f'status="{status}"}} {n}'
            )
        out += [
            "# HELP provenance_request_seconds Request latency by route.",
            "# TYPE provenance_request_seconds histogram",
        ]
        for route in sorted(self.latency_count):
            for bound in BUCKETS:
                n = self.latency_buckets[(route, bound)]
                out.append(f'provenance_request_seconds_bucket{{route="{route}",le="{bound}"}} {n}')
            count = self.latency_count[route]
            out.append(f'provenance_request_seconds_bucket{{route="{route}",le="+Inf"}} {count}')
            out.append(
                f'provenance_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}'
            )
            out.append(f'provenance_request_seconds_count{{route="{route}"}} {count}')
        out += [
            "# HELP provenance_verdicts_total Verdicts by credential state and AI origin.",
            "# TYPE provenance_verdicts_total counter",
        ]
        for (state, ai), n in sorted(self.verdicts.items()):
            out.append(f'provenance_verdicts_total{{state="{state}",ai_generated="{ai}"}} {n}')
        return "\n".join(out) + "\n"
