"""The project installs outside uv's overrides: the wheel's own metadata, a fresh environment.

uv's ``override-dependencies`` keep torch and the GUI build of OpenCV out of the project's own
environment only; what a user gets from ``pip install`` is decided by the wheel's metadata. So
the wheel is built and installed into a new virtual environment with ``uv pip --no-config``
(the same resolution as pip, from uv's cache), and the demo runs from an unrelated directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Distributions that must never arrive with the core install (several GB, or a GUI toolkit).
HEAVY = ("torch", "opencv-python", "invisible-watermark", "nvidia-")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: it builds the wheel and the fresh environment")
    work = tmp_path_factory.mktemp("install")
    run = {"check": True, "capture_output": True, "text": True, "cwd": work}
    subprocess.run([uv, "build", "--wheel", "-q", "-o", str(work / "dist"), str(ROOT)], **run)
    wheel = next((work / "dist").glob("provenance_toolkit-*.whl"))
    venv = work / "venv"
    subprocess.run([uv, "venv", "-q", "--no-config", "--python", sys.executable, str(venv)], **run)
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--no-config",
            "--python",
            str(venv / "bin" / "python"),
            str(wheel),
        ],
        **run,
    )
    return venv


def test_core_install_has_no_torch_and_no_gui_opencv(installed: Path) -> None:
    listing = subprocess.run(
        ["uv", "pip", "list", "--no-config", "--python", str(installed / "bin" / "python")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names = [line.split()[0].lower() for line in listing.splitlines()[2:] if line.strip()]
    assert "provenance-toolkit" in names
    assert "opencv-python-headless" in names
    heavy = [n for n in names if n.startswith(HEAVY) and n != "opencv-python-headless"]
    assert heavy == []


def test_demo_runs_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed / "bin" / "provenance"), "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the signature is trusted" in done.stdout
    assert "recovered" in done.stdout


def test_baseline_methods_say_which_extra_they_need(installed: Path, tmp_path: Path) -> None:
    image = ROOT / "samples" / "coffee.jpg"
    done = subprocess.run(
        [
            str(installed / "bin" / "provenance"),
            "watermark",
            "embed",
            str(image),
            str(tmp_path / "out.png"),
            "--method",
            "dwtDct",
            "--payload",
            "00" * 8,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "provenance-toolkit[baselines]" in done.stderr
    assert "Traceback" not in done.stderr
