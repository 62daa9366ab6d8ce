"""What auditors read first, in the PDF (issue #13, point 8): the rationale with each result, the SoA with
titles and implementation status, each robustness record's threat model in words and its run environment,
and the training-objective card as an observation. Real PDFs, read with pdftotext; a draft and a Final.

oscar records, alice (named reviewer) approves, oscar locks.
"""

from __future__ import annotations

import copy
import subprocess

import pytest

from assessments.models import Report
from assessments.selectors.threat_models import threat_model_words
from assessments.services import assessment_create, report_generate, report_request, requirement_result_update
from governance.models import ApplicabilityDecision, Control, Requirement
from governance.models.jobs import JobStatus
from governance.services import training_card_save
from tests.assessments.factories import ENGINE_RECORD, evidence_with_version, four_eyes_lock
from tests.assessments.machine_runs import run_published
from tests.conftest import FROZEN_NOW

pytestmark = pytest.mark.usefixtures("frozen_clock")

PGD = "pgd Linf, loss CE, 10 steps, α=0.25·ε, random start, untargeted"
AUTOATTACK = "torchattacks AutoAttack standard, n_classes=4, APGD 10 steps"
VERSIONS = {"open_clip": "2.29.0", "python": "3.12.3", "torch": "2.5.1", "torchattacks": "3.5.1"}
DATA_SHA256 = "cd" * 32
WATERMARK_LETTERS = frozenset("DRAFT")
M4_TEXT = "AI system security and resilience are evaluated and documented."


THREAT_PGD = ("white-box, L∞, ε = 4/255, untargeted PGD with 10 steps, 1 restart (random start), step size "
              "α = 0.25·ε = 1/255, cross-entropy loss — screen-pgd10, torchattacks 3.5.1")
THREAT_AA = ("white-box, L∞, ε = 4/255, AutoAttack standard (APGD-CE, APGD-T, FAB-T, Square) over 4 classes, "
             "APGD 10 steps, 1 restart each, adaptive step size (APGD) — autoattack, torchattacks 3.5.1")


def _wrapped(sentence: str, text: str) -> str:
    """The sentence as pdftotext prints it: a line broken after a hyphen comes back with the hyphen dropped."""
    for index in [i for i, char in enumerate(sentence) if char == "-"]:
        dropped = sentence[:index] + sentence[index + 1:]
        if sentence not in text and dropped in text:
            return dropped
    return sentence


def _record() -> dict:
    """The engine's record of one screen-pgd10 and one AutoAttack run at 4/255, on a GPU."""
    record = copy.deepcopy(ENGINE_RECORD)
    record.update(seed=1234, device="cuda:0", versions=VERSIONS)
    pgd, autoattack = copy.deepcopy(record["results"][1]), copy.deepcopy(record["results"][1])
    pgd.update(attack_description=PGD, attack_library="torchattacks 3.5.1")
    autoattack.update(attack="autoattack", attack_description=AUTOATTACK, attack_library="torchattacks 3.5.1",
                      robust_accuracy={"value": 0.18, "low": 0.13, "high": 0.24})
    record["results"] = [pgd, autoattack]
    return record


def _flat(report: Report) -> str:
    text = subprocess.run(["pdftotext", report.file.path, "-"], check=True, capture_output=True, text=True).stdout
    # The draft's watermark comes back as loose letters between the words: they are not the report's text.
    return " ".join(word for word in text.split() if word not in WATERMARK_LETTERS)


def _generated(assessment, actor) -> Report:
    report = report_generate(report_id=report_request(assessment=assessment, actor=actor).pk)
    assert report.status == JobStatus.SUCCEEDED, report.error
    return report


@pytest.fixture
def audited(acme, nist, system, model_version, oscar, alice):
    """M1 compliant, M2 non-compliant on the run's evidence, M3 excluded by the SoA, M4 (no title) not assessed."""
    Requirement.objects.create(framework=nist, urn="urn:test:nist:M4", ref_id="M4", kind="control", title="",
                               text=M4_TEXT, text_status="paraphrase", assessable=True, order=3)
    requirement = {r.ref_id: r for r in Requirement.objects.filter(framework=nist)}
    ApplicabilityDecision.objects.create(organisation=acme, ai_system=system, requirement=requirement["M3"],
                                         proposed_applicable=True, proposal_justification="Proposed by rule",
                                         applicable=False, justification="The system never meets the public.",
                                         decided_by=alice, decided_at=FROZEN_NOW)
    for ref_id, name, status, ref in (("C-1", "Release testing procedure", "operating", "M1"),
                                      ("C-2", "Adversarial training plan", "planned", "M2")):
        Control.objects.create(organisation=acme, ref_id=ref_id, name=name, status=status) \
            .requirements.set([requirement[ref]])
    training_card_save(model_version=model_version, actor=alice, data={
        "loss_terms": [{"name": "contrastive cross-entropy", "kind": "accuracy", "weight": 1.0}],
        "achieves_intended_outcome": "Zero-shot accuracy on parcels, as measured on the release set.",
        "gaming_risks": "Labels leak through the background colour."})
    run_published(system, model_version, _record(),
                  provenance={"data_sha256": DATA_SHA256, "model_sha256": "ab" * 32, "dataset": "synthetic-shapes"})
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, model_version=model_version,
                                   actor=oscar, title="Vision triage 2026")
    _, policy = evidence_with_version(acme, oscar, title="Testing policy", content=b"policy text")
    results = {r.requirement.ref_id: r for r in assessment.results.select_related("requirement")}
    requirement_result_update(result=results["M1"], actor=oscar, result_status="compliant",
                              rationale="Every release in the period ran the testing procedure.",
                              evidence_versions=[policy])
    requirement_result_update(result=results["M2"], actor=oscar, result_status="non_compliant",
                              rationale="Robust accuracy 0.21 at 4/255 is below the 0.40 set in advance.")
    requirement_result_update(result=results["M4"], actor=oscar, not_assessed_reason="Deployment starts in 2027.")
    return assessment


def _assert_what_auditors_read_first(text: str) -> None:
    # Each result with its rationale (and the not-assessed reason).
    assert "Rationale: Every release in the period ran the testing procedure." in text
    assert "Rationale: Robust accuracy 0.21 at 4/255 is below the 0.40 set in advance." in text
    assert "Reason: Deployment starts in 2027." in text
    # The SoA: id and title, applicable, decision, implementation status, justification in full.
    assert "Requirement Title Applicable Decision Implementation status Justification" in text
    assert ("M1 Requirement M1 yes default Operating effectively C-1 Release testing procedure: Operating "
            "effectively No applicability decision recorded: in scope by default.") in text
    assert "M2 Requirement M2 yes default Planned C-2 Adversarial training plan: Planned" in text
    assert "M3 Requirement M3 no overridden No control mapped The system never meets the public." in text
    assert f"M4 {M4_TEXT} yes default No control mapped" in text
    # The threat model in words, from the record's own fields, and the run environment.
    assert "Threat model (as the record states it):" in text
    assert f"• {_wrapped(THREAT_PGD, text)} • {_wrapped(THREAT_AA, text)} Run environment" in text
    assert "Device cuda:0" in text
    assert "Library versions open_clip 2.29.0, python 3.12.3, torch 2.5.1, torchattacks 3.5.1" in text
    assert "Seed 1234" in text
    assert "Dataset synthetic-shapes, n = 200, batch size 32" in text
    assert f"Dataset SHA-256 {DATA_SHA256}" in text
    # The training card: an observation tied to Annex IV 2(b) and MEASURE 2.x, not an Art 15 finding.
    assert "Training objective of model version 1.0 — an observation" in text
    assert ("EU AI Act Annex IV point 2(b) (key design choices; what the system is designed to optimise) and "
            "NIST AI RMF MEASURE 2.x") in text
    assert "not a legal finding under EU AI Act Art 15" in text
    assert "Loss terms contrastive cross-entropy (Accuracy / task performance, weight 1.0)" in text
    assert "Adversarial-robustness term Observation: the loss has no adversarial-robustness term." in text
    assert "How could the objective be gamed? Labels leak through the background colour." in text
    assert "How are edge cases treated? not answered" in text
    assert "Card recorded by alice, 2026-11-20 09:00 UTC" in text


def test_a_draft_prints_rationale_soa_threat_model_environment_and_training_card(audited, oscar):
    text = _flat(_generated(audited, oscar))
    assert "DRAFT — not final" in text
    _assert_what_auditors_read_first(text)


def test_a_final_report_prints_them_as_locked_whatever_changes_afterwards(audited, model_version, acme, oscar,
                                                                          alice):
    locked = four_eyes_lock(audited, oscar, reviewer=alice)
    Control.objects.filter(organisation=acme, ref_id="C-2").update(status="operating", name="Renamed after lock")
    training_card_save(model_version=model_version, actor=oscar, data={"gaming_risks": "Changed after lock."})
    text = _flat(_generated(locked, oscar))
    assert "Final — assessment locked 2026-11-20 09:00 UTC" in text
    _assert_what_auditors_read_first(text)
    assert "as they stood at the lock" in text
    assert "Renamed after lock" not in text and "Changed after lock." not in text


def test_the_threat_model_follows_the_record_not_the_attack_name():
    # A record named after the 10-step preset that says it ran 20 steps with α = min(1/255, ε) is printed as run.
    item = {"attack": "screen-pgd10", "threat_model": "Linf", "eps": 8 / 255, "eps_label": "8/255",
            "attack_library": "torchattacks 3.5.1",
            "attack_description": "pgd Linf, loss CE, 20 steps, α=min(0.00392157, ε), no random start, untargeted"}
    assert threat_model_words(item) == (
        "white-box, L∞, ε = 8/255, untargeted PGD with 20 steps, 1 run from the clean image (no random start), "
        "step size α = min(1/255, ε) = 1/255, cross-entropy loss — screen-pgd10, torchattacks 3.5.1")


def test_a_record_that_states_its_parameters_is_printed_from_those_fields():
    item = {"attack": "pgd-50", "attack_kind": "PGD", "threat_model": "Linf", "eps": 8 / 255, "eps_label": "8/255",
            "steps": 50, "restarts": 5, "step_size": 2 / 255, "loss": "CE", "knowledge": "white-box",
            "attack_library": "torchattacks 3.5.1", "attack_description": "pgd Linf, loss CE, 10 steps, α=0.25·ε, "
                                                                          "random start, untargeted"}
    assert threat_model_words(item) == (
        "white-box, L∞, ε = 8/255, untargeted PGD with 50 steps, 5 restarts, step size α = 2/255, "
        "cross-entropy loss — pgd-50, torchattacks 3.5.1")


def test_the_standard_and_the_screening_autoattack_are_printed_apart():
    standard = {"attack": "autoattack-standard", "threat_model": "Linf", "eps": 4 / 255, "eps_label": "4/255",
                "attack_library": "torchattacks 3.5.1", "attack_description": (
                    "AutoAttack standard (RobustBench-comparable): APGD-CE 100 steps, APGD-T (DLR-targeted, 9 targets) "
                    "100 steps, FAB-T (9 targets) 100 steps, Square 5000 queries, 1 restart each, adaptive step, "
                    "torchattacks")}
    assert threat_model_words(standard) == (
        "white-box, L∞, ε = 4/255, AutoAttack standard (RobustBench-comparable): APGD-CE 100 steps, "
        "APGD-T (DLR-targeted, 9 targets) 100 steps, FAB-T (9 targets) 100 steps, Square 5000 queries, "
        "1 restart each, adaptive step — autoattack-standard, torchattacks 3.5.1")
    screening = {**standard, "attack": "aa-apgd", "attack_description": (
        "AutoAttack screening (not the standard version): APGD-CE + APGD-T (DLR-targeted, 9 target classes), "
        "100 steps each, adaptive step, 1 restart, torchattacks")}
    assert threat_model_words(screening).startswith(
        "white-box, L∞, ε = 4/255, AutoAttack screening (not the standard version): APGD-CE + APGD-T "
        "(DLR-targeted, 9 target classes), 100 steps each")


def test_what_a_record_does_not_say_is_printed_as_not_recorded():
    item = {"attack": "screen-pgd10", "threat_model": "Linf", "eps": 4 / 255, "attack_description": "PGD-10"}
    assert threat_model_words(item) == (
        "attacker knowledge not recorded, L∞, ε = 4/255, PGD with 10 steps, restarts not recorded, "
        "step size not recorded — screen-pgd10, library not recorded")


def test_every_robustness_record_gets_its_section_and_only_the_first_six_a_chart():
    from assessments.reporting.context import CHARTED_RECORDS, _robustness

    records = [{"version_id": n, "sha256": f"{n:064x}", "evidence_title": f"Run {n}", "ai_system_id": None,
                "ai_system_name": "Triage", "model_version": f"v{n}", "dataset": "digits", "n_examples": 90,
                "clean_accuracy": 0.9, "points": [], "checks": [],
                "threat_models": [{"words": f"white-box, L∞, ε = {n}/255"}], "environment": {"seed": n}}
               for n in range(1, 9)]
    summaries, sections, _trend = _robustness({"robustness": records})
    assert CHARTED_RECORDS == 6 and len(summaries) == len(sections) == 8
    assert [section["summary"].model_version for section in sections] == [f"v{n}" for n in range(1, 9)]
    assert [bool(section["chart"]) for section in sections] == [True] * 6 + [False] * 2
    assert [section["threat_models"][0]["words"] for section in sections][-1] == "white-box, L∞, ε = 8/255"
    assert [section["environment"]["seed"] for section in sections] == list(range(1, 9))
