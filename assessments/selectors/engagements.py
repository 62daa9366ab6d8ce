"""Engagement reads: the timeline and the before/after posture (baseline vs closing assessments)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from html import escape

from assessments.models import Action, Assessment, Engagement, ResultStatus
from assessments.models.engagements import OPEN_ACTION_STATUSES
from assessments.selectors.robustness import RobustnessSummary, robustness_summary_get, robustness_versions


def action_is_overdue(action: Action, today: date) -> bool:
    return bool(action.due_date and action.status in OPEN_ACTION_STATUSES and action.due_date < today)


@dataclass(frozen=True)
class Posture:
    framework: str
    before: dict[str, int] | None
    after: dict[str, int] | None

    @staticmethod
    def percent(counts: dict[str, int] | None) -> int | None:
        if counts is None:
            return None
        applicable = sum(n for key, n in counts.items() if key != ResultStatus.NOT_APPLICABLE)
        return round(100 * counts.get(ResultStatus.COMPLIANT, 0) / applicable) if applicable else 0

    @property
    def before_percent(self) -> int | None:
        return self.percent(self.before)

    @property
    def after_percent(self) -> int | None:
        return self.percent(self.after)


def _counts(assessments: list[Assessment]) -> dict[str, dict[str, int]]:
    by_framework: dict[str, Counter[str]] = {}
    for assessment in assessments:
        key = str(assessment.framework)
        by_framework.setdefault(key, Counter()).update(r.result for r in assessment.results.all())
    return {key: dict(counter) for key, counter in by_framework.items()}


def engagement_posture_get(engagement: Engagement) -> list[Posture]:
    """Per framework: the result counts of the baseline set against the closing set."""
    baseline = list(engagement.baseline_assessments.select_related("framework").prefetch_related("results"))
    closing = list(engagement.closing_assessments.select_related("framework").prefetch_related("results"))
    before, after = _counts(baseline), _counts(closing)
    return [Posture(name, before.get(name), after.get(name)) for name in sorted(set(before) | set(after))]


@dataclass(frozen=True)
class RobustnessChange:
    ai_system_id: int
    ai_system: str
    before: RobustnessSummary | None
    after: RobustnessSummary | None

    @property
    def rows(self) -> tuple[tuple[str, RobustnessSummary | None], ...]:
        return ("Before", self.before), ("After", self.after)


def engagement_robustness_get(engagement: Engagement) -> list[RobustnessChange]:
    """Per AI system in scope: the newest robustness result from before the start against the newest since."""
    assessments = [*engagement.baseline_assessments.all(), *engagement.closing_assessments.all()]
    systems = {system.pk: system for system in (a.ai_system for a in assessments) if system is not None}
    changes = []
    for system_id, system in systems.items():
        summaries = [(v, robustness_summary_get(v, thresholds=system.robustness_thresholds))
                     for v in robustness_versions(engagement.organisation_id, ai_system_id=system_id)]
        before = next((s for v, s in summaries if s and v.uploaded_at.date() < engagement.start_date), None)
        after = next((s for v, s in summaries if s and v.uploaded_at.date() >= engagement.start_date), None)
        changes.append(RobustnessChange(system_id, system.name, before, after))
    return changes


def engagement_timeline_svg(engagement: Engagement, actions: list[Action], today: date) -> str:
    """Phases as bands across the engagement's days, actions as dots on their due dates (overdue in red)."""
    width, left, row = 760, 150, 22
    days = max((engagement.end_date - engagement.start_date).days + 1, 1)
    phases = list(engagement.phases.all())
    height = 30 + row * (len(phases) + 1)

    def x(day: date) -> float:
        return left + (width - left - 10) * min(max((day - engagement.start_date).days, 0), days) / days

    parts = []
    for index, phase in enumerate(phases):
        y = 24 + index * row
        parts.append(f'<text x="4" y="{y + 13}" font-size="11">{escape(phase.title[:22])}</text>')
        span = max(x(phase.end_date) - x(phase.start_date), 2)
        parts.append(f'<rect x="{x(phase.start_date):.1f}" y="{y}" width="{span:.1f}" '
                     f'height="16" rx="3" fill="#cfe0f3"/>')
        parts.append(f'<text x="{x(phase.end_date) - 2:.1f}" y="{y + 12}" font-size="9" text-anchor="end" '
                     f'fill="#0b5394">{phase.end_date:%d %b}</text>')
    y = 24 + len(phases) * row
    parts.append(f'<text x="4" y="{y + 13}" font-size="11">Actions</text>')
    for action in actions:
        if action.due_date:
            colour = "#b3261e" if action_is_overdue(action, today) else (
                "#1e7b34" if action.status == "done" else "#0b5394")
            parts.append(f'<circle cx="{x(action.due_date):.1f}" cy="{y + 8}" r="5" fill="{colour}">'
                         f'<title>{escape(action.title)} — due {action.due_date}</title></circle>')
    if engagement.start_date <= today <= engagement.end_date:
        parts.append(f'<line x1="{x(today):.1f}" y1="14" x2="{x(today):.1f}" y2="{height - 4}" stroke="#b26a00" '
                     f'stroke-dasharray="3 2"/><text x="{x(today):.1f}" y="11" font-size="9" text-anchor="middle" '
                     f'fill="#b26a00">today</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="Engagement timeline" font-family="DejaVu Sans, sans-serif">{"".join(parts)}</svg>')
