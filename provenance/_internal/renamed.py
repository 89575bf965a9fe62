"""Keyword arguments that were renamed: the old name still works, with a DeprecationWarning.

``store=`` was the registry's keyword when "store" also meant C2PA's manifest store and
c2pa's JSON report (issue 14); callers written then keep working until they move.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def renamed_keyword(old: str, new: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let callers pass ``old=`` for the keyword now called ``new``, warning that it is
    deprecated; passing both is a TypeError (which one was meant is unknowable)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(
                        f"{func.__name__}() got both {old}= and {new}=: pass {new}= only"
                    )
                warnings.warn(
                    f"{func.__name__}(): the keyword {old}= is deprecated, pass {new}= instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate
