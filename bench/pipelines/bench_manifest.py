"""Time a dbt source's poll with a large manifest: parsed afresh (the artifact changed, and
what every poll did before artifacts were kept per version) against unchanged (kept).

Writes a synthetic ``manifest.json`` of ``--models`` model nodes shaped as dbt 1.8+ writes
them (manifest v12 keys), and its ``run_results.json``, into a temporary folder. Each
sample runs in a fresh process: ``--polls`` polls, each opening a new reader as a pipeline
monitor's run does, calling ``writes()`` and ``runs()``; the first poll parses, the rest
find the artifacts unchanged. Alternates a "changed" process (the manifest is touched
before every poll, so each one parses, as before) with an "unchanged" one; medians of
``--repeat`` each; memory is the process's peak RSS.

    .venv/bin/python bench/pipelines/bench_manifest.py --models 20000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NODE_KEYS = {"database": "warehouse", "schema": "main", "resource_type": "model",
             "package_name": "proj", "path": "m.sql", "original_file_path": "models/m.sql",
             "fqn": ["proj", "m"], "checksum": {"name": "sha256", "checksum": "0" * 64},
             "tags": [], "meta": {}, "group": None, "docs": {"show": True},
             "patch_path": None, "build_path": None, "unrendered_config": {},
             "created_at": 1.7e9, "relation_name": None, "language": "sql",
             "refs": [], "sources": [], "metrics": [], "depends_on": {"macros": [],
                                                                      "nodes": []},
             "compiled_path": None, "contract": {"enforced": False},
             "raw_code": "select 1 as id, 'x' as name -- " + "padding " * 60}


def write(folder: Path, models: int) -> None:
    nodes = {}
    for i in range(models):
        name = f"model_{i:06d}"
        nodes[f"model.proj.{name}"] = {
            **NODE_KEYS, "name": name, "alias": name, "unique_id": f"model.proj.{name}",
            "config": {"materialized": "table", "enabled": True, "tags": []},
            "columns": {f"c{j}": {"name": f"c{j}", "description": "", "meta": {},
                                  "data_type": None, "tags": []} for j in range(8)}}
    meta = {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": "1.10.0", "generated_at": "2026-03-01T10:00:00Z",
            "invocation_id": "bench"}
    (folder / "manifest.json").write_text(json.dumps({"metadata": meta, "nodes": nodes}))
    result = {"unique_id": "model.proj.model_000000", "status": "success", "timing": [
        {"name": "execute", "started_at": "2026-03-01T10:00:00Z",
         "completed_at": "2026-03-01T10:00:05Z"}], "thread_id": "t", "execution_time": 5,
        "adapter_response": {}, "message": "OK", "failures": None}
    (folder / "run_results.json").write_text(json.dumps(
        {"metadata": {**meta, "dbt_schema_version":
                      "https://schemas.getdbt.com/dbt/run-results/v6.json"},
         "results": [result], "elapsed_time": 5, "args": {}}))


def polls(folder: Path, count: int, changed: bool) -> None:
    """In this process: ``count`` polls; print the first's and the later ones' median."""
    from watchdog.config.models import DbtSource
    from watchdog.pipelines import open_reader

    source = DbtSource(type="dbt", target=str(folder))
    times = []
    for i in range(count):
        if changed and i:
            os.utime(folder / "manifest.json", ns=(time.time_ns(), time.time_ns() + i))
        started = time.perf_counter()
        with open_reader("bench", source, folder) as reader:
            assert len(reader.writes()) > 0 and reader.runs("model_000000")
        times.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"first": times[0], "later": statistics.median(times[1:]),
                      "peak_mb": peak_mb}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=20000)
    ap.add_argument("--polls", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=("changed", "unchanged"))
    ap.add_argument("--folder")
    args = ap.parse_args()
    if args.child:
        polls(Path(args.folder), args.polls, args.child == "changed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(folder, args.models)
        size = (folder / "manifest.json").stat().st_size / 1e6
        print(f"manifest: {args.models} models, {size:.1f} MB; load: {os.getloadavg()}")
        out: dict[str, list[dict[str, float]]] = {"changed": [], "unchanged": []}
        for _ in range(args.repeat):
            for mode in ("changed", "unchanged"):
                done = subprocess.run([sys.executable, __file__, "--child", mode, "--folder",
                                       str(folder), "--polls", str(args.polls)],
                                      capture_output=True, text=True, check=True)
                out[mode].append(json.loads(done.stdout))
        for mode, samples in out.items():
            later = statistics.median(s["later"] for s in samples)
            peak = statistics.median(s["peak_mb"] for s in samples)
            print(f"{mode:>9}: a poll after the first {later * 1000:8.1f} ms (median of "
                  f"{args.repeat} processes x {args.polls - 1} polls), peak RSS {peak:.0f} MB")
        print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
