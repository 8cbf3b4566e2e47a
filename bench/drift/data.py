"""The benchmark's data, identical for both tools: numpy only, deterministic per seed.

80 % float64 columns f<i> (N(0, 1)), 20 % string columns c<i> with 20 categories; drift
planted in the first 30 % of each kind in the current data: numeric mean +0.5 sd,
categorical frequencies reversed.
"""

from __future__ import annotations

import threading
import time

import numpy as np

CATEGORIES = np.array([f"k{i:02d}" for i in range(20)])


def columns(n_cols: int) -> tuple[list[str], list[str]]:
    n_num = round(n_cols * 0.8)
    return [f"f{i}" for i in range(n_num)], [f"c{i}" for i in range(n_cols - n_num)]


def planted(n_cols: int) -> set[str]:
    num, cat = columns(n_cols)
    return {*num[: round(len(num) * 0.3)], *cat[: round(len(cat) * 0.3)]}


def frame(rows: int, n_cols: int, current: bool, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    num, cat = columns(n_cols)
    drifted = planted(n_cols) if current else set()
    weights = 1 / np.arange(1, 21)
    p_ref = weights / weights.sum()
    out: dict[str, np.ndarray] = {}
    for name in num:
        out[name] = rng.normal(0.5 if name in drifted else 0.0, 1.0, rows)
    for name in cat:
        p = p_ref[::-1] if name in drifted else p_ref
        out[name] = CATEGORIES[rng.choice(20, rows, p=p)]
    return out


class PeakRSS:
    """Peak resident memory (bytes) of this process while the block runs, sampled at 20 Hz,
    minus the RSS when it started."""

    def __init__(self) -> None:
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = _rss()
        self.t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def extra_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def status_kb(field: str) -> int:
    """A field of /proc/self/status in kB (``VmHWM``: the process's peak RSS so far)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0
