"""Atomic file output: a crash leaves no half file, and (on Linux) not even a hidden temp file.

The bytes go into an unnamed file in the target's directory (``O_TMPFILE``), which gets its
name only when complete: killed at any moment, the process leaves nothing behind. Where the
file system has no unnamed files, a hidden temporary file beside the target is renamed instead
(then a kill -9 can leave that temp file).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError, Remedy

_PROC_FD = Path("/proc/self/fd")


def _open_unnamed(directory: Path, mode: int) -> int | None:
    """An unnamed file in ``directory`` (Linux O_TMPFILE), or None where there is none."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not _PROC_FD.is_dir():
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY, mode)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            return None  # the file system has no unnamed files
        raise


def _link_unnamed(fd: int, path: Path) -> None:
    """Give the unnamed file ``fd`` the name ``path`` (fails if the name exists)."""
    # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N, as open(2) documents; os.link only uses
    # linkat when a directory fd is given.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.link(_PROC_FD / str(fd), path.name, dst_dir_fd=directory, follow_symlinks=True)
    finally:
        os.close(directory)


def _temp_name(path: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(name)
    return Path(name)


@contextlib.contextmanager
def atomic_output(
    path: Path,
    *,
    mode: int = 0o644,
    replace: bool = True,
    before_commit: Callable[[], None] | None = None,
) -> Iterator[BinaryIO]:
    """Yield a file to write; on success it becomes ``path``, on error it disappears.

    With ``replace=False`` an existing ``path`` is never replaced, even if it appears while
    writing (the final step is a hard link, which fails when the name exists).
    ``before_commit`` runs once the bytes are on disk and before they get their name (e.g. to
    register the file somewhere): if it raises, no file appears.
    """
    path = Path(path)
    fd = _open_unnamed(path.parent, mode)
    temp: Path | None = None
    if fd is None:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        temp = Path(name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w+b", closefd=False) as handle:
            yield handle
            handle.flush()
        os.fsync(fd)
        if before_commit is not None:
            before_commit()
        if temp is None:
            if replace:
                # A name is needed to rename over the target; it exists for microseconds.
                temp = _temp_name(path)
                _link_unnamed(fd, temp)
                os.replace(temp, path)
            else:
                _link_unnamed(fd, path)
        elif replace:
            os.replace(temp, path)
        else:
            os.link(temp, path)
            temp.unlink()
    except BaseException:
        if temp is not None:
            temp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644, replace: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, mode=mode, replace=replace) as handle:
        handle.write(data)


def write_output(
    path: Path,
    data: bytes,
    *,
    replace: bool,
    mode: int = 0o644,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """:func:`atomic_output` for a command's output, with one-line errors (no traceback)."""
    try:
        with atomic_output(path, mode=mode, replace=replace, before_commit=before_commit) as f:
            f.write(data)
    except FileExistsError:
        raise OutputError(
            f"{path}: already exists", hint="allow replacing it", remedy=Remedy.REPLACE_OUTPUT
        ) from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
