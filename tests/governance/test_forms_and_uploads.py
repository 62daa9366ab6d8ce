"""Bad input: the form comes back with the reason, and nothing is saved."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.models import Dataset, Role
from tests.governance.conftest import image_folder_zip, organisation_state, png_bytes, zip_upload

OFFICER = Role.RISK_OFFICER.value
GOOD_SYSTEM = {"name": "Triage bot", "intended_purpose": "Sorts emergency calls.", "operator_roles": ["provider"],
               "lifecycle_stage": "inception", "human_oversight": "human_in_the_loop", "review_frequency_days": "30"}
GOOD_VERSION = {"version": "v9", "architecture": "ViT-B-32", "class_names": "cat\ndog",
                "prompt_templates": "a photo of a {}."}


def _refused(client, url: str, data: dict, reason: str, acme) -> None:
    before = organisation_state(acme)
    response = client.post(url, data)
    assert response.status_code == 400
    assert reason in response.content.decode(), response.content.decode()[:3000]
    assert organisation_state(acme) == before


@pytest.mark.parametrize(("change", "reason"), [
    ({"name": ""}, "This field is required"),
    ({"name": "CV screener"}, "already exists"),
    ({"thresholds": "pgd-999 4/255 0.4"}, "unknown attack preset"),
    ({"thresholds": "screen-pgd10 300/255 0.4"}, "must lie in (0, 1]"),
    ({"thresholds": "screen-pgd10 4/255 40"}, "between 0 and 1"),
    ({"operator_roles": ["overlord"]}, "Select a valid choice"),
])
def test_bad_ai_system_input_is_shown_with_its_reason(world, client_as, acme, change, reason):
    _refused(client_as(OFFICER), reverse("governance:ai-system-create"), {**GOOD_SYSTEM, **change}, reason, acme)


@pytest.mark.parametrize(("change", "reason"), [
    ({"checkpoint": SimpleUploadedFile("weights.exe", b"MZ...")}, "a checkpoint must be one of"),
    ({}, "exactly one"),
    ({"pretrained_tag": "openai", "checkpoint": SimpleUploadedFile("w.pt", b"x")}, "exactly one"),
    ({"pretrained_tag": "openai", "class_names": "cat"}, "at least two class names"),
    ({"pretrained_tag": "openai", "prompt_templates": "a photo"}, "placeholder"),
    ({"pretrained_tag": "openai", "model_config": "{not json"}, "Not valid JSON"),
    ({"pretrained_tag": "openai", "model_config": '{"embed_dim": 32}'}, "lacks vision_cfg, text_cfg"),
    ({"pretrained_tag": "openai", "version": "v1"}, "already exists"),
])
def test_bad_model_version_input_is_shown_with_its_reason(world, client_as, acme, change, reason):
    url = reverse("governance:model-version-create", args=[world.system.pk])
    _refused(client_as(OFFICER), url, {**GOOD_VERSION, **change}, reason, acme)


def test_an_oversize_checkpoint_is_refused_at_once(world, client_as, acme, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    url = reverse("governance:model-version-create", args=[world.system.pk])
    _refused(client_as(OFFICER), url, {**GOOD_VERSION, "checkpoint": SimpleUploadedFile("w.pt", b"x" * 2048)},
             "the limit is 1,024 bytes", acme)


@pytest.mark.parametrize(("upload", "reason"), [
    (SimpleUploadedFile("pets.tar", b"not a zip"), "upload the evaluation data as a .zip"),
    (SimpleUploadedFile("pets.zip", b"not a zip at all"), "is not a valid zip archive"),
    (zip_upload({"../../etc/cat/1.png": png_bytes(), "dog/1.png": png_bytes()}), "path traversal"),
    (zip_upload({"/abs/cat/1.png": png_bytes(), "dog/1.png": png_bytes()}), "absolute"),
    (zip_upload({"cat/1.png": png_bytes(), "cat/2.png": png_bytes()}), "at least two classes"),
    (zip_upload({"cat/1.png": png_bytes(), "dog/notes.txt": b"hello"}), "is not an image"),
    (zip_upload({"cat/deep/1.png": png_bytes(), "dog/1.png": png_bytes()}), "one folder per class"),
])
def test_a_bad_dataset_upload_is_refused_with_its_reason(world, client_as, acme, upload, reason):
    _refused(client_as(OFFICER), reverse("governance:dataset-create"), {"name": "Bad", "file": upload}, reason, acme)


def test_an_oversize_dataset_is_refused(world, client_as, acme, settings):
    settings.MAX_UPLOAD_BYTES = 100
    _refused(client_as(OFFICER), reverse("governance:dataset-create"), {"name": "Big", "file": image_folder_zip()},
             "the limit is 100 bytes", acme)


def test_the_api_answers_upload_problems_with_the_same_reason(world, client_as, acme):
    before = organisation_state(acme)
    response = client_as(OFFICER).post("/api/v1/datasets/", {"name": "One class", "file": zip_upload(
        {"cat/1.png": png_bytes(), "cat/2.png": png_bytes()})})
    assert response.status_code == 400 and "at least two classes" in response.json()["file"][0]
    assert organisation_state(acme) == before


def test_a_good_dataset_is_hashed_counted_and_queued_for_the_worker(world, client_as, acme):
    upload = image_folder_zip(("cat", "dog", "bird"), per_class=3)
    response = client_as(OFFICER).post(reverse("governance:dataset-create"), {"name": "Birds too", "file": upload})
    assert response.status_code == 302
    dataset = Dataset.objects.get(organisation=acme, name="Birds too")
    upload.seek(0)
    assert dataset.sha256 == hashlib.sha256(upload.read()).hexdigest() and dataset.size == upload.size
    assert (dataset.status, dataset.image_count, dataset.class_names) == ("validating", 9, ["bird", "cat", "dog"])


@pytest.mark.parametrize(("data", "reason"), [
    ({"title": "x", "risk_source": "B.9", "characteristic": "safe", "likelihood": "1", "impact": "1",
      "treatment": "mitigate", "status": "identified"}, "Select a valid choice"),
    ({"title": "x", "risk_source": "B.5", "characteristic": "safe", "likelihood": "1", "impact": "1",
      "treatment": "mitigate", "status": "identified", "residual_likelihood": "1"}, "or neither"),
])
def test_bad_risk_input_is_shown_with_its_reason(world, client_as, acme, data, reason):
    _refused(client_as(OFFICER), reverse("governance:risk-create"), data, reason, acme)


def test_a_decision_needs_a_justification(world, client_as, acme):
    _refused(client_as(OFFICER), reverse("governance:decision-edit", args=[world.decision.pk]),
             {"applicable": "no", "justification": ""}, "This field is required", acme)


def test_the_last_organisation_admin_cannot_be_demoted(world, client_as, acme, member):
    admin = member(Role.ORG_ADMIN)
    _refused(client_as(Role.ORG_ADMIN.value), reverse("governance:member-role", args=[admin.pk]),
             {"role": "auditor"}, "at least one organisation admin", acme)


def test_adding_an_unknown_account_says_so(world, client_as, acme):
    _refused(client_as(Role.ORG_ADMIN.value), reverse("governance:member-add"),
             {"username": "ghost", "role": "auditor"}, "No account with this username", acme)


def test_the_last_organisation_admin_cannot_be_removed(world, client_as, acme, member):
    admin = member(Role.ORG_ADMIN)
    _refused(client_as(Role.ORG_ADMIN.value), reverse("governance:member-remove", args=[admin.pk]), {},
             "at least one organisation admin", acme)


def test_a_system_that_assessments_depend_on_is_not_deleted_and_says_why(world, client_as, acme):
    from assessments.models import Assessment

    Assessment.objects.create(organisation=acme, title="Baseline", framework=world.catalogs.eu, ai_system=world.system)
    _refused(client_as(OFFICER), reverse("governance:ai-system-delete", args=[world.system.pk]), {},
             "still used by 1 assessment", acme)
    before = organisation_state(acme)
    response = client_as(OFFICER).delete(f"/api/v1/ai-systems/{world.system.pk}/")
    assert response.status_code == 400 and "still used by" in str(response.json())
    assert organisation_state(acme) == before


def _tiny_safetensors(name: str = "tiny.safetensors") -> SimpleUploadedFile:
    import tempfile
    from pathlib import Path

    from robustness.engine.checkpoints import save_state_dict_file
    from robustness.engine.tiny import tiny_model

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        save_state_dict_file(tiny_model().state_dict(), path)
        return SimpleUploadedFile(name, path.read_bytes())


@pytest.mark.parametrize(("change", "reason"), [
    ({"architecture": "ViT-B-33"}, "unknown open_clip architecture &#x27;ViT-B-33&#x27;; did you mean ViT-B-32"),
    ({}, "tiny.safetensors is not a checkpoint of ViT-B-32"),
])
def test_an_architecture_or_checkpoint_that_cannot_fit_is_refused_at_upload(world, client_as, acme, settings,
                                                                            tmp_path, change, reason):
    """Checked in the request, from the safetensors header alone: no file is stored, no row, no job."""
    settings.MEDIA_ROOT = tmp_path / "media"
    url = reverse("governance:model-version-create", args=[world.system.pk])
    _refused(client_as(OFFICER), url, {**GOOD_VERSION, "checkpoint": _tiny_safetensors(), **change}, reason, acme)
    assert [path for path in (tmp_path / "media").rglob("*") if path.is_file() and "checkpoints" in path.parts] == []


def test_the_upload_check_names_the_keys_that_do_not_fit():
    from robustness.engine.errors import CheckpointError
    from robustness.engine.models import checkpoint_shapes_check
    from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG, tiny_model

    shapes = {name: tuple(tensor.shape) for name, tensor in tiny_model().state_dict().items()}
    checkpoint_shapes_check(TINY_ARCHITECTURE, TINY_MODEL_CONFIG, shapes, source="ok")  # fits: no error
    longer = {**shapes, "positional_embedding": (shapes["positional_embedding"][0] + 4,
                                                 shapes["positional_embedding"][1])}
    checkpoint_shapes_check(TINY_ARCHITECTURE, TINY_MODEL_CONFIG, longer, source="ok")  # resized on load
    wrong = {**{k: v for k, v in shapes.items() if k != "text_projection"}, "extra.weight": (2, 2),
             "ln_final.weight": (7,)}
    with pytest.raises(CheckpointError) as refused:
        checkpoint_shapes_check(TINY_ARCHITECTURE, TINY_MODEL_CONFIG, wrong, source="w.safetensors")
    assert str(refused.value) == (
        f"w.safetensors is not a checkpoint of {TINY_ARCHITECTURE}: 1 missing keys: text_projection; "
        f"1 unexpected keys: extra.weight; 1 wrong shapes: ln_final.weight (checkpoint (7,), model "
        f"({shapes['ln_final.weight'][0]},))")
