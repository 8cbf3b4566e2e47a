"""A self-contained HTML drift report: inline SVG histograms and the statistics table.

Nothing is fetched when the page is viewed: no scripts, stylesheets, fonts or images from
anywhere; styles are inline in the page. Pure: a DriftAnalysis in, text out.
"""

from __future__ import annotations

from html import escape

from watchdog.checks import stats
from watchdog.checks.drift.analysis import DriftAnalysis, FeatureDrift

STATISTICS = ("psi", "jensen_shannon", "ks_statistic", "ks_pvalue", "wasserstein",
              "chi2_pvalue", "l_infinity", "missing_rate_change")
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.drift td{background:#fde8e8}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
section{margin:2em 0}
"""
REF, CUR = "#4c78a8", "#f58518"


def render(a: DriftAnalysis) -> str:
    """The whole page for one analysis."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Drift report: {escape(a.monitor_id)}</title><style>{_STYLE}</style>",
        "</head><body>", f"<h1>Drift report: {escape(a.monitor_id)}</h1>", _header(a),
        "<h2>Statistics</h2>", _table(a), *_attributions(a), "<h2>Distributions</h2>",
        '<p class="legend"><span style="background:' + REF + '"></span>reference'
        '<span style="background:' + CUR + '"></span>current window</p>',
        *(_section(f) for f in a.features), "</body></html>",
    ]
    return "\n".join(parts)


def _header(a: DriftAnalysis) -> str:
    ref = a.reference or {}
    window = ""
    if ref.get("start") or ref.get("end"):
        window = f", {escape(str(ref.get('start')))} to {escape(str(ref.get('end')))}"
    judged = a.judged
    drifted = sum(f.drifted for f in judged)
    return (
        f"<p>Current: <b>{escape(a.table)}</b>, {a.window_start:%Y-%m-%d %H:%M} to "
        f"{a.window_end:%Y-%m-%d %H:%M} UTC, {a.current_rows} rows (mode {escape(a.mode)}).<br>"
        f"Reference: <b>{escape(str(ref.get('table', '?')))}</b>{window}, profile version "
        f"{a.profile_version}.<br>Drifted features: {drifted} of {len(judged)} "
        f"(share {a.share_drifted:.2f}).</p>"
    )


def _table(a: DriftAnalysis) -> str:
    shown = [s for s in STATISTICS if any(s in f.statistics for f in a.features)]
    head = "".join(f"<th>{escape(s)}</th>" for s in shown)
    rows = [f"<table><tr><th>column</th><th>type</th><th>role</th>{head}<th>drift</th></tr>"]
    for f in a.features:
        cells = "".join(
            f'<td class="num">{_fmt(f.statistics[s]) if s in f.statistics else ""}</td>'
            for s in shown)
        verdict = ", ".join(escape(s) for s in f.crossed) or "no"
        css = ' class="drift"' if f.drifted else ""
        rows.append(f'<tr{css}><td><a href="#f-{escape(f.name)}">{escape(f.name)}</a></td>'
                    f"<td>{escape(f.type)}</td><td>{escape(f.role)}</td>{cells}<td>{verdict}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _attributions(a: DriftAnalysis) -> list[str]:
    if not a.attributions:
        return []
    rows = ["<h2>Feature attribution</h2>",
            "<table><tr><th>feature</th><th>reference mean |attribution|</th>"
            "<th>current</th><th>change</th><th>rank change</th></tr>"]
    for at in a.attributions:
        change = "" if at.change is None else f"{at.change:+.1%}"
        rows.append(f"<tr><td>{escape(at.feature)}</td><td class=num>{_fmt(at.ref_mean_abs)}"
                    f"</td><td class=num>{_fmt(at.cur_mean_abs)}</td><td class=num>{change}"
                    f"</td><td class=num>{at.rank_change:+d}</td></tr>")
    rows.append("</table>")
    if a.rank_correlation is not None:
        rows.append(f"<p>Spearman correlation of the rankings: {a.rank_correlation:.3f}</p>")
    return rows


def _section(f: FeatureDrift) -> str:
    missing = (f"missing: reference {f.ref_missing_rate:.2%}, current "
               f"{f.cur_missing_rate:.2%}")
    return (f'<section id="f-{escape(f.name)}"><h3>{escape(f.name)} ({escape(f.type)}, '
            f"{escape(f.role)})</h3>{histogram_svg(f)}<p>{missing}</p></section>")


def histogram_svg(f: FeatureDrift, width: int = 720, height: int = 220) -> str:
    """Reference against current shares per bucket, side by side, as inline SVG."""
    ref, cur = stats.shares(f.ref_counts), stats.shares(f.cur_counts)
    n = max(len(f.labels), 1)
    top = max(float(ref.max(initial=0)), float(cur.max(initial=0)), 1e-9)
    plot_h, slot = height - 60, (width - 40) / n
    bar = slot * 0.4
    out = [f'<svg width="{width}" height="{height}" '
           f'role="img" aria-label="histogram of {escape(f.name)}" data-feature="'
           f'{escape(f.name)}">',
           f'<line x1="30" y1="{plot_h + 10}" x2="{width - 10}" y2="{plot_h + 10}" '
           'stroke="#999"/>']
    for i, label in enumerate(f.labels):
        x = 30 + i * slot + slot * 0.1
        for j, (share, color) in enumerate(((ref[i], REF), (cur[i], CUR))):
            h = plot_h * float(share) / top
            out.append(f'<rect x="{x + j * bar:.1f}" y="{plot_h + 10 - h:.1f}" width="'
                       f'{bar:.1f}" height="{h:.1f}" fill="{color}"><title>{escape(label)}: '
                       f'{"reference" if j == 0 else "current"} {float(share):.2%}</title></rect>')
        out.append(f'<text x="{x + bar:.1f}" y="{plot_h + 24}" font-size="9" '
                   f'text-anchor="end" transform="rotate(-30 {x + bar:.1f} {plot_h + 24})">'
                   f"{escape(label)}</text>")
    out.append("</svg>")
    return "".join(out)


def _fmt(value: float) -> str:
    return f"{value:.4g}"
