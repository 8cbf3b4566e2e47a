"""``watchdog drift baseline`` and ``watchdog drift report``: a self-contained HTML page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from tests.checks.drift.test_check import create, make_data, monitor
from tests.helpers import database
from watchdog.checks.drift.profile import KIND
from watchdog.cli import main
from watchdog.state import Store


class Page(HTMLParser):
    """Collects what the assertions need: svg features, table cells, every attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs: list[str] = []
        self.rects = 0
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str]] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs += [(k, v or "") for k, v in attrs]
        if tag == "svg":
            self.svgs.append(dict(attrs)["data-feature"] or "")
        elif tag == "rect":
            self.rects += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_baseline_then_report_renders_every_feature_and_its_statistics(
        tmp_path: Path, capsys) -> None:
    with database("duckdb", tmp_path) as (engine, wh, schema):
        create(engine, schema, "reference", make_data(1, 2000, False))
        create(engine, schema, "current", make_data(2, 1000, True))
        engine.dispose()
        text = monitor(wh, schema).replace("window: 1d", "window: 5000w")
        state = f"state: {{url: 'sqlite:///{tmp_path}/state.db'}}\n"
        (tmp_path / "config.yaml").write_text(state + text)
        config = str(tmp_path / "config.yaml")
        assert main(["drift", "baseline", "drift", "-c", config]) == 0
        assert main(["drift", "baseline", "drift", "-c", config]) == 0
        out = tmp_path / "report.html"
        assert main(["drift", "report", "drift", "-c", config, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "reference profile v2 stored (5 columns" in printed
    assert "drifted: b, n, plan" in printed
    with Store.open(f"sqlite:///{tmp_path}/state.db") as store:
        assert store.get_artifact(KIND, "drift")[0] == 2  # type: ignore[index]
    html = out.read_text()
    page = Page()
    page.feed(html)
    assert page.svgs == ["a", "b", "n", "plan", "score"] and page.rects > 0
    header, *rows = page.rows[: 6]
    assert header[:4] == ["column", "type", "role", "psi"]
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_name["b"]["drift"].startswith("psi") and by_name["a"]["drift"] == "no"
    assert float(by_name["b"]["psi"]) > 0.2 and by_name["plan"]["l_infinity"] != ""
    assert by_name["score"]["role"] == "prediction"
    # self-contained: nothing to fetch
    assert not page.tags & {"script", "link", "img", "iframe", "object"}
    assert not [v for k, v in page.attrs if k in ("src", "href") and not v.startswith("#")]
    assert "http" not in html and "url(" not in html and "@import" not in html
