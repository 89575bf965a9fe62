"""Cost of reading text wrappers against the text's size (issue 11: it was quadratic).

``verify`` of three hostile texts at 1, 8 and 16 MB: issue 11's ``(U+FEFF + 10 x U+FE00)``
repeated (stray marks, no magic), the magic repeated with every copy truncated, and tiny
complete wrappers back to back. Fastest of 3 runs each; the ratio is to 1 MB of the same input
in the same run (linear: about 8 and 16). Issue 11 measured, before: 0.57 s, 19.8 s, 108 s for
the first input. Table to stdout, JSON to bench/results/text_wrappers.json.

    uv run python -m bench.text_wrappers
"""

from __future__ import annotations

import time

from bench._common import table, write_json
from provenance import verify
from provenance.text_manifest import encode_wrapper

INPUTS = {
    "stray U+FEFF + 10 selectors": "\ufeff" + "\ufe00" * 10,
    "magic, truncated": encode_wrapper(b"x" * 4)[:12],
    "complete tiny wrappers": encode_wrapper(b"x" * 4),
}
SIZES_MB = (1, 8, 16)


def _best_of(runs: int, data: bytes) -> float:
    """The fastest of ``runs``: on a shared machine the others measure the neighbours."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        verify(data, media_type="text/plain")
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rows = []
    for name, unit in INPUTS.items():
        row: dict[str, object] = {"input": name}
        seconds = []
        for mb in SIZES_MB:
            data = (unit * (mb * 1_000_000 // len(unit.encode()))).encode()
            seconds.append(_best_of(3, data))
            row[f"{mb} MB (s)"] = f"{seconds[-1]:.3f}"
        for mb, s in zip(SIZES_MB[1:], seconds[1:], strict=True):
            row[f"{mb}/1 MB"] = f"{s / seconds[0]:.1f}x"
        rows.append(row)
    columns = ["input", *(f"{mb} MB (s)" for mb in SIZES_MB), "8/1 MB", "16/1 MB"]
    print(table(rows, columns))
    print("\nfastest of 3 runs of verify(); issue 11 before: 0.57 / 19.8 / 108 s (first input)")
    print(f"wrote {write_json('text_wrappers', {'rows': rows})}")


if __name__ == "__main__":
    main()
