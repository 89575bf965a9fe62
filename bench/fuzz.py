"""The long fuzz run: ≥ 10,000 mutated real files through the library and the server.

Seeds and mutations are tests/fuzzing.py's (files signed here, a stripped copy, a signed text,
and the peer fixtures). ``--inputs`` mutated inputs go through ``verify``, spread over
``--processes`` processes; meanwhile ``--server-inputs`` other mutations go to the real server
(``python -m extension_api`` on loopback, as a process). Counted: verdicts, clear errors
(ProvenanceError) by class, anything else (a crash of the library), server answers by status
(a 5xx is a failure), and the slowest inputs.

    uv run python -m bench.fuzz                       # 10,000 inputs
    uv run python -m bench.fuzz --inputs 500 --server-inputs 100 --seed 7
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from bench._common import table, write_json
from provenance import ManifestRegistry, ProvenanceError, SigningKeys, TrustPolicy, init_keys
from provenance import verify as verify_content
from tests.fuzzing import Seed, mutate, post_for_status, random_mutations, seeds
from tests.server import free_port


def _fuzz_library(
    corpus: list[Seed], registry_location: str, root: str, seed: int, count: int
) -> tuple[Counter[str], list[str], list[tuple[float, str]]]:
    """``count`` mutated inputs through ``verify`` (in a process of its own)."""
    registry = ManifestRegistry(registry_location)
    policy = TrustPolicy.from_files([root])
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    crashes: list[str] = []
    times: list[tuple[float, str]] = []
    for _ in range(count):
        chosen = rng.choice(corpus)
        mutations = random_mutations(rng)
        data = mutate(chosen.data, mutations)
        start = time.perf_counter()
        try:
            verify_content(
                data,
                policy=policy,
                registry=registry,
                media_type=chosen.media_type,
            )
            outcomes["verdict"] += 1
        except ProvenanceError as exc:
            outcomes[f"error:{type(exc).__name__}"] += 1
        except Exception:
            outcomes["CRASH"] += 1
            crashes.append(f"{chosen.name} {mutations}\n{traceback.format_exc(limit=3)}")
        times.append((time.perf_counter() - start, chosen.name))
    return outcomes, crashes, times


def _fuzz_server(url: str, corpus: list[Seed], seed: int, count: int) -> Counter[int]:
    rng = random.Random(seed)
    statuses: Counter[int] = Counter()
    for _ in range(count):
        chosen = rng.choice(corpus)
        data = mutate(chosen.data, random_mutations(rng))
        statuses[post_for_status(url, data, chosen.text, timeout=120)] += 1
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=10_000, help="through the library")
    parser.add_argument("--server-inputs", type=int, default=2_000, help="through the server")
    parser.add_argument("--processes", type=int, default=2, help="library fuzzing processes")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="provenance-fuzz-"))
    keys = init_keys(workdir / "keys", org="Fuzz Ltd")
    registry = ManifestRegistry(workdir / "m.sqlite3")
    corpus = seeds(SigningKeys.load(keys_dir=keys.dir), registry)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "extension_api", "--port", str(port), "--registry",
            str(registry.location), "--trust", str(keys.root), "--no-default-trust", "--rate-limit",
            "0", "--cache-size", "0", "--threads", "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1/verify"
    server.stdout.readline()  # type: ignore[union-attr]  # the start-up line: listening
    started = time.perf_counter()
    outcomes: Counter[str] = Counter()
    crashes: list[str] = []
    times: list[tuple[float, str]] = []
    try:
        share = -(-args.inputs // args.processes)
        with ProcessPoolExecutor(args.processes, mp_context=get_context("spawn")) as pool:
            jobs = [
                pool.submit(
                    _fuzz_library,
                    corpus,
                    str(registry.location),
                    str(keys.root),
                    args.seed + i,
                    min(share, args.inputs - i * share),
                )
                for i in range(args.processes)
            ]
            statuses = _fuzz_server(url, corpus, args.seed - 1, args.server_inputs)
            for job in jobs:
                found, crashed, took = job.result()
                outcomes.update(found)
                crashes += crashed
                times += took
    finally:
        server.terminate()
        server.wait(60)
    elapsed = time.perf_counter() - started
    durations = sorted(t for t, _ in times)
    slowest = sorted(times, reverse=True)[:5]
    rows = [{"outcome": k, "inputs": v} for k, v in sorted(outcomes.items())]
    print(table(rows, ["outcome", "inputs"]))
    print()
    print(table([{"status": k, "answers": v} for k, v in sorted(statuses.items())],
                ["status", "answers"]))  # fmt: skip
    server_failures = sum(n for s, n in statuses.items() if s >= 500)
    print(
        f"\n{sum(outcomes.values())} library inputs and {sum(statuses.values())} server inputs "
        f"from {len(corpus)} seeds in {elapsed:.0f} s; library: median "
        f"{statistics.median(durations) * 1000:.1f} ms, max {durations[-1]:.2f} s "
        f"({slowest[0][1]}); crashes {outcomes['CRASH']}; server: {server_failures} 5xx"
    )
    for crash in crashes[:5]:
        print(crash)
    path = write_json(
        "fuzz",
        {
            "library_inputs": sum(outcomes.values()),
            "server_inputs": sum(statuses.values()),
            "seed": args.seed,
            "seeds": [s.name for s in corpus],
            "outcomes": dict(outcomes),
            "server_statuses": {str(k): v for k, v in statuses.items()},
            "seconds": elapsed,
            "median_ms": statistics.median(durations) * 1000,
            "max_s": durations[-1],
            "slowest": [{"seconds": t, "seed": n} for t, n in slowest],
            "crashes": crashes[:20],
        },
    )
    print(f"wrote {path}")
    if crashes or server_failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
