"""Names a package exports but imports only when first asked for (PEP 562)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A ``__getattr__`` for the package ``package``: each of ``names`` (name -> the module that
    defines it, relative to ``package``) is imported when first asked for and then kept in
    the package; any other name is the AttributeError Python raises."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name], package), name)
        setattr(sys.modules[package], name, value)  # the next look-up finds it directly
        return value

    return __getattr__
