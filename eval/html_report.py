"""`rbkit report RESULTS... --html report.html`: one self-contained page.

Everything is inline: CSS, a few lines of JavaScript for sorting, and SVG charts drawn by
`eval.svg_plots`. A Content-Security-Policy meta tag forbids every network request, so the
file opens the same offline, attached to an e-mail or in a model card. The page holds the
leaderboard (three overall conventions, sections, subsets, 95% CIs, comparability flags),
per-subset bar charts, the length-bias view, tie and truncation counts, judge position
statistics, best-of-N accuracy by number of rejected answers and, given comparisons, a forest
plot per pair of models. Same inputs give byte-identical pages (no dates, no random ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from rbkit.eval import best_of_n_curve, length_bias
from rbkit.eval.leaderboard import Leaderboard, build
from rbkit.eval.report import OVERALL_ORDER, SECTION_ORDER, ordered
from rbkit.eval.report_entry import Entry
from rbkit.eval.svg_plots import Bar, ForestRow, bar_chart, colour, forest_plot, line_chart, scatter

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
OPEN_DETAILS = 3  # per-model detail panels open by default; the rest open on a click (fast with 50)
SCATTER_POINTS = (400, 150)  # points per margin plot: up to 10 models, and beyond (the binned means use every pair)

CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:20px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:16px 0 6px}.muted{color:#666}.small{font-size:12px}
.scroll{overflow-x:auto;max-width:100%;border:1px solid #e3e3e3}
table{border-collapse:collapse;font-size:12px}th,td{padding:3px 6px;border-bottom:1px solid #eee;white-space:nowrap}
th{background:#f6f7f9;position:sticky;top:0}td.num,th.num{text-align:right}
table.lb th[data-col]{cursor:pointer;user-select:none}table.lb th[aria-sort=descending]::after{content:" \\25BE"}
table.lb th[aria-sort=ascending]::after{content:" \\25B4"}
table.lb td:first-child,table.lb th:first-child{position:sticky;left:0;background:#fff;z-index:1}
table.lb th:first-child{background:#f6f7f9;z-index:2}
td small{display:block;color:#777;font-size:10px}td.missing{color:#b26a00;background:#fff8e6}
td.partial{background:#f4f4ff}.flag{display:inline-block;padding:0 5px;border-radius:8px;font-size:11px;margin-right:3px}
.flag.comparable{background:#e3f4e6;color:#1b5e20}.flag.partial{background:#fff1d6;color:#8a5300}
.flag.substitutes{background:#fde3e3;color:#8e1c1c}.flag.sampled,.flag.unknown{background:#eee;color:#444}
.charts{display:flex;flex-wrap:wrap;gap:10px}.charts svg{border:1px solid #eee;background:#fff}
.legend span{display:inline-block;margin:2px 10px 2px 0;font-size:12px}.legend i{display:inline-block;width:10px;
height:10px;margin-right:4px;vertical-align:middle}details{margin:6px 0}summary{cursor:pointer}
.verdict-better{color:#2e7d32;font-weight:600}.verdict-worse{color:#c62828;font-weight:600}
"""

JS = """
(function(){
function val(td){var v=td.getAttribute('data-v');return v===null||v===''?null:(isNaN(+v)?v:+v);}
document.querySelectorAll('table.lb').forEach(function(t){
 var ths=t.querySelectorAll('thead tr:last-child th');
 ths.forEach(function(th,i){th.addEventListener('click',function(){
  var desc=th.getAttribute('aria-sort')!=='descending';
  ths.forEach(function(h){h.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort',desc?'descending':'ascending');
  var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(a,b){var x=val(a.cells[i]),y=val(b.cells[i]);
   if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;
   var c=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));
   return desc?-c:c;});
  rows.forEach(function(r){body.appendChild(r);});
 });});
});
})();
"""


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def _ci(c: Sequence[float] | None) -> str:
    return "" if not c else f"{100 * c[0]:.1f}–{100 * c[1]:.1f}"


def _flags(flags: Sequence[str]) -> str:
    return "".join(f'<span class="flag {escape(f.split()[0])}">{escape(f)}</span>' for f in flags)


def leaderboard_table(board: Leaderboard, entries: Sequence[Entry]) -> str:
    groups = [("overall", "Overall"), ("section", "Sections"), ("subset", "Subsets")]
    spans = [(label, sum(1 for c in board.columns if c.group == g)) for g, label in groups]
    top = '<tr><th colspan="3"></th>' + "".join(f'<th colspan="{n}">{label}</th>' for label, n in spans if n) + "</tr>"
    head = ('<tr><th data-col="model">model</th><th data-col="kind">kind</th><th data-col="flag">comparability</th>'
            + "".join(f'<th class="num" data-col="{escape(c.key)}" title="{escape(c.key)}">{escape(c.label)}</th>'
                      for c in board.columns) + "</tr>")
    body = []
    for r in board.rows:
        e = entries[r.entry]
        cells = [f'<td data-v="{escape(r.name)}" title="{escape(e.path)}"><i style="display:inline-block;width:9px;'
                 f'height:9px;background:{colour(r.entry)}"></i> {escape(r.name)}'
                 f'<small>{escape(r.origin)}</small></td>',
                 f'<td data-v="{escape(r.kind)}">{escape(r.kind)}</td>',
                 f'<td data-v="{escape(", ".join(r.flags))}" title="{escape(r.label)}">{_flags(r.flags)}</td>']
        for c in board.columns:
            cell = r.cells[c.key]
            v = "" if cell.value is None else f"{cell.value:.6f}"
            title = escape(cell.note or ("not scored" if cell.value is None else ""))
            inner = "—" if cell.value is None else _pct(cell.value) + ("*" if cell.state == "partial" else "") + (
                f"<small>{_ci(cell.ci95)}</small>" if cell.ci95 else "")
            cells.append(f'<td class="num {cell.state}" data-v="{v}" data-col="{escape(c.key)}" title="{title}">{inner}</td>')
        body.append(f'<tr data-model="{escape(r.name)}">' + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table class="lb" data-benchmark="{escape(board.benchmark)}"><thead>{top}{head}</thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>'
            '<p class="small muted">Accuracy in percent, 95% bootstrap CI below. — not scored in that result (never '
            'counted as 0); * an incomplete section or overall, labelled partial. Click a header to sort.</p>')


def legend(board: Leaderboard) -> str:
    return '<div class="legend">' + "".join(
        f'<span><i style="background:{colour(r.entry)}"></i>{escape(r.name)}</span>' for r in board.rows) + "</div>"


def bar_charts(board: Leaderboard) -> str:
    charts = []
    for c in board.columns:
        bars = [Bar(r.name, r.cells[c.key].value, *(r.cells[c.key].ci95 or (None, None)), colour=colour(r.entry))
                for r in board.rows]
        charts.append(f'<div data-chart="{escape(c.key)}">{bar_chart(c.label, bars)}</div>')
    return legend(board) + '<div class="charts">' + "".join(charts) + "</div>"


def length_section(entries: Sequence[Entry]) -> str:
    measured = [(i, e) for i, e in enumerate(entries) if length_bias.measured_pairs(e.rows)]
    if not measured:
        return ('<p class="muted">No result holds token lengths per pair (scores.parquet column <code>lengths</code>; '
                "published files have none), so there is no length-bias view.</p>")
    rows, bars, panels = [], [], []
    for k, (i, e) in enumerate(measured):
        groups = {g.name: g for g in length_bias.split_by_length(e.rows)}
        r = length_bias.length_correlation(e.rows)
        rows.append(f'<tr data-model="{escape(e.name)}"><td>{escape(e.name)}</td>' + "".join(
            f'<td class="num" data-group="{escape(name)}">{_pct(g.accuracy)}<small>{_ci(g.ci95)} · n={g.n}</small></td>'
            for name, g in groups.items()) + f'<td class="num">{"—" if r is None else f"{r:+.2f}"}</td></tr>')
        for name in (length_bias.LONGER, length_bias.SHORTER):
            g = groups[name]
            bars.append(Bar(f"{e.name}: {name}", g.accuracy, *(g.ci95 or (None, None)),
                            colour=colour(i) if name == length_bias.LONGER else "#bbb"))
        limit = SCATTER_POINTS[0] if len(measured) <= 10 else SCATTER_POINTS[1]
        plot = scatter(f"{e.name}: margin vs length", length_bias.margin_points(e.rows, limit),
                       length_bias.binned_margins(e.rows), x_label="tokens chosen − rejected",
                       y_label="score margin", point_colour=colour(i))
        panels.append(f'<details{" open" if k < OPEN_DETAILS else ""} data-model="{escape(e.name)}"><summary>'
                      f"{escape(e.name)}: score margin against length difference</summary>{plot}</details>")
    table = ('<table><thead><tr><th>model</th><th class="num">chosen longer</th><th class="num">chosen shorter</th>'
             '<th class="num">same length</th><th class="num">r(length diff, margin)</th></tr></thead><tbody>'
             + "".join(rows) + "</tbody></table>")
    return (table + '<p class="small muted">Accuracy on pairs whose chosen answer is longer / shorter (tokens as '
            "the model read them), Wilson 95% intervals. A model that prefers length scores high on the first and low "
            "on the second. Coloured bars: chosen longer; grey: chosen shorter.</p>"
            + f'<div class="charts">{bar_chart("accuracy: chosen longer vs shorter", bars, width=max(320, 40 * len(bars)))}</div>'
            + "".join(panels))


def ties_section(entries: Sequence[Entry]) -> str:
    rows, details = [], []
    for e in entries:
        subs = e.results["subsets"]
        n = sum(s["n"] or 0 for s in subs.values())
        ties = sum(s["ties"] or 0 for s in subs.values()) if all(s["ties"] is not None for s in subs.values()) else None
        trunc = None if any(s["truncated"] is None for s in subs.values()) else sum(s["truncated"] for s in subs.values())
        rows.append(f'<tr data-model="{escape(e.name)}"><td>{escape(e.name)}</td><td class="num">{n}</td>'
                    f'<td class="num" data-v="{"" if ties is None else ties}">{"not recorded" if ties is None else ties}</td>'
                    f'<td class="num" data-v="{"" if trunc is None else trunc}">{"not recorded" if trunc is None else trunc}</td></tr>')
        nonzero = [(name, s) for name, s in sorted(subs.items()) if (s["ties"] or 0) or (s["truncated"] or 0)]
        if nonzero:
            details.append(f"<details><summary>{escape(e.name)}: by subset</summary><table><thead><tr><th>subset</th>"
                           '<th class="num">n</th><th class="num">ties</th><th class="num">truncated</th></tr></thead><tbody>'
                           + "".join(f'<tr><td>{escape(name)}</td><td class="num">{s["n"]}</td><td class="num">{s["ties"]}</td>'
                                     f'<td class="num">{s["truncated"]}</td></tr>' for name, s in nonzero)
                           + "</tbody></table></details>")
    return ('<table id="ties-table"><thead><tr><th>model</th><th class="num">pairs</th><th class="num">ties</th>'
            '<th class="num">truncated</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
            '<p class="small muted">A tie (equal scores) counts as wrong unless the run used --ties half. Truncated: '
            "pairs cut to --max-length. Published files record neither truncation nor, without per-pair scores, ties.</p>"
            + "".join(details))


JUDGE_KEYS = ("position_consistency", "first_position_rate", "unparseable", "errors", "requests")


def _judge_value(key: str, v: Any) -> str:
    if v is None:
        return "—"
    return f"{100 * v:.1f}%" if key.endswith(("consistency", "rate")) else str(v)


def judge_section(entries: Sequence[Entry]) -> str:
    judged = [e for e in entries if e.judge]
    if not judged:
        return '<p class="muted">No judge results among these.</p>'
    head = "".join(f'<th class="num">{k.replace("_", " ")}</th>' for k in JUDGE_KEYS)
    rows, details = [], []
    for e in judged:
        j = e.judge or {}
        prompt = j.get("prompt") or {}
        ov = j.get("overall") or {}
        rows.append(f'<tr data-model="{escape(e.name)}"><td>{escape(e.name)}<small>{escape(str(j.get("backend", "")))} · '
                    f'{escape(str(j.get("model", "")))} · prompt {escape(str(prompt.get("name", "")))} · '
                    f'{escape(str(j.get("orders", "")))} order(s) · {escape(str(j.get("mode", "")))}</small></td>'
                    + "".join(f'<td class="num" data-key="{k}">{_judge_value(k, ov.get(k))}</td>' for k in JUDGE_KEYS) + "</tr>")
        subs = j.get("subsets") or {}
        if subs:
            details.append(f"<details><summary>{escape(e.name)}: by subset</summary><table><thead><tr><th>subset</th>{head}"
                           "</tr></thead><tbody>" + "".join(
                               f"<tr><td>{escape(name)}</td>" + "".join(
                                   f'<td class="num">{_judge_value(k, s.get(k))}</td>' for k in JUDGE_KEYS) + "</tr>"
                               for name, s in sorted(subs.items())) + "</tbody></table></details>")
    return (f'<table id="judge-table"><thead><tr><th>judge</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            '<p class="small muted">Position consistency: share of pairs judged in both orders that got the same verdict '
            "both times. First-position rate: share of verdicts that picked the answer shown first (0.5 = no position "
            "preference).</p>" + "".join(details))


def best_of_n_section(entries: Sequence[Entry]) -> str:
    curves = [(i, e, best_of_n_curve.accuracy_by_rejected(e.rows)) for i, e in enumerate(entries)]
    curves = [c for c in curves if c[2]]
    if not curves:
        return '<p class="muted">No best-of-N result (RewardBench 2) with per-row scores among these.</p>'
    series = [(e.name, colour(i), [(float(p.rejected), p.accuracy, *p.ci95) for p in pts]) for i, e, pts in curves]
    chance = [(float(p.rejected), p.chance, p.chance, p.chance) for p in max((c[2] for c in curves), key=len)]
    series.append(("chance (1/(k+1))", "#999", chance))
    rows = "".join(f'<tr data-model="{escape(e.name)}"><td>{escape(e.name)}</td>' + "".join(
        f'<td class="num" data-k="{p.rejected}">{_pct(p.accuracy)}<small>{_ci(p.ci95)} · n={p.n}</small></td>' for p in pts)
        + "</tr>" for _, e, pts in curves)
    ks = max(len(c[2]) for c in curves)
    return (line_chart("best-of-N accuracy by rejected answers", series, x_label="rejected answers the correct one must beat")
            + '<table id="bon-table"><thead><tr><th>model</th>' + "".join(f'<th class="num">k={k}</th>' for k in range(1, ks + 1))
            + f"</tr></thead><tbody>{rows}</tbody></table>"
            '<p class="small muted">Each row re-scored against only its first k rejected answers (1/t credit for a t-way '
            "tie at the top); Ties is left out (its own formula). Wilson 95% intervals.</p>")


def comparison_section(comparisons: Sequence[dict[str, Any]]) -> str:
    parts = []
    for cmp in comparisons:
        rows = [ForestRow(f"overall: {n}", o["delta"], *(o["ci95"] or (None, None)), o.get("verdict", ""), True)
                for n, o in ordered(cmp["overall"], OVERALL_ORDER)]
        rows += [ForestRow(f"section: {n}", s["delta"], *(s["ci95"] or (None, None)), s.get("verdict", ""), True)
                 for n, s in ordered(cmp["sections"], SECTION_ORDER)]
        rows += [ForestRow(n, s["delta"], *(s["ci95"] or (None, None)), s.get("verdict", "")) for n, s in cmp["subsets"].items()]
        title = f"A = {cmp['a']['model']}  vs  B = {cmp['b']['model']}"
        table = ['<table class="cmp"><thead><tr><th>name</th><th class="num">n</th><th class="num">A</th><th class="num">B</th>'
                 '<th class="num">A−B</th><th class="num">95% CI</th><th class="num">A only</th><th class="num">B only</th>'
                 '<th class="num">p McNemar</th><th class="num">p bootstrap</th><th class="num">p Holm</th><th>A is</th></tr></thead><tbody>']
        for kind, block, order in (("overall", cmp["overall"], OVERALL_ORDER), ("section", cmp["sections"], SECTION_ORDER),
                                   ("subset", cmp["subsets"], ())):
            for n, s in ordered(block, order) if order else block.items():
                v = s.get("verdict", "")
                table.append(
                    f'<tr data-kind="{kind}" data-name="{escape(n)}"><td>{escape(n)}</td><td class="num">{s.get("n", "")}</td>'
                    f'<td class="num">{_pct(s["a"])}</td><td class="num">{_pct(s["b"])}</td>'
                    f'<td class="num" data-v="{s["delta"]:.6f}">{100 * s["delta"]:+.1f}</td><td class="num">{_ci(s["ci95"])}</td>'
                    f'<td class="num">{s.get("a_only", "")}</td><td class="num">{s.get("b_only", "")}</td>'
                    f'<td class="num">{_p(s.get("p_mcnemar"))}</td><td class="num">{_p(s.get("p_bootstrap"))}</td>'
                    f'<td class="num">{_p(s.get("p_holm"))}</td><td class="verdict-{escape(v.split()[0] if v else "")}">{escape(v)}</td></tr>')
        table.append("</tbody></table>")
        parts.append(f'<div class="comparison" data-a="{escape(cmp["a"]["model"])}" data-b="{escape(cmp["b"]["model"])}">'
                     f"<h3>{escape(title)}</h3><p class=\"small muted\">{cmp['pairs']} shared pairs (same ids and content "
                     f"hashes); {cmp['only_in_a']} only in A, {cmp['only_in_b']} only in B, left out. "
                     f"{escape(cmp.get('holm', ''))}; verdict at alpha {cmp.get('alpha', 0.05)}.</p>"
                     + forest_plot(title, rows) + "".join(table) + "</div>")
    return "".join(parts)


def _p(p: float | None) -> str:
    return "—" if p is None else (f"{p:.3f}" if p >= 0.001 else "<0.001")


def notices_section(entries: Sequence[Entry]) -> str:
    items = [f"<li><b>{escape(e.name)}</b>: {escape(n)}</li>" for e in entries for n in e.notices]
    labels = [f"<li><b>{escape(e.name)}</b> ({escape(e.origin)}, {escape(e.path)}): {escape(e.label)}</li>" for e in entries]
    return ("<h3>Comparability</h3><ul>" + "".join(labels) + "</ul>"
            + (("<h3>Notices</h3><ul>" + "".join(items) + "</ul>") if items else ""))


def render_report(entries: Sequence[Entry], comparisons: Sequence[dict[str, Any]] = (), *,
                  title: str = "Reward model report") -> str:
    """The whole page as one string."""
    boards = build(entries)
    body = [f"<h1>{escape(title)}</h1><p class=\"muted\">{len(entries)} result(s): "
            + ", ".join(escape(e.name) for e in entries) + "</p>"]
    nav = ["leaderboard", "subsets", "length", "ties", "judges", "best-of-n"] + (["comparisons"] if comparisons else []) + ["notes"]
    body.append('<p class="small">' + " · ".join(f'<a href="#{n}">{n}</a>' for n in nav) + "</p>")
    body.append('<h2 id="leaderboard">Leaderboard</h2>')
    for board in boards:
        body.append(f"<h3>{escape(board.title)}</h3>" + leaderboard_table(board, entries))
    body.append('<h2 id="subsets">Per-subset accuracy</h2>')
    for board in boards:
        body.append(f"<h3>{escape(board.title)}</h3>" + bar_charts(board))
    body.append('<h2 id="length">Length bias</h2>' + length_section(entries))
    body.append('<h2 id="ties">Ties and truncation</h2>' + ties_section(entries))
    body.append('<h2 id="judges">Judges: position consistency</h2>' + judge_section(entries))
    body.append('<h2 id="best-of-n">Best-of-N by number of rejected answers</h2>' + best_of_n_section(entries))
    if comparisons:
        body.append('<h2 id="comparisons">Paired comparisons</h2>' + comparison_section(comparisons))
    body.append('<h2 id="notes">Notes</h2>' + notices_section(entries))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + f"<script>{JS}</script></body></html>\n")

