"""One fresh-process watchdog drift run on a loaded DuckDB file (run by ``compare.py``).

    python bench/drift/wd_run.py FILE.duckdb --cols 100 --step both|profile|check \
        [--profile-json P] [--setting key=value ...] [--param key=value ...]
        [--cprofile OUT.prof] [--again N]

``profile`` builds the reference profile and writes it to ``--profile-json``; ``check``
reads that file and compares the current window (what every scheduled run does); ``both``
does the two in one process (a user's first run). Settings are the DuckDB adapter's
(none: its defaults). Prints one JSON line: wall seconds of the timed step, its CPU seconds
(the process's, DuckDB's threads included: steadier than wall time on a busy machine), the
process's peak RSS (``VmHWM``, a kernel high-water mark, not sampled), the RSS before the
timed step (interpreter, imports, connection) and the drifted set. ``--again N`` adds the
seconds of N more checks in the same process (``again_seconds``): a daemon's later runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from data import planted, status_kb

NOW = datetime(2026, 3, 4, tzinfo=UTC)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--cols", type=int, required=True)
    ap.add_argument("--step", choices=("both", "profile", "check"), default="both")
    ap.add_argument("--profile-json", default="")
    ap.add_argument("--setting", action="append", default=[], help="adapter key=value")
    ap.add_argument("--mode", default="bins")
    ap.add_argument("--again", type=int, default=0, metavar="N", help=(
        "after the timed check, N more checks in the same process, each with the profile "
        "read again (as the daemon reads it from its store), their seconds as "
        "again_seconds: a running daemon's later scheduled checks"))
    ap.add_argument("--cprofile", default="", metavar="FILE",
                    help="write a cProfile of the check step to FILE (its time then includes "
                         "the profiler's overhead; with --again, of the later checks only); "
                         "read it with python -m pstats FILE")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="a drift monitor setting other than its default (ks_resolution=8000)")
    args = ap.parse_args()
    # libraries loaded before the clock, as bench_evidently.py loads Evidently's: a running
    # daemon has them after its first drift run (start-up itself: bench/startup/)
    import numpy  # noqa: F401
    import scipy.special
    import scipy.stats  # noqa: F401

    import watchdog.warehouses.dialects  # noqa: F401  (sqlglot: the queries are trees)
    from watchdog.checks.drift.analysis import analyse
    from watchdog.checks.drift.params import DriftParams
    from watchdog.checks.drift.profile import build_profile
    from watchdog.warehouses import create

    settings = dict(s.split("=", 1) for s in args.setting)
    p = DriftParams(id="bench", warehouse="b", table="main.cur", time_column="ts",
                    window="5000w", reference={"table": "main.ref"},  # type: ignore[arg-type]
                    mode=args.mode, **dict(x.split("=", 1) for x in args.param))
    wh = create("b", "duckdb", {"path": args.path, "read_only": True, **settings})
    wh.ping()
    before = status_kb("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    profile = None
    again: list[float] = []
    if args.step in ("both", "profile"):
        profile = build_profile(wh, p, NOW)
    if args.step == "profile":
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        Path(args.profile_json).write_text(json.dumps(profile))
        drifted: list[str] = []
        analysis = None
    else:
        prof = None
        if args.cprofile:  # set up before the clock starts: a run without it imports nothing
            import cProfile

            prof = cProfile.Profile()
        if profile is None:
            profile = json.loads(Path(args.profile_json).read_text())
            t0, c0 = time.perf_counter(), time.process_time()

        def check(stored: dict, profiled: bool) -> Any:
            if prof is None or not profiled:
                return analyse(wh, p, stored, 1, NOW)
            prof.enable()
            try:
                return analyse(wh, p, stored, 1, NOW)
            finally:
                prof.disable()

        analysis = check(profile, profiled=not args.again)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        drifted = sorted(f.name for f in analysis.features if f.drifted)
        for _ in range(args.again):
            stored = json.loads(Path(args.profile_json).read_text()) if args.profile_json \
                else profile
            t1 = time.perf_counter()
            later = check(stored, profiled=True)
            again.append(round(time.perf_counter() - t1, 3))
            if sorted(f.name for f in later.features if f.drifted) != drifted:
                raise SystemExit("a later check found another drifted set")
        if prof is not None:
            prof.dump_stats(args.cprofile)
    out = {"tool": "watchdog", "step": args.step, "settings": settings,
           "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
           "peak_mb": round(status_kb("VmHWM") / 1024, 1),
           "start_mb": round(before / 1024, 1),
           "drifted_ok": drifted == sorted(planted(args.cols)) if analysis else None,
           "again_seconds": again}
    if analysis is not None:
        out["psi"] = {f.name: f.statistics["psi"] for f in analysis.features}
        out["wasserstein"] = {f.name: f.statistics.get("wasserstein")
                              for f in analysis.features if f.type == "numeric"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
