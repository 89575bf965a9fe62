"""`python -m extension_api` as a process: the start-up line, and a graceful SIGTERM."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from PIL import Image

from .conftest import PHOTOS
from .server import free_port


def test_startup_line_and_graceful_sigterm(tmp_path, keys):
    port = free_port()
    registry = tmp_path / "m.sqlite3"
    # _start waits for /healthz; the start-up line stays in the pipe until read.
    proc = _start(registry, keys, port, "--cache-size", "0")
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}" in line and str(registry) in line
        assert "1 anchor(s)" in line and "remote manifests off" in line
        # A slow request: a large unmarked PNG takes the detector's longest path.
        big = io.BytesIO()
        image = Image.open(PHOTOS[0])
        image.resize((image.width * 6, image.height * 6)).save(big, format="PNG")
        result: dict[str, float] = {}

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


def _start(registry: object, keys, port: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extension_api",
            "--port",
            str(port),
            "--registry",
            str(registry),
            "--trust",
            str(keys.root),
            "--rate-limit",
            "0",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PROVENANCE_API_KEYS": ""},
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                msg = f"the server ended: {proc.stderr.read()}"  # type: ignore[union-attr]
                raise AssertionError(msg) from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _get(url: str) -> tuple[int, str, bytes]:
    """(status, answering worker, body) over a new connection."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("X-Provenance-Worker", ""), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-Provenance-Worker", ""), exc.read()


def test_two_processes_share_report_links_that_survive_a_restart(registry_location, keys):
    """`--workers 2`: two processes on one port. A report link handed out by one is served
    by the other, and by a new server after a restart (the verdict lives in the registry)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(registry_location, keys, port, "--workers", "2")
    try:
        assert "2 processes" in proc.stdout.readline()  # type: ignore[union-attr]
        request = urllib.request.Request(
            f"{base}/v1/verify", data=PHOTOS[1].read_bytes(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            verdict, first = json.loads(r.read()), r.headers["X-Provenance-Worker"]
        report = f"{base}/v1/report/{verdict['sha256']}"
        seen = {}
        for _ in range(200):  # the kernel picks the process for each new connection
            status, worker, body = _get(report)
            seen[worker] = (status, body)
            if len(seen) == 2:
                break
        assert set(seen) == {"1", "2"}, f"only worker(s) {sorted(seen)} answered"
        other = next(w for w in seen if w != first)
        status, body = seen[other]
        assert status == 200 and json.loads(body) == verdict
        assert _get(f"{base}/v1/report/{'0' * 64}")[0] == 404
        # One scrape of either process counts the whole server's requests.
        time.sleep(2.5)  # each process shares its counters about once a second
        scrapes = {}
        for _ in range(200):
            _, worker, text = _get(f"{base}/metrics")
            scrapes[worker] = text.decode()
            if len(scrapes) == 2:
                break
        line = 'provenance_requests_total{method="POST",route="/v1/verify",status="200"} 1.0\n'
        assert all(line in text for text in scrapes.values()), scrapes
    finally:
        _stop(proc)
    proc = _start(registry_location, keys, port)
    try:
        status, _, body = _get(report)
        assert status == 200 and json.loads(body) == verdict
    finally:
        _stop(proc)


def test_a_worker_that_cannot_start_stops_the_server(tmp_path, keys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "extension_api",
            "--port",
            str(port),
            "--workers",
            "2",
            "--registry",
            str(blocker / "m.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.wait(60) == 1
        assert "cannot open the registry" in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("argv", "says", "cli_says"),
    [
        (
            ["--port", "x"],
            "extension_api: error: argument --port: 'x' is not a port number",
            "provenance serve: error: argument --port: 'x' is not a port number",
        ),
        (
            ["--trust", "missing.pem"],
            "extension_api: error: cannot read trust anchors missing.pem",
            "provenance: error: cannot read trust anchors missing.pem",
        ),
    ],
    ids=["flag", "library"],
)
def test_errors_name_the_program_as_users_run_it(tmp_path, argv, says, cli_says):
    """`python -m extension_api`'s errors start with its name (the usage line gives the whole
    command); `provenance serve`'s are the CLI's."""
    runs = [
        (["-m", "extension_api"], says, "usage: python -m extension_api "),
        (["-m", "provenance", "serve"], cli_says, "usage: provenance serve "),
    ]
    for command, expected, usage in runs:
        done = subprocess.run(
            [sys.executable, *command, *argv], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode in (1, 2) and done.stderr.splitlines()[-1].startswith(expected)
        if argv[0] == "--port":  # a flag error shows how the command is run
            assert done.stderr.startswith(usage)


def test_a_taken_port_is_one_line_from_both_commands(tmp_path):
    """What the OS refuses (here the port) is one line naming the program, never a traceback:
    `python -m extension_api` and `provenance serve` say it through the same function."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for command, name in [
            (["-m", "extension_api"], "extension_api"),
            (["-m", "provenance", "serve"], "provenance"),
        ]:
            done = subprocess.run(
                [sys.executable, *command, "--port", port, "--registry", str(tmp_path / "m.db")],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=120,
            )
            assert done.returncode == 1 and "Traceback" not in done.stderr
            [line] = done.stderr.splitlines()
            assert line.startswith(f"{name}: error: ") and "already in use" in line.lower()
