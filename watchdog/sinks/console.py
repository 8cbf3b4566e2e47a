"""A plain table of results for a terminal or a log, then what would go to Datadog."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Literal, TextIO

import pydantic

from watchdog.models import CheckResult, Emission, Status
from watchdog.secrets import scrub_value
from watchdog.sinks.base import Sink, SinkSettings

_COLUMNS = ("MONITOR", "KIND", "STATUS", "SUBJECT", "SUMMARY")
# SGR codes: bold red, red, yellow, green, dim.
_COLORS = {
    Status.ERROR: "1;31",
    Status.FAIL: "31",
    Status.WARN: "33",
    Status.OK: "32",
    Status.SKIPPED: "2",
}


class ConsoleSettings(SinkSettings):
    """Settings of the console sink."""

    color: Literal["auto", "always", "never"] = pydantic.Field(
        default="auto",
        description="Colour the status column: 'auto' only on a terminal (and not when "
        "NO_COLOR is set), 'always', or 'never'.",
    )


class ConsoleSink(Sink):
    """Writes an aligned table of results, then one line per event and a count of the rest."""

    NAME = "console"
    Settings = ConsoleSettings

    def __init__(self, settings: ConsoleSettings | None = None, stream: TextIO | None = None):
        self.settings = settings or ConsoleSettings()
        self.stream = stream if stream is not None else sys.stdout

    def emit(self, emission: Emission) -> None:
        """Write ``emission`` as text and flush."""
        lines = render(scrub_value(emission), color=self._use_color())
        if lines:
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()

    def _use_color(self) -> bool:
        if self.settings.color != "auto":
            return self.settings.color == "always"
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def render(emission: Emission, *, color: bool = False) -> list[str]:
    """The lines ConsoleSink writes for ``emission`` (none for an empty one): one monitor's
    run as one line, several results as a table; then events and counts."""
    if len(emission.results) == 1:
        lines = [line(emission.results[0], color=color)]
    else:
        lines = table(emission.results, color=color) if emission.results else []
    if emission.events:
        lines.append(f"{_plural(len(emission.events), 'event')} to send:")
        width = max(len(e.alert_type) for e in emission.events)
        lines += [f"  {e.alert_type:<{width}}  {_one_line(e.title)}" for e in emission.events]
    if emission.metrics or emission.service_checks:
        lines.append(
            f"{_plural(len(emission.metrics), 'metric')}, "
            f"{_plural(len(emission.service_checks), 'service check')} to send"
        )
    return lines


def line(result: CheckResult, *, color: bool = False) -> str:
    """``STATUS monitor (kind) on subject: summary`` for one result."""
    status = result.status.value
    if color:
        status = f"\x1b[{_COLORS[result.status]}m{status}\x1b[0m"
    subject = f" on {result.subject}" if result.subject else ""
    return f"{status} {result.monitor_id} ({result.kind}){subject}: {_one_line(result.summary)}"


def table(results: Sequence[CheckResult], *, color: bool = False) -> list[str]:
    """A header and one aligned row per result; the summary column is not padded."""
    rows = [
        (r.monitor_id, r.kind, r.status.value, r.subject or "-", _one_line(r.summary))
        for r in results
    ]
    widths = [max(len(row[i]) for row in [_COLUMNS, *rows]) for i in range(len(_COLUMNS) - 1)]
    out = [_row(_COLUMNS, widths)]
    for result, row in zip(results, rows, strict=True):
        status = row[2].ljust(widths[2])
        if color:
            status = f"\x1b[{_COLORS[result.status]}m{row[2]}\x1b[0m" + status[len(row[2]) :]
        out.append(_row((*row[:2], status, *row[3:]), widths))
    worst_first = sorted(Status, key=lambda s: s.severity, reverse=True)
    counts = {s: sum(r.status is s for r in results) for s in worst_first}
    tally = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    out.append(f"{_plural(len(results), 'result')}: {tally}")
    return out


def _row(cells: Sequence[str], widths: list[int]) -> str:
    # A coloured status is already padded (and longer than its width), so ljust keeps it.
    padded = [cell.ljust(width) for cell, width in zip(cells[:-1], widths, strict=True)]
    return "  ".join([*padded, cells[-1]]).rstrip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
