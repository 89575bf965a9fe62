"""Prometheus metrics, kept by hand (a dependency would be more code than this)."""

from __future__ import annotations

from collections import Counter

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
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
