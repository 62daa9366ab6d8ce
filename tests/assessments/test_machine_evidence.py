"""Machine evidence stays machine evidence: a robustness run's evidence gets versions only from runs; a
person annotates it instead (issue #13, point 4)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.models import EvidenceAnnotation, EvidenceVersion
from assessments.services import evidence_annotation_add, evidence_version_add
from assessments.services.common import NotPermittedError, ServiceError
from assessments.services.evidence import MachineEvidenceError
from governance.models import AuditEvent
from tests.assessments.factories import evidence_with_version, model_version_make
from tests.assessments.machine_runs import run_published

API = "/api/v1"
REFUSAL = ("is machine evidence: its versions come only from robustness runs, so a hand-made version cannot be "
           "added. Add an annotation to it instead, or record your own evidence separately.")


@pytest.fixture
def machine(acme, system):
    """The evidence a finished robustness run published (no person involved)."""
    _, evidence, version = run_published(system, model_version_make(system))
    return evidence, version


def _state(evidence) -> tuple:
    evidence.refresh_from_db()
    return (list(EvidenceVersion.objects.filter(evidence=evidence).order_by("number")
                 .values_list("number", "sha256", "source")),
            evidence.current_version_id, AuditEvent.objects.filter(organisation_id=evidence.organisation_id).count(),
            EvidenceAnnotation.objects.filter(evidence=evidence).count())


def test_a_run_publishes_machine_evidence(machine):
    evidence, version = machine
    assert (evidence.kind, evidence.created_by, version.source, version.uploaded_by) == (
        "robustness_result", None, "robustness-run", None)


def test_the_service_refuses_a_hand_made_version_and_changes_nothing(machine, oscar):
    evidence, _ = machine
    before = _state(evidence)
    with pytest.raises(MachineEvidenceError, match=f"“{evidence.title}” {REFUSAL}"):
        evidence_version_add(evidence=evidence, actor=oscar, content=b'{"clean_accuracy": 0.99}',
                             filename="fake_eval.json")
    assert _state(evidence) == before


def test_a_later_run_still_adds_its_version(acme, system):
    model_version = model_version_make(system)
    _, evidence, first = run_published(system, model_version)
    _, again, second = run_published(system, model_version)
    assert (again.pk, first.number, second.number, second.source) == (evidence.pk, 1, 2, "robustness-run")


def test_a_run_never_publishes_into_a_persons_evidence_of_the_same_title(acme, system, oscar):
    model_version = model_version_make(system)
    title = f"Adversarial robustness: {system.name} {model_version.version}"  # the title runs give theirs
    decoy, decoy_version = evidence_with_version(acme, oscar, title=title, kind="robustness_result", ai_system=system,
                                                 content=b'{"clean_accuracy": 0.99}')
    _, evidence, version = run_published(system, model_version)
    assert evidence.pk != decoy.pk and (evidence.title, version.number, version.source) == (title, 1, "robustness-run")
    assert list(decoy.versions.values_list("pk", flat=True)) == [decoy_version.pk]


def test_hand_made_evidence_still_takes_new_versions(acme, oscar):
    evidence, _ = evidence_with_version(acme, oscar, title="Policy")
    assert evidence_version_add(evidence=evidence, actor=oscar, content=b"policy v2", filename="p.txt").number == 2


def test_the_web_form_refuses_in_the_page_and_changes_nothing(machine, client_as):
    evidence, _ = machine
    client = client_as("risk_officer")
    page = client.get(reverse("assessments:evidence-detail", args=[evidence.pk])).content.decode()
    assert "Machine evidence: its versions come only from robustness runs" in page
    assert "Add a version" not in page
    before = _state(evidence)
    answer = client.post(reverse("assessments:evidence-detail", args=[evidence.pk]),
                         {"file": SimpleUploadedFile("fake_eval.json", b'{"clean_accuracy": 0.99}')})
    assert answer.status_code == 200
    assert REFUSAL in answer.content.decode()
    assert _state(evidence) == before


def test_the_api_refuses_with_409_and_the_reason_and_changes_nothing(machine, client_as):
    evidence, _ = machine
    client = client_as("consultant")
    assert client.get(f"{API}/evidence/{evidence.pk}/").json()["machine_made"] is True
    before = _state(evidence)
    answer = client.post(f"{API}/evidence/{evidence.pk}/versions/",
                         {"file": SimpleUploadedFile("fake_eval.json", b'{"clean_accuracy": 0.99}')})
    assert answer.status_code == 409
    assert answer.json() == [f"“{evidence.title}” {REFUSAL}"]
    assert _state(evidence) == before


def test_an_annotation_is_kept_beside_machine_evidence_and_audited(machine, oscar):
    evidence, version = machine
    events = AuditEvent.objects.filter(organisation_id=evidence.organisation_id).count()
    annotation = evidence_annotation_add(evidence=evidence, text="  Run on the held-out split only.  ", actor=oscar)
    assert (annotation.text, annotation.created_by, annotation.organisation_id) == (
        "Run on the held-out split only.", oscar, evidence.organisation_id)
    event = AuditEvent.objects.filter(organisation_id=evidence.organisation_id).order_by("-sequence").first()
    assert AuditEvent.objects.filter(organisation_id=evidence.organisation_id).count() == events + 1
    assert (event.action, event.object_type, event.changes["text"]) == (
        "create", "assessments.EvidenceAnnotation", "Run on the held-out split only.")
    evidence.refresh_from_db()
    assert evidence.current_version_id == version.pk and evidence.versions.count() == 1


@pytest.mark.parametrize(("text", "words"), [("   ", "The annotation is empty"),
                                             ("x" * 5001, "5001 characters long; at most 5000")])
def test_a_bad_annotation_is_refused_with_its_reason(machine, oscar, text, words):
    evidence, _ = machine
    before = _state(evidence)
    with pytest.raises(ServiceError, match=words):
        evidence_annotation_add(evidence=evidence, text=text, actor=oscar)
    assert _state(evidence) == before


def test_the_auditor_may_not_annotate(machine, audrey):
    evidence, _ = machine
    before = _state(evidence)
    with pytest.raises(NotPermittedError, match="may annotate evidence"):
        evidence_annotation_add(evidence=evidence, text="Looks fine", actor=audrey)
    assert _state(evidence) == before


def test_the_web_annotation_form_adds_and_shows_it(machine, client_as):
    evidence, _ = machine
    client = client_as("consultant")
    answer = client.post(reverse("assessments:evidence-annotation-create", args=[evidence.pk]),
                         {"text": "Compare with run 12 before sign-off."}, follow=True)
    page = answer.content.decode()
    assert "Annotation added." in page and "Compare with run 12 before sign-off." in page and "carol" in page


def test_the_web_annotation_form_says_what_is_wrong(machine, client_as):
    evidence, _ = machine
    before = _state(evidence)
    answer = client_as("consultant").post(reverse("assessments:evidence-annotation-create", args=[evidence.pk]),
                                          {"text": ""})
    assert answer.status_code == 200 and "This field is required." in answer.content.decode()
    assert _state(evidence) == before


def test_the_api_adds_and_lists_annotations(machine, client_as, oscar):
    evidence, _ = machine
    client = client_as("risk_officer")
    created = client.post(f"{API}/evidence/{evidence.pk}/annotations/", {"text": "Seed 0 only."},
                          content_type="application/json")
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("evidence", "text", "created_by", "created_by_username")} == {
        "evidence": evidence.pk, "text": "Seed 0 only.", "created_by": oscar.pk, "created_by_username": "oscar"}
    listed = client_as("auditor").get(f"{API}/evidence/{evidence.pk}/").json()["annotations"]
    assert [(a["text"], a["created_by_username"]) for a in listed] == [("Seed 0 only.", "oscar")]


def test_api_annotation_refusals(machine, client_as):
    evidence, _ = machine
    before = _state(evidence)
    url = f"{API}/evidence/{evidence.pk}/annotations/"
    assert client_as("auditor").post(url, {"text": "x"}, content_type="application/json").status_code == 403
    blank = client_as("consultant").post(url, {"text": "   "}, content_type="application/json")
    assert blank.status_code == 400
    assert client_as("other_organisation").post(url, {"text": "x"}, content_type="application/json"
                                                ).status_code == 404
    assert _state(evidence) == before
