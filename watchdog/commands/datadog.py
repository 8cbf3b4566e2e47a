"""``watchdog datadog export|apply|preview``: dashboards and monitors as code.

``export`` writes the JSON bodies of Datadog's Dashboards and Monitors APIs (for Terraform's
``datadog_dashboard_json`` / ``datadog_monitor_json`` or the API), ``apply`` makes Datadog
hold exactly them through datadog-api-client, ``preview`` draws the dashboards as HTML from
what watchdog emitted. Keys come from ``DD_API_KEY`` / ``DD_APP_KEY`` and are never printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
    """Add ``watchdog datadog`` and its subcommands."""
    d = sub.add_parser("datadog", help="Datadog dashboards and monitors as code: export, "
                                       "apply, preview")
    dsub = d.add_subparsers(dest="datadog_command", required=True, metavar="SUBCOMMAND")
    exp = dsub.add_parser("export", help="write dashboard and monitor JSON bodies to a folder",
                          description="Write one JSON file per dashboard and per monitor, "
                          "exactly as the Dashboards and Monitors APIs take them.")
    exp.add_argument("--output", "-o", default="datadog", metavar="DIR",
                     help="folder to write (dashboards/ and monitors/ inside); default datadog")
    app = dsub.add_parser("apply", help="create or update them in Datadog, idempotently",
                          description="Create what is missing, update what differs (in place, "
                          "by identity), leave the rest alone; list objects whose config "
                          "entry is gone. Needs DD_API_KEY and DD_APP_KEY; DD_SITE or "
                          "DD_API_URL choose the endpoint.")
    app.add_argument("--dry-run", action="store_true",
                     help="print what would change, with a diff, and send nothing")
    app.add_argument("--prune", action="store_true",
                     help="delete managed objects whose monitor or model left the config")
    pre = dsub.add_parser("preview", help="draw the dashboards as HTML from emitted data",
                          description="Render every dashboard to one self-contained HTML "
                          "page, filled with what the jsonl sink recorded (watchdog demo "
                          "writes .watchdog/emitted.jsonl).")
    pre.add_argument("--output", "-o", default="datadog-preview.html", help="HTML file")
    pre.add_argument("--emitted", default=None, metavar="JSONL",
                     help="what watchdog emitted; default: the jsonl sink's path")
    pre.add_argument("--model", default=None, help="draw only this model's dashboard")
    pre.add_argument("--replay", default=None, type=_duration, metavar="DURATION",
                     help="also rerun the volume and freshness monitors at each step of this "
                          "long before now (e.g. 2d) against a scratch state store, and draw "
                          "what they would have sent: lines instead of single points")
    for p, func in ((exp, cmd_export), (app, cmd_apply), (pre, cmd_preview)):
        p.add_argument("--config", "-c", default="config.yaml")
        p.set_defaults(func=func)


def cmd_export(args: argparse.Namespace) -> int:
    from watchdog.dashboards import build
    from watchdog.load import load_config

    bundle = build(load_config(args.config))
    written = export(bundle, Path(args.output))
    print(f"{args.output}: {len(bundle.dashboards)} dashboard(s), {len(bundle.monitors)} "
          f"monitor(s) written ({written} file(s) changed)")
    return 0


def export(bundle: Any, folder: Path) -> int:
    """Write each body as ``<folder>/<dashboards|monitors>/<name>.json``; remove files of
    ours whose object is gone. Returns how many files changed."""
    import json

    from watchdog.dashboards import identity

    changed = 0
    for sub, bodies in (("dashboards", bundle.dashboards), ("monitors", bundle.monitors)):
        target = _folder(folder / sub)
        keep = set()
        for key, body in bodies.items():
            path = target / f"{_file_name(key)}.json"
            keep.add(path.name)
            text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                _write(path, text)
                changed += 1
        for stale in target.glob("*.json"):
            if stale.name not in keep and identity.MANAGED in stale.read_text(encoding="utf-8"):
                stale.unlink()
                changed += 1
    return changed


def _file_name(key: str) -> str:
    """``demo/status/labels_freshness`` → ``status.labels_freshness``."""
    return key.split("/", 1)[-1].removeprefix("dashboard/").replace("/", ".")


def _folder(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    return path


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _unwritable(path, exc) from None


def _unwritable(path: Path, exc: OSError) -> Exception:
    from watchdog.errors import WatchdogError

    error = WatchdogError(f"cannot write {path}: {exc.strerror or exc}",
                          hint="choose an --output folder that is writable")
    error.exit_code = 2
    return error


def cmd_apply(args: argparse.Namespace) -> int:
    from watchdog.dashboards import apply, build
    from watchdog.dashboards.api import DatadogApi, credentials
    from watchdog.load import load_config

    config = load_config(args.config)
    bundle = build(config)
    api = DatadogApi(credentials(config))
    try:
        counts = apply.apply(api, bundle, config.env.lower(), dry_run=args.dry_run,
                             prune=args.prune, say=print)
    finally:
        api.close()
    print(apply.summary(counts, args.dry_run, args.prune))
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from watchdog.commands import write_page
    from watchdog.dashboards import build, preview
    from watchdog.dashboards.evaluate import Emitted
    from watchdog.errors import WatchdogError
    from watchdog.load import load_config

    config = load_config(args.config)
    source = Path(args.emitted or (config.sinks.get("jsonl") or {}).get(
        "path", ".watchdog/emitted.jsonl"))
    if not source.is_file():
        error = WatchdogError(f"{source}: no emitted data to draw",
                              hint="run `watchdog demo` (or a config with a jsonl sink) "
                                   "first, or name the file with --emitted")
        error.exit_code = 2
        raise error
    bundle = build(config)
    data = Emitted.read(source)
    if args.replay:
        from datetime import UTC, datetime

        from watchdog.dashboards.replay import merged, replay

        data = merged(replay(config, args.replay, datetime.now(UTC)), data)
    ctx = preview.Context(data, {"env": config.env.lower()}, bundle.monitors)
    chosen = _chosen(bundle.dashboards, args.model)
    write_page(args.output, preview.render(chosen, ctx))
    print(f"{args.output}: {len(chosen)} dashboard(s) drawn from {source}")
    return 0


def _duration(text: str) -> Any:
    from watchdog.config.models import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _chosen(dashboards: dict[str, Any], model: str | None) -> list[Any]:
    if model is None:
        return list(dashboards.values())
    found = [body for key, body in dashboards.items() if key.endswith(f"/model/{model}")]
    if not found:
        from watchdog.errors import UnknownName

        models = [k.rsplit("/", 1)[1] for k in dashboards if "/model/" in k]
        raise UnknownName("model", model, models)
    return found
