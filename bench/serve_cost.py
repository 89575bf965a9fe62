"""Where the verify server's CPU goes per upload, outside the watermark detector.

Two views of the same files bench/load.py posts (a 1 MP unsigned photo, rocket.jpg, and a
signed one):

1. In process, each step a worker runs for one upload, timed alone (median CPU ms of many
   runs): hashing, the pixel-count check, media sniffing, c2pa's Reader attempt, the luminance
   decode, the detector, the fingerprint, the registry's look-alike search, the verdict dict,
   and the pickles that carry the call and its reply between the event loop and the worker.
2. The real server (``python -m extension_api``, one server process, its worker pool) on
   loopback under 16 clients posting one file: user and system CPU ms per request of each
   of its processes (the event loop's, each worker's), from /proc.

What (2) spends beyond the sum of (1) is the event loop's work (aiohttp, middlewares, the
hand-off to the worker, JSON, the log line) and what the processes lose to sharing the cores.

    uv run python -m bench.serve_cost [--seconds 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

from bench._common import table
from bench.load import _files, _free_port, _start_server
from extension_api import jobs
from provenance import ManifestRegistry, TrustPolicy, media_type_of, verify
from provenance.fingerprint import image_hash
from provenance.verify import FINGERPRINT_SIMILARITY, _read_manifest
from provenance.watermark import detect_rgb, load_for_detection

CASES = ("unsigned", "credentials")
#: Seconds of the same load before the server's processes are measured (bench.load's --warmup).
WARMUP = 2.0


def _cpu_ms(fn: Callable[[], Any], runs: int) -> float:
    """Median CPU ms of ``fn`` (after one warm-up run)."""
    fn()
    spent = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        spent.append(time.process_time() - start)
    return statistics.median(spent) * 1000


def _steps(data: bytes, policy: TrustPolicy, registry: ManifestRegistry) -> dict[str, float]:
    """CPU ms of each step of a worker's verify of ``data``, timed alone."""
    media_type = media_type_of(data, "content")
    luminance = load_for_detection(data, "content")
    fingerprint = image_hash(luminance)
    verdict = verify(data, policy=policy, registry=registry, media_type=media_type).to_dict()
    call = (jobs.verify_content, (data, None, None, None, "image/jpeg"))
    steps: dict[str, tuple[Callable[[], Any], int]] = {
        "sha256": (lambda: hashlib.sha256(data).hexdigest(), 200),
        "pixel-count check": (lambda: jobs.check_pixels(data, 50_000_000), 200),
        "media sniff": (lambda: media_type_of(data, "content", by_name=False), 200),
        "c2pa Reader": (lambda: _read_manifest(data, media_type, policy, "content"), 100),
        "luminance decode": (lambda: load_for_detection(data, "content"), 50),
        "detector (detect_rgb)": (lambda: detect_rgb(luminance), 20),
        "fingerprint (image_hash)": (lambda: image_hash(luminance), 200),
        "look-alike search": (
            lambda: registry.nearest(fingerprint, min_similarity=FINGERPRINT_SIMILARITY, limit=5),
            200,
        ),
        "pickle call + reply": (
            lambda: pickle.loads(pickle.dumps(call)) and pickle.dumps(("ok", verdict)),
            200,
        ),
        "JSON of the verdict": (lambda: json.dumps(verdict), 200),
        "whole verify_content": (
            lambda: verify(data, policy=policy, registry=registry, media_type=media_type).to_dict(),
            20,
        ),
    }
    return {name: _cpu_ms(fn, runs) for name, (fn, runs) in steps.items()}


def _processes(root: int) -> dict[int, tuple[str, int, int]]:
    """(role, user ticks, system ticks) of ``root`` and its descendants, from /proc."""
    seen: dict[int, tuple[int, int, int, bytes]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            seen[int(entry.name)] = (int(fields[1]), int(fields[11]), int(fields[12]), command)
    family, grew = {root}, True
    while grew:
        more = {pid for pid, v in seen.items() if v[0] in family} - family
        family |= more
        grew = bool(more)
    return {
        pid: (
            "worker" if b"multiprocessing" in seen[pid][3] else "event loop",
            seen[pid][1],
            seen[pid][2],
        )
        for pid in family
        if pid in seen
    }


def _server(path: Path, registry: Path, root: Path, seconds: float) -> list[dict[str, Any]]:
    """User and system CPU ms per request of each server process, 16 clients posting ``path``."""
    port = _free_port()
    server = _start_server(port, registry, root, 1, False)

    def drive(seconds: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *(sys.executable, "-m", "bench.load", "--drive"),
                *(f"http://127.0.0.1:{port}/v1/verify", str(path), "16", str(seconds)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )

    try:
        drive(WARMUP)  # the workers' one-time start is not a request's cost (see bench.load)
        before = _processes(server.pid)
        out = drive(seconds)
        after = _processes(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    result = json.loads(out.stdout)
    count, tick = max(1, result["requests"]), os.sysconf("SC_CLK_TCK")
    rows = []
    for pid, (role, user, system) in sorted(after.items()):
        if pid not in before:
            continue
        used = [
            (now - then) / tick / count * 1000
            for now, then in zip((user, system), before[pid][1:], strict=True)
        ]
        if sum(used) > 0.005:  # the forkserver and idle helpers
            rows.append({"process": role, "user": used[0], "system": used[1]})
    rows.append(
        {"process": "load driver", "user": result["cpu"] / count * 1000, "system": float("nan")}
    )
    for row in rows:
        row["req/s"] = result["rps"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # as in a worker (extension_api.jobs.init)
    workdir = Path(tempfile.mkdtemp(prefix="provenance-serve-cost-"))
    files, registry_location, root = _files(workdir)
    policy = TrustPolicy.from_files([root])
    registry = ManifestRegistry(registry_location, max_connections=1)
    steps = {case: _steps(files[case], policy, registry) for case in CASES}
    print(
        table(
            [{"step": s} | {c: f"{steps[c][s]:.3f}" for c in CASES} for s in steps[CASES[0]]],
            ["step", *CASES],
        )
    )
    print("(in process, median CPU ms per upload)\n")
    for case in CASES:
        path = workdir / f"{case}.jpg"
        path.write_bytes(files[case])
        rows = _server(path, registry_location, root, args.seconds)
        shown = [
            {k: f"{v:.2f}" if isinstance(v, float) else v for k, v in row.items()} for row in rows
        ]
        print(f"{case}: the server under 16 clients, CPU ms per request")
        print(table(shown, ["process", "user", "system", "req/s"]) + "\n")
    print(f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
