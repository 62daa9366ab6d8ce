"""export_organisation → import_organisation: a round trip loses nothing; a corrupt export imports nothing.

The comparison is itself generic: both organisations are exported and the two exports compared
row by row, with primary keys replaced by each row's position and files by their SHA-256 (a row's
folder of files, such as a robustness run's artifacts, by each file's path and SHA-256).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from assessments.models import Finding
from governance.audit import audit_chain_verify
from governance.models import AISystem, AuditEvent, Organisation
from governance.services.transfer import TransferError, tenant_models
from governance.services.transfer_export import organisation_export
from governance.services.transfer_import import organisation_import
from tests.conftest import client_in
from tests.security.harness import fingerprint
from tests.security.world import media_files, world_build

AUDIT = "governance.AuditEvent"
REHASHED = {"hash", "previous_hash", "object_id"}  # re-chained for the new organisation


@pytest.fixture
def exported(acme, globex, member, settings, tmp_path) -> tuple[Any, Path]:
    settings.MEDIA_ROOT = tmp_path / "media"
    world = world_build(acme, member("org_admin").user, "zq-acme")
    assert not world.missing, world.missing
    out = tmp_path / "acme-export"
    return organisation_export(organisation=acme, out=out), out


def _normalised(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows per model, each pk replaced by its position and each file by its SHA-256."""
    data = json.loads((folder / "data.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    files = {(f["model"], f["pk"], f["field"]): f["sha256"] for f in manifest["files"]}
    folders: dict[tuple[str, Any], dict[str, str]] = {}
    for entry in manifest["folder_files"]:
        folders.setdefault((entry["model"], entry["pk"]), {})[entry["path"]] = entry["sha256"]
    position: dict[tuple[str, Any], int] = {}
    for row in data["rows"]:
        position[(row["model"], row["pk"])] = sum(1 for key in position if key[0] == row["model"])
    tenant = {model._meta.label: model for model in tenant_models()}
    result: dict[str, list[dict[str, Any]]] = {}
    for row in data["rows"]:
        model = tenant[row["model"]]
        fields = {}
        for name, value in row["fields"].items():
            field = model._meta.get_field(name)
            if (row["model"], name) in {(AUDIT, key) for key in REHASHED}:
                continue
            if field.unique and not field.is_relation:
                continue  # globally unique values (a report's uid) are renewed when imported beside the original
            if (row["model"], row["pk"], name) in files:
                value = files[(row["model"], row["pk"], name)]
            elif field.is_relation and field.related_model._meta.label in tenant:
                target = field.related_model._meta.label
                value = ([position[(target, item)] for item in value] if field.many_to_many
                         else position.get((target, value), value))
            fields[name] = value
        if (row["model"], row["pk"]) in folders:
            fields["(folder)"] = folders[(row["model"], row["pk"])]
        result.setdefault(row["model"], []).append(fields)
    return result


def test_a_round_trip_loses_nothing(exported, tmp_path):
    summary, out = exported
    imported = organisation_import(path=out, slug="acme-copy")
    copy = Organisation.objects.get(slug="acme-copy")
    assert imported.files == summary.files > 0
    assert imported.folder_files == summary.folder_files >= 3, "the artifact of each kind of run travels"
    assert {label: count + (1 if label == AUDIT else 0) for label, count in summary.rows.items()} == imported.rows | {
        AUDIT: imported.rows[AUDIT] + 1}
    again = tmp_path / "copy-export"
    organisation_export(organisation=copy, out=again)
    original, copied = _normalised(out), _normalised(again)
    by_sequence = sorted(copied[AUDIT], key=lambda event: event["sequence"])
    assert by_sequence[:-1] == sorted(original[AUDIT], key=lambda event: event["sequence"]), "the trail travels"
    copied[AUDIT] = by_sequence
    assert copied[AUDIT][-1]["changes"]["imported_from"] == summary.export_sha256
    assert {k: v for k, v in copied.items() if k != AUDIT} == {k: v for k, v in original.items() if k != AUDIT}
    assert audit_chain_verify(copy) == [], "the re-chained trail verifies"


def test_a_zip_round_trip_through_the_commands(exported, tmp_path):
    acme = Organisation.objects.get(slug="acme")
    archive = tmp_path / "acme.zip"
    call_command("export_organisation", "--organisation", "acme", "--out", str(archive), stdout=io.StringIO())
    call_command("import_organisation", str(archive), "--slug", "acme-zip", stdout=io.StringIO())
    copy = Organisation.objects.get(slug="acme-zip")
    for model in tenant_models():
        if hasattr(model, "organisation") and model is not AuditEvent:
            assert model._base_manager.filter(organisation=copy).count() == \
                model._base_manager.filter(organisation=acme).count(), model._meta.label


def test_importing_twice_never_collides(exported):
    _, out = exported
    organisation_import(path=out, slug="acme-one")
    organisation_import(path=out, slug="acme-two")
    with pytest.raises(TransferError, match="exists already"):
        organisation_import(path=out, slug="acme-two")


@pytest.mark.parametrize("damage", ["file", "data", "missing-file"])
def test_a_corrupt_export_imports_nothing(exported, damage):
    _, out = exported
    stored = sorted((out / "files").iterdir())[0]
    if damage == "file":
        stored.write_bytes(stored.read_bytes() + b"tampered")
    elif damage == "data":
        data = out / "data.json"
        data.write_text(data.read_text().replace("zq-acme", "zq-evil", 1))
    else:
        stored.unlink()
    before, files_before = fingerprint(), media_files()
    with pytest.raises(TransferError, match="corrupt"):
        organisation_import(path=out, slug="acme-corrupt")
    assert (fingerprint(), media_files()) == (before, files_before)
    assert not Organisation.objects.filter(slug="acme-corrupt").exists()


def _exported_usernames(out: Path) -> set[str]:
    rows = json.loads((out / "data.json").read_text())["rows"]
    return {value["username"] for row in rows for value in row["fields"].values()
            if isinstance(value, dict) and "username" in value}


def test_an_account_existing_here_in_other_letter_case_imports_nothing(exported):
    from django.contrib.auth import get_user_model

    _, out = exported
    name = sorted(_exported_usernames(out))[0]
    get_user_model().objects.filter(username=name).update(username=name.upper())
    before, files_before = fingerprint(), media_files()
    with pytest.raises(TransferError, match=f"names the account '{name}'.*other letter case"):
        organisation_import(path=out, slug="acme-case")
    assert (fingerprint(), media_files()) == (before, files_before)
    assert not get_user_model().objects.filter(username=name).exists()


def test_the_import_command_says_why_it_refused(exported):
    _, out = exported
    (out / "manifest.json").write_text("{}")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_organisation", str(out))


# --- robustness runs with real artifacts --------------------------------------------------------

RUN_KINDS = ("robustness.EvaluationRun", "robustness.RetrainingRun", "robustness.AnchorAnalysis")


@pytest.fixture
def exported_runs(acme, member, settings, tmp_path) -> tuple[Any, Path]:
    """Acme after a real evaluation and a retraining (its child version evaluated after it), exported."""
    from robustness.models import EvaluationRun, RetrainingRun, RunStatus
    from robustness.services.evaluations import evaluation_run_execute
    from robustness.services.retraining import retraining_run_execute
    from robustness.services.run_requests import evaluation_run_request, retraining_run_request
    from tests.robustness.runs.conftest import QUICK_EVALUATION, make_version
    from tests.robustness.runs.test_runs_inprocess import RETRAIN

    settings.MEDIA_ROOT, settings.ROBUSTNESS_TORCH_THREADS = tmp_path / "media", 1
    system = AISystem.objects.create(organisation=acme, name="Shape sorter zq-acme", intended_purpose="Sort shapes",
                                     robustness_thresholds=[{"attack": "screen-pgd10", "epsilon": 4 / 255,
                                                             "min_robust_accuracy": 0.9}])
    version = make_version(system)
    consultant = member("consultant").user
    evaluation_run_request(ai_system=system, model_version=version, actor=consultant, config=QUICK_EVALUATION)
    retraining = retraining_run_request(ai_system=system, model_version=version, actor=consultant, config=RETRAIN)
    assert retraining_run_execute(run_id=retraining.pk) == "succeeded"
    for pk in EvaluationRun.objects.filter(status=RunStatus.PENDING).values_list("pk", flat=True):
        assert evaluation_run_execute(run_id=pk) == "succeeded"
    assert RetrainingRun.objects.get(pk=retraining.pk).output_model_version is not None
    assert EvaluationRun.objects.filter(organisation=acme, status=RunStatus.SUCCEEDED).count() == 2, "before, after"
    out = tmp_path / "acme-runs"
    return organisation_export(organisation=acme, out=out), out


def _runs(organisation: Organisation) -> list[Any]:
    from robustness.models import EvaluationRun

    return list(EvaluationRun.objects.filter(organisation=organisation).order_by("created_at", "pk"))


def test_run_artifacts_travel_and_are_served_under_the_new_ids(exported_runs, tmp_path):
    from robustness.models import EvaluationRun, RetrainingRun, RunStatus
    from robustness.services.artifacts import attempt_directory
    from robustness.services.evaluations import evaluation_run_execute
    from robustness.services.run_requests import evaluation_run_request
    from tests.robustness.runs.conftest import QUICK_EVALUATION

    summary, out = exported_runs
    acme = Organisation.objects.get(slug="acme")
    manifest = json.loads((out / "manifest.json").read_text())
    exported_artifacts = {(entry["pk"], entry["path"]): entry["sha256"] for entry in manifest["folder_files"]
                          if entry["model"] == "robustness.EvaluationRun"}
    for run in _runs(acme):
        assert {(run.pk, f"attempt-{run.attempt}/{item['name']}"): item["sha256"] for item in run.artifacts}.items() \
            <= exported_artifacts.items(), "every artifact is in the manifest with the SHA-256 the run recorded"

    imported = organisation_import(path=out, slug="acme-copy")
    copy = Organisation.objects.get(slug="acme-copy")
    assert imported.folder_files == summary.folder_files == len(manifest["folder_files"]) >= 2 * 7
    auditor, stranger = client_in("audrey", copy), client_in("audrey", acme)
    for original, run in zip(_runs(acme), _runs(copy), strict=True):
        assert run.pk != original.pk and run.artifacts == original.artifacts and run.artifacts
        folder = attempt_directory(run.kind_slug, run.pk, run.attempt)
        for item in run.artifacts:
            assert hashlib.sha256((folder / item["name"]).read_bytes()).hexdigest() == item["sha256"]
            url = reverse("robustness:run-file", args=[run.kind_slug, run.pk, item["name"]])
            answer = auditor.get(url)
            assert answer.status_code == 200, url
            assert hashlib.sha256(b"".join(answer.streaming_content)).hexdigest() == item["sha256"]
            assert stranger.get(url).status_code == 404, "the copy's runs are not Acme's"
        assert run.evidence_version.evidence.organisation == copy
        assert run.evidence_version.sha256 == original.evidence_version.sha256

    retraining = RetrainingRun.objects.select_related("output_model_version__parent").get(organisation=copy)
    child = retraining.output_model_version
    assert child.organisation == copy and child.parent.organisation == copy and child.parent == retraining.model_version
    assert hashlib.sha256(child.checkpoint.read()).hexdigest() == child.checkpoint_sha256
    assert child.checkpoint.name.startswith(f"checkpoints/{copy.pk}/"), "under the copy's own prefix (H-1)"
    assert {run.model_version_id for run in _runs(copy)} == {child.parent_id, child.pk}, "before and after"
    assert EvaluationRun.objects.get(retraining=retraining).model_version == child
    assert Finding.objects.filter(organisation=copy).count() == Finding.objects.filter(organisation=acme).count() > 0

    again = tmp_path / "copy-export"
    organisation_export(organisation=copy, out=again)
    original_rows, copied_rows = _normalised(out), _normalised(again)
    for label in (*RUN_KINDS, "governance.ModelVersion", "assessments.EvidenceVersion", "assessments.Finding"):
        assert copied_rows.get(label) == original_rows.get(label), label

    rerun = evaluation_run_request(ai_system=child.ai_system, model_version=child, actor=None,
                                   config=QUICK_EVALUATION)
    assert evaluation_run_execute(run_id=rerun.pk) == "succeeded", "the imported child checkpoint loads and verifies"
    assert EvaluationRun.objects.get(pk=rerun.pk).status == RunStatus.SUCCEEDED


def _nothing_imported(out: Path, slug: str, match: str) -> None:
    before, files_before = fingerprint(), media_files()
    with pytest.raises(TransferError, match=match):
        organisation_import(path=out, slug=slug)
    assert (fingerprint(), media_files()) == (before, files_before)
    assert not Organisation.objects.filter(slug=slug).exists()


def test_a_tampered_run_artifact_imports_nothing(exported):
    _, out = exported
    manifest = json.loads((out / "manifest.json").read_text())
    artifact = out / "files" / manifest["folder_files"][0]["sha256"]
    artifact.write_bytes(artifact.read_bytes()[:-1] + b"\x00")
    _nothing_imported(out, "acme-tampered", "does not match its SHA-256")


@pytest.mark.parametrize("path", ["../../../escaped.png", "attempt-0/../../../escaped.png", "/tmp/escaped.png",
                                  "attempt-0\\..\\..\\escaped.png", ""])
def test_a_run_artifact_path_escaping_its_folder_imports_nothing(exported, path, settings):
    _, out = exported
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["folder_files"][-1]["path"] = path
    manifest_path.write_text(json.dumps(manifest))
    _nothing_imported(out, "acme-slip", "unsafe path")
    assert not list(Path(settings.MEDIA_ROOT).parent.rglob("escaped.png"))


def test_a_zip_entry_escaping_the_export_imports_nothing(exported, tmp_path):
    _, out = exported
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as slip:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                slip.write(path, path.relative_to(out).as_posix())
        slip.writestr("files/../../escaped.png", b"zip-slip")
    _nothing_imported(archive, "acme-slip", "unsafe path")
    assert not list(tmp_path.rglob("escaped.png"))
    with pytest.raises(CommandError, match="nothing imported: the export holds an unsafe path"):
        call_command("import_organisation", str(archive), "--slug", "acme-slip")


@pytest.mark.parametrize("name", ["risks", "no_such_field"])  # a reverse relation; a name the model lacks
def test_a_row_naming_what_is_not_a_field_imports_nothing(exported, name):
    _, out = exported
    data_path, manifest_path = out / "data.json", out / "manifest.json"
    data = json.loads(data_path.read_text())
    system = next(row for row in data["rows"] if row["model"] == "governance.AISystem")
    system["fields"][name] = [1]
    data_path.write_text(json.dumps(data))
    manifest = json.loads(manifest_path.read_text())
    manifest["data_sha256"] = hashlib.sha256(data_path.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    _nothing_imported(out, "acme-field", f"governance.AISystem #{system['pk']}: {name} is not a field of "
                                         "governance.AISystem")
