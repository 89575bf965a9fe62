"""Load on the verification server, against the library's own in-process ceiling.

Starts `python -m extension_api --workers N` (rate limit off, verdict cache off unless --cache)
on a loopback port, then drives it from a separate process with 1, 16 and 64 concurrent clients
for a fixed time each, posting a 1 MP JPEG with embedded credentials, an unsigned one, a
watermarked-then-stripped one (its manifest registered in the server's registry), and the upload
mix a platform sees (90 % unsigned, 10 % with credentials; "mix-photos": the same with its
unsigned uploads taken in turn from four photos, not all from rocket.jpg). Beside each, the
ceiling measured in the same run: a plain in-process loop of `provenance.verify` (and, for the
stripped file, of the watermark detector alone). With several ``--workers`` counts, each is
measured in the same run and the ratio to the first is printed. Each row also gives the CPU
time per request of the server's processes (server, workers) and of the load driver, which
share this machine's cores: cores / (their sum) is what the cores could serve with nothing else
running. ``--baseline CHECKOUT`` first measures another checkout's server (e.g. main's) in the
same run. Table to stdout, JSON to bench/results/load.json.

    uv run python -m bench.load [--seconds 8] [--warmup 2] [--cache] [--workers 1 2] [--clients 16]
                                [--cases credentials mix] [--baseline /tmp/base]
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

from bench._common import natural_jpeg, table, wait_healthy, write_json
from provenance import (
    ManifestRegistry,
    ManifestSpec,
    SigningKeys,
    SignOptions,
    TrustPolicy,
    init_keys,
    sign,
    verify,
)
from provenance.watermark import detect_bytes

CLIENTS = (1, 16, 64)
#: The upload mix: of every ten requests, one has credentials and nine are unsigned.
MIX = ("credentials",) + ("unsigned",) * 9
#: Unsigned photos beside ``unsigned`` (rocket.jpg) for "mix-photos". An unmarked image costs
#: the detector what its noise makes it search (one whose noise reads above the refinement
#: threshold is refined and folded once more), so one file speaks for itself only; a platform's
#: nine unsigned uploads in ten are all different.
OTHER_UNSIGNED = ("astronaut.jpg", "chelsea.jpg", "hubble.jpg")
UNSIGNED = ("unsigned", *(f"unsigned {name}" for name in OTHER_UNSIGNED))
#: The same mix with its unsigned uploads taken in turn from four photos.
MIX_PHOTOS = ("credentials", *(UNSIGNED[i % len(UNSIGNED)] for i in range(9)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _files(workdir: Path) -> tuple[dict[str, bytes], Path, Path]:
    keys = init_keys(workdir / "keys", org="Bench Ltd")
    creds = SigningKeys.load(keys_dir=keys.dir)
    registry_location = workdir / "manifests.sqlite3"
    registry = ManifestRegistry(registry_location)
    photo = natural_jpeg(1.0, "coffee.jpg")
    options = SignOptions(ManifestSpec(generator="Bench Diffusion"))
    signed = sign(photo, creds, options, registry=registry).asset or b""
    buf = io.BytesIO()
    Image.open(io.BytesIO(signed)).convert("RGB").save(buf, format="JPEG", quality=85)
    files = {
        "credentials": signed,
        "unsigned": natural_jpeg(1.0, "rocket.jpg"),
        "stripped": buf.getvalue(),
    } | {f"unsigned {name}": natural_jpeg(1.0, name) for name in OTHER_UNSIGNED}
    return files, registry_location, keys.root


# -- the driver (runs in its own process) -------------------------------------------------------


async def _drive(url: str, bodies: list[bytes], clients: int, seconds: float) -> dict[str, Any]:
    """Each client posts the bodies in turn, from its own offset, until the time is up."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(offset: int) -> None:
            nonlocal errors
            turn = offset
            while time.perf_counter() < deadline:
                body = bodies[turn % len(bodies)]
                turn += 1
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

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(client(i * 7) for i in range(clients)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "cpu": cpu,
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


def _start_server(
    port: int,
    registry_location: Path,
    root: Path,
    workers: int,
    cache: bool,
    tree: Path | None = None,
) -> Any:
    """The server, from this checkout or from ``tree`` (another checkout of the project, run
    with this environment's packages: a baseline measured in the same run)."""
    # The variable's earlier name too, for a baseline checkout from before the rename.
    location = str(registry_location)
    env = {**os.environ, "PROVENANCE_REGISTRY": location, "PROVENANCE_STORE": location}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
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
            "1024" if cache else "0",
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=tree,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    wait_healthy(f"http://127.0.0.1:{port}")
    # And until its worker processes have started (their start-up is not the load's CPU).
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    return server


def _tree_cpu(root: int) -> tuple[float, float]:
    """CPU seconds (user + system) used so far by the server ``root`` and its live descendants,
    from /proc: (the server processes' event loops, the worker processes). Workers are
    whatever multiprocessing's forkserver started; with ``--workers N`` the root only
    supervises the N server processes it forked."""
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    pooled: set[int] = set()
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        spent[pid] = (int(fields[11]) + int(fields[12])) / tick
        if b"multiprocessing.forkserver" in command:
            pooled.add(pid)
    family, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    loops = sum(spent.get(pid, 0.0) for pid in family - pooled)
    return loops, sum(spent.get(pid, 0.0) for pid in family & pooled)


def _measure(
    port: int, server: int, files: list[Path], clients: int, args: argparse.Namespace
) -> Any:
    """One row: the driver, in its own process, against the server on ``port``; with the CPU
    time per request of the server's processes and of the driver while it drives (they share
    the cores). The same load is driven for ``args.warmup`` seconds first, unmeasured: a worker
    process's first calls build what it keeps for the rest of its life (the detector's tables
    for each image shape, c2pa's and the registry's first use, the pages it shares with the
    forkserver until it writes them), and a row that began on fresh workers counted that in
    its CPU per request (the first case of a run: +2-10 ms per request at 16 clients)."""

    def drive(seconds: float) -> dict[str, Any]:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.load",
                "--drive",
                f"http://127.0.0.1:{port}/v1/verify",
                ",".join(str(p) for p in files),
                str(clients),
                str(seconds),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(json.loads(out.stdout))

    if args.warmup > 0:
        drive(args.warmup)
    server_before = _tree_cpu(server)
    result = drive(args.seconds)
    count = max(1, result["requests"])
    server_after = _tree_cpu(server)
    result["loop_cpu_ms"] = (server_after[0] - server_before[0]) / count * 1000
    result["workers_cpu_ms"] = (server_after[1] - server_before[1]) / count * 1000
    result["server_cpu_ms"] = result["loop_cpu_ms"] + result["workers_cpu_ms"]
    result["driver_cpu_ms"] = result["cpu"] / count * 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--cache", action="store_true", help="leave the verdict cache on")
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds of the same load before each row, not measured (0: measure from the "
        "workers' first calls)",
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="server processes")
    parser.add_argument("--clients", type=int, nargs="+", default=list(CLIENTS))
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["credentials", "unsigned", "stripped", "mix", "mix-photos"],
        choices=["credentials", "unsigned", "stripped", "mix", "mix-photos"],
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="CHECKOUT",
        help="also measure the server of another checkout (e.g. `git worktree add /tmp/base "
        "main`) in the same run, before this one, and print this one's ratio to it",
    )
    parser.add_argument(
        "--drive", nargs=4, metavar=("URL", "FILES", "CLIENTS", "SECONDS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.drive:
        url, paths, clients, seconds = args.drive
        _driver_main(url, paths, int(clients), float(seconds))
        return

    workdir = Path(tempfile.mkdtemp(prefix="provenance-load-"))
    files, registry_location, root = _files(workdir)
    policy = TrustPolicy.from_files([root])
    registry = ManifestRegistry(registry_location)
    rates = {
        name: _loop_rate(
            lambda d=data: verify(d, policy=policy, registry=registry), min(3.0, args.seconds)
        )
        for name, data in files.items()
    }
    detector = _loop_rate(lambda: detect_bytes(files["stripped"]), min(3.0, args.seconds))
    paths = {}
    for name, data in files.items():
        paths[name] = workdir / f"{name.replace(' ', '-').removesuffix('.jpg')}.jpg"
        paths[name].write_bytes(data)
    sequences = {name: (name,) for name in files} | {"mix": MIX, "mix-photos": MIX_PHOTOS}
    # A case's in-process ceiling: requests/s if each takes its file's in-process time.
    ceilings = {
        case: len(seq) / sum(1 / rates[name] for name in seq) for case, seq in sequences.items()
    }

    cores = os.cpu_count() or 1
    rows: list[dict[str, Any]] = []
    measured: dict[tuple[str, int, str, int], float] = {}
    servers: list[tuple[str, Path | None]] = [("this", None)]
    if args.baseline is not None:
        servers.insert(0, ("baseline", args.baseline.resolve()))
    for label, tree in servers:
        for workers in args.workers:
            port = _free_port()
            server = _start_server(port, registry_location, root, workers, args.cache, tree)
            try:
                for case in args.cases:
                    for clients in args.clients:
                        files_ = [paths[n] for n in sequences[case]]
                        r = _measure(port, server.pid, files_, clients, args)
                        measured[(label, workers, case, clients)] = r["rps"]
                        first = measured.get((label, args.workers[0], case, clients), r["rps"])
                        row = {
                            "server": label,
                            "workers": workers,
                            "case": case,
                            "clients": clients,
                            "req/s": f"{r['rps']:.1f}",
                            "p50 ms": f"{r['p50']:.1f}",
                            "p95 ms": f"{r['p95']:.1f}",
                            "p99 ms": f"{r['p99']:.1f}",
                            "errors": r["errors"],
                            "CPU ms/req: server loops": f"{r['loop_cpu_ms']:.2f}",
                            "worker processes": f"{r['workers_cpu_ms']:.2f}",
                            "driver": f"{r['driver_cpu_ms']:.2f}",
                            # What both cores could serve if nothing else ran on them.
                            "cores / CPU per req": (
                                f"{cores / (r['server_cpu_ms'] + r['driver_cpu_ms']) * 1000:.0f}"
                            ),
                            "in-process verify/s": f"{ceilings[case]:.1f}",
                            "server / in-process": f"{r['rps'] / ceilings[case]:.2f}",
                            f"vs {args.workers[0]} worker(s)": f"{r['rps'] / first:.2f}",
                        }
                        base = measured.get(("baseline", workers, case, clients))
                        if label == "this" and base is not None:
                            row["vs baseline"] = f"{r['rps'] / base:.2f}"
                        rows.append(row)
                        print(rows[-1], flush=True)
            finally:
                server.terminate()
                server.wait(30)
    columns = list(dict.fromkeys(c for row in rows for c in row))
    print(table(rows, columns))
    print(f"\nwatermark detector alone, in process: {detector:.0f}/s on the stripped file")
    print(
        f"{args.seconds:g} s per row after {args.warmup:g} s of warm-up; "
        f"verdict cache {'on' if args.cache else 'off'}; "
        f"{os.cpu_count()} CPUs shared by the server and the load driver; load average "
        f"{os.getloadavg()[0]:.1f}; median in-process verify: "
        f"{statistics.median(rates.values()):.1f}/s"
    )
    payload = {"rows": rows, "ceilings": ceilings, "in_process": rates, "detector": detector}
    print(f"wrote {write_json('load', payload)}")


if __name__ == "__main__":
    main()
