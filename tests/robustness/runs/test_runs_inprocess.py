"""Runs executed in this process (the worker's service bodies, without a broker): outcomes,
bad input, cancel, retraining with its automatic re-evaluation, anchors, periodic regressions."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import torch
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from assessments.models import EvidenceVersion, Finding
from governance.models.audit import AuditEvent
from governance.models.registry import Dataset, ModelVersion, ValidationStatus
from robustness.engine.checkpoints import save_state_dict_file
from robustness.engine.tiny import tiny_model
from robustness.models import EvaluationRun, RetrainingRun, RobustnessAlert, RunStatus, RunTrigger
from robustness.services import evaluations as evaluations_module
from robustness.services.anchor_analyses import anchor_analysis_execute
from robustness.services.evaluations import evaluation_run_execute
from robustness.services.maintenance import evaluations_schedule_periodic, runs_reap_expired_leases
from robustness.services.retraining import retraining_run_execute, work_directory
from robustness.services.run_requests import (
    anchor_analysis_request,
    evaluation_run_request,
    retraining_run_request,
    run_cancel,
    run_rerun,
)
from tests.robustness.runs.conftest import QUICK_EVALUATION, make_version

pytestmark = pytest.mark.django_db


def _execute_pending_evaluations() -> None:
    for pk in EvaluationRun.objects.filter(status=RunStatus.PENDING).values_list("pk", flat=True):
        evaluation_run_execute(run_id=pk)


def test_an_evaluation_run_finishes_with_a_record_evidence_and_a_threshold_finding(system, version, member):
    oscar = member("risk_officer").user
    run = evaluation_run_request(ai_system=system, model_version=version, actor=oscar, config=QUICK_EVALUATION)
    assert run.status == RunStatus.PENDING and run.config["epsilons"] == [1 / 255, 4 / 255]
    assert evaluation_run_execute(run_id=run.pk) == "succeeded"
    assert evaluation_run_execute(run_id=run.pk) == "not claimed", "a second delivery changes nothing"
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.progress == 1.0, run.error
    record = run.result["record"]
    assert record["n_examples"] == 24 and [r["eps_label"] for r in record["results"]] == ["1/255", "4/255"]
    assert EvidenceVersion.objects.filter(metadata__run_id=run.pk).count() == 1
    finding = Finding.objects.get(ai_system=system, title__startswith="Robustness below threshold")
    assert "required at least 90.0%" in finding.description
    assert RobustnessAlert.objects.filter(evaluation=run, kind="below_threshold").count() == 1
    assert {item["name"] for item in run.artifacts} >= {"record.json", "example-0-perturbation.png"}
    from xml.etree import ElementTree

    from robustness.views.results import results_context

    charts = results_context(run)
    for name in ("accuracy_chart", "per_class_chart"):
        svg = ElementTree.fromstring(str(charts[name]))  # noqa: S314 - our own markup: well-formed SVG
        assert svg.tag.endswith("svg") and len(svg) > 10


# --- bad input: each fails the run with its reason and touches nothing else ------------------------

class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {settings.MEDIA_ROOT}/pwned",))


def _stored(relative: str, content: bytes) -> str:
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return relative


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bad_model(system, kind: str) -> ModelVersion:
    prefix = f"checkpoints/{system.organisation_id}"
    if kind == "corrupt":
        relative = _stored(f"{prefix}/corrupt.safetensors", b"\x00not a safetensors file" * 10)
    elif kind == "pickle":
        relative = _stored(f"{prefix}/payload.pt", pickle.dumps({"state_dict": _Payload()}))
    else:  # weights of another architecture
        state = {k: v for k, v in tiny_model(0).state_dict().items()}
        state["visual.proj"] = torch.zeros(7, 7)
        relative = f"{prefix}/mismatch.safetensors"
        save_state_dict_file(state, Path(settings.MEDIA_ROOT) / relative)
    return make_version(system, label=f"bad-{kind}", checkpoint=relative, checkpoint_sha256="")


def _bad_dataset(system, kind: str) -> Dataset:
    entries = {
        "one_class": {"red circle/a.png": _png((200, 0, 0)), "red circle/b.png": _png((190, 0, 0))},
        "not_images": {"red circle/a.png": b"this is not a png", "blue ring/b.png": b"nor is this"},
        "traversal": {"red circle/a.png": _png((200, 0, 0)), "../../evil/blue ring/b.png": _png((0, 0, 200))},
    }[kind]
    dataset = Dataset(organisation=system.organisation, name=f"bad {kind}", status=ValidationStatus.VALID)
    dataset.file.save(f"{kind}.zip", ContentFile(_zip(entries)), save=False)
    dataset.save()
    return dataset


BAD_INPUTS = [
    ("model", "corrupt", "not a readable safetensors"),
    ("model", "mismatch", "does not fit the architecture"),
    ("model", "pickle", "could run arbitrary code"),
    ("data", "one_class", "at least two class"),
    ("data", "not_images", "not a readable image"),
    ("data", "traversal", "path traversal"),
]


@pytest.mark.parametrize(("what", "kind", "words"), BAD_INPUTS, ids=[kind for _, kind, _ in BAD_INPUTS])
def test_bad_input_fails_the_run_with_a_clear_message_and_touches_nothing_else(system, version, what, kind, words):
    model = _bad_model(system, kind) if what == "model" else version
    dataset = _bad_dataset(system, kind) if what == "data" else None
    config = {**QUICK_EVALUATION, "builtin_dataset": "" if dataset else "synthetic-held-out"}
    run = evaluation_run_request(ai_system=system, model_version=model, actor=None, config=config, dataset=dataset)
    versions, findings = ModelVersion.objects.count(), Finding.objects.count()
    assert evaluation_run_execute(run_id=run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and not run.result and not run.artifacts
    assert words.lower() in run.error.lower(), run.error
    assert EvidenceVersion.objects.count() == 0 and Finding.objects.count() == findings
    assert ModelVersion.objects.count() == versions
    runs_folder = Path(settings.MEDIA_ROOT) / "robustness" / "evaluations"
    assert not (runs_folder / str(run.pk)).exists(), "no half-written files"
    assert not list(runs_folder.glob(f".staging-{run.pk}-*"))
    print(f"{kind}: {run.error}")
    assert not (Path(settings.MEDIA_ROOT) / "pwned").exists(), "the pickle's code never ran"


# --- cancel, re-run ---------------------------------------------------------------------------------

def test_a_pending_run_cancelled_never_starts(system, version, member):
    run = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION)
    run_cancel(run=run, actor=member("consultant").user)
    assert evaluation_run_execute(run_id=run.pk) == "not claimed"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.attempt == 0


def test_a_running_evaluation_stops_between_batches_when_cancelled(system, version, member, monkeypatch):
    run = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION)
    real = evaluations_module.evaluate_partial
    calls = []

    def evaluate_then_press_cancel(*args, **kwargs):  # the person presses cancel during batch 1
        calls.append(kwargs["start_batch"])
        if len(calls) == 1:
            run_cancel(run=EvaluationRun.objects.get(pk=run.pk), actor=member("risk_officer").user)
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluations_module, "evaluate_partial", evaluate_then_press_cancel)
    assert evaluation_run_execute(run_id=run.pk) == "cancelled"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and calls == [0] and "before batch 2" in run.message
    assert EvidenceVersion.objects.count() == 0


def test_rerun_requests_a_new_run_with_the_same_frozen_settings(system, version, member):
    first = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION)
    again = run_rerun(run=first, actor=member("org_admin").user)
    assert again.pk != first.pk and again.config == first.config and again.rerun_of_id == first.pk
    assert again.trigger == RunTrigger.RERUN


# --- retraining, anchors, periodic ------------------------------------------------------------------

RETRAIN = {"method": "alignment-ce", "builtin_dataset": "synthetic-train", "steps": 4, "batch_size": 8,
           "checkpoint_every": 2, "eps": 4 / 255, "seed": 1, "device": "cpu",
           "evaluation": {**QUICK_EVALUATION}}


def test_retraining_registers_a_child_version_and_evaluates_before_and_after(system, version, member, client_as):
    run = retraining_run_request(ai_system=system, model_version=version, actor=member("consultant").user,
                                 config=RETRAIN)
    assert retraining_run_execute(run_id=run.pk) == "succeeded"
    run.refresh_from_db()
    child = run.output_model_version
    assert run.status == RunStatus.SUCCEEDED and child.parent_id == version.pk
    assert child.checkpoint_sha256 == run.provenance["output_sha256"]
    assert child.training_card.has_adversarial_robustness_term
    assert not work_directory(run.pk).exists(), "the resumable state is removed once the version is registered"
    queued = EvaluationRun.objects.filter(retraining=run)
    assert {row.model_version_id for row in queued} == {version.pk, child.pk}
    _execute_pending_evaluations()
    page = client_as("auditor").get(run.get_absolute_url())
    assert page.status_code == 200 and b"Accuracy before and after retraining" in page.content


def test_a_retraining_interrupted_mid_way_resumes_from_its_checkpoint_exactly(system, version, monkeypatch):
    from governance import jobs as leases

    interrupted = retraining_run_request(ai_system=system, model_version=version, actor=None, config=RETRAIN)
    real_beat = leases.Heartbeat.beat

    def die_after_step_three(self, **kwargs):  # stands in for kill -9 (BaseException: nothing catches it)
        real_beat(self, **kwargs)
        if kwargs.get("checkpoint", {}).get("step") == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(leases.Heartbeat, "beat", die_after_step_three)
    with pytest.raises(KeyboardInterrupt):
        retraining_run_execute(run_id=interrupted.pk)
    monkeypatch.setattr(leases.Heartbeat, "beat", real_beat)
    assert retraining_run_execute(run_id=interrupted.pk) == "not claimed", "the lease is still live"
    RetrainingRun.objects.filter(pk=interrupted.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert retraining_run_execute(run_id=interrupted.pk) == "succeeded"
    interrupted.refresh_from_db()
    assert interrupted.attempt == 2 and interrupted.provenance["resumed_from_step"] == 2
    straight = retraining_run_request(ai_system=system, model_version=version, actor=None, config=RETRAIN)
    retraining_run_execute(run_id=straight.pk)
    straight.refresh_from_db()
    assert interrupted.provenance["output_sha256"] == straight.provenance["output_sha256"]
    assert ModelVersion.objects.filter(parent=version).count() == 2, "exactly one version per run"


def test_anchor_analysis_reports_the_expansion_factor_and_heat_maps(system, version, client_as):
    from robustness.engine import synthetic

    analysis = anchor_analysis_request(ai_system=system, model_version=version, actor=None, config={
        "train_class_names": list(synthetic.class_names(synthetic.seen_compositions())),
        "target_class_names": list(synthetic.class_names(synthetic.held_out_compositions()))})
    assert anchor_analysis_execute(analysis_id=analysis.pk) == "succeeded"
    analysis.refresh_from_db()
    assert analysis.result["factor"] > 0 and len(analysis.result["target_after"]["similarity"]) == 9
    page = client_as("auditor").get(analysis.get_absolute_url())
    assert page.status_code == 200 and page.content.count(b"<svg") == 4


def test_periodic_re_evaluation_runs_when_review_is_due_and_flags_a_regression(system, version):
    first = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION)
    evaluation_run_execute(run_id=first.pk)
    assert evaluations_schedule_periodic() == 0, "not due yet"
    result = first.__class__.objects.get(pk=first.pk).result
    for item in result["record"]["results"]:  # the earlier run was (pretend) much more robust
        item["robust_accuracy"]["value"] = 1.0
    EvaluationRun.objects.filter(pk=first.pk).update(result=result,
                                                     finished_at=timezone.now() - timedelta(days=400))
    assert evaluations_schedule_periodic() == 1
    periodic = EvaluationRun.objects.get(trigger=RunTrigger.PERIODIC)
    assert periodic.config == first.config and periodic.rerun_of_id == first.pk
    evaluation_run_execute(run_id=periodic.pk)
    regression = Finding.objects.get(title__startswith="Robustness regression")
    assert f"against run #{first.pk}" in regression.description and "→" in regression.description
    assert RobustnessAlert.objects.filter(evaluation=periodic, kind="regression").count() == 1
    from django.template import Context, Template

    from governance.access import AccessContext
    from governance.models.tenancy import Membership

    access = AccessContext(Membership.objects.filter(organisation=system.organisation).first())
    shown = Template("{% load robustness_alerts %}{% robustness_alerts %}").render(Context({"access": access}))
    assert "Robustness regression" in shown and f"/robustness/evaluations/{periodic.pk}/" in shown


def test_the_reaper_re_enqueues_only_runs_whose_lease_expired(system, version, monkeypatch):
    from celery import current_app

    sent: list[tuple[str, list, str]] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: sent.append((name, args, queue)))
    live = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION)
    dead = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION)
    now = timezone.now()
    EvaluationRun.objects.filter(pk=live.pk).update(status=RunStatus.RUNNING, lease_expires_at=now + timedelta(60))
    EvaluationRun.objects.filter(pk=dead.pk).update(status=RunStatus.RUNNING, lease_expires_at=now - timedelta(1))
    assert runs_reap_expired_leases() == 1
    assert sent == [("robustness.tasks.evaluation_run_execute", [dead.pk], "robustness")]
    live.refresh_from_db()
    assert live.status == RunStatus.RUNNING and live.lease_expires_at > now


def test_the_reaper_sends_the_shards_of_a_sharded_run_whose_chord_never_left(system, version, monkeypatch):
    """The broker was down when the run was requested: neither shards nor merge were ever sent."""
    from celery import current_app

    from robustness.services.maintenance import PENDING_RESEND_AFTER
    from robustness.services.run_requests import TASKS
    from robustness.task_names import EVALUATION_RUN_MERGE

    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: sent.append((name, args)))
    run = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION,
                                 shards=2)
    shard_ids = sorted(run.shards.values_list("pk", flat=True))
    assert run.shard_count == len(shard_ids) >= 2
    assert runs_reap_expired_leases() == 0, "a fresh request is not re-sent"
    EvaluationRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - PENDING_RESEND_AFTER - timedelta(1))
    assert runs_reap_expired_leases() == len(shard_ids)
    assert sorted(sent) == sorted((TASKS[type(run.shards.first())], [pk]) for pk in shard_ids)
    sent.clear()
    run.shards.update(status=RunStatus.SUCCEEDED, heartbeat_at=timezone.now())
    assert runs_reap_expired_leases() == 1
    assert sent == [(EVALUATION_RUN_MERGE, [None, run.pk])], "every shard done, the merge is sent"


def test_progress_ticks_write_no_audit_events_but_state_changes_do(system, version):
    run = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION)
    evaluation_run_execute(run_id=run.pk)
    events = AuditEvent.objects.filter(object_type="robustness.EvaluationRun", object_id=str(run.pk))
    assert events.count() == 2, "created, then finished: no event per batch"


def test_a_platform_run_carries_a_manifest_that_reruns_to_the_same_figures(system, version, member, tmp_path):
    """The run's provenance holds its re-run manifest; the engine's `rerun`, given the version's own
    checkpoint file, rebuilds the built-in data and gets identical figures."""
    import json
    import subprocess
    import sys

    oscar = member("risk_officer").user
    run = evaluation_run_request(ai_system=system, model_version=version, actor=oscar, config=QUICK_EVALUATION)
    assert evaluation_run_execute(run_id=run.pk) == "succeeded"
    run.refresh_from_db()
    manifest = run.provenance["manifest"]
    assert manifest["model"]["checkpoint_sha256"] == version.checkpoint_sha256
    assert manifest["data"]["source"] == f"builtin:{QUICK_EVALUATION['builtin_dataset']}"
    assert manifest["data"]["templates"] == list(version.prompt_templates)
    exported = tmp_path / "run.json"
    exported.write_text(json.dumps({"provenance": run.provenance, "record": run.result["record"]}))
    root = Path(__file__).resolve().parents[3]
    again = subprocess.run([sys.executable, "-m", "robustness.engine", "rerun", str(exported), "--checkpoint",
                            version.checkpoint.path], cwd=root, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(root)})
    assert again.returncode == 0, again.stderr[-3000:]
    report = json.loads(again.stdout)
    assert report["identical"] is True, report["differences"]
    assert [r["robust_accuracy"] for r in report["record"]["results"]] == \
        [r["robust_accuracy"] for r in run.result["record"]["results"]]
