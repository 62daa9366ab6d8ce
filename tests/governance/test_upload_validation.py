"""Checkpoints and datasets are validated on a worker: validating → valid, or invalid with the reason."""

from __future__ import annotations

import pytest
from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile

from governance import services
from tests.governance.conftest import png_bytes, zip_upload

torch = pytest.importorskip("torch")


def _tiny_checkpoint(tmp_path) -> SimpleUploadedFile:
    from robustness.engine.checkpoints import save_state_dict_file
    from robustness.engine.tiny import tiny_model

    path = tmp_path / "tiny.safetensors"
    save_state_dict_file(tiny_model().state_dict(), path)
    return SimpleUploadedFile("tiny.safetensors", path.read_bytes())


def _tiny_version(world, alice, checkpoint: SimpleUploadedFile, label: str = "tiny"):
    from robustness.engine.tiny import TINY_ARCHITECTURE, tiny_model_config

    return services.model_version_create(ai_system=world.system, actor=alice, checkpoint=checkpoint, data={
        "version": label, "architecture": TINY_ARCHITECTURE, "model_config": tiny_model_config(),
        "class_names": ["cat", "dog"], "prompt_templates": ["a photo of a {}."]})


def test_registering_a_version_enqueues_its_validation_by_task_name(world, alice, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    sent: list[tuple[str, list[int], str]] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: sent.append((name, args, queue)))
    with django_capture_on_commit_callbacks(execute=True):
        version = services.model_version_create(ai_system=world.system, actor=alice, data={
            "version": "v7", "architecture": "ViT-B-32", "pretrained_tag": "openai", "class_names": ["a", "b"],
            "prompt_templates": ["{}"]})
    assert sent == [("robustness.tasks.model_version_validate", [version.pk], "robustness")]
    assert version.status == "validating"


def test_a_real_checkpoint_loads_on_the_worker_and_becomes_valid(world, alice, tmp_path):
    from robustness.tasks import model_version_validate

    version = _tiny_version(world, alice, _tiny_checkpoint(tmp_path))
    assert len(version.checkpoint_sha256) == 64 and version.checkpoint_size > 1000
    assert model_version_validate(version.pk) == "valid"
    version.refresh_from_db()
    assert version.status == "valid" and "parameters" in version.status_reason


def test_a_corrupt_checkpoint_becomes_invalid_with_the_engines_reason(world, alice):
    from robustness.tasks import model_version_validate

    version = _tiny_version(world, alice, SimpleUploadedFile("broken.pt", b"\x00garbage" * 10))
    assert model_version_validate(version.pk) == "invalid"
    version.refresh_from_db()
    assert version.status == "invalid" and version.status_reason
    assert model_version_validate(version.pk) == "nothing to do"  # a verdict is final


def test_an_unknown_pretrained_tag_is_refused_at_creation(world, alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Not a pretrained tag"):
        services.model_version_create(ai_system=world.system, actor=alice, data={
            "version": "vt", "architecture": "ViT-B-32", "pretrained_tag": "no-such-tag", "class_names": ["a", "b"],
            "prompt_templates": ["{}"]})


def test_an_uncached_pretrained_tag_is_invalid_and_nothing_is_downloaded(world, alice, monkeypatch, tmp_path):
    from robustness.tasks import model_version_validate

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty ~/.cache/clip
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda **_: None)  # an empty HF cache
    version = services.model_version_create(ai_system=world.system, actor=alice, data={
        "version": "vt", "architecture": "ViT-B-32", "pretrained_tag": "openai", "class_names": ["a", "b"],
        "prompt_templates": ["{}"]})
    assert model_version_validate(version.pk) == "invalid"
    version.refresh_from_db()
    assert "not in the local cache" in version.status_reason


def test_a_dataset_is_decoded_on_the_worker(world):
    from robustness.tasks import dataset_validate

    assert dataset_validate(world.dataset.pk) == "valid"
    world.dataset.refresh_from_db()
    assert (world.dataset.status, world.dataset.image_count, world.dataset.class_names) == ("valid", 4,
                                                                                            ["cat", "dog"])


def test_a_dataset_with_an_undecodable_image_becomes_invalid(world, acme, alice):
    from robustness.tasks import dataset_validate

    dataset = services.dataset_create(organisation=acme, actor=alice, name="Broken", file=zip_upload(
        {"cat/1.png": png_bytes(), "dog/1.png": b"not really a png"}))
    assert dataset_validate(dataset.pk) == "invalid"
    dataset.refresh_from_db()
    assert dataset.status == "invalid" and "dog/1.png" in dataset.status_reason
