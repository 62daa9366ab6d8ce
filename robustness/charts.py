"""Server-rendered SVG charts (no JavaScript, no CDN): line, grouped bars, heat map.

Each function returns SVG markup; every text that reaches the markup is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1f5fa8", "#c0392b", "#27864a", "#b9770e", "#7d3c98", "#117a8b")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 300, 52, 150, 16, 44


def _frame(title: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> SafeString:
    # Safe: every interpolated text is escaped above; numbers are formatted by us.
    markup = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
              f'style="width:100%;max-width:{width}px" class="chart" aria-label="{escape(title)}">'
              f'<title>{escape(title)}</title>{"".join(body)}</svg>')
    return mark_safe(markup)  # noqa: S308


def _y_axis(body: list[str], plot_height: int) -> None:
    for tick in range(0, 101, 25):
        y = TOP + plot_height * (1 - tick / 100)
        body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7ee"/>')
        body.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick}%</text>')


def accuracy_vs_epsilon(record: dict[str, Any]) -> SafeString:
    """Robust accuracy against ε, one line per attack, with clean accuracy at ε = 0."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    by_attack: dict[str, list[tuple[float, float, str]]] = {}
    for item in record.get("results", []):
        by_attack.setdefault(item["attack"], []).append((item["eps"], item["robust_accuracy"]["value"],
                                                         item["eps_label"]))
    clean = record["clean_accuracy"]["value"]
    largest = max([eps for points in by_attack.values() for eps, _, _ in points] or [1.0])
    x_of = lambda eps: LEFT + plot_width * eps / largest  # noqa: E731
    y_of = lambda value: TOP + plot_height * (1 - value)  # noqa: E731
    body: list[str] = []
    _y_axis(body, plot_height)
    labels = {0.0: "0"} | {eps: label for points in by_attack.values() for eps, _, label in points}
    for eps, label in labels.items():
        body.append(f'<text x="{x_of(eps):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11">'
                    f'{escape(label)}</text>')
    body.append(f'<text x="{LEFT + plot_width / 2}" y="{HEIGHT - 6}" text-anchor="middle" font-size="11">'
                f'ε (L∞)</text>')
    for index, (attack, points) in enumerate(sorted(by_attack.items())):
        colour = PALETTE[index % len(PALETTE)]
        series = [(0.0, clean), *sorted((eps, value) for eps, value, _ in points)]
        path = " ".join(f"{x_of(eps):.1f},{y_of(value):.1f}" for eps, value in series)
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for eps, value in series:
            body.append(f'<circle cx="{x_of(eps):.1f}" cy="{y_of(value):.1f}" r="3" fill="{colour}">'
                        f'<title>{escape(attack)}: {value:.1%}</title></circle>')
        body.append(f'<text x="{WIDTH - RIGHT + 8}" y="{TOP + 14 + 16 * index}" font-size="12" fill="{colour}">'
                    f'{escape(attack)}</text>')
    return _frame("Accuracy against ε per attack", body)


def grouped_bars(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
                 title: str) -> SafeString:
    """Bars per category (e.g. before/after per attack-ε, or clean/robust per class), values 0..1."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - 30
    body: list[str] = []
    _y_axis(body, plot_height)
    slot = plot_width / max(1, len(categories))
    bar = slot * 0.8 / max(1, len(series))
    for c, category in enumerate(categories):
        x0 = LEFT + slot * c + slot * 0.1
        for s, (_, values) in enumerate(series):
            value = values[c]
            if value is None:
                continue
            height = plot_height * value
            body.append(f'<rect x="{x0 + s * bar:.1f}" y="{TOP + plot_height - height:.1f}" width="{bar - 1:.1f}" '
                        f'height="{height:.1f}" fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(category)} '
                        f'{escape(series[s][0])}: {value:.1%}</title></rect>')
        body.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{TOP + plot_height + 14}" font-size="10" '
                    f'text-anchor="end" transform="rotate(-30 {x0 + slot * 0.4:.1f} {TOP + plot_height + 14})">'
                    f'{escape(category[:22])}</text>')
    for s, (name, _) in enumerate(series):
        body.append(f'<rect x="{WIDTH - RIGHT + 8}" y="{TOP + 4 + 18 * s}" width="12" height="12" '
                    f'fill="{PALETTE[s % len(PALETTE)]}"/><text x="{WIDTH - RIGHT + 26}" y="{TOP + 14 + 18 * s}" '
                    f'font-size="12">{escape(name)}</text>')
    return _frame(title, body)


def heat_map(names: Sequence[str], matrix: Sequence[Sequence[float]], title: str) -> SafeString:
    """A cosine-similarity matrix: white at ≤ 0, dark blue at 1."""
    count = len(names)
    cell = max(8, min(28, 360 // max(1, count)))
    label_space = 120
    size = label_space + cell * count + 8
    body: list[str] = []
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            shade = max(0.0, min(1.0, float(value)))
            r, g, b = (int(255 - shade * (255 - c)) for c in (31, 95, 168))
            body.append(f'<rect x="{label_space + j * cell}" y="{label_space + i * cell}" width="{cell}" '
                        f'height="{cell}" fill="rgb({r},{g},{b})"><title>{escape(names[i])} · {escape(names[j])}: '
                        f'{float(value):.3f}</title></rect>')
    font = max(7, min(11, cell - 2))
    for i, name in enumerate(names):
        y = label_space + i * cell + cell * 0.7
        body.append(f'<text x="{label_space - 4}" y="{y:.1f}" text-anchor="end" font-size="{font}">'
                    f'{escape(name[:18])}</text>')
        x = label_space + i * cell + cell * 0.7
        body.append(f'<text x="{x:.1f}" y="{label_space - 4}" font-size="{font}" '
                    f'transform="rotate(-60 {x:.1f} {label_space - 4})">{escape(name[:18])}</text>')
    return _frame(title, body, width=size, height=size)


def loss_curve(losses: Sequence[float]) -> SafeString:
    """The retraining loss per step."""
    plot_width, plot_height = WIDTH - LEFT - 20, HEIGHT - TOP - BOTTOM
    if not losses:
        return _frame("Training loss", [])
    low, high = min(losses), max(losses)
    span = (high - low) or 1.0
    points = " ".join(f"{LEFT + plot_width * i / max(1, len(losses) - 1):.1f},"
                      f"{TOP + plot_height * (1 - (v - low) / span):.1f}" for i, v in enumerate(losses))
    body = [f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="1.5" points="{points}"/>',
            f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="11">{high:.3g}</text>',
            f'<text x="{LEFT - 6}" y="{TOP + plot_height}" text-anchor="end" font-size="11">{low:.3g}</text>',
            f'<text x="{LEFT + plot_width / 2}" y="{HEIGHT - 10}" text-anchor="middle" font-size="11">'
            f'step (last {len(losses)})</text>']
    return _frame("Training loss", body)
