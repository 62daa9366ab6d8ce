"""A small hand-written SVG scatter plot (no matplotlib in the project's dependencies)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

COLOURS = ("#444444", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
WIDTH, HEIGHT, MARGIN = 640, 440, 60


@dataclass(frozen=True)
class Series:
    """One method: points (clean %, robust %) for each ε, with a label per point."""

    name: str
    points: list[tuple[float, float]]
    point_labels: list[str]


def front_plot(series: list[Series], title: str = "Held-out compositions: clean vs PGD-10 robust accuracy") -> str:
    """SVG text: x = clean accuracy (%), y = robust accuracy (%), one polyline per method over ε."""
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    x_low, x_high = _range(xs)
    y_low, y_high = _range(ys)

    def px(x: float) -> float:
        return MARGIN + (x - x_low) / (x_high - x_low) * (WIDTH - 2 * MARGIN - 120)

    def py(y: float) -> float:
        return HEIGHT - MARGIN - (y - y_low) / (y_high - y_low) * (HEIGHT - 2 * MARGIN)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
        f'font-size="11"><rect width="100%" height="100%" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="13">{escape(title)}</text>',
    ]
    parts += _axes(px, py, x_low, x_high, y_low, y_high)
    for index, item in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in item.points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for (x, y), label in zip(item.points, item.point_labels, strict=True):
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{colour}"/>')
            parts.append(
                f'<text x="{px(x) + 5:.1f}" y="{py(y) - 4:.1f}" fill="{colour}" font-size="9">{escape(label)}</text>'
            )
        legend_y = MARGIN + 16 * index
        parts.append(f'<rect x="{WIDTH - MARGIN - 100}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{WIDTH - MARGIN - 85}" y="{legend_y + 1}">{escape(item.name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = max(2.0, (high - low) * 0.08)
    return max(0.0, low - pad), min(100.0, high + pad)


def _axes(px, py, x_low: float, x_high: float, y_low: float, y_high: float) -> list[str]:  # type: ignore[no-untyped-def]
    parts = [
        f'<line x1="{px(x_low)}" y1="{py(y_low)}" x2="{px(x_high)}" y2="{py(y_low)}" stroke="black"/>',
        f'<line x1="{px(x_low)}" y1="{py(y_low)}" x2="{px(x_low)}" y2="{py(y_high)}" stroke="black"/>',
        f'<text x="{(px(x_low) + px(x_high)) / 2}" y="{HEIGHT - 20}" text-anchor="middle">clean accuracy (%)</text>',
        f'<text x="18" y="{(py(y_low) + py(y_high)) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {(py(y_low) + py(y_high)) / 2})">robust accuracy, PGD-10 (%)</text>',
    ]
    for k in range(6):
        x = x_low + (x_high - x_low) * k / 5
        y = y_low + (y_high - y_low) * k / 5
        parts.append(f'<text x="{px(x):.1f}" y="{py(y_low) + 15:.1f}" text-anchor="middle">{x:.0f}</text>')
        parts.append(f'<text x="{px(x_low) - 6:.1f}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.0f}</text>')
    return parts
