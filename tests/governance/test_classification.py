"""EU AI Act classification, case by case from the Act's own examples."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from governance import services
from governance.eu_ai_act import ANNEX_III_AREAS, ANNEX_III_POINTS, PROHIBITED_PRACTICES, classify
from governance.models import EUAIActClassification, Role
from tests.governance.conftest import ALL_NO, SYSTEM_DATA, answered, form_answers, organisation_state


def test_the_questionnaire_covers_annex_iii_in_full():
    assert len(ANNEX_III_AREAS) == 8
    assert len(ANNEX_III_POINTS) == 25
    assert len(PROHIBITED_PRACTICES) == 8


def test_recruitment_cv_screening_is_high_risk_under_annex_iii_4a():
    outcome = classify({**ALL_NO, "annex_iii_points": ["Annex III 4(a)"]})
    assert outcome.result == "high_risk_annex_iii"
    assert "Annex III 4(a)" in outcome.rationale
    assert outcome.application.fallback == date(2027, 12, 2)


def test_narrow_procedural_task_is_not_high_risk_with_a_documented_assessment():
    outcome = classify({**ALL_NO, "annex_iii_points": ["Annex III 4(a)"], "derogation_conditions": ["Art 6(3)(a)"],
                        "derogation_assessment": "It only converts CVs from PDF to structured text; a recruiter "
                                                 "reads every application."})
    assert outcome.result == "not_high_risk_art_6_3"
    assert "converts CVs" in outcome.rationale and "Art 49(2)" in outcome.rationale


def test_the_derogation_without_a_documented_assessment_does_not_apply():
    outcome = classify({**ALL_NO, "annex_iii_points": ["Annex III 4(a)"], "derogation_conditions": ["Art 6(3)(a)"]})
    assert outcome.result == "high_risk_annex_iii"
    assert "documented assessment" in outcome.rationale


def test_profiling_of_natural_persons_is_always_high_risk():
    outcome = classify({**ALL_NO, "annex_iii_points": ["Annex III 5(b)"], "profiling": True,
                        "derogation_conditions": ["Art 6(3)(d)"], "derogation_assessment": "Only preparatory."})
    assert outcome.result == "high_risk_annex_iii"
    assert "profiles natural persons" in outcome.rationale


def test_emotion_recognition_in_the_workplace_is_prohibited():
    outcome = classify({**ALL_NO, "prohibited_practices": ["Art 5(1)(f)"], "annex_iii_points": ["Annex III 1(c)"]})
    assert outcome.result == "prohibited"
    assert "Art 5(1)(f)" in outcome.rationale
    assert outcome.application.fallback == date(2025, 2, 2)


def test_a_chatbot_has_transparency_obligations_only():
    outcome = classify({**ALL_NO, "transparency_obligations": ["Art 50(1)"]})
    assert outcome.result == "transparency_only"
    assert outcome.application.fallback == date(2026, 8, 2)


def test_a_spam_filter_answered_no_throughout_is_minimal_risk():
    outcome = classify(answered())
    assert outcome.result == "minimal"


def test_a_safety_component_under_annex_i_is_high_risk_from_august_2028():
    outcome = classify(answered(**{"annex_i_product": True, "annex_i_third_party_assessment": True}))
    assert outcome.result == "high_risk_annex_i"
    assert outcome.application.fallback == date(2028, 8, 2)
    assert "2026/1744" in outcome.application.fallback_source


def test_a_general_purpose_model_is_noted_without_changing_the_result():
    outcome = classify({**ALL_NO, "transparency_obligations": ["Art 50(2)"], "general_purpose_model": True})
    assert outcome.result == "transparency_only"
    assert any("Chapter V" in note for note in outcome.notes)


def test_unknown_answers_are_refused():
    with pytest.raises(ValueError, match="Annex III 9"):
        classify({**ALL_NO, "annex_iii_points": ["Annex III 9(a)"]})


def test_the_service_takes_the_application_date_and_its_source_from_the_loaded_catalog(acme, alice,
                                                                                        fixture_catalogs):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    row = services.classification_record(ai_system=system, actor=alice,
                                         answers=answered(annex_iii_points=["Annex III 4(a)"]))
    assert row.result == "high_risk_annex_iii" and row.is_high_risk
    assert row.application_date == date(2027, 12, 2)
    assert row.application_date_source.startswith("Annex III: Test fixture source")


def test_without_catalogs_the_built_in_date_and_source_are_used(acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    row = services.classification_record(ai_system=system, actor=alice, answers=answered())
    assert row.result == "minimal" and row.application_date == date(2025, 2, 2)
    assert "Art 113(a)" in row.application_date_source


def test_reclassifying_updates_the_one_row_of_the_system(acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    services.classification_record(ai_system=system, actor=alice, answers=answered())
    services.classification_record(ai_system=system, actor=alice,
                                   answers=answered(transparency_obligations=["Art 50(1)"]))
    assert EUAIActClassification.objects.get(ai_system=system).result == "transparency_only"


def test_the_guided_form_classifies_and_shows_the_result(client_as, acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    client = client_as(Role.RISK_OFFICER.value)
    response = client.post(reverse("governance:classification-edit", args=[system.pk]),
                           form_answers(annex_iii_points=["Annex III 4(a)"]), follow=True)
    assert response.status_code == 200
    assert "High-risk: Annex III" in response.content.decode()
    assert "2 December 2027" in response.content.decode()


def test_the_guided_form_refuses_a_derogation_without_its_assessment(client_as, acme, alice):
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    before = organisation_state(acme)
    response = client_as(Role.CONSULTANT.value).post(
        reverse("governance:classification-edit", args=[system.pk]),
        form_answers(annex_iii_points=["Annex III 4(a)"], derogation_conditions=["Art 6(3)(a)"]))
    assert response.status_code == 400
    assert "Art 6(4)" in response.content.decode()
    assert organisation_state(acme) == before
