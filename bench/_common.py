"""Helpers shared by the bench scripts: timing, natural test images, tables and JSON output."""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
RESULTS = ROOT / "bench" / "results"


def natural_jpeg(megapixels: float, sample: str = "astronaut.jpg", quality: int = 90) -> bytes:
    """A JPEG of about ``megapixels``, resampled from a sample photo (natural content)."""
    image = Image.open(SAMPLES / sample).convert("RGB")
    scale = (megapixels * 1e6 / (image.width * image.height)) ** 0.5
    size = (round(image.width * scale), round(image.height * scale))
    out = io.BytesIO()
    image.resize(size, Image.Resampling.LANCZOS).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def median_seconds(
    # Called with no arguments; "..." because the benches bind loop variables as lambda defaults
    # (``lambda d=data: ...``), which mypy cannot match to a zero-argument callable.
    fn: Callable[..., Any],
    runs: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Median time of ``fn``; ``clock=time.process_time`` for the CPU time of this process
    (all its threads), which other work on a shared machine disturbs far less than wall time."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.rjust(w) for v, w in zip(vals, widths, strict=True))  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def write_json(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    return path


def wait_healthy(url: str, attempts: int = 300) -> None:
    """Poll ``url``/healthz until the server answers (a bench's server start-up)."""
    import time
    import urllib.request

    for _ in range(attempts):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)


def peak_kib(task: str, path: Path, run: bool) -> int:
    """The peak resident memory (KiB) of a fresh process that prepares ``task``'s input from
    ``path`` and, with ``run``, runs it (``bench._peak``): the difference between ``run`` and
    not is what the task adds."""
    out = subprocess.run(
        [sys.executable, "-m", "bench._peak", task, str(path), "1" if run else "0"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        cwd=ROOT,
    )
    return int(out.stdout.strip())
