"""Soak: mixed traffic at 80 % of the measured capacity for ten minutes, RSS printed over time.

The real server runs as a process (`python -m extension_api`, verdict cache off so that every
request costs its work) on loopback. First its capacity for the mix is measured with a closed
loop of as many clients as workers; then requests are sent open-loop, evenly spaced, at
``--load`` (0.8) of that rate for ``--minutes`` (10). Every ``--every`` seconds it prints the
rate, latency percentiles, errors (any status other than the expected one, any connection
error) and the resident memory of the server and its worker processes. Results go to
bench/results/soak.json.

    uv run python -m bench.soak                 # the full run (about 11 minutes)
    uv run python -m bench.soak --minutes 1     # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image

from bench._common import natural_jpeg, table, wait_healthy, write_json
from provenance import ManifestRegistry, ManifestSpec, SigningKeys, SignOptions, init_keys, sign
from provenance.text_manifest import sign_text, strip_wrappers
from tests.server import free_port


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    body: bytes | None
    content_type: str | None
    weight: int
    expect: int = 200


def _mix(workdir: Path) -> tuple[list[Call], Path, Path]:
    """The traffic: signed, stripped (recovered through the registry), unsigned images, signed
    text, resolution by content and by binding, health checks."""
    keys = init_keys(workdir / "keys", org="Soak Ltd")
    credentials = SigningKeys.load(keys_dir=keys.dir)
    registry_location = workdir / "m.sqlite3"
    registry = ManifestRegistry(registry_location)
    options = SignOptions(ManifestSpec(generator="Soak Diffusion"))
    signed = sign(natural_jpeg(1.0), credentials, options, registry=registry)
    stripped = io.BytesIO()
    Image.open(io.BytesIO(signed.asset or b"")).save(stripped, format="JPEG", quality=80)
    text = sign_text(
        "The council met on Tuesday to discuss the new cycle lanes. " * 20,
        credentials,
        options.manifest,
        registry=registry,
    )
    record = registry.by_manifest_id(signed.manifest_id)
    assert record is not None
    calls = [
        Call("signed", "POST", "/v1/verify", signed.asset, "image/jpeg", 3),
        Call("stripped", "POST", "/v1/verify", stripped.getvalue(), "image/jpeg", 3),
        Call("unsigned", "POST", "/v1/verify", natural_jpeg(0.5, "rocket.jpg"), "image/jpeg", 2),
        Call("text", "POST", "/v1/verify", text.text.encode(), "text/plain", 2),
        Call(
            "byContent",
            "POST",
            "/matches/byContent",
            strip_wrappers(text.text).encode(),
            "text/plain",
            1,
        ),
        Call(
            "byBinding",
            "GET",
            f"/matches/byBinding?alg={record.alg}&value={record.binding_value}",
            None,
            None,
            1,
        ),
        Call("healthz", "GET", "/healthz", None, None, 1),
    ]
    return calls, registry_location, keys.root


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the forkserver and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _rss_mib(pid: int) -> tuple[float, float]:
    """(the server's own RSS, the RSS of it and all its descendants), MiB."""
    sizes = []
    for p in _descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        sizes.append((p, int(line.split()[1]) / 1024))
        except OSError:
            continue
    own = next((s for p, s in sizes if p == pid), 0.0)
    return own, sum(s for _, s in sizes)


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.done = 0

    def add(self, seconds: float, error: str | None) -> None:
        self.done += 1
        self.latencies.append(seconds)
        if error:
            self.errors[error] = self.errors.get(error, 0) + 1

    def window(self) -> dict[str, float]:
        values = sorted(self.latencies) or [0.0]
        self.latencies = []
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000  # noqa: E731
        return {"n": len(values), "p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99)}


async def _one(session: aiohttp.ClientSession, url: str, call: Call, rec: Recorder) -> None:
    start = time.perf_counter()
    error = None
    try:
        headers = {"Content-Type": call.content_type} if call.content_type else None
        async with session.request(
            call.method, url + call.path, data=call.body, headers=headers
        ) as r:
            await r.read()
            if r.status != call.expect:
                error = f"{call.name}:{r.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = f"{call.name}:{type(exc).__name__}"
    rec.add(time.perf_counter() - start, error)


def _schedule(calls: list[Call]) -> itertools.cycle:
    return itertools.cycle([c for c in calls for _ in range(c.weight)])


async def _capacity(url: str, calls: list[Call], clients: int, seconds: float) -> float:
    rec = Recorder()
    order = _schedule(calls)
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def client() -> None:
            while time.perf_counter() < deadline:
                await _one(session, url, next(order), rec)

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    if rec.errors:
        print(f"errors while measuring capacity: {rec.errors}", file=sys.stderr)
    return rec.done / elapsed


async def _soak(
    url: str, calls: list[Call], rate: float, seconds: float, every: float, pid: int
) -> dict[str, Any]:
    rec = Recorder()
    order = _schedule(calls)
    rows: list[dict[str, Any]] = []
    tasks: set[asyncio.Task] = set()
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=60), connector=aiohttp.TCPConnector(limit=0)
    ) as session:
        start = time.perf_counter()
        next_report = start + every
        sent = 0
        while (now := time.perf_counter()) - start < seconds:
            due = start + sent / rate
            if due > now:
                await asyncio.sleep(min(due - now, max(0.0, next_report - now)))
                if time.perf_counter() < due:
                    if time.perf_counter() >= next_report:
                        rows.append(_report(rec, pid, start, sent, every))
                        next_report += every
                    continue
            task = asyncio.create_task(_one(session, url, next(order), rec))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
            if time.perf_counter() >= next_report:
                rows.append(_report(rec, pid, start, sent, every))
                next_report += every
        await asyncio.gather(*tasks)  # the last requests finish; their latencies count
        rows.append(
            _report(rec, pid, start, sent, max(1e-9, time.perf_counter() - start - seconds))
        )
    return {"rows": rows, "sent": sent, "done": rec.done, "errors": rec.errors}


def _report(rec: Recorder, pid: int, start: float, sent: int, every: float) -> dict[str, Any]:
    own, total = _rss_mib(pid)
    window = rec.window()
    row = {
        "t_s": round(time.perf_counter() - start),
        "sent": sent,
        "rps": round(window["n"] / every, 1),
        "p50_ms": round(window["p50"]),
        "p95_ms": round(window["p95"]),
        "p99_ms": round(window["p99"]),
        "errors": sum(rec.errors.values()),
        "rss_server_mib": round(own),
        "rss_total_mib": round(total),
    }
    print(
        f"{row['t_s']:>5} s  sent {sent:>6}  {row['rps']:>6} req/s  p50 {row['p50_ms']:>5} ms  "
        f"p95 {row['p95_ms']:>5} ms  errors {row['errors']}  RSS server {row['rss_server_mib']} "
        f"MiB, with workers {row['rss_total_mib']} MiB",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--load", type=float, default=0.8, help="fraction of capacity")
    parser.add_argument("--capacity-seconds", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between reports")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (--threads)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="provenance-soak-"))
    calls, registry_location, root = _mix(workdir)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "extension_api", "--port", str(port), "--registry",
            str(registry_location), "--trust", str(root), "--no-default-trust", "--rate-limit", "0",
            "--cache-size", "0", "--threads", str(args.workers),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        print(server.stdout.readline().strip())  # type: ignore[union-attr]
        wait_healthy(url)
        capacity = asyncio.run(_capacity(url, calls, args.workers, args.capacity_seconds))
        rate = args.load * capacity
        print(
            f"capacity {capacity:.1f} req/s for the mix ({args.workers} workers, closed loop, "
            f"{args.capacity_seconds:g} s); soaking at {rate:.1f} req/s "
            f"({args.load:.0%}) for {args.minutes:g} min",
            flush=True,
        )
        result = asyncio.run(_soak(url, calls, rate, args.minutes * 60, args.every, server.pid))
    finally:
        server.terminate()
        server.wait(60)
    rows = result["rows"]
    print()
    print(table(rows, list(rows[0])))
    quarter = rows[max(0, len(rows) // 4 - 1)]["rss_total_mib"]
    growth = rows[-1]["rss_total_mib"] - quarter
    print(
        f"\n{result['done']} requests, errors: {result['errors'] or 0}; RSS (server + workers) "
        f"{quarter} MiB at a quarter of the run, {rows[-1]['rss_total_mib']} MiB at the end "
        f"({growth:+d} MiB)"
    )
    path = write_json(
        "soak",
        {
            "capacity_rps": capacity,
            "load": args.load,
            "rate_rps": rate,
            "minutes": args.minutes,
            "workers": args.workers,
            "mix": {c.name: c.weight for c in calls},
            **result,
            "rss_growth_mib": growth,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
