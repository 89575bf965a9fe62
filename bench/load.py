"""Load on the verification server, against the library's own in-process ceiling.

Starts `python -m extension_api` (rate limit off, verdict cache off unless --cache) on a loopback
port, then drives it from a separate process with 1, 16 and 64 concurrent clients for a fixed
time each, posting a 1 MP JPEG with embedded credentials, an unsigned one, and a
watermarked-then-stripped one (its manifest registered in the server's store), and a platform's
upload mix (9 unsigned for 1 with credentials, in turn). Beside each, the ceiling measured in the
same run: a plain in-process loop of `provenance.verify` (for the mix, the same 90/10 weighting of
the two loops; for the stripped file, also the watermark detector alone). Table to stdout, JSON to
bench/results/load.json.

    uv run python -m bench.load [--seconds 8] [--cache] [--files mix,...] [--clients 16,...]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from PIL import Image

from bench._common import natural_jpeg, table, write_json
from provenance import (
    ManifestSpec,
    ManifestStore,
    SigningCredentials,
    SignOptions,
    TrustPolicy,
    init_keys,
    sign,
    verify,
)
from provenance.watermark import detect_bytes

CLIENTS = (1, 16, 64)
MIX = "mix 90/10 unsigned/credentials"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _files(workdir: Path) -> tuple[dict[str, bytes], Path, Path]:
    keys = init_keys(workdir / "keys", org="Bench Ltd")
    creds = SigningCredentials.load(keys_dir=keys.dir)
    store_path = workdir / "manifests.sqlite3"
    store = ManifestStore(store_path)
    photo = natural_jpeg(1.0, "coffee.jpg")
    options = SignOptions(ManifestSpec(generator="Bench Diffusion"))
    signed = sign(photo, creds, options, store=store).asset or b""
    buf = io.BytesIO()
    Image.open(io.BytesIO(signed)).convert("RGB").save(buf, format="JPEG", quality=85)
    files = {
        "credentials": signed,
        "unsigned": natural_jpeg(1.0, "rocket.jpg"),
        "stripped": buf.getvalue(),
    }
    return files, store_path, keys.root


# -- the driver (runs in its own process) -------------------------------------------------------


async def _drive(url: str, bodies: list[bytes], clients: int, seconds: float) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    sent = 0  # requests take the bodies in turn: a mix is its list of files, with repeats
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal errors, sent
            while time.perf_counter() < deadline:
                body = bodies[sent % len(bodies)]
                sent += 1
                start = time.perf_counter()
                try:
                    async with session.post(
                        url, data=body, headers={"Content-Type": "image/jpeg"}
                    ) as r:
                        await r.read()
                        if r.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "errors": errors,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
    }


def _driver_main(url: str, paths: str, clients: int, seconds: float) -> None:
    bodies = [Path(p).read_bytes() for p in paths.split(",")]
    print(json.dumps(asyncio.run(_drive(url, bodies, clients, seconds))))


# -- the ceiling (in process) -------------------------------------------------------------------


def _loop_rate(fn: Any, seconds: float) -> float:
    fn()
    count, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--cache", action="store_true", help="leave the verdict cache on")
    parser.add_argument("--files", default="", help="comma-separated workloads (default: all)")
    parser.add_argument("--clients", default="", help="comma-separated client counts")
    parser.add_argument(
        "--drive", nargs=4, metavar=("URL", "FILE", "CLIENTS", "SECONDS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.drive:
        url, path, clients, seconds = args.drive
        _driver_main(url, path, int(clients), float(seconds))
        return

    workdir = Path(tempfile.mkdtemp(prefix="provenance-load-"))
    files, store_path, root = _files(workdir)
    policy = TrustPolicy.from_files([root])
    store = ManifestStore(store_path)
    ceilings = {
        name: _loop_rate(
            lambda d=data: verify(d, policy=policy, store=store), min(3.0, args.seconds)
        )
        for name, data in files.items()
    }
    detector = _loop_rate(lambda: detect_bytes(files["stripped"]), min(3.0, args.seconds))

    port = _free_port()
    env = {**os.environ, "PROVENANCE_STORE": str(store_path)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extension_api",
            "--port",
            str(port),
            "--trust",
            str(root),
            "--rate-limit",
            "0",
            "--cache-size",
            "1024" if args.cache else "0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        rows = []
        paths = {}
        for name, data in files.items():
            paths[name] = workdir / f"{name}.jpg"
            paths[name].write_bytes(data)
        # A platform's upload mix: 9 images without credentials for 1 with.
        workloads = {name: [path] for name, path in paths.items()}
        workloads[MIX] = [paths["unsigned"]] * 9 + [paths["credentials"]]
        ceilings[MIX] = 1 / (0.9 / ceilings["unsigned"] + 0.1 / ceilings["credentials"])
        chosen = args.files.split(",") if args.files else list(workloads)
        clients_list = [int(c) for c in args.clients.split(",")] if args.clients else CLIENTS
        for name in chosen:
            path_list = ",".join(str(p) for p in workloads[name])
            for clients in clients_list:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.load",
                        "--drive",
                        f"http://127.0.0.1:{port}/v1/verify",
                        path_list,
                        str(clients),
                        str(args.seconds),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout)
                ceiling = ceilings[name]
                rows.append(
                    {
                        "file": name,
                        "clients": clients,
                        "req/s": f"{r['rps']:.0f}",
                        "p50 ms": f"{r['p50']:.1f}",
                        "p95 ms": f"{r['p95']:.1f}",
                        "p99 ms": f"{r['p99']:.1f}",
                        "errors": r["errors"],
                        "in-process verify/s": f"{ceiling:.0f}",
                        "server / in-process": f"{r['rps'] / ceiling:.2f}",
                    }
                )
    finally:
        server.terminate()
        server.wait(30)
    print(
        table(
            rows,
            [
                "file",
                "clients",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "in-process verify/s",
                "server / in-process",
            ],
        )
    )
    print(f"\nwatermark detector alone, in process: {detector:.0f}/s on the stripped file")
    print(
        f"{args.seconds:g} s per row; verdict cache {'on' if args.cache else 'off'}; "
        f"{os.cpu_count()} CPUs shared by the server and the load driver; "
        f"median in-process verify: {statistics.median(ceilings.values()):.0f}/s"
    )
    print(f"wrote {write_json('load', {'rows': rows, 'ceilings': ceilings, 'detector': detector})}")


if __name__ == "__main__":
    main()
