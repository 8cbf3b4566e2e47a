"""Heavy libraries imported where they are first used, not when their importer is.

``watchdog run --once`` loads every configured check kind to validate the config; numpy
and scipy are needed only once a drift comparison runs, so the modules that use them hold
a stand-in that imports the library on first attribute access (the import is then cached
by Python's module table)::

    if TYPE_CHECKING:
        import numpy as np
    else:
        np = lazy("numpy")
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """A module imported on first attribute access, then kept (``import_module`` on every
    access cost ~12 % of rendering a query tree)."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    """A stand-in for module ``name`` (type it with an ``if TYPE_CHECKING`` import)."""
    return LazyModule(name)
