"""Services and selectors: applicability, the robustness-term selector, thresholds, risks, members."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from governance import selectors, services
from governance.access import AccessContext
from governance.models import ApplicabilityDecision, AuditEvent, Membership, ModelVersion, Role
from governance.thresholds import ATTACK_PRESETS, format_epsilon, thresholds_clean, thresholds_parse_lines
from tests.governance.conftest import answered


def _decision(system, ref_id: str) -> ApplicabilityDecision:
    return ApplicabilityDecision.objects.get(ai_system=system, requirement__ref_id=ref_id)


def test_a_high_risk_provider_gets_articles_9_to_15_but_not_the_deployer_duties(world):
    system = world.system  # provider, Annex III 4(a)
    assert _decision(system, "Art 9(1)").proposed_applicable
    assert _decision(system, "Art 15(5)").proposed_applicable
    assert not _decision(system, "Art 26(1)").proposed_applicable
    assert _decision(system, "Annex III 4(a)").proposed_applicable
    assert not _decision(system, "Art 50(1)").proposed_applicable
    assert _decision(system, "MEASURE 2.7").proposed_applicable
    assert "provider" in _decision(system, "Art 9(1)").proposal_justification


def test_reclassification_reproposes_but_keeps_human_decisions(world, alice):
    system = world.system
    kept = services.applicability_decide(decision=_decision(system, "Art 9(1)"), actor=alice, applicable=True,
                                         justification="We keep a risk management system regardless.")
    services.classification_record(ai_system=system, actor=alice,
                                   answers=answered(transparency_obligations=["Art 50(1)"]))
    services.applicability_propose(ai_system=system, actor=alice)
    assert _decision(system, "Art 50(1)").applicable  # undecided: follows the new proposal
    assert not _decision(system, "Art 15(5)").applicable
    kept.refresh_from_db()
    assert (kept.proposed_applicable, kept.applicable, kept.state) == (False, True, "overridden")


def test_a_deployer_of_a_high_risk_system_gets_article_26(world, alice):
    services.ai_system_update(ai_system=world.system, actor=alice, data={"operator_roles": ["deployer"]})
    services.applicability_propose(ai_system=world.system, actor=alice)
    assert _decision(world.system, "Art 26(1)").applicable
    assert not _decision(world.system, "Art 9(1)").applicable


def test_confirm_all_decides_the_open_proposals_of_one_framework(world, alice):
    count = services.applicability_confirm_all(ai_system=world.system, framework_id=world.catalogs.eu.pk,
                                               actor=alice, justification="Reviewed with counsel.")
    assert count == ApplicabilityDecision.objects.filter(ai_system=world.system,
                                                         requirement__framework=world.catalogs.eu).count()
    assert {row.state for row in world.system.applicability_decisions.filter(
        requirement__framework=world.catalogs.eu)} == {"confirmed"}
    assert [row.ref_id for row in selectors.requirements_applicable_to(world.system)][:2] == ["Art 5(1)", "Art 6(3)"]


def test_high_risk_versions_without_a_robustness_term_are_selected(world, alice, acme):
    assert list(selectors.model_versions_missing_robustness_term(acme)) == [world.version]
    services.training_card_save(model_version=world.version, actor=alice, data={"loss_terms": [
        {"name": "ce", "kind": "accuracy", "weight": 1}, {"name": "TRADES", "kind": "robustness", "weight": 6}]})
    assert list(selectors.model_versions_missing_robustness_term(acme)) == []
    bare = services.model_version_create(ai_system=world.system, actor=alice, data={
        "version": "v2", "architecture": "ViT-B-32", "pretrained_tag": "openai", "class_names": ["a", "b"],
        "prompt_templates": ["{}"]})
    assert list(selectors.model_versions_missing_robustness_term(acme, include_missing_cards=True)) == [bare]


def test_versions_of_systems_that_are_not_high_risk_are_not_selected(world, alice, acme):
    services.classification_record(ai_system=world.system, actor=alice, answers=answered())
    assert not selectors.model_versions_missing_robustness_term(acme).exists()


def test_a_zero_weight_robustness_term_does_not_count(world, alice):
    card = services.training_card_save(model_version=world.version, actor=alice, data={
        "loss_terms": [{"name": "TRADES", "kind": "robustness", "weight": 0}]})
    assert not card.has_adversarial_robustness_term


def test_the_threshold_presets_are_the_engines_presets():
    from robustness.engine.attacks import PRESETS

    assert set(ATTACK_PRESETS) == set(PRESETS)


def test_thresholds_are_stored_as_fractions_and_shown_as_k_over_255():
    rows = thresholds_parse_lines("screen-pgd10 4/255 0.4 0.8\naa-apgd 0.0313725490196 0.25")
    assert rows[0] == {"attack": "screen-pgd10", "epsilon": 4 / 255, "min_robust_accuracy": 0.4,
                       "min_clean_accuracy": 0.8}
    assert format_epsilon(rows[1]["epsilon"]) == "8/255"
    with pytest.raises(ValueError, match="listed twice"):
        thresholds_clean([{"attack": "cw-linf", "epsilon": "1/255", "min_robust_accuracy": 0.1}] * 2)


def test_the_worker_verdict_marks_invalid_and_removes_the_file(world, alice, django_capture_on_commit_callbacks):
    version = services.model_version_create(
        ai_system=world.system, actor=alice, checkpoint=SimpleUploadedFile("w.pt", b"not a checkpoint"),
        data={"version": "v3", "architecture": "ViT-B-32", "class_names": ["a", "b"], "prompt_templates": ["{}"]})
    stored = Path(version.checkpoint.path)
    with django_capture_on_commit_callbacks(execute=True):
        services.model_version_validation_finish(model_version_id=version.pk, valid=False, reason="Not a state dict.")
    version.refresh_from_db()
    assert (version.status, version.status_reason) == ("invalid", "Not a state dict.")
    assert not version.checkpoint and version.checkpoint_sha256  # the hash stays, the file goes
    assert not stored.exists()
    assert services.model_version_validation_finish(model_version_id=version.pk, valid=True, reason="late") is None


def test_heat_map_counts_open_risks_on_the_organisations_matrix(world, alice, acme, member):
    access = AccessContext(member(Role.AUDITOR))
    cells = {(cell.likelihood, cell.impact): cell for row in selectors.risk_heat_map(access) for cell in row}
    assert len(cells) == 25 and cells[(3, 4)].count == 1 and cells[(3, 4)].level == "high"
    services.risk_update(risk=world.risk, actor=alice, data={"status": "closed"})
    assert sum(cell.count for row in selectors.risk_heat_map(access) for cell in row) == 0


def test_a_smaller_matrix_is_refused_while_risks_score_above_it(world, alice, acme):
    with pytest.raises(ValidationError, match="rescore"):
        services.organisation_risk_matrix_update(organisation=acme, likelihood=["a", "b", "c"],
                                                 impact=["x", "y", "z"], actor=alice)
    services.organisation_risk_matrix_update(organisation=acme, likelihood=list("abcdefg"), impact=list("abcdefg"),
                                             actor=alice)
    assert len(acme.risk_matrix["impact"]) == 7


def test_a_risk_cannot_link_another_organisations_control(world, alice, globex):
    mallory = Membership.objects.get(organisation=globex, role=Role.ORG_ADMIN).user
    foreign = services.control_create(organisation=globex, actor=mallory, data={"ref_id": "G-1", "name": "Theirs"})
    before = (set(world.risk.controls.values_list("pk", flat=True)), AuditEvent.objects.count())
    with pytest.raises(ValidationError, match="this organisation's records"):
        services.risk_update(risk=world.risk, actor=alice, data={}, controls=[foreign])
    world.risk.refresh_from_db()
    assert (set(world.risk.controls.values_list("pk", flat=True)), AuditEvent.objects.count()) == before
    assert foreign.pk not in before[0]


def test_an_owner_must_be_a_member(world, alice, globex):
    mallory = Membership.objects.get(organisation=globex, role=Role.ORG_ADMIN).user
    with pytest.raises(ValidationError, match="member of this organisation"):
        services.ai_system_update(ai_system=world.system, actor=alice, data={"owner": mallory})


def test_weights_of_a_version_never_change(world, alice):
    with pytest.raises(ValidationError, match="new version"):
        services.model_version_update(model_version=world.version, actor=alice, data={"architecture": "RN50"})
    assert ModelVersion.objects.get(pk=world.version.pk).architecture == "ViT-B-32"


def test_lineage_to_a_parent_version(world, alice):
    child = services.model_version_create(ai_system=world.system, actor=alice, data={
        "version": "v1-robust", "architecture": "ViT-B-32", "pretrained_tag": "openai", "class_names": ["a", "b"],
        "prompt_templates": ["{}"], "parent": world.version})
    assert list(world.version.children.all()) == [child]
