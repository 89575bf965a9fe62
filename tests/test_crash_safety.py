"""Failures leave nothing behind and say one line: a damaged registry, concurrent `keys init`,
failed writes and kill -9 in the middle of `sign --out-dir`."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import c2pa
import pytest

import provenance.files
from extension_api import Settings
from provenance import (
    ManifestRegistry,
    ManifestSpec,
    RegistryError,
    RegistryUnavailableError,
    SigningKeys,
    SignOptions,
    TrustPolicy,
    sign,
    sign_file,
)
from provenance.errors import KeysError, OutputError

from .conftest import PHOTOS
from .server import LiveServer

AI = SignOptions(ManifestSpec(generator="Acme Diffusion"))


def _cli(*argv: str, umask: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "provenance", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


# -- a damaged registry ----------------------------------------------------------------------------


def _damage(path: Path) -> None:
    """Overwrite every page after the first (the header and schema) with garbage."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = 4096
    size = path.stat().st_size
    assert size > page, "the registry has only its first page: nothing to damage"
    with path.open("r+b") as f:
        f.seek(page)
        f.write(b"\xa5" * (size - page))


@pytest.fixture
def damaged(tmp_path, credentials) -> tuple[Path, list[Path]]:
    registry_location = tmp_path / "m.sqlite3"
    registry = ManifestRegistry(registry_location)
    stripped = []
    for i, photo in enumerate(PHOTOS[:2]):
        signed = sign(photo.read_bytes(), credentials, AI, registry=registry).asset
        assert signed is not None
        copy = tmp_path / f"stripped{i}.png"
        from PIL import Image

        Image.open(io.BytesIO(signed)).save(copy, format="PNG")
        stripped.append(copy)
    _damage(registry_location)
    return registry_location, stripped


def test_damaged_registry_is_a_clear_error_and_the_batch_goes_on(damaged):
    registry_location, files = damaged
    with pytest.raises(RegistryUnavailableError, match="damaged") as caught:
        ManifestRegistry(registry_location).by_watermark(1)
    assert "restore it from a backup" in str(caught.value)
    result = _cli("verify", *map(str, files), "--registry", str(registry_location))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("provenance: error")]
    assert len(errors) == len(files), result.stderr  # one line per file: the batch went on
    assert all("damaged" in line for line in errors)


async def test_damaged_registry_is_503_not_500(damaged, keys):
    import aiohttp

    registry_location, files = damaged
    settings = Settings(
        registry_location=registry_location, trust=TrustPolicy.from_files([keys.root])
    )
    # _damage keeps the first page (the schema), so the server must start: a server that
    # refuses to start on a damaged registry fails here rather than skipping.
    with LiveServer(settings) as live:
        async with (
            aiohttp.ClientSession() as s,
            s.post(f"{live.url}/v1/verify", data=files[0].read_bytes()) as r,
        ):
            body = await r.json()
        assert r.status == 503 and body["error"]["code"] == "store_unavailable", body
        assert "SELECT" not in body["error"]["message"]


def test_conflict_message_holds_no_sql(tmp_path, credentials):
    registry = ManifestRegistry(tmp_path / "m.sqlite3")
    signed = sign(PHOTOS[0].read_bytes(), credentials, AI, registry=registry)
    record = registry.by_manifest_id(signed.manifest_id)
    assert record is not None
    with pytest.raises(RegistryError) as caught:
        registry.register(record)
    message = str(caught.value)
    assert signed.manifest_id in message and "already registered" in message
    assert "UNIQUE" not in message and "manifests." not in message


# -- keys init ----------------------------------------------------------------------------------


def test_concurrent_keys_init_leaves_one_matching_set(tmp_path):
    for round_ in range(2):
        target = tmp_path / f"keys{round_}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "provenance", "keys", "init", "--dir", str(target)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outcomes = [(p.wait(120), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        assert sorted(code for code, _ in outcomes) == [0, 1, 1], outcomes
        assert all("already exist" in err for code, err in outcomes if code)
        SigningKeys.load(keys_dir=target)  # key and chain belong together
        assert sorted(os.listdir(target)) == ["chain.pem", "root.pem", "signer.key"]


def test_keys_init_under_umask_000(tmp_path):
    target = tmp_path / "keys"
    result = _cli("keys", "init", "--dir", str(target), umask=0)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert stat.S_IMODE((target / "signer.key").stat().st_mode) == 0o600


def test_a_bad_signer_key_is_reported_as_signer_key(tmp_path, keys):
    copy = tmp_path / "keys"
    shutil.copytree(keys.dir, copy)
    (copy / "signer.key").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n")
    with pytest.raises(KeysError) as caught:
        SigningKeys.load(keys_dir=copy)
    assert "signer.key" in str(caught.value) and "chain.pem" not in str(caught.value)


# -- failed writes and kill -9 ------------------------------------------------------------------


def _rows(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT manifest_id FROM manifests")}


def _manifest_id(path: Path) -> str:
    with c2pa.Reader(str(path)) as reader:
        import json

        return str(json.loads(reader.json())["active_manifest"])


def test_failed_writes_leave_no_registry_row_and_say_one_line(tmp_path, keys):
    registry = tmp_path / "m.sqlite3"
    photo = PHOTOS[0]
    out = tmp_path / "out.jpg"
    out.write_bytes(b"already here")
    result = _cli(
        "sign", str(photo), "-o", str(out), "--keys", str(keys.dir), "--registry", str(registry)
    )
    assert result.returncode == 1 and "already exists" in result.stderr
    assert "Traceback" not in result.stderr and _rows(registry) == set()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = _cli(
        "sign", str(photo), "--out-dir", str(blocker / "sub"), "--keys", str(keys.dir),
        "--registry", str(registry),
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot create the directory" in result.stderr and _rows(registry) == set()
    text = tmp_path / "t.txt"
    text.write_text("A paragraph a model wrote.")
    (tmp_path / "t.signed.txt").write_text("here")
    result = _cli("sign-text", str(text), "--keys", str(keys.dir), "--registry", str(registry))
    assert result.returncode == 1 and "already exists" in result.stderr
    assert _rows(registry) == set()
    result = _cli("watermark", "embed", str(photo), str(out), "--payload", "0123456789")
    assert result.returncode == 1 and "already exists" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_name_taken_at_the_last_moment_rolls_the_row_back(tmp_path, credentials, monkeypatch):
    registry = ManifestRegistry(tmp_path / "m.sqlite3")
    out = tmp_path / "out.jpg"
    real = provenance.files._link_unnamed

    def race(fd: int, path: Path) -> None:  # another process takes the name meanwhile
        path.write_bytes(b"theirs")
        real(fd, path)

    monkeypatch.setattr(provenance.files, "_link_unnamed", race)
    with pytest.raises(OutputError, match="appeared while signing"):
        sign_file(PHOTOS[0], out, credentials, AI, registry=registry)
    assert registry.count() == 0 and out.read_bytes() == b"theirs"
    assert [n for n in os.listdir(tmp_path) if not n.startswith("m.sqlite3")] == ["out.jpg"]


def test_kill_9_during_sign_out_dir_leaves_no_orphans(tmp_path, keys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(4):
        for photo in PHOTOS:
            shutil.copy(photo, inputs / f"{i}-{photo.name}")
    signed_any = False
    for delay in (0.0, 0.4, 0.9):  # after the first file appears
        out, registry = tmp_path / f"out{delay}", tmp_path / f"m{delay}.sqlite3"
        proc = subprocess.Popen(
            [sys.executable, "-m", "provenance", "sign", str(inputs), "--out-dir", str(out),
             "--keys", str(keys.dir), "--registry", str(registry)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and any(not p.name.startswith(".") for p in out.iterdir()):
                break
            time.sleep(0.02)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        written = sorted(out.iterdir()) if out.exists() else []
        assert not [p.name for p in written if p.name.startswith(".")], "a hidden temp file"
        # Each signed file has its row, and each row its file (the row is committed just
        # before the file gets its name: the window between is microseconds).
        assert {_manifest_id(p) for p in written} == _rows(registry)
        signed_any = signed_any or bool(written)
    assert signed_any, "nothing was signed before the kills: the test is void"
