"""Peak resident memory of one task, in a fresh process: ``python -m bench._peak TASK PATH RUN``
prints the process's peak (KiB) after preparing TASK's input from the file at PATH and, when
RUN is 1, running TASK once. The benches run it with RUN 1 and 0 (``_common.peak_kib``) and
take the difference as the memory the task adds.

Tasks: ``sign`` (the default ``sign_bytes``), ``embed`` (``embed_rgb`` on the decoded RGB
array), ``detect`` (``detect_bytes``).
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

TASKS = ("sign", "embed", "detect")


def vmhwm_kib() -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def main(argv: list[str]) -> None:
    task, path, run = argv[0], Path(argv[1]), argv[2] == "1"
    data = path.read_bytes()
    if task == "sign":
        from bench._common import natural_jpeg
        from provenance import ManifestSpec, SigningKeys, SignOptions, init_keys, sign_bytes

        keys = init_keys(Path(tempfile.mkdtemp()) / "k")
        creds = SigningKeys.load(keys_dir=keys.dir)
        opts = SignOptions(ManifestSpec(generator="Bench Diffusion"))
        # Both processes sign a small image first: libraries loaded and warmed are not the
        # large sign's.
        sign_bytes(natural_jpeg(0.3), creds, opts)
        if run:
            sign_bytes(data, creds, opts)
    elif task == "embed":
        import numpy as np
        from PIL import Image

        from provenance.watermark import embed_rgb

        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        if run:
            embed_rgb(rgb, 2)
    elif task == "detect":
        from provenance.watermark import detect_bytes

        if run:
            detect_bytes(data)
    else:
        raise SystemExit(f"unknown task {task!r}: one of {', '.join(TASKS)}")
    print(vmhwm_kib())


if __name__ == "__main__":
    main(sys.argv[1:])
