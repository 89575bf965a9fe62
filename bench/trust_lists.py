"""What the bundled trust lists cost per verification.

Building a c2pa Context from a policy's settings parses 30 + 22 + 27 anchors and 114 allow-list
hashes; a policy builds it once per process (``TrustPolicy.context``) and every read reuses it,
so the first row is paid once, the others on each read. Baseline, measured in the same run: the
same files verified with no trust lists (`--no-default-trust`). The ratio column is lists over
baseline.

    uv run python -m bench.trust_lists [--runs N]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bench._common import ROOT, median_seconds, table, write_json
from provenance import TrustPolicy, verify
from provenance._internal import c2pa_adapter

PEERS = ROOT / "tests" / "data" / "peers"
FILES = {
    "Firefly JPEG (interim)": PEERS / "example-assets/images/Firefly_tabby_cat.jpg",
    "Google MP4 (official+TSA)": PEERS / "huminify-c2pa-detector/examples/videotest.mp4",
    "C2PA test JPEG (untrusted)": PEERS / "c2pa-rs/sdk/tests/fixtures/C.jpg",
}


def _build(policy: TrustPolicy) -> object:
    """What :meth:`TrustPolicy.context` does the first time in a process."""
    return c2pa_adapter.new_context(policy.settings())


def _row(
    what: str, baseline: Callable[..., object], lists: Callable[..., object], runs: int
) -> dict[str, object]:
    """Medians in ms of the same work without and with the lists, and their ratio."""
    base_ms = 1000 * median_seconds(baseline, runs)
    lists_ms = 1000 * median_seconds(lists, runs)
    return {
        "what": what,
        "baseline ms": round(base_ms, 2),
        "lists ms": round(lists_ms, 2),
        "ratio": round(lists_ms / base_ms, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bare = TrustPolicy.from_files([])
    lists = TrustPolicy.from_files([], default_lists=True)
    rows = [
        _row(
            "building the Context (once per process)",
            lambda: _build(bare),
            lambda: _build(lists),
            args.runs,
        )
    ]
    for name, path in FILES.items():
        data = path.read_bytes()
        state = verify(data, policy=lists, registry=None, watermark=False).credentials.state
        rows.append(
            _row(
                f"verify {name} -> {state}",
                lambda d=data: verify(d, policy=bare, registry=None, watermark=False),
                lambda d=data: verify(d, policy=lists, registry=None, watermark=False),
                args.runs,
            )
        )
    print(table(rows, ["what", "baseline ms", "lists ms", "ratio"]))
    path = write_json("trust_lists", {"runs": args.runs, "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
