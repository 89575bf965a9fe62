"""`python -m extension_api` as a process: the start-up line, and a graceful SIGTERM."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from PIL import Image

from .conftest import PHOTOS
from .server import free_port


def test_startup_line_and_graceful_sigterm(tmp_path, keys):
    port = free_port()
    store = tmp_path / "m.sqlite3"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extension_api",
            "--port",
            str(port),
            "--store",
            str(store),
            "--trust",
            str(keys.root),
            "--rate-limit",
            "0",
            "--cache-size",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PROVENANCE_API_KEYS": ""},
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}" in line and str(store) in line
        assert "1 anchor(s)" in line and "remote manifests off" in line
        # A slow request: a large unmarked PNG takes the detector's longest path.
        big = io.BytesIO()
        image = Image.open(PHOTOS[0])
        image.resize((image.width * 6, image.height * 6)).save(big, format="PNG")
        result: dict[str, object] = {}

        def slow() -> None:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/verify", data=big.getvalue(), method="POST"
            )
            with urllib.request.urlopen(req, timeout=60) as r:
                result["status"] = r.status
            result["done"] = time.monotonic()

        worker = threading.Thread(target=slow)
        worker.start()
        time.sleep(0.15)  # the request is in flight
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        worker.join(60)
        assert result.get("status") == 200  # it finished despite the shutdown
        assert result["done"] > signalled, "the request ended before the signal: test is void"
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
