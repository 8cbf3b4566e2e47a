"""watchdog: a self-hosted watchdog for the data behind production ML models.

Installed as the distribution ``ml-watchdog``; the import package is ``watchdog``.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: Marks this package apart from the unrelated filesystem-events package also named
#: ``watchdog`` on PyPI; the console-script launcher checks it.
ML_WATCHDOG = True

__all__ = ["ML_WATCHDOG", "__version__"]
