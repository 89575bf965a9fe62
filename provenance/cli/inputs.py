"""What the commands that take many files share: expanding directories, a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ..errors import InputError
from ..media import named_media_type


def expand_inputs(inputs: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(file, path relative to what was given) for each file; directories recursively.

    A directory holding no media file is an error, not an empty list: ``verify`` of it printed
    nothing and exited 0, as if every file in it had been checked.
    """
    found: list[tuple[Path, Path]] = []
    for given in inputs:
        if given.is_dir():
            before = len(found)
            for path in sorted(given.rglob("*")):
                hidden = any(part.startswith(".") for part in path.relative_to(given).parts)
                # Picked by the extension of its name: every name that says a media type the tool
                # reads, the same table a signed file's own name is checked against.
                if path.is_file() and not hidden and named_media_type(path.name) is not None:
                    found.append((path, path.relative_to(given)))
            if len(found) == before:
                raise InputError(
                    f"{given}: no media file in this directory or below it",
                    hint="files are picked up by the extension of their name (.jpg, .png, .mp4, "
                    "…), hidden ones and text left out: name a file directly to read it "
                    "whatever its name",
                )
        else:
            found.append((given, Path(given.name)))
    return found


class Progress:
    """A one-line progress bar on stderr, shown only on a terminal and for several files."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.enabled = total > 1 and stream.isatty()

    def step(self, name: str) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {name[-40:]:<40}")
            self.stream.flush()

    def clear(self) -> None:
        """Blank the bar so that a message can take the line."""
        if self.enabled:
            self.stream.write("\r" + " " * 80 + "\r")

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
