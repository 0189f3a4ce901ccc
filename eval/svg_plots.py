"""Small inline SVG charts for the HTML report, written as text: no plotting library, no network.

Each function takes plain numbers and returns one `<svg>` element. Every mark carries a
`<title>` so a hover shows the exact value; coordinates are rounded to 0.1 px to keep a
50-model report small. Values are fractions in [0, 1] unless said otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")
VERDICT_COLOURS = {"better": "#2e7d32", "worse": "#c62828", "no detectable difference": "#757575"}


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if math.isfinite(x) else "0"


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
            f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-label="{escape(label)}">'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, *, anchor: str = "start", size: int = 11, extra: str = "") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" text-anchor="{anchor}"{extra}>{escape(s)}</text>'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: not scored (drawn as a marked gap, never as zero)
    lo: float | None = None
    hi: float | None = None
    colour: str = PALETTE[0]


def bar_chart(title: str, bars: Sequence[Bar], *, width: int = 320, height: int = 170) -> str:
    """Vertical bars on a 0-100% axis with 95% CI whiskers; a missing value is an x mark."""
    left, right, top, bottom = 30, 6, 18, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(len(bars), 1)
    bw = max(min(slot * 0.7, 28), 1.5)
    body = [_text(4, 12, title, size=12, extra=' font-weight="600"')]
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        body.append(f'<line x1="{left}" x2="{_f(width - right)}" y1="{_f(y)}" y2="{_f(y)}" stroke="#ddd"/>')
        body.append(_text(left - 3, y + 3.5, f"{int(frac * 100)}", anchor="end", size=9))
    for i, b in enumerate(bars):
        cx = left + slot * (i + 0.5)
        if b.value is None:
            y = top + plot_h - 5
            body.append(f'<g class="missing"><title>{escape(b.label)}: not scored</title>'
                        f'<path d="M{_f(cx - 3)} {_f(y - 3)}l6 6m0 -6l-6 6" stroke="#999" fill="none"/></g>')
            continue
        y = top + plot_h * (1 - b.value)
        tip = f"{b.label}: {100 * b.value:.1f}" + (f" [{100 * b.lo:.1f}, {100 * b.hi:.1f}]" if b.lo is not None and b.hi is not None else "")
        parts = [f'<rect x="{_f(cx - bw / 2)}" y="{_f(y)}" width="{_f(bw)}" height="{_f(top + plot_h - y)}" fill="{b.colour}"/>']
        if b.lo is not None and b.hi is not None:
            y1, y2 = top + plot_h * (1 - b.lo), top + plot_h * (1 - b.hi)
            parts.append(f'<path d="M{_f(cx)} {_f(y1)}V{_f(y2)}M{_f(cx - 3)} {_f(y1)}h6M{_f(cx - 3)} {_f(y2)}h6" '
                         'stroke="#222" fill="none"/>')
        body.append(f"<g><title>{escape(tip)}</title>{''.join(parts)}</g>")
    if len(bars) <= 8:
        for i, b in enumerate(bars):
            body.append(_text(left + slot * (i + 0.5), height - 4, b.label[:14], anchor="middle", size=8))
    return _svg(width, height, body, title)


def scatter(title: str, points: Sequence[tuple[float, float]], binned: Sequence[tuple[float, float, float, float]],
            *, x_label: str, y_label: str, width: int = 360, height: int = 220, point_colour: str = PALETTE[0]) -> str:
    """Points (x, y) with a line through binned means (x, mean, lo, hi) and a zero line."""
    left, right, top, bottom = 44, 8, 18, 30
    pw, ph = width - left - right, height - top - bottom
    xs = [p[0] for p in points] + [b[0] for b in binned] or [0.0]
    ys = [p[1] for p in points] + [v for b in binned for v in b[1:]] or [0.0]
    x0, x1 = min(min(xs), 0.0), max(max(xs), 0.0)
    y0, y1 = min(min(ys), 0.0), max(max(ys), 0.0)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def sx(x: float) -> float:
        return left + pw * (x - x0) / (x1 - x0)

    def sy(y: float) -> float:
        return top + ph * (1 - (y - y0) / (y1 - y0))

    body = [_text(4, 12, title, size=12, extra=' font-weight="600"'),
            f'<rect x="{left}" y="{top}" width="{_f(pw)}" height="{_f(ph)}" fill="none" stroke="#ccc"/>',
            f'<line x1="{_f(sx(0))}" x2="{_f(sx(0))}" y1="{top}" y2="{_f(top + ph)}" stroke="#bbb" stroke-dasharray="3 3"/>',
            f'<line x1="{left}" x2="{_f(left + pw)}" y1="{_f(sy(0))}" y2="{_f(sy(0))}" stroke="#bbb" stroke-dasharray="3 3"/>',
            _text(left + pw / 2, height - 4, x_label, anchor="middle", size=10),
            _text(10, top + ph / 2, y_label, anchor="middle", size=10,
                  extra=f' transform="rotate(-90 10 {_f(top + ph / 2)})"'),
            _text(left, height - 16, f"{x0:g}", size=9), _text(left + pw, height - 16, f"{x1:g}", anchor="end", size=9),
            _text(left - 3, top + 8, f"{y1:.3g}", anchor="end", size=9),
            _text(left - 3, top + ph, f"{y0:.3g}", anchor="end", size=9)]
    body.append(f'<g fill="{point_colour}" fill-opacity="0.35">'
                + "".join(f'<circle cx="{_f(sx(x))}" cy="{_f(sy(y))}" r="2"/>' for x, y in points) + "</g>")
    if binned:
        path = "M" + "L".join(f"{_f(sx(x))} {_f(sy(m))}" for x, m, _, _ in binned)
        body.append(f'<path d="{path}" stroke="#222" stroke-width="1.5" fill="none"/>')
        for x, m, lo, hi in binned:
            body.append(f'<g><title>mean margin {m:.3g} [{lo:.3g}, {hi:.3g}] at length difference {x:g}</title>'
                        f'<path d="M{_f(sx(x))} {_f(sy(lo))}V{_f(sy(hi))}" stroke="#222"/>'
                        f'<circle cx="{_f(sx(x))}" cy="{_f(sy(m))}" r="3" fill="#222"/></g>')
    return _svg(width, height, body, title)


def line_chart(title: str, series: Sequence[tuple[str, str, Sequence[tuple[float, float, float, float]]]], *,
               x_label: str, width: int = 420, height: int = 220) -> str:
    """Lines of (x, value, lo, hi) on a 0-100% axis, one per (name, colour, points) series."""
    left, right, top, bottom = 34, 8, 18, 30
    pw, ph = width - left - right, height - top - bottom
    xs = [p[0] for _, _, pts in series for p in pts] or [1.0]
    x0, x1 = min(xs), max(xs)
    x1 = x1 if x1 > x0 else x0 + 1

    def sx(x: float) -> float:
        return left + pw * (x - x0) / (x1 - x0)

    def sy(y: float) -> float:
        return top + ph * (1 - y)

    body = [_text(4, 12, title, size=12, extra=' font-weight="600"'),
            _text(left + pw / 2, height - 4, x_label, anchor="middle", size=10)]
    for frac in (0, 0.5, 1):
        body.append(f'<line x1="{left}" x2="{_f(left + pw)}" y1="{_f(sy(frac))}" y2="{_f(sy(frac))}" stroke="#ddd"/>')
        body.append(_text(left - 3, sy(frac) + 3.5, f"{int(frac * 100)}", anchor="end", size=9))
    for x in sorted(set(xs)):
        body.append(_text(sx(x), top + ph + 11, f"{x:g}", anchor="middle", size=9))
    for name, col, pts in series:
        if not pts:
            continue
        path = "M" + "L".join(f"{_f(sx(x))} {_f(sy(v))}" for x, v, _, _ in pts)
        marks = "".join(f'<g><title>{escape(name)}: {x:g} rejected, {100 * v:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]</title>'
                        f'<path d="M{_f(sx(x))} {_f(sy(lo))}V{_f(sy(hi))}" stroke="{col}"/>'
                        f'<circle cx="{_f(sx(x))}" cy="{_f(sy(v))}" r="3" fill="{col}"/></g>' for x, v, lo, hi in pts)
        body.append(f'<g><path d="{path}" stroke="{col}" stroke-width="1.5" fill="none"/>{marks}</g>')
    return _svg(width, height, body, title)


@dataclass(frozen=True)
class ForestRow:
    label: str
    delta: float | None
    lo: float | None
    hi: float | None
    verdict: str
    strong: bool = False  # sections and overall are drawn bold


def forest_plot(title: str, rows: Sequence[ForestRow], *, width: int = 560, row_h: int = 16) -> str:
    """Differences A−B (points) with 95% CIs (lines) around a zero line, coloured by verdict."""
    label_w, right, top = 170, 60, 22
    height = top + row_h * len(rows) + 22
    pw = width - label_w - right
    ext = [abs(v) for r in rows for v in (r.delta, r.lo, r.hi) if v is not None] or [0.01]
    span = max(max(ext), 0.01) * 1.05

    def sx(x: float) -> float:
        return label_w + pw * (x + span) / (2 * span)

    body = [_text(4, 13, title, size=12, extra=' font-weight="600"'),
            f'<line x1="{_f(sx(0))}" x2="{_f(sx(0))}" y1="{top - 4}" y2="{_f(height - 18)}" stroke="#888"/>',
            _text(sx(-span), height - 6, f"{-100 * span:+.1f}", size=9),
            _text(sx(span), height - 6, f"{100 * span:+.1f}", anchor="end", size=9),
            _text(sx(0), height - 6, "0 (A − B, points)", anchor="middle", size=9)]
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        weight = ' font-weight="600"' if r.strong else ""
        body.append(_text(label_w - 6, y + 4, r.label[:28], anchor="end", size=10, extra=weight))
        if r.delta is None:
            body.append(_text(sx(0) + 4, y + 4, "no pairs", size=9))
            continue
        col = VERDICT_COLOURS.get(r.verdict, "#757575")
        ci = "" if r.lo is None or r.hi is None else f" [{100 * r.lo:+.1f}, {100 * r.hi:+.1f}]"
        line = "" if r.lo is None or r.hi is None else (
            f'<line x1="{_f(sx(r.lo))}" x2="{_f(sx(r.hi))}" y1="{_f(y)}" y2="{_f(y)}" stroke="{col}" stroke-width="2"/>')
        body.append(f'<g class="forest-row" data-verdict="{escape(r.verdict)}"><title>{escape(r.label)}: '
                    f'{100 * r.delta:+.1f}{ci} — {escape(r.verdict)}</title>{line}'
                    f'<rect x="{_f(sx(r.delta) - 3.5)}" y="{_f(y - 3.5)}" width="7" height="7" fill="{col}"/></g>')
        body.append(_text(width - right + 4, y + 4, f"{100 * r.delta:+.1f}", size=9))
    return _svg(width, height, body, title)
