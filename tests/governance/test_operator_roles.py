"""The operator's role(s) decide what applies (issue #13, point 5), and a blank classification is incomplete.

Acme's CV screener is built in-house: Acme is its provider and its deployer at once.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from governance import services
from governance.applicability_rules import SystemContext, propose
from governance.eu_ai_act import QUESTIONS, classify
from governance.models import AISystem, ApplicabilityDecision, AuditEvent, EUAIActClassification, Role
from tests.governance.conftest import SYSTEM_DATA, answered, form_answers, organisation_state

API = "/api/v1"
IN_HOUSE = ["provider", "deployer"]


def _context(roles: set[str], result: str = "high_risk_annex_iii", **kwargs: object) -> SystemContext:
    return SystemContext(result=result, operator_roles=frozenset(roles), **kwargs)  # type: ignore[arg-type]


def _applies(context: SystemContext, ref_id: str, root: str | None = None) -> bool:
    return propose(context, "eu-ai-act", root or ref_id.split("(")[0], ref_id)[0]


# Several roles at once, through the web form and the API


def test_the_web_form_registers_a_system_with_two_roles(client_as, acme):
    data = {**{key: value for key, value in SYSTEM_DATA.items() if key != "robustness_thresholds"},
            "operator_roles": IN_HOUSE, "review_frequency_days": 180}
    response = client_as(Role.RISK_OFFICER.value).post(reverse("governance:ai-system-create"), data)
    assert response.status_code == 302
    system = AISystem.objects.get(organisation=acme, name=SYSTEM_DATA["name"])
    assert system.operator_roles == IN_HOUSE
    assert system.operator_roles_display == "Provider, Deployer"
    assert AuditEvent.objects.filter(object_type="governance.AISystem", object_id=str(system.pk)).exists()


def test_the_api_takes_several_roles_and_keeps_them_in_the_acts_order(client_as, acme):
    response = client_as(Role.RISK_OFFICER.value).post(
        f"{API}/ai-systems/", {**SYSTEM_DATA, "operator_roles": ["deployer", "provider", "deployer"]},
        content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["operator_roles"] == IN_HOUSE


@pytest.mark.parametrize("roles, reason", [([], "operator_roles"), (["overlord"], "operator_roles"),
                                           ("provider", "operator_roles")])
def test_bad_roles_are_refused_with_the_reason_and_change_nothing(client_as, acme, alice, roles, reason):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    before = organisation_state(acme)
    response = client_as(Role.RISK_OFFICER.value).patch(f"{API}/ai-systems/{system.pk}/", {"operator_roles": roles},
                                                        content_type="application/json")
    assert response.status_code == 400
    assert reason in response.json()
    assert organisation_state(acme) == before


def test_the_service_refuses_an_unknown_role(acme, alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Unknown role"):
        services.ai_system_create(organisation=acme, actor=alice, data={**SYSTEM_DATA, "operator_roles": ["king"]})
    assert not AISystem.objects.filter(organisation=acme).exists()


def test_the_classification_answer_on_roles_becomes_the_systems_roles_and_is_audited(acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    services.classification_record(ai_system=system, actor=alice, answers=answered(operator_roles=IN_HOUSE))
    system.refresh_from_db()
    assert system.operator_roles == IN_HOUSE
    update = AuditEvent.objects.filter(object_type="governance.AISystem", object_id=str(system.pk),
                                       action="update").get()
    assert update.changes["operator_roles"] == [["provider"], IN_HOUSE]


# The data migration: one role becomes [that role]


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_the_single_role_into_a_list():
    before, after = [("governance", "0005_framework_assessment_scale")], [("governance", "0006_operator_roles")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        organisation = old.get_model("governance", "Organisation").objects.create(name="Initech", slug="initech")
        old_system = old.get_model("governance", "AISystem")
        for name, role in (("Importer bot", "importer"), ("Chat", "deployer")):
            old_system.objects.create(organisation=organisation, name=name, intended_purpose="x", operator_role=role)
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("governance", "AISystem")
        assert dict(new.objects.values_list("name", "operator_roles")) == {"Importer bot": ["importer"],
                                                                         "Chat": ["deployer"]}
        assert "operator_role" not in {field.name for field in new._meta.get_fields()}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# Applicability follows the role


def test_art_50_1_and_2_bind_the_provider_and_50_3_and_4_the_deployer():
    found = frozenset({"Art 50(1)", "Art 50(2)", "Art 50(3)", "Art 50(4)"})
    provider = _context({"provider"}, "transparency_only", transparency_obligations=found)
    deployer = _context({"deployer"}, "transparency_only", transparency_obligations=found)
    both = _context(set(IN_HOUSE), "transparency_only", transparency_obligations=found)
    assert [_applies(provider, ref) for ref in sorted(found)] == [True, True, False, False]
    assert [_applies(deployer, ref) for ref in sorted(found)] == [False, False, True, True]
    assert [_applies(both, ref) for ref in sorted(found)] == [True, True, True, True]


def test_a_deployer_of_a_vendor_chatbot_gets_no_art_50_duty():
    chatbot = _context({"deployer"}, "transparency_only", transparency_obligations=frozenset({"Art 50(1)"}))
    applies, why = propose(chatbot, "eu-ai-act", "Art 50", "Art 50(1)")
    assert not applies and "provider's duty" in why
    assert not _applies(chatbot, "Art 50(5)", "Art 50")


def test_provider_articles_bind_providers_and_arts_26_27_deployers():
    points = frozenset({"Annex III 4(a)"})
    provider = _context({"provider"}, annex_iii_points=points)
    deployer = _context({"deployer"}, annex_iii_points=points, public_service_deployer=True)
    for ref in ("Art 9(1)", "Art 10(1)", "Art 11(1)", "Art 12(1)", "Art 13(1)", "Art 14(1)", "Art 15(1)",
                "Art 16", "Art 17(1)", "Art 43(1)", "Art 72(1)", "Art 73(1)"):
        assert _applies(provider, ref) and not _applies(deployer, ref), ref
    for ref in ("Art 26(1)", "Art 27(1)"):
        assert _applies(deployer, ref) and not _applies(provider, ref), ref
    both = _context(set(IN_HOUSE), annex_iii_points=points, public_service_deployer=True)
    assert all(_applies(both, ref) for ref in ("Art 9(1)", "Art 26(1)", "Art 27(1)"))


@pytest.mark.parametrize("points, public, expected", [
    ({"Annex III 5(b)"}, False, True),  # credit scoring: mandatory for every deployer
    ({"Annex III 5(c)"}, False, True),
    ({"Annex III 4(a)"}, True, True),  # a public body
    ({"Annex III 4(a)"}, False, False),  # a private employer
    ({"Annex III 2(a)"}, True, False),  # critical infrastructure is excluded by Art 27(1)
])
def test_the_fundamental_rights_impact_assessment_follows_art_27_1(points, public, expected):
    context = _context({"deployer"}, annex_iii_points=frozenset(points), public_service_deployer=public)
    assert _applies(context, "Art 27(1)") is expected


def test_registration_follows_the_role():
    assert _applies(_context({"provider"}), "Art 49(1)")
    assert not _applies(_context({"deployer"}), "Art 49(1)")
    assert _applies(_context({"deployer"}, public_service_deployer=True), "Art 49(3)")
    assert not _applies(_context({"deployer"}), "Art 49(3)")
    derogated = "not_high_risk_art_6_3"
    assert _applies(_context({"provider"}, derogated), "Art 49(2)")
    assert not _applies(_context({"deployer"}, derogated), "Art 49(2)")
    assert not _applies(_context({"deployer"}, derogated), "Art 6(4)", "Art 6")


def test_importer_and_distributor_duties_follow_their_roles():
    importer, distributor = _context({"importer"}), _context({"distributor"})
    assert _applies(importer, "Art 23(1)") and not _applies(distributor, "Art 23(1)")
    assert _applies(distributor, "Art 24(1)") and not _applies(importer, "Art 24(1)")
    assert not _applies(importer, "Art 9(1)")


def test_art_25_says_who_becomes_the_provider_and_what_the_provider_owes():
    importer, provider = _context({"importer"}), _context({"provider"})
    manufacturer = _context({"product_manufacturer"}, "high_risk_annex_i")
    assert _applies(importer, "Art 25(1)(a)", "Art 25") and not _applies(provider, "Art 25(1)(a)", "Art 25")
    assert "becomes the provider" in propose(importer, "eu-ai-act", "Art 25", "Art 25(1)")[1]
    for ref in ("Art 25(2)", "Art 25(4)"):
        assert _applies(provider, ref, "Art 25") and not _applies(importer, ref, "Art 25"), ref
    assert _applies(manufacturer, "Art 25(3)", "Art 25") and not _applies(provider, "Art 25(3)", "Art 25")
    assert not _applies(_context({"importer"}, "minimal"), "Art 25(1)", "Art 25")


def _shipped_eu_ai_act_nodes() -> list[tuple[str, str, bool]]:
    """(root, ref_id, assessable) of every node of the shipped EU AI Act catalog, read as data."""
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[2] / "governance" / "catalogs" / "eu-ai-act-2024-1689.yaml"
    rows = yaml.safe_load(path.read_text())["requirements"]
    parents = {row["ref_id"]: row["parent"] for row in rows}

    def root(ref_id: str) -> str:
        while parents.get(ref_id):
            ref_id = parents[ref_id]
        return ref_id

    return [(root(row["ref_id"]), row["ref_id"], bool(row["assessable"])) for row in rows]


def _articles_applying(context: SystemContext) -> set[str]:
    return {root for root, ref, assessable in _shipped_eu_ai_act_nodes()
            if assessable and propose(context, "eu-ai-act", root, ref)[0]}


def test_the_shipped_catalog_gives_an_importer_and_a_distributor_their_own_duties_only():
    points = frozenset({"Annex III 4(a)"})
    importer = _articles_applying(_context({"importer"}, annex_iii_points=points))
    distributor = _articles_applying(_context({"distributor"}, annex_iii_points=points))
    provider = _articles_applying(_context({"provider"}, annex_iii_points=points))
    assert {"Art 23", "Art 25", "Art 5"} <= importer and "Art 24" not in importer
    assert {"Art 24", "Art 25", "Art 5"} <= distributor and "Art 23" not in distributor
    provider_only = {"Art 9", "Art 10", "Art 11", "Art 12", "Art 13", "Art 14", "Art 15", "Art 16", "Art 17",
                     "Art 18", "Art 19", "Art 20", "Art 21", "Art 22", "Art 43", "Art 72", "Art 73"}
    assert provider_only <= provider and not provider_only & (importer | distributor)
    assert not {"Art 23", "Art 24", "Art 26", "Art 27"} & provider


def test_the_service_proposes_per_role_from_the_loaded_catalog(acme, alice, fixture_catalogs):
    system = services.ai_system_create(organisation=acme, actor=alice,
                                       data={**SYSTEM_DATA, "operator_roles": ["deployer"]})
    services.classification_record(ai_system=system, actor=alice, answers=answered(
        operator_roles=["deployer"], transparency_obligations=["Art 50(1)"]))
    services.applicability_propose(ai_system=system, actor=alice)
    decision = ApplicabilityDecision.objects.get(ai_system=system, requirement__ref_id="Art 50(1)")
    assert not decision.proposed_applicable and "provider" in decision.proposal_justification


# A blank form is incomplete, never minimal risk


def test_blank_answers_are_incomplete_and_name_what_is_missing():
    outcome = classify({})
    assert outcome.result == "incomplete" and outcome.application is None
    assert outcome.missing_answers == ("operator_roles", "prohibited_practices", "annex_i_product",
                                       "annex_iii_points", "transparency_obligations",
                                       "general_purpose_model_provider")
    assert QUESTIONS["annex_iii_points"] in outcome.rationale and "Minimal" not in outcome.rationale
    outcome = classify({"prohibited_practices": ["Art 5(1)(f)"]})
    assert outcome.result == "prohibited"  # decisive, whatever else is blank


def test_a_partial_form_asks_for_the_next_questions_on_its_path():
    outcome = classify(answered(annex_iii_points=["Annex III 4(a)"], profiling=None,
                                operator_roles=["deployer"], public_service_deployer=None))
    assert outcome.result == "incomplete"
    assert outcome.missing_answers == ("profiling", "public_service_deployer")


def test_a_blank_web_form_shows_an_incomplete_classification_with_the_missing_answers(client_as, acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    client = client_as(Role.RISK_OFFICER.value)
    response = client.post(reverse("governance:classification-edit", args=[system.pk]), {}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Incomplete: answers missing" in page and "Minimal risk" not in page
    assert QUESTIONS["prohibited_practices"].replace("'", "&#x27;") in page
    row = EUAIActClassification.objects.get(ai_system=system)
    assert row.result == "incomplete" and row.missing_answers[:2] == ["operator_roles", "prohibited_practices"]
    assert row.application_date is None


def test_a_complete_web_form_classifies(client_as, acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    response = client_as(Role.RISK_OFFICER.value).post(
        reverse("governance:classification-edit", args=[system.pk]),
        form_answers(operator_roles=IN_HOUSE, annex_iii_points=["Annex III 4(a)"]))
    assert response.status_code == 302
    system.refresh_from_db()
    assert system.classification.result == "high_risk_annex_iii" and system.operator_roles == IN_HOUSE


def test_ticking_none_with_a_case_is_refused(client_as, acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    before = organisation_state(acme)
    response = client_as(Role.RISK_OFFICER.value).post(
        reverse("governance:classification-edit", args=[system.pk]),
        form_answers(prohibited_practices=["none", "Art 5(1)(a)"]))
    assert response.status_code == 400
    assert organisation_state(acme) == before


def test_the_api_reports_an_incomplete_classification_and_no_soa_is_proposed(client_as, acme, alice,
                                                                             fixture_catalogs):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    client = client_as(Role.ORG_ADMIN.value)
    response = client.put(f"{API}/ai-systems/{system.pk}/classification/", {"prohibited_practices": []},
                          content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "incomplete" and "annex_iii_points" in body["missing_answers"]
    assert client.get(f"{API}/ai-systems/{system.pk}/").json()["classification"]["result"] == "incomplete"
    before = organisation_state(acme)
    response = client.post(f"{API}/ai-systems/{system.pk}/propose-applicability/", {},
                           content_type="application/json")
    assert response.status_code == 400 and "incomplete" in str(response.json())
    web = client.post(reverse("governance:soa-propose", args=[system.pk]))
    assert web.status_code == 400 and "incomplete" in web.content.decode()
    assert organisation_state(acme) == before
    assert not ApplicabilityDecision.objects.filter(ai_system=system).exists()


def test_the_dashboard_counts_an_incomplete_classification_as_such(client_as, acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    services.classification_record(ai_system=system, actor=alice, answers={})
    page = client_as(Role.RISK_OFFICER.value).get(reverse("dashboard")).content.decode()
    assert "Incomplete" in page


# General-purpose AI models and Art 2(2)


def test_a_provider_of_a_model_with_systemic_risk_gets_arts_53_and_55():
    outcome = classify(answered(general_purpose_model_provider=True, systemic_risk=True))
    assert outcome.general_purpose_model_provider and outcome.systemic_risk
    assert any("Art 55" in note and "Art 52" in note for note in outcome.notes)
    context = _context({"provider"}, outcome.result, general_purpose_model_provider=True, systemic_risk=True)
    assert all(_applies(context, ref) for ref in ("Art 51(1)", "Art 52(1)", "Art 53(1)(a)", "Art 55(1)(a)"))


def test_a_model_without_systemic_risk_gets_art_53_but_not_55():
    outcome = classify(answered(general_purpose_model_provider=True, systemic_risk=False))
    assert outcome.result == "minimal" and not outcome.systemic_risk
    context = _context({"provider"}, outcome.result, general_purpose_model_provider=True)
    assert _applies(context, "Art 53(1)(a)") and not _applies(context, "Art 55(1)(a)")
    assert not _applies(context, "Art 52(1)")


def test_a_model_provider_must_say_whether_it_has_systemic_risk():
    outcome = classify(answered(general_purpose_model_provider=True, systemic_risk=None))
    assert outcome.result == "incomplete" and outcome.missing_answers == ("systemic_risk",)


def test_chapter_v_does_not_bind_an_organisation_that_provides_no_model():
    context = _context({"provider", "deployer"}, "minimal")
    assert not _applies(context, "Art 53(1)(a)") and not _applies(context, "Art 55(1)(a)")


def test_an_annex_i_section_b_product_gets_only_the_art_2_2_provisions():
    outcome = classify(answered(annex_i_product=True, annex_i_third_party_assessment=True, annex_i_section_b=True))
    assert outcome.result == "high_risk_annex_i" and outcome.annex_i_section_b
    assert any("Art 2(2)" in note for note in outcome.notes)
    context = _context({"provider"}, outcome.result, annex_i_section_b=True)
    assert _applies(context, "Art 6(1)", "Art 6") and _applies(context, "Art 102") and _applies(context, "Art 112")
    assert _applies(context, "Art 2(2)", "Art 2")
    for ref in ("Art 9(1)", "Art 15(1)", "Art 17(1)", "Art 43(1)", "Art 6(3)", "Art 26(1)"):
        assert not _applies(context, ref), ref


def test_an_annex_i_section_a_product_keeps_chapter_iii():
    outcome = classify(answered(annex_i_product=True, annex_i_third_party_assessment=True, annex_i_section_b=False))
    context = _context({"provider"}, outcome.result)
    assert not outcome.annex_i_section_b and _applies(context, "Art 9(1)")
    assert not _applies(context, "Art 102")


def test_an_annex_i_product_must_say_which_section(acme, alice):
    outcome = classify(answered(annex_i_product=True, annex_i_third_party_assessment=True, annex_i_section_b=None))
    assert outcome.result == "incomplete" and outcome.missing_answers == ("annex_i_section_b",)


def _catalog_nodes() -> list[tuple[str, str, bool]]:
    """(root, ref_id, assessable) of every Chapter V node of the shipped EU AI Act catalog, read as data."""
    from governance.applicability_rules import article_of

    return [node for node in _shipped_eu_ai_act_nodes()
            if article_of(node[0]) in {"Art 51", "Art 52", "Art 53", "Art 54", "Art 55", "Art 56"}]


def test_the_chapter_v_nodes_of_the_catalog_follow_the_model_answers():
    nodes = [(root, ref) for root, ref, assessable in _catalog_nodes() if assessable]
    assert any(root == "Art 53" for root, _ in nodes), "Chapter V (Art 53) is not in the catalog"
    systemic = _context({"provider"}, "minimal", general_purpose_model_provider=True, systemic_risk=True)
    plain = _context({"provider"}, "minimal", general_purpose_model_provider=True)
    nobody = _context({"provider"}, "minimal")
    for root, ref in nodes:
        assert propose(systemic, "eu-ai-act", root, ref)[0], ref
        assert propose(plain, "eu-ai-act", root, ref)[0] is (root not in ("Art 52", "Art 55")), ref
        assert not propose(nobody, "eu-ai-act", root, ref)[0], ref


def test_an_export_made_before_the_migration_imports_its_single_role_as_a_list():
    from governance.services.transfer_import import _legacy_fields_renamed

    fields = _legacy_fields_renamed("governance.AISystem", {"name": "Chat", "operator_role": "importer"})
    assert fields == {"name": "Chat", "operator_roles": ["importer"]}
    assert _legacy_fields_renamed("governance.Risk", {"title": "x"}) == {"title": "x"}


def test_the_guided_form_shows_the_earlier_answers_no_and_none_included(client_as, acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data={**SYSTEM_DATA, "operator_roles": IN_HOUSE})
    services.classification_record(ai_system=system, actor=alice, answers=answered(operator_roles=IN_HOUSE))
    form = client_as(Role.RISK_OFFICER.value).get(reverse("governance:classification-edit", args=[system.pk]))
    page = form.content.decode()
    assert form.status_code == 200
    assert 'name="profiling" value="no"' in page and 'value="none"' in page
    checked = form.context["form"].initial
    assert checked["operator_roles"] == IN_HOUSE and checked["profiling"] == "no"
    assert checked["prohibited_practices"] == ["none"]


def test_the_art_111_4_grace_period_follows_the_generative_providers_duty():
    generative = frozenset({"Art 50(2)"})
    assert _applies(_context({"provider"}, "transparency_only", transparency_obligations=generative), "Art 111(4)")
    assert not _applies(_context({"deployer"}, "transparency_only", transparency_obligations=generative),
                        "Art 111(4)")
