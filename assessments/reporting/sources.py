"""The report's one note on facts that rest on secondary sources (issue #13, point 5).

The EU AI Act catalog marks each provision whose existence, text or date rests on a secondary source
(``fact_source``, kept in the loaded row's notes). The report says so once, in "Scope and method",
listing those provisions, instead of repeating the hedge wherever a date or provision is printed.
"""

from __future__ import annotations

import re
from typing import Any

from governance.services.catalogs import FACT_SOURCE_PREFIX

EU_AI_ACT_SLUG = "eu-ai-act"

# The hedges the catalog's date sources and the classifier print after a 2026/1744 fact; the report
# replaces them with a pointer to the one note.
_HEDGES = (
    re.compile(r"\s*as reported by secondary sources \(not yet checked against the OJ text\)"),
    re.compile(r";\s*secondary sources, verify against the OJ"),
    re.compile(r"\s*\([Pp]er a third-party transcription of the consolidated text CELEX 02024R1689-20260727.*?"
               r"not verified against the Official Journal\)"),
    re.compile(r"[;,]?\s*(?:Amended Art 113 wording )?[Pp]er a third-party transcription of the consolidated text "
               r"CELEX 02024R1689-20260727.*?not verified against the Official Journal\.?"),
)
POINTER = " (source: see “Sources” under 2. Scope and method)"


def without_hedge(text: str) -> str:
    """``text`` without the secondary-source hedges, plus a pointer to the report's note if any was removed."""
    stripped = text or ""
    for pattern in _HEDGES:
        stripped = pattern.sub("", stripped)
    if stripped == (text or ""):
        return stripped
    stripped = stripped.rstrip().removesuffix(".")
    return stripped + POINTER + "."


def secondary_source_note(*, framework_urn: str, classified: bool) -> dict[str, Any] | None:
    """The note for a report on the EU AI Act or on an EU-AI-Act-classified system; ``None`` otherwise."""
    if not framework_urn.startswith(f"urn:anchorage:framework:{EU_AI_ACT_SLUG}:") and not classified:
        return None
    from governance.models import Framework

    framework = Framework.objects.filter(slug=EU_AI_ACT_SLUG).order_by("-published").first()
    if framework is None:
        return None
    provisions = list(framework.requirements.filter(notes__contains=FACT_SOURCE_PREFIX)
                      .order_by("order").values_list("ref_id", flat=True))
    return {
        "framework": f"{framework.ref_id} ({framework.edition}) as amended by Regulation (EU) 2026/1744",
        "provisions": provisions,
        "text": ("The application dates set by amended Art 113 (points (a) and (c)) and the provisions listed rest "
                 "on a third-party transcription of the consolidated text CELEX 02024R1689-20260727 and on "
                 "secondary sources; they are not yet verified against the Official Journal. This note covers "
                 "every place in this report where those dates or provisions appear."),
    }


def inferred_source_note(*, framework_urn: str) -> dict[str, Any] | None:
    """The note for a report on a standard (not the EU AI Act) whose catalog holds nodes resting on a stated
    source or inference (``fact_source``, ISO/IEC 23894's inferred numbers and titles); ``None`` otherwise."""
    if not framework_urn or framework_urn.startswith(f"urn:anchorage:framework:{EU_AI_ACT_SLUG}:"):
        return None
    from governance.models import Framework

    framework = Framework.objects.filter(urn=framework_urn).first()
    if framework is None:
        return None
    provisions = list(framework.requirements.filter(notes__contains=FACT_SOURCE_PREFIX)
                      .order_by("order").values_list("ref_id", flat=True))
    if not provisions:
        return None
    return {
        "framework": f"{framework.ref_id} ({framework.edition})",
        "provisions": provisions,
        "text": ("The numbers and titles of the provisions listed are inferred from the standard's structure and "
                 "public secondary sources, not printed by any public source seen; each catalog entry states how "
                 "(its notes: “Source of this fact”). They are not verified against a purchased copy."),
    }


def classification_for_report(classification: dict[str, Any] | None) -> dict[str, Any] | None:
    """The classification facts with the hedges replaced by the pointer to the note."""
    if not classification:
        return classification
    return {**classification,
            "rationale": without_hedge(classification.get("rationale") or ""),
            "application_date_source": without_hedge(classification.get("application_date_source") or "")}
