"""The long fuzz run: ≥ 10,000 mutated real files through the library and the server.

Seeds and mutations are tests/fuzzing.py's (files signed here, a stripped copy, a signed text,
and the peer fixtures). Each input goes through ``verify`` in this process; one in
``--server-every`` also goes to the real server (``python -m extension_api`` on loopback, as a
process). Counted: verdicts, clear errors (ProvenanceError) by class, anything else (a crash
of the library), server answers by status (a 5xx is a failure), and the slowest inputs.

    uv run python -m bench.fuzz                       # 10,000 inputs
    uv run python -m bench.fuzz --inputs 500 --seed 7
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
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from bench._common import table, write_json
from provenance import ManifestStore, ProvenanceError, SigningCredentials, TrustPolicy, init_keys
from provenance import verify as verify_content
from tests.fuzzing import mutate, random_mutations, seeds
from tests.server import free_port


def _post(url: str, data: bytes, text: bool) -> int:
    request = urllib.request.Request(
        url,
        data=data or b"\0",
        headers={"Content-Type": "text/plain" if text else "application/octet-stream"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--server-every", type=int, default=5, help="1 in N also to the server")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="provenance-fuzz-"))
    keys = init_keys(workdir / "keys", org="Fuzz Ltd")
    store = ManifestStore(workdir / "m.sqlite3")
    corpus = seeds(SigningCredentials.load(keys_dir=keys.dir), store)
    policy = TrustPolicy.from_files([keys.root])
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "extension_api", "--port", str(port), "--store",
            str(store.path), "--trust", str(keys.root), "--no-default-trust", "--rate-limit",
            "0", "--cache-size", "0", "--workers", "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1/verify"
    server.stdout.readline()  # type: ignore[union-attr]  # the start-up line: listening
    rng = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    crashes: list[str] = []
    times: list[tuple[float, str]] = []
    started = time.perf_counter()
    try:
        for i in range(args.inputs):
            seed = rng.choice(corpus)
            mutations = random_mutations(rng)
            data = mutate(seed.data, mutations)
            start = time.perf_counter()
            try:
                verify_content(
                    data,
                    policy=policy,
                    store=store,
                    media_type="text/plain" if seed.text else None,
                )
                outcomes["verdict"] += 1
            except ProvenanceError as exc:
                outcomes[f"error:{type(exc).__name__}"] += 1
            except Exception:
                outcomes["CRASH"] += 1
                crashes.append(f"{seed.name} {mutations}\n{traceback.format_exc(limit=3)}")
            times.append((time.perf_counter() - start, seed.name))
            if i % args.server_every == 0:
                statuses[_post(url, data, seed.text)] += 1
            if (i + 1) % 1000 == 0:
                rate = (i + 1) / (time.perf_counter() - started)
                print(f"{i + 1} inputs, {rate:.1f}/s, crashes {outcomes['CRASH']}", flush=True)
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
        f"\n{args.inputs} inputs from {len(corpus)} seeds in {elapsed:.0f} s; library: "
        f"median {statistics.median(durations) * 1000:.1f} ms, max {durations[-1]:.2f} s "
        f"({slowest[0][1]}); crashes {outcomes['CRASH']}; server: {sum(statuses.values())} "
        f"answers, {server_failures} 5xx"
    )
    for crash in crashes[:5]:
        print(crash)
    path = write_json(
        "fuzz",
        {
            "inputs": args.inputs,
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
