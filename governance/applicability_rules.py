"""Which requirements apply to an AI system, proposed from its classification and attributes.

Pure functions over plain values, so the rules read like the Statement of Applicability they
produce. `propose(context, framework_slug, root_ref_id, ref_id)` returns (applies, why).
"""

from __future__ import annotations

from dataclasses import dataclass

HIGH_RISK = frozenset({"high_risk_annex_i", "high_risk_annex_iii"})
PROVIDER_ROLES = frozenset({"provider", "product_manufacturer"})
PROVIDER_ARTICLES = frozenset({"Art 9", "Art 10", "Art 11", "Art 12", "Art 13", "Art 14", "Art 15", "Art 17",
                               "Art 43", "Art 72", "Art 73", "Annex IV"})
DEVELOPMENT_CONTROLS = ("A.6.1", "A.6.2", "A.7")


@dataclass(frozen=True)
class SystemContext:
    result: str | None  # ClassificationResult value, None when not yet classified
    operator_role: str
    annex_iii_points: frozenset[str] = frozenset()
    transparency_obligations: frozenset[str] = frozenset()


Proposal = tuple[bool, str]


def propose(context: SystemContext, framework_slug: str, root: str, ref_id: str) -> Proposal:
    if framework_slug == "eu-ai-act":
        return _eu_ai_act(context, root, ref_id)
    if framework_slug == "iso-iec-42001":
        return _iso_42001(context, ref_id)
    if framework_slug == "nist-ai-rmf":
        return True, "NIST AI RMF is voluntary; adopted for every AI system in scope, so each outcome applies."
    if framework_slug == "iso-iec-23894":
        return True, ("ISO/IEC 23894 is guidance to address, not requirements to comply with: it guides the risk "
                      "process (clause 6) that the risk register follows.")
    return True, "No rule for this framework: applies until decided otherwise."


def _eu_ai_act(context: SystemContext, root: str, ref_id: str) -> Proposal:
    result = context.result
    if result is None:
        return True, "Not yet classified under the EU AI Act: treated as applicable until it is."
    if root == "Art 5":
        if result == "prohibited":
            return True, "Classified as a prohibited practice: it must not be placed on the market or used."
        return True, "The Art 5 prohibitions apply to every AI system; the classification found none."
    if result == "prohibited":
        return False, "A prohibited practice may not be used at all; the other obligations do not arise."
    if root == "Annex III":
        return _annex_iii(context, ref_id)
    if root == "Art 50":
        return _art_50(context, ref_id)
    if root == "Art 6":
        if result in HIGH_RISK or result == "not_high_risk_art_6_3":
            return True, "The classification rests on Art 6 (high-risk grounds or the Art 6(3)-(4) derogation)."
        return False, "No Annex I or Annex III ground: the high-risk classification rules are not engaged."
    if root == "Art 49":
        if result in ("high_risk_annex_iii", "not_high_risk_art_6_3"):
            return True, "Annex III systems (and those relying on Art 6(3)) are registered in the EU database."
        return False, "Registration under Art 49 concerns Annex III systems only."
    if result not in HIGH_RISK:
        return False, "The system is not high-risk, so the Chapter III obligations do not apply."
    return _high_risk_role(context, root)


def _high_risk_role(context: SystemContext, root: str) -> Proposal:
    provider = context.operator_role in PROVIDER_ROLES
    if root in PROVIDER_ARTICLES:
        if provider:
            return True, f"High-risk system and the organisation is its provider: {root} applies (Art 16)."
        return False, f"{root} is the provider's obligation (Art 16); as {context.operator_role} the organisation " \
                      "relies on and checks the provider's compliance."
    if root == "Art 26":
        if context.operator_role == "deployer":
            return True, "High-risk system used by the organisation as deployer: Art 26 applies."
        return False, "Art 26 binds deployers; the organisation is not the deployer."
    if root == "Art 27":
        if context.operator_role == "deployer" and context.result == "high_risk_annex_iii":
            return True, "Deployer of an Annex III system: confirm whether the fundamental-rights impact " \
                         "assessment is required (public bodies, public services, Annex III 5(b)/(c))."
        return False, "The fundamental-rights impact assessment concerns deployers of Annex III systems."
    return True, "High-risk system: applies."


def _annex_iii(context: SystemContext, ref_id: str) -> Proposal:
    if ref_id in context.annex_iii_points:
        return True, f"The classification found the system in {ref_id}."
    return False, f"The system's intended purpose is not the use case of {ref_id}."


def _art_50(context: SystemContext, ref_id: str) -> Proposal:
    paragraph = ref_id.split(")")[0] + ")" if "(" in ref_id else ref_id
    if paragraph in context.transparency_obligations:
        return True, f"The classification found the transparency case of {paragraph}."
    if paragraph in ("Art 50(5)", "Art 50(6)", "Art 50(7)") and context.transparency_obligations:
        return True, "How and when the Art 50 information is given applies to the obligations found."
    return False, "The classification found no transparency case under this paragraph."


def _iso_42001(context: SystemContext, ref_id: str) -> Proposal:
    develops = context.operator_role in PROVIDER_ROLES
    if ref_id.startswith(DEVELOPMENT_CONTROLS) and context.operator_role in ("importer", "distributor") \
            and not develops:
        return False, f"{ref_id} governs developing the system; as {context.operator_role} the organisation does " \
                      "not develop it (justify in the SoA if it does)."
    return True, "ISO/IEC 42001 clauses and Annex A controls apply unless the SoA justifies an exclusion."
