"""invisible-watermark's three methods (dwtDct, dwtDctSvd, RivaGAN), loaded without torch.

The ``imwatermark`` package's ``__init__`` imports its RivaGAN wrapper, which imports torch at
module level for a few tensor conversions; the project does not install torch (several GB). So
the DWT modules are loaded from their files directly, and RivaGAN's shipped ONNX models run
with onnxruntime and numpy. These methods serve as a baseline (bench/robustness.py) and as
selectable methods in `provenance watermark`; the project's own codec is ``codec``.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import MissingExtraError

METHODS = ("dwtDct", "dwtDctSvd", "rivaGan")
RIVAGAN_BITS = 32

_MISSING = MissingExtraError(
    "invisible-watermark's methods need the optional `baselines` dependencies",
    hint="install provenance-toolkit[baselines], or use the project's own method, ssw",
)


@cache
def _package_dir() -> Path:
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        raise _MISSING
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _module(name: str) -> ModuleType:
    """Load ``imwatermark/<name>.py`` as a standalone module (its __init__ never runs)."""
    spec = importlib.util.spec_from_file_location(
        f"_imwatermark_{name}", _package_dir() / f"{name}.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load imwatermark/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@cache
def _rivagan() -> tuple[Any, Any]:
    try:
        import onnxruntime as ort
    except ImportError:
        raise _MISSING from None

    options = ort.SessionOptions()
    options.log_severity_level = 3
    enc = ort.InferenceSession(str(_package_dir() / "rivagan_encoder.onnx"), options)
    dec = ort.InferenceSession(str(_package_dir() / "rivagan_decoder.onnx"), options)
    return enc, dec


def _frame(bgr: np.ndarray) -> np.ndarray:
    # RivaGAN's layout: (batch, channels, time, height, width), values in [-1, 1].
    return (bgr.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None, :, None]


def embed(bgr: np.ndarray, bits: np.ndarray, method: str) -> np.ndarray:
    """Embed ``bits`` (0/1) into a BGR uint8 image with one of invisible-watermark's methods."""
    bits = np.asarray(bits, dtype=np.uint8)
    if method == "dwtDct":
        return _module("maxDct").EmbedMaxDct(list(bits), wmLen=len(bits)).encode(bgr)
    if method == "dwtDctSvd":
        return _module("dwtDctSvd").EmbedDwtDctSvd(list(bits), wmLen=len(bits)).encode(bgr)
    if method == "rivaGan":
        if len(bits) != RIVAGAN_BITS:
            raise ValueError("RivaGAN carries exactly 32 bits")
        enc, _ = _rivagan()
        out = enc.run(None, {"frame": _frame(bgr), "data": bits[None].astype(np.float32)})[0]
        out = np.clip(out, -1.0, 1.0)[0, :, 0].transpose(1, 2, 0)
        return ((out + 1.0) * 127.5).astype(np.uint8)
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def decode(bgr: np.ndarray, length: int, method: str) -> np.ndarray:
    """The ``length`` bits one of invisible-watermark's methods reads from a BGR image."""
    if method == "dwtDct":
        scores = _module("maxDct").EmbedMaxDct(wmLen=length).decode(bgr)
    elif method == "dwtDctSvd":
        scores = _module("dwtDctSvd").EmbedDwtDctSvd(wmLen=length).decode(bgr)
    elif method == "rivaGan":
        _, dec = _rivagan()
        scores = dec.run(None, {"frame": _frame(bgr)})[0][0]
    else:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return (np.asarray(scores, dtype=np.float64) > 0.5).astype(np.uint8)
