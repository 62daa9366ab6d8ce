"""Which requirements apply to an AI system, proposed from its classification and attributes.

Pure functions over plain values, so the rules read like the Statement of Applicability they
produce. `propose(context, framework_slug, root_ref_id, ref_id)` returns (applies, why).
"""

from __future__ import annotations

from dataclasses import dataclass

HIGH_RISK = frozenset({"high_risk_annex_i", "high_risk_annex_iii"})
UNDECIDED = frozenset({None, "incomplete"})
PROVIDER_ROLES = frozenset({"provider", "product_manufacturer"})  # Art 25(3): the manufacturer is the provider
PROVIDER_ARTICLES = frozenset({"Art 9", "Art 10", "Art 11", "Art 12", "Art 13", "Art 14", "Art 15", "Art 16",
                               "Art 17", "Art 18", "Art 19", "Art 20", "Art 21", "Art 22", "Art 43", "Art 72",
                               "Art 73", "Annex IV"})
ROLE_ARTICLES = {"Art 23": "importer", "Art 24": "distributor"}
GENERAL_PURPOSE_ARTICLES = frozenset({"Art 51", "Art 52", "Art 53", "Art 54", "Art 55", "Art 56"})
SYSTEMIC_RISK_ARTICLES = frozenset({"Art 52", "Art 55"})
# Art 2(2): for a high-risk system in an Annex I Section B product only these apply.
SECTION_B_ARTICLES = frozenset({f"Art {number}" for number in (*range(102, 110), 112)})
ART_50_PARTY = {"Art 50(1)": "provider", "Art 50(2)": "provider", "Art 50(3)": "deployer", "Art 50(4)": "deployer"}
REGISTRATION = {"Art 49(1)": ("high_risk_annex_iii", "high-risk Annex III systems"),
                "Art 49(2)": ("not_high_risk_art_6_3", "systems relying on Art 6(3)")}
DEVELOPMENT_CONTROLS = ("A.6.1", "A.6.2", "A.7")


@dataclass(frozen=True)
class SystemContext:
    result: str | None  # ClassificationResult value, None when not yet classified
    operator_roles: frozenset[str] = frozenset()
    annex_iii_points: frozenset[str] = frozenset()
    transparency_obligations: frozenset[str] = frozenset()
    public_service_deployer: bool = False
    general_purpose_model_provider: bool = False
    systemic_risk: bool = False
    annex_i_section_b: bool = False

    @property
    def is_provider(self) -> bool:
        return bool(self.operator_roles & PROVIDER_ROLES)

    @property
    def is_deployer(self) -> bool:
        return "deployer" in self.operator_roles

    @property
    def roles_label(self) -> str:
        return " and ".join(sorted(self.operator_roles)) or "no stated role"

    def has_party(self, party: str) -> bool:
        return self.is_provider if party == "provider" else party in self.operator_roles


Proposal = tuple[bool, str]


def article_of(ref_id: str) -> str:
    """"Art 53(1)(a)" → "Art 53"; other ids unchanged."""
    return ref_id.split("(")[0].strip() if ref_id.startswith("Art ") else ref_id


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
    if result in UNDECIDED:
        return True, "Not yet classified under the EU AI Act: treated as applicable until it is."
    article = article_of(root)
    if article in GENERAL_PURPOSE_ARTICLES:
        return _general_purpose_model(context, article)
    if context.annex_i_section_b:
        return _section_b(article, ref_id)
    if article in SECTION_B_ARTICLES:
        return False, f"{article} amends the sectoral legislation of Annex I Section B; the system is not such a " \
                      "product (Art 2(2))."
    if article == "Art 2":
        return True, "The scope of the Regulation (Art 2) applies to the system."
    if article == "Art 111":
        return _transitional(context, ref_id)
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
        return _art_6(context, ref_id)
    if root == "Art 49":
        return _art_49(context, ref_id)
    if result not in HIGH_RISK:
        return False, "The system is not high-risk, so the Chapter III obligations do not apply."
    if root == "Art 25":
        return _art_25(context, ref_id)
    return _high_risk_role(context, root)


def _general_purpose_model(context: SystemContext, article: str) -> Proposal:
    if not context.general_purpose_model_provider:
        return False, "The organisation does not provide a general-purpose AI model: Chapter V binds its provider."
    if article in SYSTEMIC_RISK_ARTICLES and not context.systemic_risk:
        return False, f"{article} concerns general-purpose AI models with systemic risk (Art 51); the model " \
                      "is not presumed (Art 51(2)) or designated to have it."
    if article == "Art 54":
        return True, "Provider of a general-purpose AI model: if established in a third country, it appoints an " \
                     "authorised representative (Art 54); confirm where it is established."
    if article == "Art 51":
        found = " and the presumption of Art 51(2) or a designation applies." if context.systemic_risk \
            else "; the classification found no presumption or designation."
        return True, "Provider of a general-purpose AI model: the systemic-risk classification (Art 51) is to be " \
                     "assessed" + found
    return True, f"The organisation provides a general-purpose AI model" \
                 f"{' with systemic risk' if context.systemic_risk else ''}: {article} applies."


def _transitional(context: SystemContext, ref_id: str) -> Proposal:
    if ref_id.startswith("Art 111(4)"):
        if "Art 50(2)" in context.transparency_obligations and context.is_provider:
            return True, "Provider of a generative system (Art 50(2)): if placed on the market before 2 August " \
                         "2026, the Art 111(4) grace period applies."
        return False, "Art 111(4) concerns providers of generative systems under Art 50(2)."
    if ref_id.startswith("Art 111(3)"):
        if context.general_purpose_model_provider:
            return True, "Provider of a general-purpose AI model: models placed on the market before 2 August 2025 " \
                         "comply by 2 August 2027 (Art 111(3))."
        return False, "Art 111(3) concerns providers of general-purpose AI models."
    return True, "Transitional rule (Art 111): confirm when the system was placed on the market or put into service."


def _section_b(article: str, ref_id: str) -> Proposal:
    why = "Annex I Section B product (Art 2(2)): only Art 6(1), Arts 102-109 and Art 112 apply"
    if article in SECTION_B_ARTICLES or ref_id.startswith("Art 6(1)") or ref_id.startswith("Art 2(2)"):
        return True, why + "; this is one of them."
    if ref_id == "Art 6":
        return True, why + "; Art 6(1) is in it."
    return False, why + "; the requirements reach the product through its type-approval or sectoral act."


def _art_6(context: SystemContext, ref_id: str) -> Proposal:
    result = context.result
    if result not in HIGH_RISK and result != "not_high_risk_art_6_3":
        return False, "No Annex I or Annex III ground: the high-risk classification rules are not engaged."
    if ref_id.startswith("Art 6(4)") and result == "not_high_risk_art_6_3" and not context.is_provider:
        return False, "Art 6(4) documentation and registration bind the provider relying on Art 6(3); as " \
                      f"{context.roles_label} the organisation relies on the provider's."
    return True, "The classification rests on Art 6 (high-risk grounds or the Art 6(3)-(4) derogation)."


def _art_49(context: SystemContext, ref_id: str) -> Proposal:
    if context.result not in ("high_risk_annex_iii", "not_high_risk_art_6_3"):
        return False, "Registration under Art 49 concerns Annex III systems only."
    provider_duty = context.is_provider
    deployer_duty = context.is_deployer and context.public_service_deployer and \
        context.result == "high_risk_annex_iii"
    if ref_id.startswith(("Art 49(1)", "Art 49(2)")):
        paragraph = ref_id[:len("Art 49(1)")]
        wanted, what = REGISTRATION[paragraph]
        if context.result != wanted:
            return False, f"{paragraph} concerns {what}."
        if provider_duty:
            return True, f"The organisation is the provider: it registers the system ({paragraph})."
        return False, f"{paragraph} binds the provider; as {context.roles_label} the organisation does not register."
    if ref_id.startswith("Art 49(3)"):
        if deployer_duty:
            return True, "Deployer that is a public body: it registers its use (Art 49(3)); confirm it is a public " \
                         "authority, EU institution or acting on their behalf."
        return False, "Art 49(3) binds deployers that are public authorities, EU institutions or act on their behalf."
    if provider_duty or deployer_duty:
        return True, "The organisation registers under Art 49: how and where applies."
    return False, "The organisation has no registration duty under Art 49 in its role(s)."


def _high_risk_role(context: SystemContext, root: str) -> Proposal:
    if root in PROVIDER_ARTICLES:
        if context.is_provider:
            return True, f"High-risk system and the organisation is its provider: {root} applies (Art 16)."
        return False, f"{root} is the provider's obligation (Art 16); as {context.roles_label} the organisation " \
                      "relies on and checks the provider's compliance."
    if root in ROLE_ARTICLES:
        party = ROLE_ARTICLES[root]
        if party in context.operator_roles:
            return True, f"High-risk system and the organisation is its {party}: {root} applies."
        return False, f"{root} binds the {party}; the organisation is not one."
    if root == "Art 26":
        if context.is_deployer:
            return True, "High-risk system used by the organisation as deployer: Art 26 applies."
        return False, "Art 26 binds deployers; the organisation is not the deployer."
    if root == "Art 27":
        return _art_27(context)
    return True, "High-risk system: applies."


def _art_25(context: SystemContext, ref_id: str) -> Proposal:
    """Responsibilities along the value chain: who becomes the provider, and what the others owe."""
    others = context.operator_roles & {"importer", "distributor", "deployer"}
    if ref_id.startswith("Art 25(1)"):
        if others:
            return True, f"As {context.roles_label} the organisation becomes the provider if it puts its name on the " \
                         "system, modifies it substantially or changes its intended purpose (Art 25(1)); confirm " \
                         "none of these applies, or take on Art 16."
        return False, "Art 25(1) concerns distributors, importers, deployers and other third parties; the " \
                      "organisation is the provider already."
    if ref_id.startswith(("Art 25(2)", "Art 25(4)")):
        if context.is_provider:
            return True, "The organisation is the provider: it cooperates with, and agrees in writing with, those " \
                         "who supply or take over the system (Art 25(2), (4))."
        return False, f"{ref_id[:len('Art 25(2)')]} binds the provider; as {context.roles_label} the organisation " \
                      "is not it."
    if ref_id.startswith("Art 25(3)"):
        if "product_manufacturer" in context.operator_roles:
            return True, "Product manufacturer of an Annex I Section A product: it is the provider of the system " \
                         "(Art 25(3))."
        return False, "Art 25(3) concerns product manufacturers under Annex I Section A."
    return True, "High-risk system: the value-chain rules of Art 25 apply to the organisation's role(s)."


def _art_27(context: SystemContext) -> Proposal:
    if not context.is_deployer or context.result != "high_risk_annex_iii":
        return False, "The fundamental-rights impact assessment concerns deployers of Annex III systems."
    points = context.annex_iii_points
    if points and all(point.startswith("Annex III 2(") for point in points):
        return False, "Art 27(1) excludes Annex III point 2 (critical infrastructure) from the impact assessment."
    if points & {"Annex III 5(b)", "Annex III 5(c)"}:
        return True, "Deployer of an Annex III 5(b)/(c) system: the fundamental-rights impact assessment is " \
                     "required (Art 27(1))."
    if context.public_service_deployer:
        return True, "Deployer that is a body governed by public law or a private entity providing public " \
                     "services: the fundamental-rights impact assessment is required (Art 27(1))."
    return False, "Art 27(1) requires the assessment of public bodies, private entities providing public " \
                  "services and deployers of Annex III 5(b)/(c); the organisation is none of these."


def _annex_iii(context: SystemContext, ref_id: str) -> Proposal:
    if ref_id in context.annex_iii_points:
        return True, f"The classification found the system in {ref_id}."
    return False, f"The system's intended purpose is not the use case of {ref_id}."


def _art_50(context: SystemContext, ref_id: str) -> Proposal:
    paragraph = ref_id.split(")")[0] + ")" if "(" in ref_id else ref_id
    binding = {ref for ref in context.transparency_obligations if context.has_party(ART_50_PARTY.get(ref, ""))}
    if paragraph in context.transparency_obligations:
        party = ART_50_PARTY.get(paragraph, "")
        if paragraph in binding:
            return True, f"The classification found the transparency case of {paragraph}, a {party}'s duty."
        return False, f"{paragraph} is the {party}'s duty; as {context.roles_label} the organisation is not its " \
                      f"{party}."
    if paragraph in ("Art 50(5)", "Art 50(6)", "Art 50(7)") and binding:
        return True, "How and when the Art 50 information is given applies to the obligations found."
    if paragraph == "Art 50" and binding:
        return True, "The classification found Art 50 transparency cases binding the organisation."
    return False, "The classification found no transparency case under this paragraph for the organisation's role."


def _iso_42001(context: SystemContext, ref_id: str) -> Proposal:
    if ref_id.startswith(DEVELOPMENT_CONTROLS) and context.operator_roles & {"importer", "distributor"} \
            and not context.is_provider and not context.is_deployer:
        return False, f"{ref_id} governs developing the system; as {context.roles_label} the organisation does " \
                      "not develop it (justify in the SoA if it does)."
    return True, "ISO/IEC 42001 clauses and Annex A controls apply unless the SoA justifies an exclusion."
