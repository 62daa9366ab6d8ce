"""The EU AI Act classification as a decision procedure: pure Python, no Django.

The guided form asks the questions below in the Act's order (Art 5 → Art 6(1)/Annex I →
Art 6(2)/Annex III → Art 6(3) derogation → Art 50 → general-purpose models) and
`classify(answers)` returns the result with its rationale. Labels are Anchorage's own short
paraphrases, not legal text; the ids are the Act's citations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

PROHIBITED_PRACTICES: dict[str, str] = {
    "Art 5(1)(a)": "Subliminal, purposefully manipulative or deceptive techniques that materially distort "
                   "behaviour and cause (or are likely to cause) significant harm",
    "Art 5(1)(b)": "Exploiting vulnerabilities due to age, disability or a specific social or economic "
                   "situation, causing significant harm",
    "Art 5(1)(c)": "Social scoring that leads to detrimental or unfavourable treatment",
    "Art 5(1)(d)": "Predicting that a person will commit a crime based solely on profiling or personality traits",
    "Art 5(1)(e)": "Untargeted scraping of facial images from the internet or CCTV to build facial-recognition "
                   "databases",
    "Art 5(1)(f)": "Emotion recognition in the workplace or in education institutions (not for medical or "
                   "safety reasons)",
    "Art 5(1)(g)": "Biometric categorisation to infer race, political opinions, trade-union membership, religious "
                   "or philosophical beliefs, sex life or sexual orientation",
    "Art 5(1)(h)": "Real-time remote biometric identification in publicly accessible spaces for law enforcement "
                   "(outside the narrow exceptions)",
}

ANNEX_III_AREAS: dict[str, str] = {
    "1": "Biometrics", "2": "Critical infrastructure", "3": "Education and vocational training",
    "4": "Employment, workers' management and access to self-employment",
    "5": "Access to essential private and public services and benefits", "6": "Law enforcement",
    "7": "Migration, asylum and border control management",
    "8": "Administration of justice and democratic processes",
}

ANNEX_III_POINTS: dict[str, str] = {
    "Annex III 1(a)": "Remote biometric identification (not mere verification of identity)",
    "Annex III 1(b)": "Biometric categorisation by sensitive or protected attributes",
    "Annex III 1(c)": "Emotion recognition",
    "Annex III 2(a)": "Safety component of critical digital infrastructure, road traffic, or the supply of water, "
                      "gas, heating or electricity",
    "Annex III 3(a)": "Deciding access or admission to, or assigning persons to, education and training",
    "Annex III 3(b)": "Evaluating learning outcomes, including steering the learning process",
    "Annex III 3(c)": "Assessing the level of education a person will receive or can access",
    "Annex III 3(d)": "Monitoring and detecting prohibited behaviour of students during tests",
    "Annex III 4(a)": "Recruitment or selection: targeted job ads, analysing and filtering applications, "
                      "evaluating candidates",
    "Annex III 4(b)": "Decisions on work relationships, promotion, termination, task allocation, or monitoring and "
                      "evaluating workers' performance and behaviour",
    "Annex III 5(a)": "Public authorities evaluating eligibility for essential public assistance benefits and "
                      "services",
    "Annex III 5(b)": "Evaluating creditworthiness or establishing a credit score (not fraud detection)",
    "Annex III 5(c)": "Risk assessment and pricing for life and health insurance",
    "Annex III 5(d)": "Evaluating and classifying emergency calls, dispatching first responders, emergency "
                      "patient triage",
    "Annex III 6(a)": "Law enforcement: assessing the risk of a person becoming a victim of crime",
    "Annex III 6(b)": "Law enforcement: polygraphs and similar tools",
    "Annex III 6(c)": "Law enforcement: evaluating the reliability of evidence",
    "Annex III 6(d)": "Law enforcement: assessing the risk of (re-)offending or personality traits and past "
                      "criminal behaviour",
    "Annex III 6(e)": "Law enforcement: profiling in the detection, investigation or prosecution of crime",
    "Annex III 7(a)": "Migration: polygraphs and similar tools",
    "Annex III 7(b)": "Migration: assessing security, irregular-migration or health risks of a person",
    "Annex III 7(c)": "Migration: examining applications for asylum, visas and residence permits",
    "Annex III 7(d)": "Migration: detecting, recognising or identifying persons (not travel-document checks)",
    "Annex III 8(a)": "Assisting a judicial authority in researching and interpreting facts and the law, or "
                      "alternative dispute resolution",
    "Annex III 8(b)": "Influencing the outcome of an election or referendum or voting behaviour",
}

DEROGATION_CONDITIONS: dict[str, str] = {
    "Art 6(3)(a)": "It performs a narrow procedural task",
    "Art 6(3)(b)": "It improves the result of a previously completed human activity",
    "Art 6(3)(c)": "It detects decision-making patterns or deviations from prior patterns and does not replace or "
                   "influence the completed human assessment without proper human review",
    "Art 6(3)(d)": "It performs a preparatory task to an assessment relevant to an Annex III use case",
}

TRANSPARENCY_OBLIGATIONS: dict[str, str] = {
    "Art 50(1)": "It interacts directly with natural persons (e.g. a chatbot): they must be told they are "
                 "interacting with an AI system",
    "Art 50(2)": "It generates synthetic audio, image, video or text: outputs must be marked as AI-generated",
    "Art 50(3)": "It performs emotion recognition or biometric categorisation: exposed persons must be informed",
    "Art 50(4)": "It generates or manipulates deep fakes, or text published to inform the public on matters of "
                 "public interest: this must be disclosed",
}


@dataclass(frozen=True)
class ApplicationDate:
    """Which provision's date applies; the service prefers the loaded catalog's date and source."""

    anchor_ref_id: str
    fallback: date
    fallback_source: str


_OMNIBUS = "Regulation (EU) 2026/1744 (Digital Omnibus on AI, OJ 24.7.2026; secondary sources, verify against the OJ)"
DATES: dict[str, ApplicationDate] = {
    "prohibited": ApplicationDate("Art 5", date(2025, 2, 2),
                                  "Art 113(a): Chapters I and II apply from 2 February 2025; not moved by " + _OMNIBUS),
    "high_risk_annex_i": ApplicationDate("Art 6(1)", date(2028, 8, 2),
                                         "Art 113(c) set 2 August 2027; moved to 2 August 2028 by " + _OMNIBUS),
    "high_risk_annex_iii": ApplicationDate("Annex III", date(2027, 12, 2),
                                           "Art 113 set 2 August 2026; moved to 2 December 2027 by " + _OMNIBUS),
    "not_high_risk_art_6_3": ApplicationDate("Art 6(3)", date(2027, 12, 2),
                                             "Art 6(4) documentation and Art 49(2) registration follow the Annex III "
                                             "date: 2 August 2026, moved to 2 December 2027 by " + _OMNIBUS),
    "transparency_only": ApplicationDate("Art 50", date(2026, 8, 2),
                                         "Art 113 general date 2 August 2026; not moved by " + _OMNIBUS),
    "minimal": ApplicationDate("Art 4", date(2025, 2, 2),
                               "Art 113(a): only the AI-literacy duty of Art 4 (Chapter I) applies, from 2 February "
                               "2025"),
}


OPERATOR_ROLES: dict[str, str] = {
    "provider": "Provider (develops it, or has it developed, and places it on the market or puts it into service "
                "under its own name: Art 3(3))",
    "deployer": "Deployer (uses it under its authority: Art 3(4))",
    "importer": "Importer (places on the Union market a system bearing a third-country provider's name: Art 3(6))",
    "distributor": "Distributor (makes it available on the Union market, other than provider or importer: Art 3(7))",
    "product_manufacturer": "Product manufacturer (places it on the market with its product under its own name: "
                            "Art 25(3))",
}

# What each question asks, for the list of missing answers of an incomplete classification.
QUESTIONS: dict[str, str] = {
    "operator_roles": "the organisation's role(s): provider, deployer, importer, distributor",
    "prohibited_practices": "Art 5 prohibited practices (or 'none')",
    "annex_i_product": "Annex I product or safety component (yes/no)",
    "annex_i_third_party_assessment": "third-party conformity assessment of the Annex I product (yes/no)",
    "annex_i_section_b": "Annex I Section B product, Art 2(2) (yes/no)",
    "annex_iii_points": "Annex III use cases (or 'none')",
    "profiling": "profiling of natural persons (yes/no)",
    "derogation_conditions": "Art 6(3) derogation conditions (or 'none')",
    "transparency_obligations": "Art 50 transparency cases (or 'none')",
    "public_service_deployer": "deployer is a body governed by public law or provides public services, Art 27(1) "
                               "(yes/no)",
    "general_purpose_model_provider": "the organisation provides a general-purpose AI model (yes/no)",
    "systemic_risk": "systemic-risk presumption, Art 51: > 10^25 FLOPs or designated by the Commission (yes/no)",
}


@dataclass(frozen=True)
class Classification:
    result: str  # a `ClassificationResult` value
    rationale: str
    prohibited_practices: tuple[str, ...] = ()
    annex_iii_points: tuple[str, ...] = ()
    transparency_obligations: tuple[str, ...] = ()
    general_purpose_model: bool = False
    general_purpose_model_provider: bool = False
    systemic_risk: bool = False
    annex_i_section_b: bool = False
    operator_roles: tuple[str, ...] = ()
    missing_answers: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def application(self) -> ApplicationDate | None:
        """None for an incomplete classification: nothing is decided, so no date either."""
        return DATES.get(self.result)


def _chosen(answers: Mapping[str, Any], key: str, allowed: Mapping[str, str]) -> tuple[str, ...]:
    values = answers.get(key) or []
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValueError(f"{key}: unknown choice(s) {', '.join(map(str, unknown))}")
    return tuple(ref for ref in allowed if ref in values)  # in the Act's order


def _unanswered(answers: Mapping[str, Any], key: str) -> bool:
    """A question is answered by a value: [] means "none of these", False means "no"; absent or None is blank."""
    return answers.get(key) is None


def missing_answers(answers: Mapping[str, Any]) -> tuple[str, ...]:
    """The questions still needed on the path the answers take through the Act; () when it can be decided."""
    if answers.get("prohibited_practices"):
        return ()  # a prohibited practice is decisive whoever the operator is
    needed = ["prohibited_practices", "operator_roles", "annex_i_product", "transparency_obligations",
              "general_purpose_model_provider"]
    if answers.get("annex_i_product"):
        needed.append("annex_i_third_party_assessment")
        if answers.get("annex_i_third_party_assessment"):
            needed.append("annex_i_section_b")
    annex_i_high_risk = bool(answers.get("annex_i_product") and answers.get("annex_i_third_party_assessment"))
    points = answers.get("annex_iii_points") or []
    if not annex_i_high_risk:
        needed.append("annex_iii_points")
        if points:
            needed.append("profiling")
            if answers.get("profiling") is False:
                needed.append("derogation_conditions")
            if "deployer" in (answers.get("operator_roles") or []) and _beyond_critical_infrastructure(points):
                needed.append("public_service_deployer")
    if answers.get("general_purpose_model_provider"):
        needed.append("systemic_risk")
    return tuple(key for key in QUESTIONS if key in needed and _unanswered_or_empty(answers, key))


def _unanswered_or_empty(answers: Mapping[str, Any], key: str) -> bool:
    if key == "operator_roles":  # at least one role: "none" is no answer here
        return not answers.get(key)
    return _unanswered(answers, key)


def _beyond_critical_infrastructure(points: Any) -> bool:
    """Art 27(1) excludes Annex III point 2 (critical infrastructure) from the impact assessment."""
    return any(not str(point).startswith("Annex III 2(") for point in points)


def classify(answers: Mapping[str, Any]) -> Classification:
    """Apply the Act in its own order; the first provision that catches the system decides.

    `answers`: operator_roles, prohibited_practices, annex_iii_points, derogation_conditions,
    transparency_obligations (lists of the ids above; [] = none); annex_i_product,
    annex_i_third_party_assessment, annex_i_section_b, profiling, public_service_deployer,
    general_purpose_model, general_purpose_model_provider, systemic_risk (booleans);
    derogation_assessment (text). A blank answer (absent or None) is not a "no": when the path
    needs it, the result is "incomplete" and names the missing answers.
    """
    roles = _chosen(answers, "operator_roles", OPERATOR_ROLES)
    prohibited = _chosen(answers, "prohibited_practices", PROHIBITED_PRACTICES)
    points = _chosen(answers, "annex_iii_points", ANNEX_III_POINTS)
    conditions = _chosen(answers, "derogation_conditions", DEROGATION_CONDITIONS)
    transparency = _chosen(answers, "transparency_obligations", TRANSPARENCY_OBLIGATIONS)
    model_provider = bool(answers.get("general_purpose_model_provider"))
    annex_i_high_risk = bool(answers.get("annex_i_product") and answers.get("annex_i_third_party_assessment"))
    common: dict[str, Any] = {"prohibited_practices": prohibited, "annex_iii_points": points,
              "transparency_obligations": transparency, "operator_roles": roles,
              "general_purpose_model": bool(answers.get("general_purpose_model")),
              "general_purpose_model_provider": model_provider,
              "systemic_risk": model_provider and bool(answers.get("systemic_risk")),
              "annex_i_section_b": annex_i_high_risk and bool(answers.get("annex_i_section_b"))}
    missing = missing_answers(answers)
    if missing:
        return Classification("incomplete", "Incomplete: the classification cannot be decided until these are "
                              "answered: " + "; ".join(QUESTIONS[key] for key in missing) + ".",
                              missing_answers=missing, **common)
    notes = _notes(transparency, common)
    if prohibited:
        return Classification("prohibited", f"Prohibited under {', '.join(prohibited)}: "
                              + "; ".join(PROHIBITED_PRACTICES[ref] for ref in prohibited)
                              + ". It may not be placed on the market, put into service or used in the Union.",
                              notes=notes, **common)
    if annex_i_high_risk:
        return Classification("high_risk_annex_i", "High-risk under Art 6(1): a safety component of (or itself) a "
                              "product covered by Annex I Union harmonisation legislation that must undergo "
                              "third-party conformity assessment.", notes=notes, **common)
    if points:
        return _annex_iii(points, conditions, answers, notes, common)
    if transparency:
        return Classification("transparency_only", "Not high-risk; transparency obligations apply: "
                              + "; ".join(f"{ref}: {TRANSPARENCY_OBLIGATIONS[ref]}" for ref in transparency) + ".",
                              notes=notes, **common)
    return Classification("minimal", "Minimal risk: no prohibited practice, not a safety component under Annex I, "
                          "no Annex III use case and no Art 50 transparency case. Voluntary codes of conduct "
                          "(Art 95) and the AI-literacy duty (Art 4) remain.", notes=notes, **common)


def _annex_iii(points: tuple[str, ...], conditions: tuple[str, ...], answers: Mapping[str, Any],
               notes: tuple[str, ...], common: dict[str, Any]) -> Classification:
    listed = "; ".join(f"{ref} ({ANNEX_III_POINTS[ref]})" for ref in points)
    if answers.get("profiling"):
        return Classification("high_risk_annex_iii", f"High-risk under Art 6(2): {listed}. It profiles natural "
                              "persons, so the Art 6(3) derogation cannot apply (Art 6(3), last subparagraph).",
                              notes=notes, **common)
    assessment = str(answers.get("derogation_assessment") or "").strip()
    if conditions and assessment:
        return Classification("not_high_risk_art_6_3", f"Listed in {listed}, but not high-risk under the Art 6(3) "
                              f"derogation ({', '.join(conditions)}: "
                              + "; ".join(DEROGATION_CONDITIONS[ref] for ref in conditions)
                              + f"). Documented assessment (Art 6(4)): {assessment} The system must still be "
                              "registered (Art 49(2)).", notes=notes, **common)
    reason = " The Art 6(3) derogation was claimed without the documented assessment Art 6(4) requires." \
        if conditions else ""
    return Classification("high_risk_annex_iii", f"High-risk under Art 6(2): {listed}.{reason}",
                          notes=notes, **common)


def _notes(transparency: tuple[str, ...], common: Mapping[str, Any]) -> tuple[str, ...]:
    notes: list[str] = []
    if transparency:
        notes.append("Art 50 transparency obligations also apply: " + ", ".join(transparency) + ".")
    if common["annex_i_section_b"]:
        notes.append("Annex I Section B product (Art 2(2)): of this Regulation only Art 6(1), Arts 102-109 and Art 112 "
                     "apply; the high-risk requirements reach the product through its type-approval or sectoral "
                     "act (Art 57 only as far as they are integrated there).")
    if common["general_purpose_model_provider"]:
        notes.append("The organisation provides a general-purpose AI model: Art 53 obligations apply from 2 August "
                     "2025 (Art 113(b); models placed on the market earlier: 2 August 2027, Art 111(3))."
                     + (" Systemic risk (Art 51(1), presumed under Art 51(2) above 10^25 FLOPs of training compute, "
                        "or designated by the Commission): notify the Commission (Art 52) and meet Art 55 as well."
                        if common["systemic_risk"] else ""))
    elif common["general_purpose_model"]:
        notes.append("Built on a general-purpose AI model: Chapter V (Arts 53-55) obligations of the model's "
                     "provider apply from 2 August 2025 (Art 113(b)).")
    return tuple(notes)
