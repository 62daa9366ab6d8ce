"""Server-rendered SVG charts (no JavaScript, no CDN): they work in the browser and in WeasyPrint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from assessments.selectors.robustness import RobustnessSummary, ThresholdCheck

PALETTE = ("#0b5394", "#b3261e", "#1e7b34", "#b26a00", "#6a3d9a", "#2c8c99")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 520, 240, 48, 130, 16, 36


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, float]]  # (x label, y in [0, 1])


def _y(value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(1.0, value)))


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span / 2)


def _axes(labels: Sequence[str], title: str) -> list[str]:
    parts = [f'<text x="{LEFT}" y="11" font-size="11" fill="#1c2430">{escape(title)}</text>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = _y(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d9dee5"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
                     f'fill="#5b6675">{int(tick * 100)}%</text>')
    for index, label in enumerate(labels):
        parts.append(f'<text x="{_x(index, len(labels)):.1f}" y="{HEIGHT - BOTTOM + 16}" font-size="10" '
                     f'text-anchor="middle" fill="#5b6675">{escape(label)}</text>')
    return parts


def line_chart_svg(*, title: str, labels: Sequence[str], series: Sequence[Series],
                   thresholds: Sequence[tuple[str, float]] = ()) -> str:
    """Accuracy (0–100 %) against ordered x labels; thresholds as dashed markers at their x label."""
    if not labels:
        return ""
    parts = _axes(labels, title)
    index_of = {label: index for index, label in enumerate(labels)}
    for number, item in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        coordinates = [(_x(index_of[x], len(labels)), _y(y)) for x, y in item.points if x in index_of]
        if len(coordinates) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in coordinates)
        legend_y = TOP + 14 * number + 8
        parts.append(f'<rect x="{WIDTH - RIGHT + 10}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 24}" y="{legend_y + 1}" font-size="10">'
                     f'{escape(item.name[:18])}</text>')
    for label, minimum in thresholds:
        if label in index_of:
            x, y = _x(index_of[label], len(labels)), _y(minimum)
            parts.append(f'<line x1="{x - 12:.1f}" y1="{y:.1f}" x2="{x + 12:.1f}" y2="{y:.1f}" stroke="#b3261e" '
                         f'stroke-width="2" stroke-dasharray="4 2"/>')
    return _svg(parts, title)


def bar_chart_svg(*, title: str, bars: Sequence[tuple[str, float, bool | None]]) -> str:
    """One bar per label (value in [0, 1]); coloured by pass (green), fail (red) or no verdict (blue)."""
    if not bars:
        return ""
    parts = _axes([label for label, _, _ in bars], title)
    span = (WIDTH - LEFT - RIGHT) / max(len(bars), 1)
    for index, (_label, value, passed) in enumerate(bars):
        colour = "#0b5394" if passed is None else "#1e7b34" if passed else "#b3261e"
        x, y = _x(index, len(bars)), _y(value)
        width = min(40.0, span * 0.6)
        parts.append(f'<rect x="{x - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
                     f'height="{_y(0) - y:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x:.1f}" y="{y - 4:.1f}" font-size="10" text-anchor="middle">{value:.0%}</text>')
    return _svg(parts, title)


def _svg(parts: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
            f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" font-family="DejaVu Sans, sans-serif">'
            + "".join(parts) + "</svg>")


def accuracy_vs_epsilon_svg(summary: RobustnessSummary) -> str:
    """Robust accuracy against ε, one line per attack, clean accuracy as ε = 0, thresholds dashed."""
    labels = ["0", *sorted({p.epsilon_label for p in summary.points}, key=lambda label: _eps_sort(summary, label))]
    clean = [("0", summary.clean_accuracy)] if summary.clean_accuracy is not None else []
    series = [Series(attack, [*clean, *((p.epsilon_label, p.robust_accuracy) for p in summary.points
                                        if p.attack == attack)])
              for attack in sorted({p.attack for p in summary.points})]
    return line_chart_svg(title=f"Robust accuracy vs ε — {summary.model_version}", labels=labels, series=series,
                          thresholds=[("0" if c.metric == "clean_accuracy" else c.epsilon_label, c.minimum)
                                      for c in summary.checks])  # clean accuracy is drawn at ε = 0


def _eps_sort(summary: RobustnessSummary, label: str) -> float:
    return next((p.epsilon for p in summary.points if p.epsilon_label == label), 0.0)


def robustness_over_versions_svg(summaries: Sequence[RobustnessSummary], title: str) -> str:
    """Worst robust accuracy of each model version (oldest first), coloured by its threshold verdict."""
    bars = [(s.model_version[:14], s.worst_robust_accuracy, s.passed) for s in reversed(summaries)
            if s.worst_robust_accuracy is not None]
    return bar_chart_svg(title=title, bars=bars[-10:])


def threshold_label(check: ThresholdCheck) -> str:
    return {True: "pass", False: "fail", None: "not measured"}[check.passed]
