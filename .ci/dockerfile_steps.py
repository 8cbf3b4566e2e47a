"""Replay the Dockerfile's build stage (COPY + RUN) in a temporary folder and venv.

Docker is not available in CI, so this keeps the image's install steps from rotting:
the same files are copied, the same RUN lines run (with /opt/watchdog pointed at a
temporary venv), and the installed `watchdog` must start and validate the shipped config.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_stage(dockerfile: Path) -> list[str]:
    """The instructions of the first stage, continuation lines joined."""
    text = dockerfile.read_text().replace("\\\n", " ")
    stage: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM") and stage:
            break
        stage.append(line)
    return stage


def healthcheck(dockerfile: Path) -> list[str]:
    """The exec-form command of the Dockerfile's HEALTHCHECK."""
    import json

    text = dockerfile.read_text().replace("\\\n", " ")
    line = next(x for x in text.splitlines() if x.strip().upper().startswith("HEALTHCHECK"))
    return list(json.loads(line[line.index("CMD") + 3:].strip()))


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="dockerfile-"))
    src, venv = tmp / "src", tmp / "opt-watchdog"
    src.mkdir()
    for step in build_stage(ROOT / "Dockerfile"):
        op, _, rest = step.partition(" ")
        if op.upper() == "COPY":
            *sources, dest = shlex.split(rest)
            target = src / dest
            for s in sources:
                path = ROOT / s
                if path.is_dir():
                    shutil.copytree(path, target, dirs_exist_ok=True)
                else:
                    shutil.copy(path, target if dest.endswith("/") or dest == "./" else target)
        elif op.upper() == "RUN":
            cmd = rest.replace("/opt/watchdog", str(venv)).replace("python -m venv",
                                                                   f"{sys.executable} -m venv")
            print(f"+ {cmd}", flush=True)
            subprocess.run(cmd, shell=True, cwd=src, check=True)
    exe = venv / "bin" / "watchdog"
    subprocess.run([str(exe), "--version"], check=True)
    subprocess.run([str(exe), "validate", "--config", str(ROOT / "config.yaml")], check=True,
                   cwd=tmp)
    health = healthcheck(ROOT / "Dockerfile")
    # no daemon runs here: the HEALTHCHECK command must run and say so (exit 1), not crash
    found = subprocess.run([str(venv / "bin" / health[0]), *health[1:-1], str(ROOT /
                            "config.yaml")], cwd=tmp, capture_output=True, text=True)
    if found.returncode != 1 or not found.stdout.startswith("unhealthy: no daemon"):
        raise SystemExit(f"HEALTHCHECK {health}: {found.returncode} {found.stdout}{found.stderr}")
    shutil.rmtree(tmp)
    print("Dockerfile build steps: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
